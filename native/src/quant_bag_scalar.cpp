// Portable quantized lookups: "vectors" of one float, blocks of 8 columns kept in registers per pass over a bag. The
// reference the vector variants are tested against (quant_bag_test), and the shape of the Ops interface that
// quant_bag_loop.h needs: float vector arithmetic, a row's scale and bias as vectors, and its codes as floats from
// column `col` on (one vector, two adjacent ones, or the first `count` lanes of one).
#include "half_float.h"
#include "portable_fma.h"
#include "quant_bag_loop.h"

namespace jembed {
namespace {

struct ScalarQuantOps {
  using V = float;
  static constexpr int kWidth = 1;
  static constexpr int kSumBlock = 8;

  static V zero() { return 0.0f; }
  static V broadcast(float x) { return x; }
  static void store(float* p, V v) { *p = v; }
  static void store_part(float* p, V v, int) { *p = v; }
  static V add(V a, V b) { return a + b; }
  static V mul(V a, V b) { return a * b; }
  static V fma(V x, V w, V acc) { return fma_f32(x, w, acc); }  // one rounding
  static V div(V a, V b) { return a / b; }

  // The scale and bias at p (after the codes): float32 (8-bit rows) or float16 (4-bit rows), widened exactly.
  template <int kBits>
  static void scale_bias(const uint8_t* p, V* scale, V* bias) {
    if constexpr (kBits == 8) {
      memcpy(scale, p, sizeof(float));
      memcpy(bias, p + sizeof(float), sizeof(float));
    } else {
      uint16_t h[2];
      memcpy(h, p, sizeof h);
      *scale = fp16_to_float(h[0]);
      *bias = fp16_to_float(h[1]);
    }
  }

  // Element `col`: a byte, or the low (even col) or high (odd col) nibble of byte col / 2.
  template <int kBits>
  static V codes(const uint8_t* codes, int64_t col) {
    if constexpr (kBits == 8) {
      return static_cast<float>(codes[col]);
    } else {
      return static_cast<float>((codes[col >> 1] >> ((col & 1) * 4)) & 0x0F);
    }
  }
  template <int kBits>
  static void codes2(const uint8_t* codes_row, int64_t col, V* first, V* second) {
    *first = codes<kBits>(codes_row, col);
    *second = codes<kBits>(codes_row, col + 1);
  }
  template <int kBits>
  static V codes_part(const uint8_t* codes_row, int64_t col, int) {
    return codes<kBits>(codes_row, col);
  }
};

}  // namespace

JEMBED_DEFINE_QUANT_BAGS(scalar, ScalarQuantOps)

}  // namespace jembed
