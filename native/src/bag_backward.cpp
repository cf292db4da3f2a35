// PyTorch's _embedding_bag_dense_backward (aten/src/ATen/native/EmbeddingBag.cpp), accumulating into the caller's
// gradient. sum/mean: each lookup adds its bag's output gradient to its row, scaled as libtorch scales it (a double
// scale from the per-sample weight, the index's count and the bag's size, cast to the gradient's type, in one fused
// multiply-add); max: each column of a bag's gradient goes to the row that won it. Rows are owned by one caller each
// (r % owners == owner) and accumulate in input order, so any split gives the same bits. Row arithmetic comes from
// the active variant (accumulate_*.cpp).
#include <memory>
#include <new>

#include "bag_bounds.h"
#include "index_counts.h"
#include "jembed/jembed.h"
#include "kernel_table.h"
#include "prefetch.h"

namespace jembed {
namespace {

template <typename T, typename I>
struct BagGradient {
  T* grad_weight;
  int64_t rows;
  int64_t dim;
  const I* idx;
  int64_t n;
  const I* offsets;
  int64_t num_bags;
  int64_t bag_size;
  const T* grad_out;
  const T* weights;
  int64_t padding_idx;
  int mode;
  bool scale_grad_by_freq;
  const int64_t* max_indices;
  int64_t owners;
  int64_t owner;
};

// True when bag [start, end) has a lookup that is not padding (libtorch's bag_size != 0).
template <typename I>
int64_t non_padding(const I* idx, int64_t start, int64_t end, int64_t padding_idx) {
  int64_t count = 0;
  for (int64_t i = start; i < end; ++i) {
    count += static_cast<int64_t>(idx[i]) != padding_idx ? 1 : 0;
  }
  return count;
}

// Max mode: every winning row index of a non-empty bag must name a row; checked before anything is written.
template <typename T, typename I>
int64_t check_max_indices(const BagGradient<T, I>& g, int64_t first) {
  int64_t start = first;
  for (int64_t b = 0; b < g.num_bags; ++b) {
    const int64_t end = bag_end(g.offsets, b, g.num_bags, g.bag_size, start, g.n);
    if (end < 0) {
      return end;
    }
    if (non_padding(g.idx, start, end, g.padding_idx) > 0 &&
        first_bad_index(g.max_indices + b * g.dim, 0, g.dim, g.rows) != JEMBED_OK) {
      return JEMBED_ERR_ARGUMENT;
    }
    start = end;
  }
  return JEMBED_OK;
}

template <typename T, typename I>
int64_t max_backward(const BagGradient<T, I>& g, int64_t first) {
  int64_t start = first;
  for (int64_t b = 0; b < g.num_bags; ++b) {
    const int64_t end = bag_end(g.offsets, b, g.num_bags, g.bag_size, start, g.n);
    if (end < 0) {
      return end;
    }
    if (non_padding(g.idx, start, end, g.padding_idx) > 0) {
      const int64_t* winners = g.max_indices + b * g.dim;
      const T* grad = g.grad_out + b * g.dim;
      for (int64_t j = 0; j < g.dim; ++j) {
        const int64_t r = winners[j];
        if (static_cast<uint64_t>(r) >= static_cast<uint64_t>(g.rows)) {
          return JEMBED_ERR_ARGUMENT;  // rewritten since it was checked
        }
        if (r % g.owners == g.owner) {
          g.grad_weight[r * g.dim + j] += grad[j];
        }
      }
    }
    start = end;
  }
  return JEMBED_OK;
}

template <typename T, typename I, typename AddRow, typename FmaRow>
int64_t sum_backward(const BagGradient<T, I>& g, int64_t first, const IndexCounts* counts, AddRow add_row,
                     FmaRow fma_row) {
  const int64_t row_bytes = g.dim * static_cast<int64_t>(sizeof(T));
  int64_t start = first;
  for (int64_t b = 0; b < g.num_bags; ++b) {
    const int64_t end = bag_end(g.offsets, b, g.num_bags, g.bag_size, start, g.n);
    if (end < 0) {
      return end;
    }
    const int64_t size = g.mode == JEMBED_BAG_MEAN ? non_padding(g.idx, start, end, g.padding_idx) : 0;
    const T* grad = g.grad_out + b * g.dim;
    for (int64_t i = start; i < end; ++i) {
      const int64_t r = static_cast<int64_t>(g.idx[i]);
      if (static_cast<uint64_t>(r) >= static_cast<uint64_t>(g.rows)) {
        return i;  // rewritten since it was checked
      }
      if (i + kPrefetchDistance < g.n) {
        // The gradient rows are random read-modify-writes: without this the row add stalls on each of them (as the
        // plain backward did, docs/bench/issue13-speed-goals.md). Across bag boundaries, like the forward.
        const int64_t ahead = static_cast<int64_t>(g.idx[i + kPrefetchDistance]);
        if (static_cast<uint64_t>(ahead) < static_cast<uint64_t>(g.rows) && ahead % g.owners == g.owner) {
          prefetch_row<1>(g.grad_weight + ahead * g.dim, row_bytes);
        }
      }
      if (r == g.padding_idx || r % g.owners != g.owner) {
        continue;
      }
      double scale = g.weights != nullptr ? static_cast<double>(g.weights[i]) : 1.0;
      if (counts != nullptr) {
        scale /= static_cast<double>(counts->count(r));
      }
      if (size != 0) {
        scale /= static_cast<double>(size);
      }
      const T alpha = static_cast<T>(scale);
      if (alpha == T(1)) {
        add_row(g.grad_weight + r * g.dim, grad, g.dim);  // fma(x, 1, acc) is exactly acc + x
      } else {
        fma_row(g.grad_weight + r * g.dim, grad, alpha, g.dim);
      }
    }
    start = end;
  }
  return JEMBED_OK;
}

template <typename T, typename I, typename AddRow, typename FmaRow>
int64_t bag_backward(const BagGradient<T, I>& g, AddRow add_row, FmaRow fma_row) {
  int64_t first = 0;
  const int64_t status =
      check_bags(g.rows, g.dim, g.idx, g.n, g.offsets, g.num_bags, g.bag_size, g.weights, g.mode, &first);
  if (status != JEMBED_OK) {
    return status;
  }
  if (g.owners < 1 || g.owner < 0 || g.owner >= g.owners ||
      (g.mode == JEMBED_BAG_MAX && (g.max_indices == nullptr || g.scale_grad_by_freq))) {
    return JEMBED_ERR_ARGUMENT;
  }
  if (g.mode == JEMBED_BAG_MAX) {
    const int64_t checked = check_max_indices(g, first);
    return checked != JEMBED_OK ? checked : max_backward(g, first);
  }
  try {
    std::unique_ptr<IndexCounts> counts;
    if (g.scale_grad_by_freq) {
      counts.reset(new IndexCounts(g.n - first));
      for (int64_t i = first; i < g.n; ++i) {
        counts->add(static_cast<int64_t>(g.idx[i]));
      }
    }
    return sum_backward(g, first, counts.get(), add_row, fma_row);
  } catch (const std::bad_alloc&) {
    return JEMBED_ERR_ALLOC;
  }
}

}  // namespace
}  // namespace jembed

#define JEMBED_BAG_BACKWARD(T, I, suffix, type)                                                                    \
  int64_t jembed_embedding_bag_backward_##suffix(T* gw, int64_t rows, int64_t dim, const I* idx, int64_t n,         \
                                                 const I* offsets, int64_t num_bags, int64_t bag_size,             \
                                                 const T* go, const T* weights, int64_t padding_idx, int mode,     \
                                                 int scale, const int64_t* max_indices, int64_t owners,            \
                                                 int64_t owner) {                                                  \
    const jembed::BagGradient<T, I> g{gw,    rows,        dim,  idx,        n,           offsets,                  \
                                      num_bags, bag_size, go,   weights,    padding_idx, mode,                     \
                                      scale != 0, max_indices, owners, owner};                                     \
    const jembed::KernelTable& k = jembed::active_kernels();                                                      \
    return jembed::bag_backward(g, k.add_row_##type, k.fma_row_##type);                                           \
  }

extern "C" {
JEMBED_BAG_BACKWARD(float, int64_t, f32_i64, f32)
JEMBED_BAG_BACKWARD(float, int32_t, f32_i32, f32)
JEMBED_BAG_BACKWARD(double, int64_t, f64_i64, f64)
JEMBED_BAG_BACKWARD(double, int32_t, f64_i32, f64)
}
