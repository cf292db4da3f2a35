// What the vectorised row-norm variants share: which norm types have a vector loop, how lane partial results and the
// scalar tail combine (in lane order, so a variant's result does not depend on anything but its lane count), and the
// entry points that fall back to the scalar loop for other p. Internal linkage throughout (anonymous namespace), so
// each ISA file compiles its own copy with its own flags; see cmake/JembedIsa.cmake.
#ifndef JEMBED_ROW_NORM_REDUCE_H
#define JEMBED_ROW_NORM_REDUCE_H

#include <stdint.h>

#include "kernel_table.h"

namespace jembed {
namespace {

enum class Reduce { kSquares, kAbs, kMax, kMin };

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

// Max and min let a NaN win, as PyTorch's max/min_propagate_nan (and Java's Math.max/min) do: a row holding a NaN has
// a NaN norm, which is never > max_norm, so the row is left as it is. Sums propagate NaN by themselves.
template <typename T>
T max_or_min(T total, T a, Reduce how) {
  if (a != a) {
    return a;
  }
  return how == Reduce::kMax ? (a > total ? a : total) : (a < total ? a : total);
}

template <typename T>
T combine(T total, T a, Reduce how) {
  switch (how) {
    case Reduce::kSquares: return total + a * a;
    case Reduce::kAbs: return total + a;
    case Reduce::kMax:
    case Reduce::kMin: return max_or_min(total, a, how);
  }
  return total;
}

// Folds the lane results in lane order, then the row's tail elements [j, dim), and finishes the norm.
template <typename T>
double finish(const T* lanes, int lane_count, const T* row, int64_t j, int64_t dim, Reduce how) {
  T total = lanes[0];
  for (int k = 1; k < lane_count; ++k) {
    total = how == Reduce::kSquares || how == Reduce::kAbs ? total + lanes[k] : max_or_min(total, lanes[k], how);
  }
  for (; j < dim; ++j) {
    const T a = row[j] < 0 ? -row[j] : row[j];
    total = combine(total, a, how);
  }
  if (how == Reduce::kSquares) {
    return static_cast<double>(static_cast<T>(__builtin_sqrt(static_cast<double>(total))));
  }
  return static_cast<double>(total);
}

}  // namespace
}  // namespace jembed

// Defines variant `ns`'s row norms around its vector loops vector_norm_f32 / vector_norm_f64(row, dim, how).
#define JEMBED_DEFINE_ROW_NORMS(ns)                                                                        \
  namespace ns {                                                                                           \
  double row_norm_f32(const float* row, int64_t dim, double norm_type) {                                   \
    Reduce how;                                                                                            \
    return vectorised(norm_type, &how) ? vector_norm_f32(row, dim, how)                                    \
                                       : scalar::row_norm_f32(row, dim, norm_type);                        \
  }                                                                                                        \
  double row_norm_f64(const double* row, int64_t dim, double norm_type) {                                  \
    Reduce how;                                                                                            \
    return vectorised(norm_type, &how) ? vector_norm_f64(row, dim, how)                                    \
                                       : scalar::row_norm_f64(row, dim, norm_type);                        \
  }                                                                                                        \
  }

#endif
