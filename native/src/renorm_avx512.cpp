// AVX-512 row norms: p = 2 and p = 1 as lane-wise partial sums (16 float or 8 double lanes, added in lane order at
// the end, like PyTorch's vectorised norm), p = +/-inf as lane-wise max/min of |x|. Other p use the scalar loop.
// Compiled with -mavx512f; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "kernel_table.h"

namespace jembed {
namespace {

enum class Reduce { kSquares, kAbs, kMax, kMin };

double row_norm_f32(const float* row, int64_t dim, Reduce how) {
    __m512 acc = how == Reduce::kMin ? _mm512_set1_ps(__builtin_inff()) : _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    const __m512 a = _mm512_abs_ps(_mm512_loadu_ps(row + j));
    switch (how) {
      case Reduce::kSquares: acc = _mm512_add_ps(acc, _mm512_mul_ps(a, a)); break;
      case Reduce::kAbs: acc = _mm512_add_ps(acc, a); break;
      case Reduce::kMax: acc = _mm512_max_ps(acc, a); break;
      case Reduce::kMin: acc = _mm512_min_ps(acc, a); break;
    }
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc);
  float total = lanes[0];
  for (int k = 1; k < 16; ++k) {
    total = how == Reduce::kMax ? (lanes[k] > total ? lanes[k] : total)
          : how == Reduce::kMin ? (lanes[k] < total ? lanes[k] : total)
          : total + lanes[k];
  }
  for (; j < dim; ++j) {
    const float a = __builtin_fabsf(row[j]);
    switch (how) {
      case Reduce::kSquares: total += a * a; break;
      case Reduce::kAbs: total += a; break;
      case Reduce::kMax: total = a > total ? a : total; break;
      case Reduce::kMin: total = a < total ? a : total; break;
    }
  }
  return how == Reduce::kSquares ? static_cast<double>(__builtin_sqrtf(total)) : static_cast<double>(total);
}

double row_norm_f64(const double* row, int64_t dim, Reduce how) {
    __m512d acc = how == Reduce::kMin ? _mm512_set1_pd(__builtin_inf()) : _mm512_setzero_pd();
  int64_t j = 0;
  for (; j + 8 <= dim; j += 8) {
    const __m512d a = _mm512_abs_pd(_mm512_loadu_pd(row + j));
    switch (how) {
      case Reduce::kSquares: acc = _mm512_add_pd(acc, _mm512_mul_pd(a, a)); break;
      case Reduce::kAbs: acc = _mm512_add_pd(acc, a); break;
      case Reduce::kMax: acc = _mm512_max_pd(acc, a); break;
      case Reduce::kMin: acc = _mm512_min_pd(acc, a); break;
    }
  }
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, acc);
  double total = lanes[0];
  for (int k = 1; k < 8; ++k) {
    total = how == Reduce::kMax ? (lanes[k] > total ? lanes[k] : total)
          : how == Reduce::kMin ? (lanes[k] < total ? lanes[k] : total)
          : total + lanes[k];
  }
  for (; j < dim; ++j) {
    const double a = __builtin_fabs(row[j]);
    switch (how) {
      case Reduce::kSquares: total += a * a; break;
      case Reduce::kAbs: total += a; break;
      case Reduce::kMax: total = a > total ? a : total; break;
      case Reduce::kMin: total = a < total ? a : total; break;
    }
  }
  return how == Reduce::kSquares ? __builtin_sqrt(total) : total;
}

bool vectorised(double p, Reduce* how) {
  if (p == 2) {
    *how = Reduce::kSquares;
  } else if (p == 1) {
    *how = Reduce::kAbs;
  } else if (p == __builtin_inf()) {
    *how = Reduce::kMax;
  } else if (p == -__builtin_inf()) {
    *how = Reduce::kMin;
  } else {
    return false;
  }
  return true;
}

}  // namespace

namespace avx512 {
double row_norm_f32(const float* row, int64_t dim, double norm_type) {
  Reduce how;
  return vectorised(norm_type, &how) ? jembed::row_norm_f32(row, dim, how)
                                     : scalar::row_norm_f32(row, dim, norm_type);
}
double row_norm_f64(const double* row, int64_t dim, double norm_type) {
  Reduce how;
  return vectorised(norm_type, &how) ? jembed::row_norm_f64(row, dim, how)
                                     : scalar::row_norm_f64(row, dim, norm_type);
}
}  // namespace avx512

}  // namespace jembed
