// AVX2 gathers: rows copied as 32-byte vectors, four per step; the tail is one more 32-byte vector ending at the
// row's end (overlapping bytes already copied). Rows of 32..64 bytes take two such vectors and rows under 32 bytes two
// fixed-size moves, without loops: their branches cost more than the copy. A masked tail (vpmaskmovd) would be the
// obvious choice, but its store is microcoded on AMD cores: on this project's EPYC test machine it made rows of
// 1..7 floats two to three times slower than the scalar gather.
// Compiled with -mavx2 -mfma; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "gather_loop.h"

namespace jembed {
namespace {

[[gnu::always_inline]] inline void copy_vector(const char* src, char* dst) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src)));
}

[[gnu::always_inline]] inline void copy_row(const char* src, char* dst, int64_t bytes) {
  if (bytes < 32) {
    copy_short_row(src, dst, bytes);
    return;
  }
  if (bytes <= 64) {
    // The source row and the output never overlap, so copying some bytes twice writes the same values.
    copy_vector(src, dst);
    copy_vector(src + bytes - 32, dst + bytes - 32);
    return;
  }
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
    copy_vector(src + b, dst + b);
  }
  if (b < bytes) {
    copy_vector(src + bytes - 32, dst + bytes - 32);
  }
}

}  // namespace

JEMBED_DEFINE_GATHERS(avx2, copy_row)
JEMBED_DEFINE_GATHERS_U16(avx2, copy_row)

}  // namespace jembed
