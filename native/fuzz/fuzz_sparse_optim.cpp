// Fuzz target: the fused sparse optimizer steps (add, adagrad, adam; float and double).
// Contract (jembed.h): for each entry k (row idx[k], values[k*dim ..]) in order, the documented update of that row of
// the parameter and state, in double with one rounding per stored value; no other row changes; a bad index is
// reported by position with nothing changed. The reference is the documented formula, written plainly; results must
// match it bit for bit (both sides are compiled with -ffp-contract=off). Indices may repeat (an uncoalesced
// gradient): entries then apply in order.
#include <math.h>

#include "fuzz_common.h"

namespace {

double pick_hyper(fuzz::Reader& in) {
  static const double kChoices[] = {0, 1, -1, 0.1, 0.5, 0.9, 0.999, 1e-8, 1e-10, 2.5, 1e30, INFINITY, NAN};
  const uint8_t k = in.u8();
  return k < 240 ? kChoices[k % 11] : kChoices[11 + k % 2];
}

int64_t step(int op, float* p, float* s1, float* s2, int64_t rows, int64_t dim, const int64_t* idx, int64_t nnz,
             const float* v, const double* h, int maximize) {
  switch (op) {
    case 0: return jembed_sparse_add_f32(p, rows, dim, idx, nnz, v, h[0]);
    case 1: return jembed_sparse_adagrad_f32(p, s1, rows, dim, idx, nnz, v, h[0], h[1], maximize);
    default: return jembed_sparse_adam_f32(p, s1, s2, rows, dim, idx, nnz, v, h[0], h[1], h[2], h[3], maximize);
  }
}

int64_t step(int op, double* p, double* s1, double* s2, int64_t rows, int64_t dim, const int64_t* idx, int64_t nnz,
             const double* v, const double* h, int maximize) {
  switch (op) {
    case 0: return jembed_sparse_add_f64(p, rows, dim, idx, nnz, v, h[0]);
    case 1: return jembed_sparse_adagrad_f64(p, s1, rows, dim, idx, nnz, v, h[0], h[1], maximize);
    default: return jembed_sparse_adam_f64(p, s1, s2, rows, dim, idx, nnz, v, h[0], h[1], h[2], h[3], maximize);
  }
}

template <typename T>
void reference(int op, T* p, T* s1, T* s2, int64_t dim, const int64_t* idx, int64_t nnz, const T* values,
               const double* h, bool maximize) {
  for (int64_t k = 0; k < nnz; ++k) {
    const int64_t base = idx[k] * dim;
    for (int64_t j = 0; j < dim; ++j) {
      const double g = static_cast<double>(values[k * dim + j]);
      T& param = p[base + j];
      if (op == 0) {  // param += alpha * g, the product rounded to T first
        param = static_cast<T>(static_cast<double>(param) + static_cast<double>(static_cast<T>(h[0] * g)));
      } else if (op == 1) {  // sum += g^2; param -= clr * g / (sqrt(sum) + eps)
        const double d = maximize ? -g : g;
        T& sum = s1[base + j];
        sum = static_cast<T>(static_cast<double>(sum) + d * d);
        param = static_cast<T>(static_cast<double>(param) - h[0] * d / (sqrt(static_cast<double>(sum)) + h[1]));
      } else {  // m += (1-b1)(g-m); v += (1-b2)(g^2-v); param -= step_size * m / (sqrt(v) + eps)
        const double d = maximize ? -g : g;
        const double m = s1[base + j];
        const double dm = (d - m) * (1 - h[0]);
        s1[base + j] = static_cast<T>(m + dm);
        const double v = s2[base + j];
        const double dv = (d * d - v) * (1 - h[1]);
        s2[base + j] = static_cast<T>(v + dv);
        param = static_cast<T>(static_cast<double>(param) - h[2] * ((dm + m) / (sqrt(dv + v) + h[3])));
      }
    }
  }
}

template <typename T>
void run(fuzz::Reader& in) {
  const int op = static_cast<int>(in.u8() % 3);
  const int64_t dim = in.below(41);
  const bool huge = dim == 0 && in.flag();
  const int64_t rows = huge ? static_cast<int64_t>(in.u64() >> 1) : in.below(49);
  const int64_t nnz = in.below(65);
  const bool specials = in.flag();
  const int maximize = in.flag() ? 1 : 0;
  double h[4];
  for (double& x : h) {
    x = pick_hyper(in);
  }
  fuzz::Buffer<int64_t> idx(static_cast<size_t>(nnz));
  for (int64_t k = 0; k < nnz; ++k) {
    idx[k] = in.index(rows);
  }
  fuzz::Buffer<T> values(static_cast<size_t>(nnz * dim));
  for (size_t k = 0; k < values.size(); ++k) {
    values[k] = static_cast<T>(in.value(specials));
  }
  const size_t table = static_cast<size_t>(huge ? 0 : rows * dim);
  fuzz::Buffer<T> p0(table), s10(table), s20(table);
  for (size_t k = 0; k < table; ++k) {
    p0[k] = static_cast<T>(in.value(specials));
    s10[k] = static_cast<T>(fabs(in.value(specials)));  // accumulators are non-negative in practice
    s20[k] = static_cast<T>(fabs(in.value(specials)));
  }
  const int64_t bad = fuzz::first_bad(idx.data(), nnz, rows);
  fuzz::Buffer<T> pe = p0.copy(), s1e = s10.copy(), s2e = s20.copy();
  if (bad == JEMBED_OK) {
    reference(op, pe.data(), s1e.data(), s2e.data(), dim, idx.data(), nnz, values.data(), h, maximize != 0);
  }
  // The kernels are baseline code (no variants); run them once.
  fuzz::Buffer<T> p = p0.copy(), s1 = s10.copy(), s2 = s20.copy();
  const int64_t status = step(op, p.data(), s1.data(), s2.data(), rows, dim, idx.data(), nnz, values.data(), h, maximize);
  FUZZ_CHECK(status == bad, "baseline");
  if (status != JEMBED_OK) {
    FUZZ_CHECK(p.same_bytes(p0) && s1.same_bytes(s10) && s2.same_bytes(s20), "baseline");
    return;
  }
  FUZZ_CHECK(fuzz::same_values(p.data(), pe.data(), table), "baseline");
  FUZZ_CHECK(fuzz::same_values(s1.data(), s1e.data(), table), "baseline");
  FUZZ_CHECK(fuzz::same_values(s2.data(), s2e.data(), table), "baseline");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  if (in.u8() % 2 == 0) {
    run<float>(in);
  } else {
    run<double>(in);
  }
  return 0;
}
