// The gather loop shared by every variant: bounds check of each index as it is loaded, software prefetch of the row
// kPrefetchDistance lookups ahead, and a variant's row copy. Everything here has internal linkage (an anonymous
// namespace), so each ISA file compiles its own copy with its own flags and the linker never merges them.
#ifndef JEMBED_GATHER_LOOP_H
#define JEMBED_GATHER_LOOP_H

#include <stdint.h>

#include "jembed/jembed.h"
#include "half_kernel_table.h"
#include "kernel_table.h"
#include "prefetch.h"

namespace jembed {
namespace {

using CopyRowFn = void (*)(const char* src, char* dst, int64_t bytes);

// Rows of 0..31 bytes (float dims up to 7, double dims up to 3, 16-bit dims up to 15), whole 2-byte words. Two
// fixed-size moves of the widest power of two that fits, the second ending at the row's end: they overlap on rows
// whose size is not a power of two, copying those bytes twice, but never touch a byte outside the row. Fixed-size
// moves cost a load and a store each, where a library memcpy call or a masked store costs more than the copy itself.
[[gnu::always_inline]] inline void copy_short_row(const char* src, char* dst, int64_t bytes) {
  if (bytes >= 16) {
    __builtin_memcpy(dst, src, 16);
    __builtin_memcpy(dst + bytes - 16, src + bytes - 16, 16);
  } else if (bytes >= 8) {
    __builtin_memcpy(dst, src, 8);
    __builtin_memcpy(dst + bytes - 8, src + bytes - 8, 8);
  } else if (bytes >= 4) {
    __builtin_memcpy(dst, src, 4);
    __builtin_memcpy(dst + bytes - 4, src + bytes - 4, 4);
  } else if (bytes >= 2) {
    __builtin_memcpy(dst, src, 2);
  }
}

// The position of the first index outside [0, rows), or JEMBED_OK. Blocks of 16 indices are checked without a branch
// per index (one unsigned compare each, which also rejects negatives), so the compiler vectorises them with the
// variant's instructions; a block that holds a bad index is rescanned in order, to name the first one. This is the
// only validation of a lookup's indices: it runs before anything is written, so a call that fails changes nothing.
template <typename I>
[[gnu::always_inline]] inline int64_t first_out_of_range(const I* idx, int64_t n, int64_t rows) {
  const uint64_t limit = static_cast<uint64_t>(rows);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    unsigned bad = 0;
    for (int k = 0; k < 16; ++k) {
      bad |= static_cast<uint64_t>(static_cast<int64_t>(idx[i + k])) >= limit ? 1u : 0u;
    }
    if (bad != 0) {
      break;
    }
  }
  for (; i < n; ++i) {
    if (static_cast<uint64_t>(static_cast<int64_t>(idx[i])) >= limit) {
      return i;
    }
  }
  return JEMBED_OK;
}

// The copy is a template argument rather than a function pointer so that it is inlined into the loop.
template <typename T, typename I, CopyRowFn kCopyRow>
int64_t gather_rows(const T* table, int64_t rows, int64_t dim, const I* idx, int64_t n, T* out) {
  if (rows < 0 || dim < 0 || n < 0) {
    return JEMBED_ERR_ARGUMENT;
  }
  const int64_t bad = first_out_of_range(idx, n, rows);
  if (bad != JEMBED_OK) {
    return bad;
  }
  const int64_t row_bytes = dim * static_cast<int64_t>(sizeof(T));
  for (int64_t i = 0; i < n; ++i) {
    // Checked again as it is loaded (a predictable branch): the index buffer may be caller memory that another
    // thread rewrites after the validation above; a changed index is reported, never dereferenced.
    const int64_t r = static_cast<int64_t>(idx[i]);
    if (static_cast<uint64_t>(r) >= static_cast<uint64_t>(rows)) {
      return i;
    }
    if (i + kPrefetchDistance < n) {
      // Checked like any index: a bad one is skipped here and reported when the loop reaches it.
      const int64_t ahead = static_cast<int64_t>(idx[i + kPrefetchDistance]);
      if (static_cast<uint64_t>(ahead) < static_cast<uint64_t>(rows)) {
        prefetch_row<0>(table + ahead * dim, row_bytes);
      }
    }
    kCopyRow(reinterpret_cast<const char*>(table + r * dim), reinterpret_cast<char*>(out + i * dim), row_bytes);
  }
  return JEMBED_OK;
}

}  // namespace
}  // namespace jembed

// Defines the four gather entry points of variant `ns` around the row copy `copy_row`.
#define JEMBED_DEFINE_GATHERS(ns, copy_row)                                                                     \
  namespace ns {                                                                                                \
  int64_t gather_f32_i64(const float* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n, float* out) { \
    return gather_rows<float, int64_t, copy_row>(t, rows, dim, idx, n, out);                                    \
  }                                                                                                             \
  int64_t gather_f32_i32(const float* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, float* out) { \
    return gather_rows<float, int32_t, copy_row>(t, rows, dim, idx, n, out);                                    \
  }                                                                                                             \
  int64_t gather_f64_i64(const double* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,             \
                         double* out) {                                                                         \
    return gather_rows<double, int64_t, copy_row>(t, rows, dim, idx, n, out);                                   \
  }                                                                                                             \
  int64_t gather_f64_i32(const double* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,             \
                         double* out) {                                                                         \
    return gather_rows<double, int32_t, copy_row>(t, rows, dim, idx, n, out);                                   \
  }                                                                                                             \
  }

// Defines the two gathers of 16-bit tables (float16 and bfloat16 alike: a lookup copies bits) of variant `ns`.
#define JEMBED_DEFINE_GATHERS_U16(ns, copy_row)                                                                 \
  namespace ns {                                                                                                \
  int64_t gather_u16_i64(const uint16_t* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,           \
                         uint16_t* out) {                                                                       \
    return gather_rows<uint16_t, int64_t, copy_row>(t, rows, dim, idx, n, out);                                 \
  }                                                                                                             \
  int64_t gather_u16_i32(const uint16_t* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,           \
                         uint16_t* out) {                                                                       \
    return gather_rows<uint16_t, int32_t, copy_row>(t, rows, dim, idx, n, out);                                 \
  }                                                                                                             \
  }

#endif
