// AVX2+FMA quantized lookups: 8 floats per vector, sums in blocks of 8 vectors (64 columns). Codes widen with
// vpmovzxbd (8 bytes, or 4 bytes of nibbles split and interleaved low-nibble first) and convert exactly to float.
// A row's last partial vector reads its codes through a small zeroed buffer (the scale and bias follow the codes,
// and past the last row lies the end of the table), and is stored through one, once per bag. Compiled with
// -mavx2 -mfma; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "quant_bag_loop.h"

namespace jembed {
namespace {

struct Avx2QuantOps {
  using V = __m256;
  static constexpr int kWidth = 8;
  static constexpr int kSumBlock = 8;

  static V zero() { return _mm256_setzero_ps(); }
  static V broadcast(float x) { return _mm256_set1_ps(x); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void store_part(float* p, V v, int count) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, v);
    for (int k = 0; k < count; ++k) {
      p[k] = lanes[k];
    }
  }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V fma(V x, V w, V acc) { return _mm256_fmadd_ps(x, w, acc); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }

  // Columns col .. col + 7 (col a multiple of 8, so 4-bit codes start on a byte).
  template <int kBits>
  static V codes(const uint8_t* codes_row, int64_t col) {
    __m128i bytes;
    if constexpr (kBits == 8) {
      bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes_row + col));
    } else {
      int32_t packed;
      memcpy(&packed, codes_row + col / 2, sizeof packed);
      const __m128i x = _mm_cvtsi32_si128(packed);
      const __m128i mask = _mm_set1_epi8(0x0F);
      bytes = _mm_unpacklo_epi8(_mm_and_si128(x, mask), _mm_and_si128(_mm_srli_epi16(x, 4), mask));
    }
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
  }
  template <int kBits>
  static V codes_part(const uint8_t* codes_row, int64_t col, int count) {
    alignas(16) uint8_t buffer[16] = {};
    memcpy(buffer, codes_row + col * kBits / 8, static_cast<size_t>((count * kBits + 7) / 8));
    return codes<kBits>(buffer, 0);
  }
};

}  // namespace

JEMBED_DEFINE_QUANT_BAGS(avx2, Avx2QuantOps)

}  // namespace jembed
