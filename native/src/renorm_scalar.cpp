// Portable row norms, summed in input order in the row's own precision, as PyTorch's scalar CPU norm does. The Java
// backend computes exactly these sums.
#include <math.h>

#include "kernel_table.h"

namespace jembed {
namespace {

template <typename T>
double row_norm(const T* row, int64_t dim, double p) {
  if (p == INFINITY || p == -INFINITY) {
    T acc = p > 0 ? T(0) : T(INFINITY);
    for (int64_t j = 0; j < dim; ++j) {
      const T a = fabs(row[j]);
      if (a != a) {
        // A NaN wins, as in PyTorch's max/min_propagate_nan: the norm is NaN and the row is left alone.
        return static_cast<double>(a);
      }
      acc = p > 0 ? (a > acc ? a : acc) : (a < acc ? a : acc);
    }
    return static_cast<double>(acc);
  }
  T acc = 0;
  if (p == 2) {
    for (int64_t j = 0; j < dim; ++j) {
      acc += row[j] * row[j];
    }
    return static_cast<double>(static_cast<T>(sqrt(acc)));
  }
  if (p == 1) {
    for (int64_t j = 0; j < dim; ++j) {
      acc += static_cast<T>(fabs(row[j]));
    }
    return static_cast<double>(acc);
  }
  if (p == 0) {
    for (int64_t j = 0; j < dim; ++j) {
      acc += row[j] != 0 ? T(1) : T(0);
    }
    return static_cast<double>(acc);
  }
  const T tp = static_cast<T>(p);
  for (int64_t j = 0; j < dim; ++j) {
    acc += static_cast<T>(pow(static_cast<double>(fabs(row[j])), static_cast<double>(tp)));
  }
  return static_cast<double>(static_cast<T>(pow(static_cast<double>(acc), static_cast<double>(T(1) / tp))));
}

}  // namespace

namespace scalar {
double row_norm_f32(const float* row, int64_t dim, double norm_type) {
  return row_norm(row, dim, norm_type);
}
double row_norm_f64(const double* row, int64_t dim, double norm_type) {
  return row_norm(row, dim, norm_type);
}
}  // namespace scalar

}  // namespace jembed
