// The fused EmbeddingBag forward shared by every variant: for each bag, the output row is reduced in a block of vector
// registers while the bag's rows stream in (rows wider than one block take one pass per block, the bag's indices and
// rows being in L1 by then), rows prefetched kPrefetchDistance lookups ahead across bag boundaries, per-sample
// weights fused in. A variant supplies its vector operations as an `Ops` type (see bag_scalar.cpp); every operation is
// element-wise, and each output element sees its rows in input order, so every variant gives the scalar variant's
// bits. Internal linkage throughout (anonymous namespace): each ISA file compiles its own copy with its own flags.
#ifndef JEMBED_BAG_LOOP_H
#define JEMBED_BAG_LOOP_H

#include <stdint.h>

#include <type_traits>

#include "bag_bounds.h"
#include "jembed/jembed.h"
#include "half_kernel_table.h"
#include "kernel_table.h"
#include "prefetch.h"

namespace jembed {
namespace {

enum class Weights { kNone, kFused, kUnfused };

// What one pass over a bag needs; `col` is the first column of the block, `tail` the lanes of its last vector.
template <typename T, typename I>
struct BagPass {
  const T* table;
  int64_t rows;
  int64_t dim;
  const I* idx;
  int64_t start;
  int64_t end;
  int64_t n;
  const T* weights;
  Weights weighting;
  int64_t padding_idx;
  int64_t col;
  int tail;
  bool prefetch;
  bool mean;
  T* out;
  int64_t* max_indices;
};

// Loads vector k of a block of K whose last vector holds `tail` lanes (kLastPartial), without touching memory past it.
template <typename Ops, int K, bool kLastPartial>
[[gnu::always_inline]] inline typename Ops::V load_lane_block(const typename Ops::T* p, int k, int tail) {
  if (kLastPartial && k == K - 1) {
    return Ops::load_part(p + k * Ops::kWidth, tail);
  }
  return Ops::load(p + k * Ops::kWidth);
}

// Reads index i, checks it (a concurrent rewrite since check_bags), prefetches the row kPrefetchDistance lookups ahead.
template <typename T, typename I>
[[gnu::always_inline]] inline bool next_row(const BagPass<T, I>& p, int64_t i, int64_t* r) {
  *r = static_cast<int64_t>(p.idx[i]);
  if (static_cast<uint64_t>(*r) >= static_cast<uint64_t>(p.rows)) {
    return false;
  }
  if (p.prefetch && i + kPrefetchDistance < p.n) {
    const int64_t ahead = static_cast<int64_t>(p.idx[i + kPrefetchDistance]);
    if (static_cast<uint64_t>(ahead) < static_cast<uint64_t>(p.rows)) {
      prefetch_row<0>(p.table + ahead * p.dim, p.dim * static_cast<int64_t>(sizeof(T)));
    }
  }
  return true;
}

// The divisor of a mean, max(count, 1), in the accumulator's type: the table's own for float and double tables; for
// 16-bit tables (whose Ops accumulate in float and whose broadcast takes a 16-bit pattern), Ops::broadcast_count.
template <typename Ops, typename = void>
struct MeanDivisor {
  static typename Ops::V of(int64_t count) {
    return Ops::broadcast(static_cast<typename Ops::T>(count > 0 ? count : 1));
  }
};
template <typename Ops>
struct MeanDivisor<Ops, std::void_t<decltype(static_cast<void>(Ops::broadcast_count(int64_t{1})))>> {
  static typename Ops::V of(int64_t count) { return Ops::broadcast_count(count > 0 ? count : 1); }
};

// Sum or mean of one block of K vectors over the bag.
template <typename Ops, typename I, int K, bool kLastPartial>
int64_t sum_pass(const BagPass<typename Ops::T, I>& p) {
  using T = typename Ops::T;
  using V = typename Ops::V;
  V acc[K];
  for (int k = 0; k < K; ++k) {
    acc[k] = Ops::zero();
  }
  int64_t count = 0;
  for (int64_t i = p.start; i < p.end; ++i) {
    int64_t r;
    if (!next_row(p, i, &r)) {
      return i;
    }
    if (r == p.padding_idx) {
      continue;
    }
    ++count;
    const T* row = p.table + r * p.dim + p.col;
    if (p.weighting == Weights::kNone) {
      for (int k = 0; k < K; ++k) {
        acc[k] = Ops::add(acc[k], load_lane_block<Ops, K, kLastPartial>(row, k, p.tail));
      }
    } else if (p.weighting == Weights::kFused) {
      const V w = Ops::broadcast(p.weights[i]);
      for (int k = 0; k < K; ++k) {
        acc[k] = Ops::fma(load_lane_block<Ops, K, kLastPartial>(row, k, p.tail), w, acc[k]);
      }
    } else {
      const V w = Ops::broadcast(p.weights[i]);
      for (int k = 0; k < K; ++k) {
        acc[k] = Ops::add(acc[k], Ops::mul(load_lane_block<Ops, K, kLastPartial>(row, k, p.tail), w));
      }
    }
  }
  if (p.mean) {
    // libtorch divides the sum by max(count, 1) converted to the output's type (16-bit tables: see MeanDivisor).
    const V divisor = MeanDivisor<Ops>::of(count);
    for (int k = 0; k < K; ++k) {
      acc[k] = Ops::div(acc[k], divisor);
    }
  }
  T* out = p.out + p.col;
  for (int k = 0; k < K; ++k) {
    if (kLastPartial && k == K - 1) {
      Ops::store_part(out + k * Ops::kWidth, acc[k], p.tail);
    } else {
      Ops::store(out + k * Ops::kWidth, acc[k]);
    }
  }
  return JEMBED_OK;
}

// Max of one block of K vectors over the bag, with the winning row per lane: the first non-padding row, then any
// row strictly greater (so ties keep the first and a NaN wins only as the first, as libtorch's `>` does).
template <typename Ops, typename I, int K, bool kLastPartial>
int64_t max_pass(const BagPass<typename Ops::T, I>& p) {
  using T = typename Ops::T;
  using V = typename Ops::V;
  using A = typename Ops::A;
  V acc[K];
  A arg[K];
  for (int k = 0; k < K; ++k) {  // set on the first row; zeros and -1 for a bag without one
    acc[k] = Ops::zero();
    arg[k] = Ops::arg_broadcast(-1);
  }
  bool first = true;
  for (int64_t i = p.start; i < p.end; ++i) {
    int64_t r;
    if (!next_row(p, i, &r)) {
      return i;
    }
    if (r == p.padding_idx) {
      continue;
    }
    const T* row = p.table + r * p.dim + p.col;
    const A winner = Ops::arg_broadcast(r);
    if (first) {
      for (int k = 0; k < K; ++k) {
        acc[k] = load_lane_block<Ops, K, kLastPartial>(row, k, p.tail);
        arg[k] = winner;
      }
      first = false;
    } else {
      for (int k = 0; k < K; ++k) {
        const V x = load_lane_block<Ops, K, kLastPartial>(row, k, p.tail);
        const typename Ops::M greater = Ops::greater(x, acc[k]);
        acc[k] = Ops::select(greater, x, acc[k]);
        arg[k] = Ops::arg_select(greater, winner, arg[k]);
      }
    }
  }
  T* out = p.out + p.col;
  int64_t* out_arg = p.max_indices == nullptr ? nullptr : p.max_indices + p.col;
  for (int k = 0; k < K; ++k) {
    if (kLastPartial && k == K - 1) {
      Ops::store_part(out + k * Ops::kWidth, acc[k], p.tail);
      if (out_arg != nullptr) {
        Ops::arg_store_part(out_arg + k * Ops::kWidth, arg[k], p.tail);
      }
    } else {
      Ops::store(out + k * Ops::kWidth, acc[k]);
      if (out_arg != nullptr) {
        Ops::arg_store(out_arg + k * Ops::kWidth, arg[k]);
      }
    }
  }
  return JEMBED_OK;
}

// The last block of a row: `vectors` (1..K) vectors, the last one partial. Chosen at compile time, so that the block
// stays in registers.
template <typename Ops, typename I, int K>
int64_t last_pass(bool max_mode, int vectors, const BagPass<typename Ops::T, I>& p) {
  if constexpr (K == 0) {
    return JEMBED_ERR_ARGUMENT;
  } else {
    if (vectors == K) {
      return max_mode ? max_pass<Ops, I, K, true>(p) : sum_pass<Ops, I, K, true>(p);
    }
    return last_pass<Ops, I, K - 1>(max_mode, vectors, p);
  }
}

// One bag: full blocks of kBlock vectors, then the rest of the row in one block; prefetching on the first pass only.
template <typename Ops, typename I>
int64_t one_bag(BagPass<typename Ops::T, I>& p, bool max_mode) {
  constexpr int W = Ops::kWidth;
  constexpr int kSum = Ops::kSumBlock;
  constexpr int kMax = Ops::kMaxBlock;
  const int64_t block = static_cast<int64_t>(max_mode ? kMax : kSum) * W;
  p.prefetch = true;
  p.tail = W;
  for (p.col = 0; p.col + block <= p.dim; p.col += block) {
    const int64_t status = max_mode ? max_pass<Ops, I, kMax, false>(p) : sum_pass<Ops, I, kSum, false>(p);
    if (status != JEMBED_OK) {
      return status;
    }
    p.prefetch = false;
  }
  const int64_t rest = p.dim - p.col;
  if (rest == 0) {
    return JEMBED_OK;
  }
  const int vectors = static_cast<int>((rest + W - 1) / W);
  p.tail = static_cast<int>(rest - static_cast<int64_t>(vectors - 1) * W);
  return max_mode ? last_pass<Ops, I, kMax>(true, vectors, p) : last_pass<Ops, I, kSum>(false, vectors, p);
}

template <typename Ops, typename I>
int64_t embedding_bag(const typename Ops::T* table, int64_t rows, int64_t dim, const I* idx, int64_t n,
                      const I* offsets, int64_t num_bags, int64_t bag_size, const typename Ops::T* weights,
                      int64_t padding_idx, int mode, int flags, typename Ops::T* out, int64_t* max_indices) {
  int64_t first = 0;
  const int64_t status = check_bags(rows, dim, idx, n, offsets, num_bags, bag_size, weights, mode, &first);
  if (status != JEMBED_OK) {
    return status;
  }
  BagPass<typename Ops::T, I> p{};
  p.table = table;
  p.rows = rows;
  p.dim = dim;
  p.idx = idx;
  p.n = n;
  p.weights = weights;
  p.weighting = weights == nullptr ? Weights::kNone
                                   : ((flags & JEMBED_BAG_FUSED_WEIGHTS) != 0 ? Weights::kFused : Weights::kUnfused);
  p.padding_idx = padding_idx;
  p.mean = mode == JEMBED_BAG_MEAN;
  const bool max_mode = mode == JEMBED_BAG_MAX;
  int64_t start = first;
  for (int64_t b = 0; b < num_bags; ++b) {
    const int64_t end = bag_end(offsets, b, num_bags, bag_size, start, n);
    if (end < 0) {
      return end;
    }
    p.start = start;
    p.end = end;
    p.out = out + b * dim;
    p.max_indices = max_mode && max_indices != nullptr ? max_indices + b * dim : nullptr;
    const int64_t s = one_bag<Ops, I>(p, max_mode);
    if (s != JEMBED_OK) {
      return s;
    }
    start = end;
  }
  return JEMBED_OK;
}

}  // namespace
}  // namespace jembed

// Defines the four EmbeddingBag forwards of variant `ns` from its float and double operations.
#define JEMBED_DEFINE_BAGS(ns, F32Ops, F64Ops)                                                                       \
  namespace ns {                                                                                                     \
  int64_t bag_f32_i64(const float* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n, const int64_t* off, \
                      int64_t bags, int64_t bag_size, const float* w, int64_t pad, int mode, int flags, float* out, \
                      int64_t* arg) {                                                                                \
    return embedding_bag<F32Ops, int64_t>(t, rows, dim, idx, n, off, bags, bag_size, w, pad, mode, flags, out, arg); \
  }                                                                                                                  \
  int64_t bag_f32_i32(const float* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, const int32_t* off, \
                      int64_t bags, int64_t bag_size, const float* w, int64_t pad, int mode, int flags, float* out, \
                      int64_t* arg) {                                                                                \
    return embedding_bag<F32Ops, int32_t>(t, rows, dim, idx, n, off, bags, bag_size, w, pad, mode, flags, out, arg); \
  }                                                                                                                  \
  int64_t bag_f64_i64(const double* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,                    \
                      const int64_t* off, int64_t bags, int64_t bag_size, const double* w, int64_t pad, int mode,   \
                      int flags, double* out, int64_t* arg) {                                                        \
    return embedding_bag<F64Ops, int64_t>(t, rows, dim, idx, n, off, bags, bag_size, w, pad, mode, flags, out, arg); \
  }                                                                                                                  \
  int64_t bag_f64_i32(const double* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,                    \
                      const int32_t* off, int64_t bags, int64_t bag_size, const double* w, int64_t pad, int mode,   \
                      int flags, double* out, int64_t* arg) {                                                        \
    return embedding_bag<F64Ops, int32_t>(t, rows, dim, idx, n, off, bags, bag_size, w, pad, mode, flags, out, arg); \
  }                                                                                                                  \
  }

// Defines the four EmbeddingBag forwards of 16-bit tables of variant `ns`: the storage type is uint16_t (the bits of
// a float16 or bfloat16), the Ops widen each loaded element to float, accumulate in float and round once as they
// store (to nearest even; see half_float.h), so a bag's result is its float32 sum (or mean) rounded once.
#define JEMBED_DEFINE_HALF_BAGS(ns, F16Ops, BF16Ops)                                                                  \
  namespace ns {                                                                                                     \
  int64_t bag_f16_i64(const uint16_t* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,                  \
                      const int64_t* off, int64_t bags, int64_t bag_size, const uint16_t* w, int64_t pad, int mode, \
                      int flags, uint16_t* out, int64_t* arg) {                                                      \
    return embedding_bag<F16Ops, int64_t>(t, rows, dim, idx, n, off, bags, bag_size, w, pad, mode, flags, out, arg); \
  }                                                                                                                  \
  int64_t bag_f16_i32(const uint16_t* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,                  \
                      const int32_t* off, int64_t bags, int64_t bag_size, const uint16_t* w, int64_t pad, int mode, \
                      int flags, uint16_t* out, int64_t* arg) {                                                      \
    return embedding_bag<F16Ops, int32_t>(t, rows, dim, idx, n, off, bags, bag_size, w, pad, mode, flags, out, arg); \
  }                                                                                                                  \
  int64_t bag_bf16_i64(const uint16_t* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,                 \
                       const int64_t* off, int64_t bags, int64_t bag_size, const uint16_t* w, int64_t pad,          \
                       int mode, int flags, uint16_t* out, int64_t* arg) {                                           \
    return embedding_bag<BF16Ops, int64_t>(t, rows, dim, idx, n, off, bags, bag_size, w, pad, mode, flags, out,     \
                                           arg);                                                                     \
  }                                                                                                                  \
  int64_t bag_bf16_i32(const uint16_t* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,                 \
                       const int32_t* off, int64_t bags, int64_t bag_size, const uint16_t* w, int64_t pad,          \
                       int mode, int flags, uint16_t* out, int64_t* arg) {                                           \
    return embedding_bag<BF16Ops, int32_t>(t, rows, dim, idx, n, off, bags, bag_size, w, pad, mode, flags, out,     \
                                           arg);                                                                     \
  }                                                                                                                  \
  }

#endif
