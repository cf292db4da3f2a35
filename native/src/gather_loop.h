// The gather loop shared by every variant: bounds check of each index as it is loaded, software prefetch of the row
// kPrefetchDistance lookups ahead, and a variant's row copy. Everything here has internal linkage (an anonymous
// namespace), so each ISA file compiles its own copy with its own flags and the linker never merges them.
#ifndef JEMBED_GATHER_LOOP_H
#define JEMBED_GATHER_LOOP_H

#include <stdint.h>

#include "jembed/jembed.h"
#include "kernel_table.h"

namespace jembed {
namespace {

// CopyRow(const char* src, char* dst, int64_t bytes) copies one row.
template <typename T, typename I, typename CopyRow>
int64_t gather_rows(const T* table, int64_t rows, int64_t dim, const I* idx, int64_t n, T* out, CopyRow copy_row) {
  const int64_t row_bytes = dim * static_cast<int64_t>(sizeof(T));
  const int64_t prefetch_bytes = row_bytes < kPrefetchBytes ? row_bytes : kPrefetchBytes;
  for (int64_t i = 0; i < n; ++i) {
    // One unsigned compare rejects negatives too; the index is read once, so a concurrent rewrite cannot slip by.
    const int64_t r = static_cast<int64_t>(idx[i]);
    if (static_cast<uint64_t>(r) >= static_cast<uint64_t>(rows)) {
      return i;
    }
    if (i + kPrefetchDistance < n) {
      const int64_t ahead = static_cast<int64_t>(idx[i + kPrefetchDistance]);
      if (static_cast<uint64_t>(ahead) < static_cast<uint64_t>(rows)) {
        const char* line = reinterpret_cast<const char*>(table + ahead * dim);
        for (int64_t b = 0; b < prefetch_bytes; b += 64) {
          __builtin_prefetch(line + b, 0, 3);
        }
      }
    }
    copy_row(reinterpret_cast<const char*>(table + r * dim), reinterpret_cast<char*>(out + i * dim), row_bytes);
  }
  return JEMBED_OK;
}

}  // namespace
}  // namespace jembed

// Defines the four gather entry points of variant `ns` around the row copy `copy_row`.
#define JEMBED_DEFINE_GATHERS(ns, copy_row)                                                                     \
  namespace ns {                                                                                                \
  int64_t gather_f32_i64(const float* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n, float* out) { \
    return gather_rows(t, rows, dim, idx, n, out, copy_row);                                                    \
  }                                                                                                             \
  int64_t gather_f32_i32(const float* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, float* out) { \
    return gather_rows(t, rows, dim, idx, n, out, copy_row);                                                    \
  }                                                                                                             \
  int64_t gather_f64_i64(const double* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,             \
                         double* out) {                                                                         \
    return gather_rows(t, rows, dim, idx, n, out, copy_row);                                                    \
  }                                                                                                             \
  int64_t gather_f64_i32(const double* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,             \
                         double* out) {                                                                         \
    return gather_rows(t, rows, dim, idx, n, out, copy_row);                                                    \
  }                                                                                                             \
  }

#endif
