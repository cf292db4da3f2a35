// Portable row accumulation for the backward pass. fma rounds once, like the vector variants' fused multiply-add,
// so every variant (and the Java backend's Math.fma) gives the same bits; portable_fma.h makes sure it does on MinGW.
#include "kernel_table.h"
#include "portable_fma.h"

namespace jembed {
namespace scalar {

void add_row_f32(float* acc, const float* x, int64_t dim) {
  for (int64_t j = 0; j < dim; ++j) {
    acc[j] += x[j];
  }
}

void add_row_f64(double* acc, const double* x, int64_t dim) {
  for (int64_t j = 0; j < dim; ++j) {
    acc[j] += x[j];
  }
}

void fma_row_f32(float* acc, const float* x, float alpha, int64_t dim) {
  for (int64_t j = 0; j < dim; ++j) {
    acc[j] = fma_f32(x[j], alpha, acc[j]);
  }
}

void fma_row_f64(double* acc, const double* x, double alpha, int64_t dim) {
  for (int64_t j = 0; j < dim; ++j) {
    acc[j] = fma_f64(x[j], alpha, acc[j]);
  }
}

}  // namespace scalar
}  // namespace jembed
