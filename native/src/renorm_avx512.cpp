// AVX-512 row norms: p = 2 and p = 1 as lane-wise partial sums (16 float or 8 double lanes, folded in lane order,
// like PyTorch's vectorised norm), p = +/-inf as lane-wise max/min of |x| with a mask of lanes that saw a NaN
// (vmaxps drops a NaN held in its first operand, PyTorch's norm keeps it). Other p use the scalar loop.
// Compiled with -mavx512f; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "row_norm_reduce.h"

namespace jembed {
namespace {

double vector_norm_f32(const float* row, int64_t dim, Reduce how) {
  __m512 acc = how == Reduce::kMin ? _mm512_set1_ps(__builtin_inff()) : _mm512_setzero_ps();
  __mmask16 nan_seen = 0;
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    const __m512 a = _mm512_abs_ps(_mm512_loadu_ps(row + j));
    switch (how) {
      case Reduce::kSquares: acc = _mm512_add_ps(acc, _mm512_mul_ps(a, a)); break;
      case Reduce::kAbs: acc = _mm512_add_ps(acc, a); break;
      case Reduce::kMax:
        acc = _mm512_max_ps(acc, a);
        nan_seen = static_cast<__mmask16>(nan_seen | _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q));
        break;
      case Reduce::kMin:
        acc = _mm512_min_ps(acc, a);
        nan_seen = static_cast<__mmask16>(nan_seen | _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q));
        break;
    }
  }
  if (nan_seen != 0) {
    return __builtin_nan("");
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc);
  return finish(lanes, 16, row, j, dim, how);
}

double vector_norm_f64(const double* row, int64_t dim, Reduce how) {
  __m512d acc = how == Reduce::kMin ? _mm512_set1_pd(__builtin_inf()) : _mm512_setzero_pd();
  __mmask8 nan_seen = 0;
  int64_t j = 0;
  for (; j + 8 <= dim; j += 8) {
    const __m512d a = _mm512_abs_pd(_mm512_loadu_pd(row + j));
    switch (how) {
      case Reduce::kSquares: acc = _mm512_add_pd(acc, _mm512_mul_pd(a, a)); break;
      case Reduce::kAbs: acc = _mm512_add_pd(acc, a); break;
      case Reduce::kMax:
        acc = _mm512_max_pd(acc, a);
        nan_seen = static_cast<__mmask8>(nan_seen | _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q));
        break;
      case Reduce::kMin:
        acc = _mm512_min_pd(acc, a);
        nan_seen = static_cast<__mmask8>(nan_seen | _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q));
        break;
    }
  }
  if (nan_seen != 0) {
    return __builtin_nan("");
  }
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, acc);
  return finish(lanes, 8, row, j, dim, how);
}

}  // namespace

JEMBED_DEFINE_ROW_NORMS(avx512)

}  // namespace jembed
