// Element-wise conversions between float and 16-bit patterns, shared by every variant: whole vectors with the
// variant's helpers (half_float.h), the tail with the scalar functions, which give the same bits (half_test.cpp
// checks it). Internal linkage: each ISA file compiles its own copy with its own flags.
#ifndef JEMBED_HALF_CONVERT_LOOP_H
#define JEMBED_HALF_CONVERT_LOOP_H

#include <stdint.h>

#include "half_float.h"
#include "half_kernel_table.h"

namespace jembed {
namespace {

// Narrowing: kWidth floats at a time through kVector (which stores kWidth 16-bit patterns), then kScalar.
template <int kWidth, void (*kVector)(const float*, uint16_t*), uint16_t (*kScalar)(float)>
void narrow_all(const float* src, int64_t n, uint16_t* dst) {
  int64_t i = 0;
  if constexpr (kWidth > 1) {
    for (; i + kWidth <= n; i += kWidth) {
      kVector(src + i, dst + i);
    }
  }
  for (; i < n; ++i) {
    dst[i] = kScalar(src[i]);
  }
}

template <int kWidth, void (*kVector)(const uint16_t*, float*), float (*kScalar)(uint16_t)>
void widen_all(const uint16_t* src, int64_t n, float* dst) {
  int64_t i = 0;
  if constexpr (kWidth > 1) {
    for (; i + kWidth <= n; i += kWidth) {
      kVector(src + i, dst + i);
    }
  }
  for (; i < n; ++i) {
    dst[i] = kScalar(src[i]);
  }
}

}  // namespace
}  // namespace jembed

// Defines the four conversions of variant `ns` from its vector width and its one-vector conversions.
#define JEMBED_DEFINE_HALF_CONVERSIONS(ns, width, f16_narrow, bf16_narrow, f16_widen, bf16_widen)               \
  namespace ns {                                                                                                \
  void f16_from_f32(const float* src, int64_t n, uint16_t* dst) {                                               \
    narrow_all<width, f16_narrow, float_to_fp16>(src, n, dst);                                                  \
  }                                                                                                             \
  void bf16_from_f32(const float* src, int64_t n, uint16_t* dst) {                                              \
    narrow_all<width, bf16_narrow, float_to_bf16>(src, n, dst);                                                 \
  }                                                                                                             \
  void f32_from_f16(const uint16_t* src, int64_t n, float* dst) {                                               \
    widen_all<width, f16_widen, fp16_to_float>(src, n, dst);                                                    \
  }                                                                                                             \
  void f32_from_bf16(const uint16_t* src, int64_t n, float* dst) {                                              \
    widen_all<width, bf16_widen, bf16_to_float>(src, n, dst);                                                   \
  }                                                                                                             \
  }

#endif
