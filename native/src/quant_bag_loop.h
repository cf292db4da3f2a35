// The lookups of row-wise quantized tables (PyTorch's embedding_bag_byte_prepack / embedding_bag_4bit_prepack
// layouts), shared by every variant and both bit widths: each bag's output row is reduced in a block of vector
// registers while its rows stream in, dequantized on the fly, in FBGEMM's order of operations (EmbeddingSpMDM_ref,
// EmbeddingSpMDMNBit_ref, and their JIT kernels), per element in float32:
//   s = w * scale; b = w * bias; acc = fma(s, q, acc + b)        (w = 1 without per-sample weights)
// so that every variant gives the scalar variant's bits and libtorch's. Rows wider than one block take one pass per
// block; rows are prefetched kPrefetchDistance lookups ahead on the first pass. A variant supplies its vector
// operations and its code loads as an `Ops` type (see quant_bag_scalar.cpp). Internal linkage throughout (anonymous
// namespace): each ISA file compiles its own copy with its own flags.
#ifndef JEMBED_QUANT_BAG_LOOP_H
#define JEMBED_QUANT_BAG_LOOP_H

#include <stdint.h>
#include <string.h>

#include "bag_bounds.h"
#include "half_float.h"
#include "jembed/jembed.h"
#include "kernel_table.h"
#include "prefetch.h"

namespace jembed {
namespace {

// Where a row keeps its scale and bias, and in what format: 8-bit rows end with two float32, 4-bit rows with two
// float16 (little-endian, unaligned; read with memcpy).
template <int kBits>
struct QuantRow;

template <>
struct QuantRow<8> {
  static constexpr int64_t kScaleBiasBytes = 8;
  static int64_t code_bytes(int64_t dim) { return dim; }
  static void scale_bias(const uint8_t* p, float* scale, float* bias) {
    memcpy(scale, p, sizeof(float));
    memcpy(bias, p + sizeof(float), sizeof(float));
  }
};

template <>
struct QuantRow<4> {
  static constexpr int64_t kScaleBiasBytes = 4;
  static int64_t code_bytes(int64_t dim) { return dim / 2; }
  static void scale_bias(const uint8_t* p, float* scale, float* bias) {
    uint16_t h[2];
    memcpy(h, p, sizeof h);
    *scale = fp16_to_float(h[0]);
    *bias = fp16_to_float(h[1]);
  }
};

// What one pass over a bag needs; `col` is the block's first column, `tail` the lanes of its last vector.
template <typename I>
struct QuantPass {
  const uint8_t* table;
  int64_t rows;
  int64_t row_bytes;
  int64_t code_bytes;
  const I* idx;
  int64_t start;
  int64_t end;
  int64_t n;
  const float* weights;
  int64_t col;
  int tail;
  bool prefetch;
  bool mean;
  float* out;
};

// Reads index i, checks it (a concurrent rewrite since check_bags), prefetches the row kPrefetchDistance lookups ahead.
template <typename I>
[[gnu::always_inline]] inline bool next_quant_row(const QuantPass<I>& p, int64_t i, int64_t* r) {
  *r = static_cast<int64_t>(p.idx[i]);
  if (static_cast<uint64_t>(*r) >= static_cast<uint64_t>(p.rows)) {
    return false;
  }
  if (p.prefetch && i + kPrefetchDistance < p.n) {
    const int64_t ahead = static_cast<int64_t>(p.idx[i + kPrefetchDistance]);
    if (static_cast<uint64_t>(ahead) < static_cast<uint64_t>(p.rows)) {
      prefetch_row<0>(p.table + ahead * p.row_bytes, p.row_bytes);
    }
  }
  return true;
}

// The codes of vector k of a block (columns col + k * kWidth on), as floats; the last one may be partial.
template <typename Ops, int kBits, int K, bool kLastPartial>
[[gnu::always_inline]] inline typename Ops::V quant_codes(const uint8_t* codes, int64_t col, int k, int tail) {
  if (kLastPartial && k == K - 1) {
    return Ops::template codes_part<kBits>(codes, col + k * Ops::kWidth, tail);
  }
  return Ops::template codes<kBits>(codes, col + k * Ops::kWidth);
}

// Sum (or mean) of one block of K vectors over the bag.
template <typename Ops, int kBits, typename I, int K, bool kLastPartial>
int64_t quant_sum_pass(const QuantPass<I>& p) {
  using V = typename Ops::V;
  V acc[K];
  for (int k = 0; k < K; ++k) {
    acc[k] = Ops::zero();
  }
  for (int64_t i = p.start; i < p.end; ++i) {
    int64_t r;
    if (!next_quant_row(p, i, &r)) {
      return i;
    }
    const uint8_t* row = p.table + r * p.row_bytes;
    float scale;
    float bias;
    QuantRow<kBits>::scale_bias(row + p.code_bytes, &scale, &bias);
    const float w = p.weights == nullptr ? 1.0f : p.weights[i];
    const V s = Ops::broadcast(w * scale);
    const V b = Ops::broadcast(w * bias);
    for (int k = 0; k < K; ++k) {
      acc[k] = Ops::fma(quant_codes<Ops, kBits, K, kLastPartial>(row, p.col, k, p.tail), s, Ops::add(acc[k], b));
    }
  }
  // Mean, as nn.EmbeddingBag's: the sum divided once by max(count, 1), converted to float. Divided as it is stored,
  // so that the accumulators stay in registers (a second pass over them made the compiler keep them in memory).
  const int64_t count = p.end - p.start;
  const V divisor = Ops::broadcast(static_cast<float>(count > 0 ? count : 1));
  float* out = p.out + p.col;
  for (int k = 0; k < K; ++k) {
    const V result = p.mean ? Ops::div(acc[k], divisor) : acc[k];
    if (kLastPartial && k == K - 1) {
      Ops::store_part(out + k * Ops::kWidth, result, p.tail);
    } else {
      Ops::store(out + k * Ops::kWidth, result);
    }
  }
  return JEMBED_OK;
}

// Plain lookups (bags of one, no weights: quantized::embedding_byte), row by row without accumulators: out = fma(scale,
// q, 0 + bias), the bits of a bag of one (0 + bias turns a bias of -0 into +0, as the bag's first step does).
template <typename Ops, int kBits, typename I>
int64_t quant_lookup(const QuantPass<I>& p, int64_t dim) {
  using V = typename Ops::V;
  constexpr int W = Ops::kWidth;
  const int64_t full = dim / W * W;
  const int tail = static_cast<int>(dim - full);
  for (int64_t i = 0; i < p.n; ++i) {
    int64_t r;
    if (!next_quant_row(p, i, &r)) {
      return i;
    }
    const uint8_t* row = p.table + r * p.row_bytes;
    float scale;
    float bias;
    QuantRow<kBits>::scale_bias(row + p.code_bytes, &scale, &bias);
    const V s = Ops::broadcast(scale);
    const V b = Ops::add(Ops::zero(), Ops::broadcast(bias));
    float* out = p.out + i * dim;
    int64_t col = 0;
    for (; col < full; col += W) {
      Ops::store(out + col, Ops::fma(Ops::template codes<kBits>(row, col), s, b));
    }
    if (tail > 0) {
      Ops::store_part(out + col, Ops::fma(Ops::template codes_part<kBits>(row, col, tail), s, b), tail);
    }
  }
  return JEMBED_OK;
}

// The last block of a row: `vectors` (1..K) vectors, the last one partial unless the row ends on a whole vector;
// chosen at compile time so that the block stays in registers.
template <typename Ops, int kBits, typename I, int K>
int64_t quant_last_pass(int vectors, bool partial, const QuantPass<I>& p) {
  if constexpr (K == 0) {
    return JEMBED_ERR_ARGUMENT;
  } else {
    if (vectors == K) {
      return partial ? quant_sum_pass<Ops, kBits, I, K, true>(p) : quant_sum_pass<Ops, kBits, I, K, false>(p);
    }
    return quant_last_pass<Ops, kBits, I, K - 1>(vectors, partial, p);
  }
}

template <typename Ops, int kBits, typename I>
int64_t quant_one_bag(QuantPass<I>& p, int64_t dim) {
  constexpr int W = Ops::kWidth;
  constexpr int kBlock = Ops::kSumBlock;
  p.prefetch = true;
  p.tail = W;
  for (p.col = 0; p.col + kBlock * W <= dim; p.col += kBlock * W) {
    const int64_t status = quant_sum_pass<Ops, kBits, I, kBlock, false>(p);
    if (status != JEMBED_OK) {
      return status;
    }
    p.prefetch = false;
  }
  const int64_t rest = dim - p.col;
  if (rest == 0) {
    return JEMBED_OK;
  }
  const int vectors = static_cast<int>((rest + W - 1) / W);
  p.tail = static_cast<int>(rest - static_cast<int64_t>(vectors - 1) * W);
  return quant_last_pass<Ops, kBits, I, kBlock>(vectors, p.tail != W, p);
}

template <typename Ops, int kBits, typename I>
int64_t quantized_bag(const uint8_t* table, int64_t rows, int64_t dim, const I* idx, int64_t n, const I* offsets,
                      int64_t num_bags, int64_t bag_size, const float* weights, int mode, float* out) {
  if (mode == JEMBED_BAG_MAX || (kBits == 4 && dim % 2 != 0)) {
    return JEMBED_ERR_ARGUMENT;
  }
  int64_t first = 0;
  const int64_t status = check_bags(rows, dim, idx, n, offsets, num_bags, bag_size, weights, mode, &first);
  if (status != JEMBED_OK) {
    return status;
  }
  QuantPass<I> p{};
  p.table = table;
  p.rows = rows;
  p.code_bytes = QuantRow<kBits>::code_bytes(dim);
  p.row_bytes = p.code_bytes + QuantRow<kBits>::kScaleBiasBytes;
  p.idx = idx;
  p.n = n;
  p.weights = weights;
  p.mean = mode == JEMBED_BAG_MEAN;
  if (offsets == nullptr && bag_size == 1 && weights == nullptr) {
    // Bags of one: a mean divides by 1, which changes no bits.
    p.out = out;
    p.prefetch = true;
    return quant_lookup<Ops, kBits, I>(p, dim);
  }
  int64_t start = first;
  for (int64_t b = 0; b < num_bags; ++b) {
    const int64_t end = bag_end(offsets, b, num_bags, bag_size, start, n);
    if (end < 0) {
      return end;
    }
    p.start = start;
    p.end = end;
    p.out = out + b * dim;
    const int64_t s = quant_one_bag<Ops, kBits, I>(p, dim);
    if (s != JEMBED_OK) {
      return s;
    }
    start = end;
  }
  return JEMBED_OK;
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
