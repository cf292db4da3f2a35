// Fuzz target: the four renorms (float/double table x int64/int32 indices) on every kernel variant.
// Contract (jembed.h): each distinct idx value r whose norm_type-norm exceeds max_norm is scaled in place by
// max_norm / (norm + 1e-7); no other row changes; a bad index is reported by position and nothing changes.
// Results are compared with a reference norm computed the documented way (in the row's precision) with a relative
// tolerance, since vector variants sum in another order; rows whose norm is within the tolerance of max_norm may go
// either way. Values and options outside Java's validated domain (NaN, infinities, a negative or NaN max_norm) are
// run for memory safety and the status/unchanged-rows part of the contract only.
#include <math.h>

#include "fuzz_common.h"

namespace {

constexpr double kTolerance = 1e-3;

template <typename T, typename I>
int64_t renorm(T* table, int64_t rows, int64_t dim, const I* idx, int64_t n, double max_norm, double p);
template <>
int64_t renorm(float* t, int64_t r, int64_t d, const int64_t* i, int64_t n, double m, double p) {
  return jembed_renorm_f32_i64(t, r, d, i, n, m, p, 1, 0);
}
template <>
int64_t renorm(float* t, int64_t r, int64_t d, const int32_t* i, int64_t n, double m, double p) {
  return jembed_renorm_f32_i32(t, r, d, i, n, m, p, 1, 0);
}
template <>
int64_t renorm(double* t, int64_t r, int64_t d, const int64_t* i, int64_t n, double m, double p) {
  return jembed_renorm_f64_i64(t, r, d, i, n, m, p, 1, 0);
}
template <>
int64_t renorm(double* t, int64_t r, int64_t d, const int32_t* i, int64_t n, double m, double p) {
  return jembed_renorm_f64_i32(t, r, d, i, n, m, p, 1, 0);
}

// The norm as documented: |x| for one element (x != 0 for p = 0), max/min |x| for +/-inf, count of non-zeros for 0,
// else (sum |x|^p)^(1/p), accumulated in T.
template <typename T>
double reference_norm(const T* row, int64_t dim, double p) {
  if (dim == 1) {
    return p == 0 ? (row[0] != 0 ? 1.0 : 0.0) : fabs(static_cast<double>(row[0]));
  }
  if (isinf(p)) {
    double acc = p > 0 ? 0.0 : INFINITY;
    for (int64_t j = 0; j < dim; ++j) {
      const double a = fabs(static_cast<double>(row[j]));
      acc = p > 0 ? (a > acc ? a : acc) : (a < acc ? a : acc);
    }
    return acc;
  }
  if (p == 0) {
    double count = 0;
    for (int64_t j = 0; j < dim; ++j) {
      count += row[j] != 0 ? 1 : 0;
    }
    return count;
  }
  const T tp = static_cast<T>(p);
  T acc = 0;
  for (int64_t j = 0; j < dim; ++j) {
    acc += static_cast<T>(pow(fabs(static_cast<double>(row[j])), static_cast<double>(tp)));
  }
  return static_cast<double>(static_cast<T>(pow(static_cast<double>(acc), static_cast<double>(T(1) / tp))));
}

double pick_max_norm(fuzz::Reader& in) {
  static const double kChoices[] = {0, 0.5, 1, 2, 3.75, 10, 1e30, INFINITY, NAN, -1};
  const uint8_t k = in.u8();
  return k < 200 ? kChoices[k % 8] : (k < 250 ? in.u8() / 16.0 : kChoices[8 + k % 2]);
}

double pick_norm_type(fuzz::Reader& in) {
  static const double kChoices[] = {2, 1, 0, INFINITY, -INFINITY, 3, 0.5, -1, -2.5, 1e-3, 100, 1.5};
  const uint8_t k = in.u8();
  if (k < 240) {
    return kChoices[k % 12];
  }
  const uint64_t bits = in.u64();
  double p;
  memcpy(&p, &bits, sizeof p);
  return p;  // anything, NaN included
}

template <typename T, typename I>
void run(fuzz::Reader& in) {
  const int64_t dim = in.below(71);
  const bool huge = dim == 0 && in.flag();
  const int64_t rows = huge ? static_cast<int64_t>(in.u64() >> 1) : in.below(49);
  const int64_t n = in.below(97);
  const double max_norm = pick_max_norm(in);
  const double p = pick_norm_type(in);
  const bool specials = in.flag();
  fuzz::Buffer<I> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    idx[i] = static_cast<I>(in.index(rows));
  }
  fuzz::Buffer<T> original(static_cast<size_t>(huge ? 0 : rows * dim));
  for (size_t k = 0; k < original.size(); ++k) {
    original[k] = static_cast<T>(in.value(specials));
  }
  const int64_t expected = fuzz::first_bad(idx.data(), n, rows);
  std::vector<bool> looked_up(static_cast<size_t>(huge ? 0 : rows), false);
  if (expected == JEMBED_OK && !huge) {
    for (int64_t i = 0; i < n; ++i) {
      looked_up[static_cast<size_t>(idx[i])] = true;
    }
  }
  const bool valid_options = max_norm >= 0 && !isnan(p);
  fuzz::for_each_variant([&](const char* variant) {
    fuzz::Buffer<T> table = original.copy();
    const int64_t status = renorm<T, I>(table.data(), rows, dim, idx.data(), n, max_norm, p);
    FUZZ_CHECK(status == expected, variant);
    if (status != JEMBED_OK) {
      FUZZ_CHECK(table.same_bytes(original), variant);
      return;
    }
    for (int64_t r = 0; r < static_cast<int64_t>(looked_up.size()); ++r) {
      const T* before = original.data() + r * dim;
      const T* after = table.data() + r * dim;
      const bool changed = dim > 0 && memcmp(before, after, dim * sizeof(T)) != 0;
      if (!looked_up[static_cast<size_t>(r)]) {
        FUZZ_CHECK(!changed, variant);
        continue;
      }
      bool finite = isfinite(max_norm) && valid_options;
      for (int64_t j = 0; j < dim; ++j) {
        finite = finite && isfinite(static_cast<double>(before[j]));
      }
      const double norm = reference_norm(before, dim, p);
      if (!finite || !isfinite(norm)) {
        continue;
      }
      // A row above max_norm must hold its scaled values, which may be its own bits (zeros scaled by 0: an
      // all-zero row's norm is 1 for a norm_type of huge magnitude, whose float cast is infinite).
      const bool above = norm > max_norm * (1 + kTolerance) + 1e-30;
      if (norm < max_norm * (1 - kTolerance)) {
        FUZZ_CHECK(!changed, variant);
      }
      if (changed || above) {
        const double scale = max_norm / (norm + 1e-7);
        for (int64_t j = 0; j < dim; ++j) {
          const double want = static_cast<double>(before[j]) * scale;
          FUZZ_CHECK(fabs(static_cast<double>(after[j]) - want) <= kTolerance * fabs(want) + 1e-30, variant);
        }
      }
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  switch (in.u8() % 4) {
    case 0: run<float, int64_t>(in); break;
    case 1: run<float, int32_t>(in); break;
    case 2: run<double, int64_t>(in); break;
    default: run<double, int32_t>(in); break;
  }
  return 0;
}
