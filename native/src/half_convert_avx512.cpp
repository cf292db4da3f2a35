// AVX-512 float <-> float16/bfloat16 conversions, sixteen elements at a time: vcvtps2ph/vcvtph2ps for float16, shifts
// and c10's integer rounding for bfloat16 (half_float.h; not AVX512-BF16's vcvtneps2bf16, which flushes subnormals).
// Compiled with -mavx512f (and -mf16c, native/CMakeLists.txt).
#include "half_convert_loop.h"

namespace jembed {
namespace {

void f16_narrow16(const float* src, uint16_t* dst) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), fp16x16_from(_mm512_loadu_ps(src)));
}
void bf16_narrow16(const float* src, uint16_t* dst) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), bf16x16_from(_mm512_loadu_ps(src)));
}
void f16_widen16(const uint16_t* src, float* dst) {
  _mm512_storeu_ps(dst, fp16x16_load(src));
}
void bf16_widen16(const uint16_t* src, float* dst) {
  _mm512_storeu_ps(dst, bf16x16_load(src));
}

}  // namespace

JEMBED_DEFINE_HALF_CONVERSIONS(avx512, 16, f16_narrow16, bf16_narrow16, f16_widen16, bf16_widen16)

}  // namespace jembed
