// AVX-512 gathers: rows copied as 64-byte vectors, four per step, and the last 4..60 bytes (or a whole row of up to
// 64 bytes) with one masked load and store. Unlike AVX2's vpmaskmovd, AVX-512 masked moves are ordinary loads and
// stores on the cores that have them. Compiled with -mavx512f; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "gather_loop.h"

namespace jembed {
namespace {

// Masked-off lanes are neither read nor written (and cannot fault), so only the row's bytes are touched.
[[gnu::always_inline]] inline void copy_words(const char* src, char* dst, int words) {
  const __mmask16 mask = static_cast<__mmask16>((1u << words) - 1u);
  _mm512_mask_storeu_epi32(dst, mask, _mm512_maskz_loadu_epi32(mask, src));
}

// Row sizes are whole 4-byte words (float or double elements).
[[gnu::always_inline]] inline void copy_row(const char* src, char* dst, int64_t bytes) {
  if (bytes <= 64) {
    // Straight to one masked move: rows of up to 16 floats are common and the loops' branches would cost more.
    copy_words(src, dst, static_cast<int>(bytes >> 2));
    return;
  }
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
  if (b < bytes) {
    copy_words(src + b, dst + b, static_cast<int>((bytes - b) >> 2));
  }
}

// 16-bit rows (float16, bfloat16) may end on half a word: the whole words as above, then the last two bytes.
[[gnu::always_inline]] inline void copy_row_u16(const char* src, char* dst, int64_t bytes) {
  copy_row(src, dst, bytes & ~int64_t{3});
  if ((bytes & 2) != 0) {
    __builtin_memcpy(dst + bytes - 2, src + bytes - 2, 2);
  }
}

}  // namespace

JEMBED_DEFINE_GATHERS(avx512, copy_row)
JEMBED_DEFINE_GATHERS_U16(avx512, copy_row_u16)

}  // namespace jembed
