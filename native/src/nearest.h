// The per-variant row scan of the nearest-neighbour search (nearest_*.cpp), kept out of kernel_table.h: nearest.cpp
// picks the variant's function from jembed_active_variant(), like the other kernels' dispatch.
#ifndef JEMBED_NEAREST_H
#define JEMBED_NEAREST_H

#include <stdint.h>

namespace jembed {

#define JEMBED_DECLARE_DOT_NORM(ns)                                                                               \
  namespace ns {                                                                                                  \
  /* dot[r] = sum_j rows[r*dim+j] * query[j], norm2[r] = sum_j rows[r*dim+j]^2, for r in [0, count). */          \
  void dot_norm_rows_f32(const float* rows, int64_t count, int64_t dim, const float* query, float* dot,           \
                         float* norm2);                                                                           \
  }

JEMBED_DECLARE_DOT_NORM(scalar)
#if defined(JEMBED_HAVE_X86_VARIANTS)
JEMBED_DECLARE_DOT_NORM(avx2)
JEMBED_DECLARE_DOT_NORM(avx512)
#endif

}  // namespace jembed

#endif
