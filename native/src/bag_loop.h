// The fused EmbeddingBag forward shared by every variant. A bag's output row is reduced in a block of K vectors while
// the bag's rows stream in. K is a compile-time constant and every operation on the block is expanded per vector at
// compile time (for_each_vector), so that the block stays in registers for the whole bag: as a loop over a stack
// array, the compiler cleared the array for every bag and stored it back for every row, a chain through memory in
// the hot loop. What stays fixed for a call is worked out once per call: the last block's width, which picks the one
// loop over all bags that runs (sum_bags / max_bags), the lines of a row to prefetch, and whether there are weights;
// the loop over a bag's rows keeps the index read and check, the prefetch, the loads and the arithmetic. Rows wider
// than one block take one pass per block and bag (the bag's indices and rows are in L1 by then); rows are prefetched
// a number of lookups ahead across bag boundaries, on each bag's first pass. A variant supplies its vector operations
// as an `Ops` type (see bag_scalar.cpp); every operation is element-wise, and each output element sees its rows in
// input order, so every variant gives the scalar variant's bits. Internal linkage throughout (anonymous namespace):
// each ISA file compiles its own copy with its own flags.
#ifndef JEMBED_BAG_LOOP_H
#define JEMBED_BAG_LOOP_H

#include <stdint.h>

#include <type_traits>
#include <utility>

#include "bag_bounds.h"
#include "jembed/jembed.h"
#include "half_kernel_table.h"
#include "kernel_table.h"
#include "prefetch.h"

namespace jembed {
namespace {

// Calls f(std::integral_constant<int, k>{}) for k = 0, ..., K - 1, expanded at compile time: every index into a
// block of accumulators is a constant, which is what lets the compiler keep the block in registers.
template <typename F, int... k>
[[gnu::always_inline]] inline void expand_vectors(F& f, std::integer_sequence<int, k...>) {
  (f(std::integral_constant<int, k>{}), ...);
}
template <int K, typename F>
[[gnu::always_inline]] inline void for_each_vector(F&& f) {
  expand_vectors(f, std::make_integer_sequence<int, K>{});
}

// What every bag of one call shares, worked out once per call.
template <typename T, typename I>
struct BagCall {
  const T* table;
  int64_t rows;
  int64_t dim;
  const I* idx;
  int64_t n;
  const I* offsets;
  int64_t num_bags;
  int64_t bag_size;
  int64_t first;          // where the first bag starts
  const T* weights;       // per-sample weights, or null
  bool fused;             // a weight is applied with one fma per element, else a product and then a sum
  int64_t padding_idx;
  bool mean;
  T* out;
  int64_t* max_indices;   // max: the winning row of each output element, or null
  int64_t full_blocks;    // blocks of the Ops' block width before a row's last block
  int64_t last_col;       // the first column of the last block
  int tail;               // the lanes of the last block's last vector
  int64_t distance;       // rows are prefetched this many lookups ahead (prefetch_rows_ahead)
  RowPrefetch prefetch;   // the lines of a row to prefetch
};

// Prefetches the row `c.distance` lookups after lookup i, if there is one and its index is in range (a bad index is
// reported when its turn comes).
template <typename T, typename I>
[[gnu::always_inline]] inline void prefetch_ahead(const BagCall<T, I>& c, int64_t i) {
  if (i + c.distance < c.n) {
    const int64_t ahead = static_cast<int64_t>(c.idx[i + c.distance]);
    if (static_cast<uint64_t>(ahead) < static_cast<uint64_t>(c.rows)) {
      c.prefetch.row(c.table + ahead * c.dim);
    }
  }
}

// Vector k of a block of K from `row`; the last one holds `tail` lanes if kPartial, read without touching memory
// past them.
template <typename Ops, int K, bool kPartial, int k>
[[gnu::always_inline]] inline typename Ops::V load_vector(const typename Ops::T* row, int tail) {
  if constexpr (kPartial && k == K - 1) {
    return Ops::load_part(row + k * Ops::kWidth, tail);
  } else {
    static_cast<void>(tail);
    return Ops::load(row + k * Ops::kWidth);
  }
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

// Sum or mean over lookups [start, end) of the K vectors from column `col` (the last holding c.tail lanes if
// kPartial), into out + col. Returns JEMBED_OK, or the position of an index rewritten out of range since check_bags.
template <typename Ops, typename I, int K, bool kPartial, bool kWeighted>
[[gnu::always_inline]] inline int64_t sum_block(const BagCall<typename Ops::T, I>& c, int64_t start, int64_t end,
                                                int64_t col, bool prefetch, typename Ops::T* out) {
  using T = typename Ops::T;
  using V = typename Ops::V;
  const T* const table = c.table + col;
  const I* const idx = c.idx;
  const uint64_t rows = static_cast<uint64_t>(c.rows);
  const int64_t dim = c.dim;
  const int64_t padding_idx = c.padding_idx;
  const T* const weights = c.weights;
  const bool fused = c.fused;
  const int tail = c.tail;
  V acc[K];
  for_each_vector<K>([&](auto k) { acc[k] = Ops::zero(); });
  int64_t count = 0;
  for (int64_t i = start; i < end; ++i) {
    const int64_t r = static_cast<int64_t>(idx[i]);
    if (static_cast<uint64_t>(r) >= rows) {
      return i;
    }
    if (prefetch) {
      prefetch_ahead(c, i);
    }
    if (r == padding_idx) {
      continue;
    }
    ++count;
    const T* const row = table + r * dim;
    if constexpr (kWeighted) {
      const V w = Ops::broadcast(weights[i]);
      if (fused) {
        for_each_vector<K>([&](auto k) {
          acc[k] = Ops::fma(load_vector<Ops, K, kPartial, decltype(k)::value>(row, tail), w, acc[k]);
        });
      } else {
        for_each_vector<K>([&](auto k) {
          acc[k] = Ops::add(acc[k], Ops::mul(load_vector<Ops, K, kPartial, decltype(k)::value>(row, tail), w));
        });
      }
    } else {
      static_cast<void>(weights);
      static_cast<void>(fused);
      for_each_vector<K>([&](auto k) {
        acc[k] = Ops::add(acc[k], load_vector<Ops, K, kPartial, decltype(k)::value>(row, tail));
      });
    }
  }
  if (c.mean) {
    // libtorch divides the sum by max(count, 1) converted to the output's type (16-bit tables: see MeanDivisor).
    const V divisor = MeanDivisor<Ops>::of(count);
    for_each_vector<K>([&](auto k) { acc[k] = Ops::div(acc[k], divisor); });
  }
  T* const to = out + col;
  for_each_vector<K>([&](auto k) {
    if constexpr (kPartial && decltype(k)::value == K - 1) {
      Ops::store_part(to + k * Ops::kWidth, acc[k], tail);
    } else {
      Ops::store(to + k * Ops::kWidth, acc[k]);
    }
  });
  return JEMBED_OK;
}

// Max over lookups [start, end) of the K vectors from column `col`, with the winning row per lane (into out_arg +
// col unless out_arg is null): the first non-padding row, then any row strictly greater (so ties keep the first and
// a NaN wins only as the first, as libtorch's `>` does); zeros and -1 for a bag without one. Returns as sum_block.
template <typename Ops, typename I, int K, bool kPartial>
[[gnu::always_inline]] inline int64_t max_block(const BagCall<typename Ops::T, I>& c, int64_t start, int64_t end,
                                                int64_t col, bool prefetch, typename Ops::T* out,
                                                int64_t* out_arg) {
  using T = typename Ops::T;
  using V = typename Ops::V;
  using A = typename Ops::A;
  const T* const table = c.table + col;
  const I* const idx = c.idx;
  const uint64_t rows = static_cast<uint64_t>(c.rows);
  const int64_t dim = c.dim;
  const int64_t padding_idx = c.padding_idx;
  const int tail = c.tail;
  V acc[K];
  A arg[K];
  for_each_vector<K>([&](auto k) {
    acc[k] = Ops::zero();
    arg[k] = Ops::arg_broadcast(-1);
  });
  bool first = true;
  for (int64_t i = start; i < end; ++i) {
    const int64_t r = static_cast<int64_t>(idx[i]);
    if (static_cast<uint64_t>(r) >= rows) {
      return i;
    }
    if (prefetch) {
      prefetch_ahead(c, i);
    }
    if (r == padding_idx) {
      continue;
    }
    const T* const row = table + r * dim;
    const A winner = Ops::arg_broadcast(r);
    if (first) {
      for_each_vector<K>([&](auto k) {
        acc[k] = load_vector<Ops, K, kPartial, decltype(k)::value>(row, tail);
        arg[k] = winner;
      });
      first = false;
    } else {
      for_each_vector<K>([&](auto k) {
        const V x = load_vector<Ops, K, kPartial, decltype(k)::value>(row, tail);
        const typename Ops::M greater = Ops::greater(x, acc[k]);
        acc[k] = Ops::select(greater, x, acc[k]);
        arg[k] = Ops::arg_select(greater, winner, arg[k]);
      });
    }
  }
  T* const to = out + col;
  int64_t* const to_arg = out_arg == nullptr ? nullptr : out_arg + col;
  for_each_vector<K>([&](auto k) {
    if constexpr (kPartial && decltype(k)::value == K - 1) {
      Ops::store_part(to + k * Ops::kWidth, acc[k], tail);
      if (to_arg != nullptr) {
        Ops::arg_store_part(to_arg + k * Ops::kWidth, arg[k], tail);
      }
    } else {
      Ops::store(to + k * Ops::kWidth, acc[k]);
      if (to_arg != nullptr) {
        Ops::arg_store(to_arg + k * Ops::kWidth, arg[k]);
      }
    }
  });
  return JEMBED_OK;
}

// The full blocks of one bag's row (rows wider than one block), prefetching on the first. Out of line: rows this
// wide are few, and every bags loop shares it.
template <typename Ops, typename I, bool kWeighted>
[[gnu::noinline]] int64_t sum_full_blocks(const BagCall<typename Ops::T, I>& c, int64_t start, int64_t end,
                                          typename Ops::T* out) {
  constexpr int64_t kCols = int64_t{Ops::kSumBlock} * Ops::kWidth;
  for (int64_t block = 0; block < c.full_blocks; ++block) {
    const int64_t s =
        sum_block<Ops, I, Ops::kSumBlock, false, kWeighted>(c, start, end, block * kCols, block == 0, out);
    if (s != JEMBED_OK) {
      return s;
    }
  }
  return JEMBED_OK;
}

template <typename Ops, typename I>
[[gnu::noinline]] int64_t max_full_blocks(const BagCall<typename Ops::T, I>& c, int64_t start, int64_t end,
                                          typename Ops::T* out, int64_t* out_arg) {
  constexpr int64_t kCols = int64_t{Ops::kMaxBlock} * Ops::kWidth;
  for (int64_t block = 0; block < c.full_blocks; ++block) {
    const int64_t s = max_block<Ops, I, Ops::kMaxBlock, false>(c, start, end, block * kCols, block == 0, out, out_arg);
    if (s != JEMBED_OK) {
      return s;
    }
  }
  return JEMBED_OK;
}

// Every bag of a call whose rows end in a block of K vectors (the last partial if kPartial): the full blocks if any,
// then the last block, which prefetches when it is the bag's only pass. Offsets are read once each and checked again
// (bag_end); a failure returns at once.
template <typename Ops, typename I, int K, bool kPartial, bool kWeighted>
int64_t sum_bags(const BagCall<typename Ops::T, I>& c) {
  const bool one_block = c.full_blocks == 0;
  int64_t start = c.first;
  for (int64_t b = 0; b < c.num_bags; ++b) {
    const int64_t end = bag_end(c.offsets, b, c.num_bags, c.bag_size, start, c.n);
    if (end < 0) {
      return end;
    }
    typename Ops::T* const out = c.out + b * c.dim;
    if (!one_block) {
      const int64_t s = sum_full_blocks<Ops, I, kWeighted>(c, start, end, out);
      if (s != JEMBED_OK) {
        return s;
      }
    }
    const int64_t s = sum_block<Ops, I, K, kPartial, kWeighted>(c, start, end, c.last_col, one_block, out);
    if (s != JEMBED_OK) {
      return s;
    }
    start = end;
  }
  return JEMBED_OK;
}

template <typename Ops, typename I, int K, bool kPartial>
int64_t max_bags(const BagCall<typename Ops::T, I>& c) {
  const bool one_block = c.full_blocks == 0;
  int64_t start = c.first;
  for (int64_t b = 0; b < c.num_bags; ++b) {
    const int64_t end = bag_end(c.offsets, b, c.num_bags, c.bag_size, start, c.n);
    if (end < 0) {
      return end;
    }
    typename Ops::T* const out = c.out + b * c.dim;
    int64_t* const out_arg = c.max_indices == nullptr ? nullptr : c.max_indices + b * c.dim;
    if (!one_block) {
      const int64_t s = max_full_blocks<Ops, I>(c, start, end, out, out_arg);
      if (s != JEMBED_OK) {
        return s;
      }
    }
    const int64_t s = max_block<Ops, I, K, kPartial>(c, start, end, c.last_col, one_block, out, out_arg);
    if (s != JEMBED_OK) {
      return s;
    }
    start = end;
  }
  return JEMBED_OK;
}

template <typename Ops, typename I>
using BagsLoop = int64_t (*)(const BagCall<typename Ops::T, I>&);

// The bags loop for a last block of `vectors` vectors (1..K), its last one partial or not: chosen once per call.
template <typename Ops, typename I, int K, bool kWeighted>
BagsLoop<Ops, I> pick_sum_bags(int vectors, bool partial) {
  if constexpr (K > 1) {
    if (vectors < K) {
      return pick_sum_bags<Ops, I, K - 1, kWeighted>(vectors, partial);
    }
  }
  if constexpr (Ops::kWidth > 1) {  // one-element vectors are never partial
    if (partial) {
      return &sum_bags<Ops, I, K, true, kWeighted>;
    }
  }
  static_cast<void>(partial);
  return &sum_bags<Ops, I, K, false, kWeighted>;
}

template <typename Ops, typename I, int K>
BagsLoop<Ops, I> pick_max_bags(int vectors, bool partial) {
  if constexpr (K > 1) {
    if (vectors < K) {
      return pick_max_bags<Ops, I, K - 1>(vectors, partial);
    }
  }
  if constexpr (Ops::kWidth > 1) {
    if (partial) {
      return &max_bags<Ops, I, K, true>;
    }
  }
  static_cast<void>(partial);
  return &max_bags<Ops, I, K, false>;
}

template <typename Ops, typename I>
int64_t embedding_bag(const typename Ops::T* table, int64_t rows, int64_t dim, const I* idx, int64_t n,
                      const I* offsets, int64_t num_bags, int64_t bag_size, const typename Ops::T* weights,
                      int64_t padding_idx, int mode, int flags, typename Ops::T* out, int64_t* max_indices) {
  using T = typename Ops::T;
  constexpr int W = Ops::kWidth;
  int64_t first = 0;
  const int64_t status = check_bags(rows, dim, idx, n, offsets, num_bags, bag_size, weights, mode, &first);
  if (status != JEMBED_OK) {
    return status;
  }
  if (dim == 0) {  // nothing to read or write; the offsets are still checked again as they are used
    int64_t start = first;
    for (int64_t b = 0; b < num_bags; ++b) {
      start = bag_end(offsets, b, num_bags, bag_size, start, n);
      if (start < 0) {
        return start;
      }
    }
    return JEMBED_OK;
  }
  const bool max_mode = mode == JEMBED_BAG_MAX;
  BagCall<T, I> c{};
  c.table = table;
  c.rows = rows;
  c.dim = dim;
  c.idx = idx;
  c.n = n;
  c.offsets = offsets;
  c.num_bags = num_bags;
  c.bag_size = bag_size;
  c.first = first;
  c.weights = weights;
  c.fused = (flags & JEMBED_BAG_FUSED_WEIGHTS) != 0;
  c.padding_idx = padding_idx;
  c.mean = mode == JEMBED_BAG_MEAN;
  c.out = out;
  c.max_indices = max_mode ? max_indices : nullptr;
  // The last block holds 1 to a whole block's columns; the full blocks before it, none for most rows.
  const int64_t block = static_cast<int64_t>(max_mode ? Ops::kMaxBlock : Ops::kSumBlock) * W;
  c.full_blocks = (dim - 1) / block;
  c.last_col = c.full_blocks * block;
  const int64_t rest = dim - c.last_col;
  const int vectors = static_cast<int>((rest + W - 1) / W);
  c.tail = static_cast<int>(rest - static_cast<int64_t>(vectors - 1) * W);
  const int64_t row_bytes = dim * static_cast<int64_t>(sizeof(T));
  c.distance = prefetch_rows_ahead(row_bytes, kBagPrefetchLines, kBagPrefetchMinRows, kBagPrefetchMaxRows);
  c.prefetch = RowPrefetch(table, row_bytes);
  const bool partial = c.tail < W;
  if (max_mode) {
    return pick_max_bags<Ops, I, Ops::kMaxBlock>(vectors, partial)(c);
  }
  if (weights != nullptr) {
    return pick_sum_bags<Ops, I, Ops::kSumBlock, true>(vectors, partial)(c);
  }
  return pick_sum_bags<Ops, I, Ops::kSumBlock, false>(vectors, partial)(c);
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
