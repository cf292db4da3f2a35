// AVX2 float <-> float16/bfloat16 conversions, eight elements at a time: F16C's vcvtps2ph (round to nearest even)
// and vcvtph2ps for float16, shifts and c10's integer rounding for bfloat16 (half_float.h). Compiled with -mavx2
// -mfma -mf16c (native/CMakeLists.txt).
#include "half_convert_loop.h"

namespace jembed {
namespace {

void f16_narrow8(const float* src, uint16_t* dst) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), fp16x8_from(_mm256_loadu_ps(src)));
}
void bf16_narrow8(const float* src, uint16_t* dst) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), bf16x8_from(_mm256_loadu_ps(src)));
}
void f16_widen8(const uint16_t* src, float* dst) {
  _mm256_storeu_ps(dst, fp16x8_load(src));
}
void bf16_widen8(const uint16_t* src, float* dst) {
  _mm256_storeu_ps(dst, bf16x8_load(src));
}

}  // namespace

JEMBED_DEFINE_HALF_CONVERSIONS(avx2, 8, f16_narrow8, bf16_narrow8, f16_widen8, bf16_widen8)

}  // namespace jembed
