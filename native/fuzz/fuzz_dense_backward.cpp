// Fuzz target: the four dense backwards (float/double x int64/int32 indices) on every kernel variant.
// Contract (jembed.h): for i in input order, r = idx[i], r != padding_idx, r % owners == owner:
//   grad_weight[r] += grad_out[i], or fma(grad_out[i], 1 / count(r), grad_weight[r]) with scale_grad_by_freq;
// a bad index is reported by position (nothing changed), owners < 1 or owner outside [0, owners) is
// JEMBED_ERR_ARGUMENT (nothing changed), and splitting rows among owners gives the bits of one owner.
// The reference below is that loop, written plainly; results must match it bit for bit.
#include <math.h>

#include "fuzz_common.h"

namespace {

template <typename T, typename I>
int64_t backward(T* gw, int64_t rows, int64_t dim, const I* idx, int64_t n, const T* go, int64_t pad, int scale,
                 int64_t owners, int64_t owner);
template <>
int64_t backward(float* gw, int64_t r, int64_t d, const int64_t* i, int64_t n, const float* go, int64_t pad, int s,
                 int64_t os, int64_t o) {
  return jembed_dense_backward_f32_i64(gw, r, d, i, n, go, pad, s, os, o);
}
template <>
int64_t backward(float* gw, int64_t r, int64_t d, const int32_t* i, int64_t n, const float* go, int64_t pad, int s,
                 int64_t os, int64_t o) {
  return jembed_dense_backward_f32_i32(gw, r, d, i, n, go, pad, s, os, o);
}
template <>
int64_t backward(double* gw, int64_t r, int64_t d, const int64_t* i, int64_t n, const double* go, int64_t pad, int s,
                 int64_t os, int64_t o) {
  return jembed_dense_backward_f64_i64(gw, r, d, i, n, go, pad, s, os, o);
}
template <>
int64_t backward(double* gw, int64_t r, int64_t d, const int32_t* i, int64_t n, const double* go, int64_t pad, int s,
                 int64_t os, int64_t o) {
  return jembed_dense_backward_f64_i32(gw, r, d, i, n, go, pad, s, os, o);
}

float fused(float x, float a, float acc) { return fmaf(x, a, acc); }
double fused(double x, double a, double acc) { return fma(x, a, acc); }

int64_t pick_padding(fuzz::Reader& in, int64_t rows) {
  const uint8_t k = in.u8();
  if (k < 100) {
    return -1;
  }
  if (k < 220) {
    return rows > 0 ? in.below(rows) : -1;
  }
  return in.index(rows);  // out of range or extreme: must simply match nothing
}

template <typename T, typename I>
void run(fuzz::Reader& in) {
  const int64_t dim = in.below(41);
  const bool huge = dim == 0 && in.flag();
  const int64_t rows = huge ? static_cast<int64_t>(in.u64() >> 1) : in.below(49);
  const int64_t n = in.below(97);
  const int64_t padding = pick_padding(in, rows);
  const int scale = in.flag() ? 1 : 0;
  const bool specials = in.flag();
  // Owners: usually a valid split, sometimes an invalid one (0, negative, owner >= owners).
  const uint8_t owner_kind = in.u8();
  const int64_t owners = owner_kind < 230 ? 1 + owner_kind % 4 : (owner_kind % 3 == 0 ? 0 : -1 - owner_kind % 5);
  const int64_t bad_owner = owner_kind % 2 == 0 ? owners : -1;  // used when the split is valid, to test rejection
  fuzz::Buffer<I> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    idx[i] = static_cast<I>(in.index(rows));
  }
  fuzz::Buffer<T> grad_out(static_cast<size_t>(n * dim));
  for (size_t k = 0; k < grad_out.size(); ++k) {
    grad_out[k] = static_cast<T>(in.value(specials));
  }
  fuzz::Buffer<T> initial(static_cast<size_t>(huge ? 0 : rows * dim));
  for (size_t k = 0; k < initial.size(); ++k) {
    initial[k] = static_cast<T>(in.value(specials));
  }
  const int64_t bad = fuzz::first_bad(idx.data(), n, rows);

  // The reference: one owner, input order.
  fuzz::Buffer<T> expected = initial.copy();
  if (bad == JEMBED_OK) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = static_cast<int64_t>(idx[i]);
      if (r == padding) {
        continue;
      }
      int64_t count = 0;
      for (int64_t k = 0; k < n; ++k) {
        count += static_cast<int64_t>(idx[k]) == r ? 1 : 0;
      }
      const T alpha = static_cast<T>(1.0 / static_cast<double>(count));
      for (int64_t j = 0; j < dim; ++j) {
        T& acc = expected[static_cast<size_t>(r * dim + j)];
        const T x = grad_out[static_cast<size_t>(i * dim + j)];
        acc = scale ? fused(x, alpha, acc) : static_cast<T>(acc + x);
      }
    }
  }

  fuzz::for_each_variant([&](const char* variant) {
    fuzz::Buffer<T> gw = initial.copy();
    if (owners < 1) {
      const int64_t status = backward<T, I>(gw.data(), rows, dim, idx.data(), n, grad_out.data(), padding, scale,
                                           owners, 0);
      FUZZ_CHECK(status == bad || status == JEMBED_ERR_ARGUMENT, variant);
      FUZZ_CHECK(bad != JEMBED_OK || status == JEMBED_ERR_ARGUMENT, variant);
      FUZZ_CHECK(gw.same_bytes(initial), variant);
      return;
    }
    // An owner outside [0, owners) is refused (after the index check) and changes nothing.
    const int64_t refused = backward<T, I>(gw.data(), rows, dim, idx.data(), n, grad_out.data(), padding, scale,
                                          owners, bad_owner);
    FUZZ_CHECK(refused == bad || refused == JEMBED_ERR_ARGUMENT, variant);
    FUZZ_CHECK(bad != JEMBED_OK || refused == JEMBED_ERR_ARGUMENT, variant);
    FUZZ_CHECK(gw.same_bytes(initial), variant);
    // Every owner in turn: together they must give the one-owner bits.
    for (int64_t owner = 0; owner < owners; ++owner) {
      const int64_t status = backward<T, I>(gw.data(), rows, dim, idx.data(), n, grad_out.data(), padding, scale,
                                           owners, owner);
      FUZZ_CHECK(status == bad, variant);
      if (status != JEMBED_OK) {
        FUZZ_CHECK(gw.same_bytes(initial), variant);
        return;
      }
    }
    FUZZ_CHECK(fuzz::same_values(gw.data(), expected.data(), gw.size()), variant);
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
