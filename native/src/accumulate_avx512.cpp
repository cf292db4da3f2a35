// AVX-512 row accumulation for the backward pass: 16 floats or 8 doubles per step, the tail with the same (fused)
// operation in scalar form. Compiled with -mavx512f; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "kernel_table.h"

namespace jembed {
namespace avx512 {

void add_row_f32(float* acc, const float* x, int64_t dim) {
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    _mm512_storeu_ps(acc + j, _mm512_add_ps(_mm512_loadu_ps(acc + j), _mm512_loadu_ps(x + j)));
  }
  for (; j < dim; ++j) {
    acc[j] += x[j];
  }
}

void add_row_f64(double* acc, const double* x, int64_t dim) {
  int64_t j = 0;
  for (; j + 8 <= dim; j += 8) {
    _mm512_storeu_pd(acc + j, _mm512_add_pd(_mm512_loadu_pd(acc + j), _mm512_loadu_pd(x + j)));
  }
  for (; j < dim; ++j) {
    acc[j] += x[j];
  }
}

void fma_row_f32(float* acc, const float* x, float alpha, int64_t dim) {
  const __m512 a = _mm512_set1_ps(alpha);
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    _mm512_storeu_ps(acc + j, _mm512_fmadd_ps(_mm512_loadu_ps(x + j), a, _mm512_loadu_ps(acc + j)));
  }
  for (; j < dim; ++j) {
    acc[j] = __builtin_fmaf(x[j], alpha, acc[j]);
  }
}

void fma_row_f64(double* acc, const double* x, double alpha, int64_t dim) {
  const __m512d a = _mm512_set1_pd(alpha);
  int64_t j = 0;
  for (; j + 8 <= dim; j += 8) {
    _mm512_storeu_pd(acc + j, _mm512_fmadd_pd(_mm512_loadu_pd(x + j), a, _mm512_loadu_pd(acc + j)));
  }
  for (; j < dim; ++j) {
    acc[j] = __builtin_fma(x[j], alpha, acc[j]);
  }
}

}  // namespace avx512
}  // namespace jembed
