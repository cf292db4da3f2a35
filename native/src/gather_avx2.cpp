// AVX2 gathers: rows copied as 32-byte vectors, the last 4..28 bytes with one masked load and store, and software
// prefetch of the row kPrefetchDistance lookups ahead. Compiled with -mavx2 -mfma; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "gather_loop.h"

namespace jembed {
namespace {

// Row sizes are whole 4-byte words (float or double elements), so the tail is 0..7 words.
void copy_row(const char* src, char* dst, int64_t bytes) {
  int64_t b = 0;
  for (; b + 128 <= bytes; b += 128) {
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + b));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + b + 32));
    const __m256i v2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + b + 64));
    const __m256i v3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + b + 96));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + b), v0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + b + 32), v1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + b + 64), v2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + b + 96), v3);
  }
  for (; b + 32 <= bytes; b += 32) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + b),
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + b)));
  }
  const int words = static_cast<int>((bytes - b) >> 2);
  if (words > 0) {
    // Masked-off lanes are neither read nor written, so this never touches bytes outside the row.
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(words), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i v = _mm256_maskload_epi32(reinterpret_cast<const int*>(src + b), mask);
    _mm256_maskstore_epi32(reinterpret_cast<int*>(dst + b), mask, v);
  }
}

}  // namespace

JEMBED_DEFINE_GATHERS(avx2, copy_row)

}  // namespace jembed
