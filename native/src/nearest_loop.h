// The row scan of the cosine nearest-neighbour search, one template for every instruction set: for each row of a
// block, its dot product with the query and its squared norm, in one pass over the row (the scan is bound by memory,
// so each byte is loaded once). V is a variant's vector traits (see nearest_*.cpp). Internal linkage, so each ISA
// file compiles its own copy with its own flags.
#ifndef JEMBED_NEAREST_LOOP_H
#define JEMBED_NEAREST_LOOP_H

#include <stdint.h>

namespace jembed {
namespace {

// Two accumulators of each kind hide the FMA latency; the tail of a row (dim not a multiple of the width) is a
// masked load that reads no byte past the row.
template <typename V>
void dot_norm_rows(const float* rows, int64_t count, int64_t dim, const float* query, float* dot, float* norm2) {
  constexpr int64_t W = V::kWidth;
  for (int64_t r = 0; r < count; ++r) {
    const float* x = rows + r * dim;
    typename V::Reg d0 = V::zero();
    typename V::Reg d1 = V::zero();
    typename V::Reg n0 = V::zero();
    typename V::Reg n1 = V::zero();
    int64_t j = 0;
    for (; j + 2 * W <= dim; j += 2 * W) {
      const typename V::Reg a = V::load(x + j);
      const typename V::Reg b = V::load(x + j + W);
      d0 = V::fma(a, V::load(query + j), d0);
      d1 = V::fma(b, V::load(query + j + W), d1);
      n0 = V::fma(a, a, n0);
      n1 = V::fma(b, b, n1);
    }
    for (; j + W <= dim; j += W) {
      const typename V::Reg a = V::load(x + j);
      d0 = V::fma(a, V::load(query + j), d0);
      n0 = V::fma(a, a, n0);
    }
    if (j < dim) {
      const int tail = static_cast<int>(dim - j);
      const typename V::Reg a = V::load_tail(x + j, tail);
      d1 = V::fma(a, V::load_tail(query + j, tail), d1);
      n1 = V::fma(a, a, n1);
    }
    dot[r] = V::sum(V::add(d0, d1));
    norm2[r] = V::sum(V::add(n0, n1));
  }
}

}  // namespace
}  // namespace jembed

// Defines variant `ns`'s entry point around the traits V.
#define JEMBED_DEFINE_DOT_NORM(ns, V)                                                                            \
  namespace ns {                                                                                                 \
  void dot_norm_rows_f32(const float* rows, int64_t count, int64_t dim, const float* query, float* dot,          \
                         float* norm2) {                                                                         \
    dot_norm_rows<V>(rows, count, dim, query, dot, norm2);                                                       \
  }                                                                                                              \
  }

#endif
