// AVX2 row accumulation for the backward pass: 8 floats or 4 doubles per step, the tail with the same (fused)
// operation in scalar form. Compiled with -mavx2 -mfma; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "kernel_table.h"

namespace jembed {
namespace avx2 {

void add_row_f32(float* acc, const float* x, int64_t dim) {
  int64_t j = 0;
  for (; j + 8 <= dim; j += 8) {
    _mm256_storeu_ps(acc + j, _mm256_add_ps(_mm256_loadu_ps(acc + j), _mm256_loadu_ps(x + j)));
  }
  for (; j < dim; ++j) {
    acc[j] += x[j];
  }
}

void add_row_f64(double* acc, const double* x, int64_t dim) {
  int64_t j = 0;
  for (; j + 4 <= dim; j += 4) {
    _mm256_storeu_pd(acc + j, _mm256_add_pd(_mm256_loadu_pd(acc + j), _mm256_loadu_pd(x + j)));
  }
  for (; j < dim; ++j) {
    acc[j] += x[j];
  }
}

void fma_row_f32(float* acc, const float* x, float alpha, int64_t dim) {
  const __m256 a = _mm256_set1_ps(alpha);
  int64_t j = 0;
  for (; j + 8 <= dim; j += 8) {
    _mm256_storeu_ps(acc + j, _mm256_fmadd_ps(_mm256_loadu_ps(x + j), a, _mm256_loadu_ps(acc + j)));
  }
  for (; j < dim; ++j) {
    acc[j] = __builtin_fmaf(x[j], alpha, acc[j]);
  }
}

void fma_row_f64(double* acc, const double* x, double alpha, int64_t dim) {
  const __m256d a = _mm256_set1_pd(alpha);
  int64_t j = 0;
  for (; j + 4 <= dim; j += 4) {
    _mm256_storeu_pd(acc + j, _mm256_fmadd_pd(_mm256_loadu_pd(x + j), a, _mm256_loadu_pd(acc + j)));
  }
  for (; j < dim; ++j) {
    acc[j] = __builtin_fma(x[j], alpha, acc[j]);
  }
}

}  // namespace avx2
}  // namespace jembed
