// AVX-512 quantized lookups: 16 floats per vector, sums in blocks of 16 vectors (256 columns, 16 of the 32 registers).
// Codes widen with vpmovzxbd from 16 bytes (8-bit) and convert exactly to float. 4-bit codes are unpacked as
// FBGEMM's kernels do: bytes widened to 16-bit words, each word or-ed with itself shifted left by 4 and masked with
// 0x0F0F, which leaves the low nibble in its low byte and the high nibble in its high byte, i.e. the elements in
// order (element 2i is the low nibble of byte i); 16 bytes give two vectors. 4-bit scale and bias widen with
// vcvtph2ps (exact, as fp16_to_float). Rows narrower than a vector read their codes through a small zeroed buffer
// (byte-masked loads would need AVX512BW) and are stored with one masked store. Compiled with -mavx512f -mf16c; see
// cmake/JembedIsa.cmake and native/CMakeLists.txt.
#include <immintrin.h>

#include "quant_bag_loop.h"

namespace jembed {
namespace {

struct Avx512QuantOps {
  using V = __m512;
  static constexpr int kWidth = 16;
  static constexpr int kSumBlock = 16;

  static __mmask16 lanes_below(int count) { return static_cast<__mmask16>((1u << count) - 1u); }
  static V zero() { return _mm512_setzero_ps(); }
  static V broadcast(float x) { return _mm512_set1_ps(x); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void store_part(float* p, V v, int count) { _mm512_mask_storeu_ps(p, lanes_below(count), v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V fma(V x, V w, V acc) { return _mm512_fmadd_ps(x, w, acc); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }

  template <int kBits>
  static void scale_bias(const uint8_t* p, V* scale, V* bias) {
    if constexpr (kBits == 8) {
      float f[2];
      memcpy(f, p, sizeof f);
      *scale = _mm512_set1_ps(f[0]);
      *bias = _mm512_set1_ps(f[1]);
    } else {
      int16_t h[2];
      memcpy(h, p, sizeof h);
      *scale = _mm512_cvtph_ps(_mm256_set1_epi16(h[0]));
      *bias = _mm512_cvtph_ps(_mm256_set1_epi16(h[1]));
    }
  }

  static V to_float(__m128i bytes) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes)); }

  // Columns col .. col + 15 (for 4-bit, col is even: the codes start on a byte).
  template <int kBits>
  static V codes(const uint8_t* codes_row, int64_t col) {
    if constexpr (kBits == 8) {
      return to_float(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes_row + col)));
    } else {
      const __m128i words = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes_row + col / 2)));
      return to_float(_mm_and_si128(_mm_or_si128(words, _mm_slli_epi16(words, 4)), _mm_set1_epi16(0x0F0F)));
    }
  }
  // Columns col .. col + 31 as two vectors.
  template <int kBits>
  static void codes2(const uint8_t* codes_row, int64_t col, V* first, V* second) {
    if constexpr (kBits == 8) {
      *first = codes<8>(codes_row, col);
      *second = codes<8>(codes_row, col + kWidth);
    } else {
      const __m256i words =
          _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes_row + col / 2)));
      const __m256i bytes =
          _mm256_and_si256(_mm256_or_si256(words, _mm256_slli_epi16(words, 4)), _mm256_set1_epi16(0x0F0F));
      *first = to_float(_mm256_castsi256_si128(bytes));
      *second = to_float(_mm256_extracti128_si256(bytes, 1));
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

JEMBED_DEFINE_QUANT_BAGS(avx512, Avx512QuantOps)

}  // namespace jembed
