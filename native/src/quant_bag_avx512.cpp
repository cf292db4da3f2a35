// AVX-512 quantized lookups: 16 floats per vector, sums in blocks of 8 vectors (128 columns). Codes widen with
// vpmovzxbd from 16 bytes (8-bit) or from 8 bytes of nibbles split and interleaved low-nibble first (4-bit), and
// convert exactly to float. A row's last partial vector reads its codes through a small zeroed buffer (byte-masked
// loads would need AVX512BW) and is stored with one masked store. Compiled with -mavx512f; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "quant_bag_loop.h"

namespace jembed {
namespace {

struct Avx512QuantOps {
  using V = __m512;
  static constexpr int kWidth = 16;
  static constexpr int kSumBlock = 8;

  static __mmask16 lanes_below(int count) { return static_cast<__mmask16>((1u << count) - 1u); }
  static V zero() { return _mm512_setzero_ps(); }
  static V broadcast(float x) { return _mm512_set1_ps(x); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void store_part(float* p, V v, int count) { _mm512_mask_storeu_ps(p, lanes_below(count), v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V fma(V x, V w, V acc) { return _mm512_fmadd_ps(x, w, acc); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }

  // Columns col .. col + 15 (col a multiple of 16, so 4-bit codes start on a byte).
  template <int kBits>
  static V codes(const uint8_t* codes_row, int64_t col) {
    __m128i bytes;
    if constexpr (kBits == 8) {
      bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes_row + col));
    } else {
      const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes_row + col / 2));
      const __m128i mask = _mm_set1_epi8(0x0F);
      bytes = _mm_unpacklo_epi8(_mm_and_si128(x, mask), _mm_and_si128(_mm_srli_epi16(x, 4), mask));
    }
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes));
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
