// Portable quantized lookups: "vectors" of one float, blocks of 8 columns kept in registers per pass over a bag. The
// reference the vector variants are tested against (quant_bag_test), and the shape of the Ops interface that
// quant_bag_loop.h needs: float vector arithmetic, and the codes of a row as floats from column `col` on.
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
  static V fma(V x, V w, V acc) { return fma_f32(x, w, acc); }  // one rounding
  static V div(V a, V b) { return a / b; }

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
  static V codes_part(const uint8_t* codes_row, int64_t col, int) {
    return codes<kBits>(codes_row, col);
  }
};

}  // namespace

JEMBED_DEFINE_QUANT_BAGS(scalar, ScalarQuantOps)

}  // namespace jembed
