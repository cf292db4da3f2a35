// AVX2 row norms: p = 2 and p = 1 as lane-wise partial sums (8 float or 4 double lanes, folded in lane order, like
// PyTorch's vectorised norm), p = +/-inf as lane-wise max/min of |x| with a lane-wise record of NaNs (vmaxps drops a
// NaN held in its first operand, PyTorch's norm keeps it). Other p use the scalar loop.
// Compiled with -mavx2 -mfma; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "row_norm_reduce.h"

namespace jembed {
namespace {

double vector_norm_f32(const float* row, int64_t dim, Reduce how) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 acc = how == Reduce::kMin ? _mm256_set1_ps(__builtin_inff()) : _mm256_setzero_ps();
  __m256 nan_seen = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= dim; j += 8) {
    const __m256 a = _mm256_andnot_ps(sign, _mm256_loadu_ps(row + j));
    switch (how) {
      case Reduce::kSquares: acc = _mm256_add_ps(acc, _mm256_mul_ps(a, a)); break;
      case Reduce::kAbs: acc = _mm256_add_ps(acc, a); break;
      case Reduce::kMax:
        acc = _mm256_max_ps(acc, a);
        nan_seen = _mm256_or_ps(nan_seen, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
        break;
      case Reduce::kMin:
        acc = _mm256_min_ps(acc, a);
        nan_seen = _mm256_or_ps(nan_seen, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
        break;
    }
  }
  if (_mm256_movemask_ps(nan_seen) != 0) {
    return __builtin_nan("");
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  return finish(lanes, 8, row, j, dim, how);
}

double vector_norm_f64(const double* row, int64_t dim, Reduce how) {
  const __m256d sign = _mm256_set1_pd(-0.0);
  __m256d acc = how == Reduce::kMin ? _mm256_set1_pd(__builtin_inf()) : _mm256_setzero_pd();
  __m256d nan_seen = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 4 <= dim; j += 4) {
    const __m256d a = _mm256_andnot_pd(sign, _mm256_loadu_pd(row + j));
    switch (how) {
      case Reduce::kSquares: acc = _mm256_add_pd(acc, _mm256_mul_pd(a, a)); break;
      case Reduce::kAbs: acc = _mm256_add_pd(acc, a); break;
      case Reduce::kMax:
        acc = _mm256_max_pd(acc, a);
        nan_seen = _mm256_or_pd(nan_seen, _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
        break;
      case Reduce::kMin:
        acc = _mm256_min_pd(acc, a);
        nan_seen = _mm256_or_pd(nan_seen, _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
        break;
    }
  }
  if (_mm256_movemask_pd(nan_seen) != 0) {
    return __builtin_nan("");
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, acc);
  return finish(lanes, 4, row, j, dim, how);
}

}  // namespace

JEMBED_DEFINE_ROW_NORMS(avx2)

}  // namespace jembed
