// AVX-512 gathers: rows copied as 64-byte vectors, the last 4..60 bytes with one masked load and store, and software
// prefetch of the row kPrefetchDistance lookups ahead. Compiled with -mavx512f; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "gather_loop.h"

namespace jembed {
namespace {

// Row sizes are whole 4-byte words (float or double elements), so the tail is 0..15 words.
void copy_row(const char* src, char* dst, int64_t bytes) {
  int64_t b = 0;
  for (; b + 256 <= bytes; b += 256) {
    const __m512i v0 = _mm512_loadu_si512(src + b);
    const __m512i v1 = _mm512_loadu_si512(src + b + 64);
    const __m512i v2 = _mm512_loadu_si512(src + b + 128);
    const __m512i v3 = _mm512_loadu_si512(src + b + 192);
    _mm512_storeu_si512(dst + b, v0);
    _mm512_storeu_si512(dst + b + 64, v1);
    _mm512_storeu_si512(dst + b + 128, v2);
    _mm512_storeu_si512(dst + b + 192, v3);
  }
  for (; b + 64 <= bytes; b += 64) {
    _mm512_storeu_si512(dst + b, _mm512_loadu_si512(src + b));
  }
  const int words = static_cast<int>((bytes - b) >> 2);
  if (words > 0) {
    // Masked-off lanes are neither read nor written (and cannot fault), so only the row's bytes are touched.
    const __mmask16 mask = static_cast<__mmask16>((1u << words) - 1u);
    _mm512_mask_storeu_epi32(dst + b, mask, _mm512_maskz_loadu_epi32(mask, src + b));
  }
}

}  // namespace

JEMBED_DEFINE_GATHERS(avx512, copy_row)

}  // namespace jembed
