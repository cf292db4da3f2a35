// Fused sparse optimizer steps (SGD, Adagrad, SparseAdam): one pass over the gradient's rows updates the parameter
// and the state in place. Baseline code; the arithmetic mirrors io.jembed.backend.JavaBackend operation for
// operation (double, one rounding per stored value, no contraction), so both backends give the same bits.
#include <math.h>

#include "jembed/jembed.h"

namespace {

template <typename I>
int64_t first_bad(const I* idx, int64_t n, int64_t rows) {
  for (int64_t k = 0; k < n; ++k) {
    if (static_cast<uint64_t>(idx[k]) >= static_cast<uint64_t>(rows)) {
      return k;
    }
  }
  return JEMBED_OK;
}

template <typename T>
int64_t sparse_add(T* param, int64_t rows, int64_t dim, const int64_t* idx, int64_t nnz, const T* values,
                   double alpha) {
  const int64_t bad = first_bad(idx, nnz, rows);
  if (bad != JEMBED_OK) {
    return bad;
  }
  for (int64_t k = 0; k < nnz; ++k) {
    T* p = param + idx[k] * dim;
    const T* g = values + k * dim;
    for (int64_t j = 0; j < dim; ++j) {
      p[j] = static_cast<T>(static_cast<double>(p[j]) + static_cast<double>(static_cast<T>(alpha * g[j])));
    }
  }
  return JEMBED_OK;
}

template <typename T>
int64_t sparse_adagrad(T* param, T* sum, int64_t rows, int64_t dim, const int64_t* idx, int64_t nnz,
                       const T* values, double clr, double eps, bool maximize) {
  const int64_t bad = first_bad(idx, nnz, rows);
  if (bad != JEMBED_OK) {
    return bad;
  }
  for (int64_t k = 0; k < nnz; ++k) {
    T* p = param + idx[k] * dim;
    T* s = sum + idx[k] * dim;
    const T* g = values + k * dim;
    for (int64_t j = 0; j < dim; ++j) {
      const double d = maximize ? -static_cast<double>(g[j]) : static_cast<double>(g[j]);
      s[j] = static_cast<T>(static_cast<double>(s[j]) + d * d);
      const double std_dev = sqrt(static_cast<double>(s[j])) + eps;
      p[j] = static_cast<T>(static_cast<double>(p[j]) - clr * d / std_dev);
    }
  }
  return JEMBED_OK;
}

template <typename T>
int64_t sparse_adam(T* param, T* exp_avg, T* exp_avg_sq, int64_t rows, int64_t dim, const int64_t* idx, int64_t nnz,
                    const T* values, double beta1, double beta2, double step_size, double eps, bool maximize) {
  const int64_t bad = first_bad(idx, nnz, rows);
  if (bad != JEMBED_OK) {
    return bad;
  }
  for (int64_t k = 0; k < nnz; ++k) {
    const int64_t base = idx[k] * dim;
    const T* g = values + k * dim;
    for (int64_t j = 0; j < dim; ++j) {
      const double d = maximize ? -static_cast<double>(g[j]) : static_cast<double>(g[j]);
      const double old_m = exp_avg[base + j];
      const double update_m = (d - old_m) * (1 - beta1);
      exp_avg[base + j] = static_cast<T>(old_m + update_m);
      const double old_v = exp_avg_sq[base + j];
      const double update_v = (d * d - old_v) * (1 - beta2);
      exp_avg_sq[base + j] = static_cast<T>(old_v + update_v);
      const double numer = update_m + old_m;
      const double denom = sqrt(update_v + old_v) + eps;
      param[base + j] = static_cast<T>(static_cast<double>(param[base + j]) - step_size * (numer / denom));
    }
  }
  return JEMBED_OK;
}

}  // namespace

extern "C" {

int64_t jembed_sparse_add_f32(float* param, int64_t rows, int64_t dim, const int64_t* idx, int64_t nnz,
                              const float* values, double alpha) {
  return sparse_add(param, rows, dim, idx, nnz, values, alpha);
}

int64_t jembed_sparse_add_f64(double* param, int64_t rows, int64_t dim, const int64_t* idx, int64_t nnz,
                              const double* values, double alpha) {
  return sparse_add(param, rows, dim, idx, nnz, values, alpha);
}

int64_t jembed_sparse_adagrad_f32(float* param, float* sum, int64_t rows, int64_t dim, const int64_t* idx,
                                  int64_t nnz, const float* values, double clr, double eps, int maximize) {
  return sparse_adagrad(param, sum, rows, dim, idx, nnz, values, clr, eps, maximize != 0);
}

int64_t jembed_sparse_adagrad_f64(double* param, double* sum, int64_t rows, int64_t dim, const int64_t* idx,
                                  int64_t nnz, const double* values, double clr, double eps, int maximize) {
  return sparse_adagrad(param, sum, rows, dim, idx, nnz, values, clr, eps, maximize != 0);
}

int64_t jembed_sparse_adam_f32(float* param, float* exp_avg, float* exp_avg_sq, int64_t rows, int64_t dim,
                               const int64_t* idx, int64_t nnz, const float* values, double beta1, double beta2,
                               double step_size, double eps, int maximize) {
  return sparse_adam(param, exp_avg, exp_avg_sq, rows, dim, idx, nnz, values, beta1, beta2, step_size, eps,
                     maximize != 0);
}

int64_t jembed_sparse_adam_f64(double* param, double* exp_avg, double* exp_avg_sq, int64_t rows, int64_t dim,
                               const int64_t* idx, int64_t nnz, const double* values, double beta1, double beta2,
                               double step_size, double eps, int maximize) {
  return sparse_adam(param, exp_avg, exp_avg_sq, rows, dim, idx, nnz, values, beta1, beta2, step_size, eps,
                     maximize != 0);
}

}  // extern "C"
