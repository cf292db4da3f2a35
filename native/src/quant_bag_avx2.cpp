// AVX2+FMA quantized lookups: 8 floats per vector, sums in blocks of 8 vectors (64 columns). Codes widen with
// vpmovzxbd (8-bit) and convert exactly to float. 4-bit codes are unpacked as FBGEMM's kernels do: bytes widened to
// 16-bit words, each word or-ed with itself shifted left by 4 and masked with 0x0F0F, which leaves the low nibble
// in its low byte and the high nibble in its high byte, i.e. the elements in order (element 2i is the low nibble of
// byte i); 8 bytes give two vectors. 4-bit scale and bias widen with F16C's vcvtph2ps (exact, as fp16_to_float).
// Rows narrower than a vector read their codes through a small zeroed buffer (past the last row lies the end of the
// table) and are stored through one. Compiled with -mavx2 -mfma -mf16c; see cmake/JembedIsa.cmake and
// native/CMakeLists.txt.
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
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V fma(V x, V w, V acc) { return _mm256_fmadd_ps(x, w, acc); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }

  template <int kBits>
  static void scale_bias(const uint8_t* p, V* scale, V* bias) {
    if constexpr (kBits == 8) {
      float f[2];
      memcpy(f, p, sizeof f);
      *scale = _mm256_set1_ps(f[0]);
      *bias = _mm256_set1_ps(f[1]);
    } else {
      int16_t h[2];
      memcpy(h, p, sizeof h);
      *scale = _mm256_cvtph_ps(_mm_set1_epi16(h[0]));
      *bias = _mm256_cvtph_ps(_mm_set1_epi16(h[1]));
    }
  }

  // Nibbles of bytes widened to 16-bit words -> one element per byte, in order (see the file comment).
  static __m128i spread_nibbles(__m128i words) {
    return _mm_and_si128(_mm_or_si128(words, _mm_slli_epi16(words, 4)), _mm_set1_epi16(0x0F0F));
  }
  static V to_float(__m128i bytes) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)); }

  // Columns col .. col + 7 (for 4-bit, col is even: the codes start on a byte).
  template <int kBits>
  static V codes(const uint8_t* codes_row, int64_t col) {
    if constexpr (kBits == 8) {
      return to_float(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes_row + col)));
    } else {
      int32_t packed;
      memcpy(&packed, codes_row + col / 2, sizeof packed);
      return to_float(spread_nibbles(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(packed))));
    }
  }
  // Columns col .. col + 15 as two vectors.
  template <int kBits>
  static void codes2(const uint8_t* codes_row, int64_t col, V* first, V* second) {
    if constexpr (kBits == 8) {
      *first = codes<8>(codes_row, col);
      *second = codes<8>(codes_row, col + kWidth);
    } else {
      const __m128i bytes = spread_nibbles(
          _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes_row + col / 2))));
      *first = to_float(bytes);
      *second = to_float(_mm_unpackhi_epi64(bytes, bytes));
    }
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
