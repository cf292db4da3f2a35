// The lookups of row-wise quantized tables (PyTorch's embedding_bag_byte_prepack / embedding_bag_4bit_prepack
// layouts), shared by every variant and both bit widths: each bag's output row is reduced in a block of vector
// registers while its rows stream in, dequantized on the fly, in FBGEMM's order of operations (EmbeddingSpMDM_ref,
// EmbeddingSpMDMNBit_ref, and their JIT kernels), per element in float32:
//   s = w * scale; b = w * bias; acc = fma(s, q, acc + b)        (w = 1 without per-sample weights)
// so that every variant gives the scalar variant's bits and libtorch's. A plain lookup (quantized::embedding_byte)
// is bags of one: fma(scale, q, 0 + bias), the same bits.
//
// Speed (a random row is a cache miss; everything else has to stay out of its way):
//  - The number of vectors per row is chosen once per call, so each bag runs a loop compiled for its width, with the
//    accumulators in registers and the call's arguments in locals. A row whose width is not a whole number of vectors
//    ends on a vector that overlaps the one before it (it starts at dim - W): those columns are computed twice, to
//    the same bits, and no lane is ever masked. Only rows narrower than one vector take a partial vector.
//  - Rows wider than one block of registers take one pass per block (the last block overlapping too); rows are
//    prefetched on the first pass only, and later passes find them in L1.
//  - Rows are prefetched a fixed number of cache lines ahead rather than a fixed number of rows: a quantized row is
//    short (36 bytes for 4-bit dim 64), so 16 rows ahead, as the float gathers do, keeps too few misses in flight.
// A variant supplies its vector operations and its code loads as an `Ops` type (see quant_bag_scalar.cpp). Internal
// linkage throughout (anonymous namespace): each ISA file compiles its own copy with its own flags.
#ifndef JEMBED_QUANT_BAG_LOOP_H
#define JEMBED_QUANT_BAG_LOOP_H

#include <stdint.h>
#include <string.h>

#include "bag_bounds.h"
#include "jembed/jembed.h"
#include "kernel_table.h"
#include "prefetch.h"

namespace jembed {
namespace {

// How far ahead rows are prefetched: about kQuantPrefetchLines cache lines of rows (a row counted as the lines it can
// span), at least 16 rows (the float kernels' distance) and at most 32. 4-bit rows of dim 64 (36 bytes) and 8-bit
// rows of dim 64 (72 bytes) get 32, 8-bit rows of dim 256 (264 bytes) 16. Chosen from interleaved A/B runs on a
// loaded machine (docs/bench/quantized/kernel-notes.md); 8-bit lookups may prefer fewer: to be rerun quietly.
constexpr int64_t kQuantPrefetchLines = 96;
constexpr int64_t kQuantPrefetchMinRows = 16;
constexpr int64_t kQuantPrefetchMaxRows = 32;

// The bytes of a row: the codes, then its scale and bias (8-bit: two float32; 4-bit: two float16).
template <int kBits>
struct QuantRow;

template <>
struct QuantRow<8> {
  static constexpr int64_t kScaleBiasBytes = 8;
  static int64_t code_bytes(int64_t dim) { return dim; }
};

template <>
struct QuantRow<4> {
  static constexpr int64_t kScaleBiasBytes = 4;
  static int64_t code_bytes(int64_t dim) { return dim / 2; }
};

// One checked call. Passed by reference to the loops, which copy it into locals, so that nothing they store (the
// output) can alias it and the compiler keeps every field in a register.
template <typename I>
struct QuantCall {
  const uint8_t* table;
  int64_t rows;
  int64_t dim;
  int64_t code_bytes;
  int64_t row_bytes;
  int64_t prefetch_distance;
  const I* idx;
  int64_t n;
  const I* offsets;
  int64_t num_bags;
  int64_t bag_size;
  int64_t first;
  const float* weights;
  bool mean;
  float* out;
};

// The row of lookup i, or nullptr if its index is outside the table (rewritten since check_bags). With kPrefetch,
// also prefetches the row prefetch_distance lookups ahead (an index outside the table is skipped there and reported
// when the loop reaches it).
template <typename I, bool kPrefetch>
[[gnu::always_inline]] inline const uint8_t* quant_row(const QuantCall<I>& c, int64_t i) {
  const int64_t r = static_cast<int64_t>(c.idx[i]);
  if (static_cast<uint64_t>(r) >= static_cast<uint64_t>(c.rows)) {
    return nullptr;
  }
  if (kPrefetch && i + c.prefetch_distance < c.n) {
    const int64_t ahead = static_cast<int64_t>(c.idx[i + c.prefetch_distance]);
    if (static_cast<uint64_t>(ahead) < static_cast<uint64_t>(c.rows)) {
      prefetch_row<0>(c.table + ahead * c.row_bytes, c.row_bytes);
    }
  }
  return c.table + r * c.row_bytes;
}

// One row into the K accumulators of a block: vector k holds columns col + k * W on, except the last, which holds
// columns `last` on (col + (K - 1) * W, or less where it overlaps its neighbour), or only `tail` lanes when partial.
// Codes are unpacked two vectors at a time where a variant can do that cheaper.
template <typename Ops, int kBits, int K, bool kPartial>
[[gnu::always_inline]] inline void quant_add_row(typename Ops::V (&acc)[K], const uint8_t* row, int64_t col,
                                                 int64_t last, int tail, typename Ops::V s, typename Ops::V b) {
  using V = typename Ops::V;
  constexpr int W = Ops::kWidth;
  int k = 0;
  for (; k + 2 < K; k += 2) {
    V q0;
    V q1;
    Ops::template codes2<kBits>(row, col + k * W, &q0, &q1);
    acc[k] = Ops::fma(q0, s, Ops::add(acc[k], b));
    acc[k + 1] = Ops::fma(q1, s, Ops::add(acc[k + 1], b));
  }
  for (; k < K - 1; ++k) {
    acc[k] = Ops::fma(Ops::template codes<kBits>(row, col + k * W), s, Ops::add(acc[k], b));
  }
  const V q = kPartial ? Ops::template codes_part<kBits>(row, last, tail) : Ops::template codes<kBits>(row, last);
  acc[K - 1] = Ops::fma(q, s, Ops::add(acc[K - 1], b));
}

// The sum (or mean) of one block of K vectors over the lookups [start, end), stored to out.
template <typename Ops, int kBits, typename I, int K, bool kPartial, bool kPrefetch>
[[gnu::always_inline]] inline int64_t quant_block(const QuantCall<I>& c, int64_t start, int64_t end, int64_t col,
                                                  int64_t last, int tail, float* out) {
  using V = typename Ops::V;
  constexpr int W = Ops::kWidth;
  V acc[K];
  for (int k = 0; k < K; ++k) {
    acc[k] = Ops::zero();
  }
  for (int64_t i = start; i < end; ++i) {
    const uint8_t* row = quant_row<I, kPrefetch>(c, i);
    if (row == nullptr) {
      return i;
    }
    V s;
    V b;
    Ops::template scale_bias<kBits>(row + c.code_bytes, &s, &b);
    if (c.weights != nullptr) {
      const V w = Ops::broadcast(c.weights[i]);
      s = Ops::mul(w, s);
      b = Ops::mul(w, b);
    }
    quant_add_row<Ops, kBits, K, kPartial>(acc, row, col, last, tail, s, b);
  }
  // Mean, as nn.EmbeddingBag's: the sum divided once by max(count, 1), converted to float. Divided as it is stored,
  // so that the accumulators stay in registers.
  const int64_t count = end - start;
  const V divisor = Ops::broadcast(static_cast<float>(count > 0 ? count : 1));
  for (int k = 0; k < K - 1; ++k) {
    Ops::store(out + col + k * W, c.mean ? Ops::div(acc[k], divisor) : acc[k]);
  }
  const V result = c.mean ? Ops::div(acc[K - 1], divisor) : acc[K - 1];
  if (kPartial) {
    Ops::store_part(out + last, result, tail);
  } else {
    Ops::store(out + last, result);
  }
  return JEMBED_OK;
}

// Every bag of a row of at most K vectors (K = ceil(dim / W); partial: dim < W, one vector of dim lanes).
template <typename Ops, int kBits, typename I, int K, bool kPartial>
int64_t quant_bags_narrow(const QuantCall<I>& call) {
  const QuantCall<I> c = call;
  constexpr int W = Ops::kWidth;
  const int64_t last = kPartial ? 0 : c.dim - W;
  const int tail = kPartial ? static_cast<int>(c.dim) : W;
  int64_t start = c.first;
  for (int64_t b = 0; b < c.num_bags; ++b) {
    const int64_t end = bag_end(c.offsets, b, c.num_bags, c.bag_size, start, c.n);
    if (end < 0) {
      return end;
    }
    const int64_t status =
        quant_block<Ops, kBits, I, K, kPartial, true>(c, start, end, 0, last, tail, c.out + b * c.dim);
    if (status != JEMBED_OK) {
      return status;
    }
    start = end;
  }
  return JEMBED_OK;
}

// Every bag of a row wider than one block: blocks of kSumBlock vectors, the last one ending at the row's end.
template <typename Ops, int kBits, typename I>
int64_t quant_bags_wide(const QuantCall<I>& call) {
  const QuantCall<I> c = call;
  constexpr int W = Ops::kWidth;
  constexpr int K = Ops::kSumBlock;
  constexpr int64_t kBlock = static_cast<int64_t>(K) * W;
  int64_t start = c.first;
  for (int64_t b = 0; b < c.num_bags; ++b) {
    const int64_t end = bag_end(c.offsets, b, c.num_bags, c.bag_size, start, c.n);
    if (end < 0) {
      return end;
    }
    float* out = c.out + b * c.dim;
    int64_t status = quant_block<Ops, kBits, I, K, false, true>(c, start, end, 0, kBlock - W, W, out);
    for (int64_t col = kBlock; status == JEMBED_OK && col < c.dim; col += kBlock) {
      const int64_t at = col + kBlock <= c.dim ? col : c.dim - kBlock;
      status = quant_block<Ops, kBits, I, K, false, false>(c, start, end, at, at + kBlock - W, W, out);
    }
    if (status != JEMBED_OK) {
      return status;
    }
    start = end;
  }
  return JEMBED_OK;
}

// quant_bags_narrow for `vectors` vectors (1..K), chosen once per call.
template <typename Ops, int kBits, typename I, int K>
int64_t quant_bags_of_width(int vectors, const QuantCall<I>& c) {
  if constexpr (K == 0) {
    return JEMBED_ERR_ARGUMENT;
  } else {
    if (vectors == K) {
      return quant_bags_narrow<Ops, kBits, I, K, false>(c);
    }
    return quant_bags_of_width<Ops, kBits, I, K - 1>(vectors, c);
  }
}

template <typename Ops, int kBits, typename I>
int64_t quantized_bag(const uint8_t* table, int64_t rows, int64_t dim, const I* idx, int64_t n, const I* offsets,
                      int64_t num_bags, int64_t bag_size, const float* weights, int mode, float* out) {
  constexpr int W = Ops::kWidth;
  constexpr int K = Ops::kSumBlock;
  if (mode == JEMBED_BAG_MAX || (kBits == 4 && dim % 2 != 0)) {
    return JEMBED_ERR_ARGUMENT;
  }
  int64_t first = 0;
  const int64_t status = check_bags(rows, dim, idx, n, offsets, num_bags, bag_size, weights, mode, &first);
  if (status != JEMBED_OK || dim == 0) {
    return status;
  }
  QuantCall<I> c{};
  c.table = table;
  c.rows = rows;
  c.dim = dim;
  c.code_bytes = QuantRow<kBits>::code_bytes(dim);
  c.row_bytes = c.code_bytes + QuantRow<kBits>::kScaleBiasBytes;
  // The lines a row can span: one more than its size needs when it does not start on a line.
  const int64_t lines = (c.row_bytes + 63) / 64 + 1;
  const int64_t distance = kQuantPrefetchLines / lines;
  c.prefetch_distance = distance < kQuantPrefetchMinRows
                            ? kQuantPrefetchMinRows
                            : (distance > kQuantPrefetchMaxRows ? kQuantPrefetchMaxRows : distance);
  c.idx = idx;
  c.n = n;
  c.offsets = offsets;
  c.num_bags = num_bags;
  c.bag_size = bag_size;
  c.first = first;
  c.weights = weights;
  c.mean = mode == JEMBED_BAG_MEAN;
  c.out = out;
  if (dim < W) {
    return quant_bags_narrow<Ops, kBits, I, 1, true>(c);
  }
  if (dim <= static_cast<int64_t>(K) * W) {
    return quant_bags_of_width<Ops, kBits, I, K>(static_cast<int>((dim + W - 1) / W), c);
  }
  return quant_bags_wide<Ops, kBits, I>(c);
}

}  // namespace
}  // namespace jembed

// Defines the four quantized lookups of variant `ns` (8-bit and 4-bit rows x int64 and int32 indices) from its
// operations.
#define JEMBED_DEFINE_QUANT_BAGS(ns, QOps)                                                                          \
  namespace ns {                                                                                                   \
  int64_t quant_bag_u8_i64(const uint8_t* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,           \
                           const int64_t* off, int64_t bags, int64_t bag_size, const float* w, int mode,         \
                           float* out) {                                                                         \
    return quantized_bag<QOps, 8, int64_t>(t, rows, dim, idx, n, off, bags, bag_size, w, mode, out);              \
  }                                                                                                                \
  int64_t quant_bag_u8_i32(const uint8_t* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,           \
                           const int32_t* off, int64_t bags, int64_t bag_size, const float* w, int mode,         \
                           float* out) {                                                                         \
    return quantized_bag<QOps, 8, int32_t>(t, rows, dim, idx, n, off, bags, bag_size, w, mode, out);              \
  }                                                                                                                \
  int64_t quant_bag_u4_i64(const uint8_t* t, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,           \
                           const int64_t* off, int64_t bags, int64_t bag_size, const float* w, int mode,         \
                           float* out) {                                                                         \
    return quantized_bag<QOps, 4, int64_t>(t, rows, dim, idx, n, off, bags, bag_size, w, mode, out);              \
  }                                                                                                                \
  int64_t quant_bag_u4_i32(const uint8_t* t, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,           \
                           const int32_t* off, int64_t bags, int64_t bag_size, const float* w, int mode,         \
                           float* out) {                                                                         \
    return quantized_bag<QOps, 4, int32_t>(t, rows, dim, idx, n, off, bags, bag_size, w, mode, out);              \
  }                                                                                                                \
  }

#endif
