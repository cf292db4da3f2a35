// PyTorch's embedding_renorm_ (aten/src/ATen/native/Embedding.cpp): each distinct looked-up row whose norm is strictly
// greater than max_norm is scaled in place by max_norm / (norm + 1e-7). The row norms come from the active variant;
// deduplication and scaling are baseline code. Rows are split among owners (threads) as in the backward.
#include <math.h>

#include <new>

#include "index_counts.h"
#include "jembed/jembed.h"
#include "kernel_table.h"
#include "prefetch.h"
#include "row_owner.h"
#include "scratch_array.h"

namespace jembed {
namespace {

template <typename T, typename I, typename RowNorm>
int64_t renorm(T* table, int64_t rows, int64_t dim, const I* idx, int64_t n, double max_norm, double norm_type,
               int64_t owners, int64_t owner, RowNorm row_norm) {
  if (rows < 0 || dim < 0 || n < 0 || owners < 1 || owner < 0 || owner >= owners) {
    return JEMBED_ERR_ARGUMENT;
  }
  try {
    // One pass reads each index once, checks it and keeps this owner's rows, each once (a second scaling could
    // change a row whose rounded norm still exceeds max_norm), in order of first occurrence: rows are independent,
    // so neither the order nor the split among owners changes a bit. The private list is what the second pass uses,
    // so a concurrent rewrite of the caller's buffer cannot reach memory; and no row is written before every index
    // has been checked, so a bad index changes nothing.
    ScratchArray<int64_t> mine(static_cast<size_t>(n));
    IndexCounts seen(n);
    const RowOwner rows_of(owners, owner);
    int64_t distinct = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) {
        seen.prefetch(static_cast<int64_t>(idx[i + kPrefetchDistance]));
      }
      const int64_t r = static_cast<int64_t>(idx[i]);
      if (static_cast<uint64_t>(r) >= static_cast<uint64_t>(rows)) {
        return i;
      }
      if (rows_of.owns(r) && seen.count_at(seen.add(r)) == 1) {
        mine[distinct++] = r;
      }
    }
    const int64_t row_bytes = dim * static_cast<int64_t>(sizeof(T));
    for (int64_t i = 0; i < distinct; ++i) {
      if (i + kPrefetchDistance < distinct) {
        prefetch_row<1>(table + mine[i + kPrefetchDistance] * dim, row_bytes);
      }
      T* row = table + mine[i] * dim;
      // PyTorch's norm of one element is |x| (or x != 0 for p = 0), not (|x|^p)^(1/p), which can overflow.
      const double norm = dim == 1 ? (norm_type == 0 ? (row[0] != 0 ? 1.0 : 0.0) : fabs(static_cast<double>(row[0])))
                                   : row_norm(row, dim, norm_type);
      if (norm > max_norm) {
        const T scale = static_cast<T>(max_norm / (norm + 1e-7));
        for (int64_t j = 0; j < dim; ++j) {
          row[j] *= scale;
        }
      }
    }
    return JEMBED_OK;
  } catch (const std::bad_alloc&) {
    return JEMBED_ERR_ALLOC;
  }
}

}  // namespace
}  // namespace jembed

extern "C" {

int64_t jembed_renorm_f32_i64(float* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,
                              double max_norm, double norm_type, int64_t owners, int64_t owner) {
  return jembed::renorm(table, rows, dim, idx, n, max_norm, norm_type, owners, owner,
                        jembed::active_kernels().row_norm_f32);
}

int64_t jembed_renorm_f32_i32(float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                              double max_norm, double norm_type, int64_t owners, int64_t owner) {
  return jembed::renorm(table, rows, dim, idx, n, max_norm, norm_type, owners, owner,
                        jembed::active_kernels().row_norm_f32);
}

int64_t jembed_renorm_f64_i64(double* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,
                              double max_norm, double norm_type, int64_t owners, int64_t owner) {
  return jembed::renorm(table, rows, dim, idx, n, max_norm, norm_type, owners, owner,
                        jembed::active_kernels().row_norm_f64);
}

int64_t jembed_renorm_f64_i32(double* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                              double max_norm, double norm_type, int64_t owners, int64_t owner) {
  return jembed::renorm(table, rows, dim, idx, n, max_norm, norm_type, owners, owner,
                        jembed::active_kernels().row_norm_f64);
}

}  // extern "C"
