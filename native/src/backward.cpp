// PyTorch's embedding_dense_backward (aten/src/ATen/native/Embedding.cpp), accumulating into the caller's gradient.
// Rows are owned by one caller each (r % owners == owner) and every row accumulates in input order, so the result is
// the same bits whatever the number of threads. The per-row arithmetic comes from the active variant.
#include <new>

#include "index_counts.h"
#include "jembed/jembed.h"
#include "kernel_table.h"
#include "prefetch.h"
#include "row_owner.h"
#include "scratch_array.h"

namespace jembed {
namespace {

// One of this owner's lookups, for scale_grad_by_freq: its position in the batch, its row, and the row's slot in the
// counts.
struct Lookup {
  int64_t position;
  int64_t row;
  int64_t slot;
};

template <typename T, typename I, typename AddRow, typename FmaRow>
int64_t dense_backward(T* grad_weight, int64_t rows, int64_t dim, const I* idx, int64_t n, const T* grad_out,
                       int64_t padding_idx, bool scale_grad_by_freq, int64_t owners, int64_t owner, AddRow add_row,
                       FmaRow fma_row) {
  for (int64_t i = 0; i < n; ++i) {
    if (static_cast<uint64_t>(static_cast<int64_t>(idx[i])) >= static_cast<uint64_t>(rows)) {
      return i;
    }
  }
  if (owners < 1 || owner < 0 || owner >= owners) {
    return JEMBED_ERR_ARGUMENT;
  }
  const RowOwner rows_of(owners, owner);
  const int64_t row_bytes = dim * static_cast<int64_t>(sizeof(T));
  if (!scale_grad_by_freq) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = static_cast<int64_t>(idx[i]);
      if (r == padding_idx || static_cast<uint64_t>(r) >= static_cast<uint64_t>(rows) || !rows_of.owns(r)) {
        continue;
      }
      if (i + kPrefetchDistance < n) {
        const int64_t ahead = static_cast<int64_t>(idx[i + kPrefetchDistance]);
        if (static_cast<uint64_t>(ahead) < static_cast<uint64_t>(rows)) {
          prefetch_row<1>(grad_weight + ahead * dim, row_bytes);
        }
      }
      add_row(grad_weight + r * dim, grad_out + i * dim, dim);
    }
    return JEMBED_OK;
  }
  try {
    // Counting and collecting this owner's lookups are one pass (only owned rows are counted: a row's lookups all
    // belong to its owner), so the accumulation finds each count by its slot instead of hashing the row again.
    IndexCounts counts(n);
    ScratchArray<Lookup> mine(static_cast<size_t>(n));
    int64_t m = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) {
        counts.prefetch(static_cast<int64_t>(idx[i + kPrefetchDistance]));
      }
      const int64_t r = static_cast<int64_t>(idx[i]);
      if (r == padding_idx || static_cast<uint64_t>(r) >= static_cast<uint64_t>(rows) || !rows_of.owns(r)) {
        continue;
      }
      mine[m++] = Lookup{i, r, counts.add(r)};
    }
    for (int64_t k = 0; k < m; ++k) {
      if (k + kPrefetchDistance < m) {
        prefetch_row<1>(grad_weight + mine[k + kPrefetchDistance].row * dim, row_bytes);
      }
      // PyTorch computes the scale in double and casts it to the gradient's type for add_stub's alpha.
      const T alpha = static_cast<T>(1.0 / static_cast<double>(counts.count_at(mine[k].slot)));
      fma_row(grad_weight + mine[k].row * dim, grad_out + mine[k].position * dim, alpha, dim);
    }
    return JEMBED_OK;
  } catch (const std::bad_alloc&) {
    return JEMBED_ERR_ALLOC;
  }
}

}  // namespace
}  // namespace jembed

#define JEMBED_DENSE_BACKWARD(T, I, suffix, type)                                                               \
  int64_t jembed_dense_backward_##suffix(T* gw, int64_t rows, int64_t dim, const I* idx, int64_t n,            \
                                         const T* go, int64_t padding_idx, int scale, int64_t owners,          \
                                         int64_t owner) {                                                     \
    const jembed::KernelTable& k = jembed::active_kernels();                                                  \
    return jembed::dense_backward(gw, rows, dim, idx, n, go, padding_idx, scale != 0, owners, owner,          \
                                  k.add_row_##type, k.fma_row_##type);                                        \
  }

extern "C" {
JEMBED_DENSE_BACKWARD(float, int64_t, f32_i64, f32)
JEMBED_DENSE_BACKWARD(float, int32_t, f32_i32, f32)
JEMBED_DENSE_BACKWARD(double, int64_t, f64_i64, f64)
JEMBED_DENSE_BACKWARD(double, int32_t, f64_i32, f64)
}
