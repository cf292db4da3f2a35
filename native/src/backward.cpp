// PyTorch's embedding_dense_backward (aten/src/ATen/native/Embedding.cpp), accumulating into the caller's gradient.
// Rows are owned by one caller each (r % owners == owner) and every row accumulates in input order, so the result is
// the same bits whatever the number of threads. The per-row arithmetic comes from the active variant.
#include <memory>
#include <new>

#include "index_counts.h"
#include "jembed/jembed.h"
#include "kernel_table.h"

namespace jembed {
namespace {

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
  try {
    std::unique_ptr<IndexCounts> counts;
    if (scale_grad_by_freq) {
      counts.reset(new IndexCounts(n));
      for (int64_t i = 0; i < n; ++i) {
        counts->add(static_cast<int64_t>(idx[i]));
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = static_cast<int64_t>(idx[i]);
      if (r == padding_idx || r % owners != owner || static_cast<uint64_t>(r) >= static_cast<uint64_t>(rows)) {
        continue;
      }
      if (i + kPrefetchDistance < n) {
        const int64_t ahead = static_cast<int64_t>(idx[i + kPrefetchDistance]);
        if (static_cast<uint64_t>(ahead) < static_cast<uint64_t>(rows)) {
          __builtin_prefetch(grad_weight + ahead * dim, 1, 3);
        }
      }
      if (scale_grad_by_freq) {
        // PyTorch computes the scale in double and casts it to the gradient's type for add_stub's alpha.
        const T alpha = static_cast<T>(1.0 / static_cast<double>(counts->count(r)));
        fma_row(grad_weight + r * dim, grad_out + i * dim, alpha, dim);
      } else {
        add_row(grad_weight + r * dim, grad_out + i * dim, dim);
      }
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
