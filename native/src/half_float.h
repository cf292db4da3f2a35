// Exact conversions between float and the two 16-bit floating formats, on their bit patterns (uint16_t): IEEE 754
// binary16 (torch.float16) and bfloat16 (torch.bfloat16). The same rules as the Java side
// (io.jembed.internal.HalfFloats), tested on every 16-bit pattern (native/tests/half_float_test.cpp):
//  - widening is exact (subnormals, infinities, NaN payloads kept);
//  - float -> float16 rounds to nearest even, into subnormals, to infinity from 65520 up; NaN keeps its sign and the
//    top ten payload bits and is made quiet (what F16C's vcvtps2ph does, so the scalar and vector paths agree);
//  - float -> bfloat16 is c10::BFloat16's round_to_nearest_even: ties to even, every NaN -> 0x7FC0;
//  - float -> bfloat16 ties away from zero is FBGEMM's (bits + 0x8000) >> 16, kept for comparisons.
// The vector helpers below exist only in translation units compiled with the instruction set they use (F16C with
// AVX2, AVX-512F); bfloat16 narrowing is done in integer arithmetic even with AVX-512, because the AVX512-BF16
// instruction vcvtneps2bf16 flushes subnormal inputs and outputs to zero, which c10::BFloat16 does not.
// Internal linkage throughout (anonymous namespace): every ISA file compiles its own copy with its own flags.
#ifndef JEMBED_HALF_FLOAT_H
#define JEMBED_HALF_FLOAT_H

#include <stdint.h>
#include <string.h>

#if defined(__AVX2__) || defined(__AVX512F__) || defined(__F16C__)
#include <immintrin.h>
#endif

namespace jembed {
namespace {

[[gnu::always_inline]] inline uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

[[gnu::always_inline]] inline float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

// value >> shift rounded to nearest, ties to even (1 <= shift <= 31).
[[gnu::always_inline]] inline uint32_t round_shift_right_even(uint32_t value, int shift) {
  uint32_t kept = value >> shift;
  const uint32_t rest = value & ((uint32_t{1} << shift) - 1);
  const uint32_t half = uint32_t{1} << (shift - 1);
  if (rest > half || (rest == half && (kept & 1) != 0)) {
    ++kept;
  }
  return kept;
}

inline float fp16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1F;
  const uint32_t fraction = h & 0x3FF;
  if (exponent == 0x1F) {
    return bits_float(sign | 0x7F800000u | (fraction << 13));
  }
  if (exponent != 0) {
    return bits_float(sign | ((exponent + 112) << 23) | (fraction << 13));
  }
  // Zero or subnormal: fraction * 2^-24, exact in float.
  const float magnitude = static_cast<float>(fraction) * 0x1p-24f;
  return bits_float(sign | float_bits(magnitude));
}

inline uint16_t float_to_fp16(float value) {
  const uint32_t bits = float_bits(value);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) {  // NaN: quiet, top ten payload bits
    return static_cast<uint16_t>(sign | 0x7C00 | 0x200 | ((magnitude >> 13) & 0x3FF));
  }
  if (magnitude >= 0x477FF000u) {  // 65520 (the tie between 65504 and 2^16, 0x7BFF odd) and up: infinity
    return static_cast<uint16_t>(sign | 0x7C00);
  }
  if (magnitude >= 0x38800000u) {  // normal: rebias 127 -> 15, drop 13 bits; a carry bumps the exponent, as it should
    return static_cast<uint16_t>(sign | round_shift_right_even(magnitude - 0x38000000u, 13));
  }
  const uint32_t exponent = magnitude >> 23;
  if (exponent < 102) {  // below 2^-25, half the smallest subnormal
    return static_cast<uint16_t>(sign);
  }
  // Subnormal: significand * 2^(exponent - 150) in units of 2^-24 is significand >> (126 - exponent), shift 14..24.
  const uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
  return static_cast<uint16_t>(sign | round_shift_right_even(significand, static_cast<int>(126 - exponent)));
}

inline float bf16_to_float(uint16_t b) {
  return bits_float(static_cast<uint32_t>(b) << 16);
}

inline uint16_t float_to_bf16(float value) {
  const uint32_t bits = float_bits(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
    return 0x7FC0;
  }
  return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
}

inline uint16_t float_to_bf16_ties_away(float value) {
  const uint32_t bits = float_bits(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
    return 0x7FC0;
  }
  return static_cast<uint16_t>((bits + 0x8000u) >> 16);
}

#if defined(__AVX2__) && defined(__F16C__)
// Eight values.
[[gnu::always_inline]] inline __m256 fp16x8_load(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
[[gnu::always_inline]] inline __m128i fp16x8_from(__m256 v) {
  return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
[[gnu::always_inline]] inline __m256 bf16x8_widen(__m128i b) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16));
}
[[gnu::always_inline]] inline __m256 bf16x8_load(const uint16_t* p) {
  return bf16x8_widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
// c10's rounding: (bits + 0x7FFF + lsb) >> 16, NaN -> 0x7FC0; packed from 32-bit lanes (all <= 0xFFFF).
[[gnu::always_inline]] inline __m128i bf16x8_from(__m256 v) {
  const __m256i bits = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), lsb), 16);
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7FC0), nan);
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
  return _mm256_castsi256_si128(packed);
}
#endif

#if defined(__AVX512F__)
// Sixteen values.
[[gnu::always_inline]] inline __m512 fp16x16_load(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
[[gnu::always_inline]] inline __m256i fp16x16_from(__m512 v) {
  return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
[[gnu::always_inline]] inline __m512 bf16x16_widen(__m256i b) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16));
}
[[gnu::always_inline]] inline __m512 bf16x16_load(const uint16_t* p) {
  return bf16x16_widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
[[gnu::always_inline]] inline __m256i bf16x16_from(__m512 v) {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7FFF)), lsb), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_mov_epi32(r, nan, _mm512_set1_epi32(0x7FC0));
  return _mm512_cvtepi32_epi16(r);
}
#endif

}  // namespace
}  // namespace jembed

#endif
