// Fuzz target: the EmbeddingBag forward and dense backward (float/double table x int64/int32 indices and offsets) on
// every kernel variant, with offsets of every kind (empty bags, decreasing, past the end), fixed-size (2-D) bags,
// padding, per-sample weights fused or not, and indices outside the table.
// Contract (jembed.h): the status is JEMBED_OK, the position of the first bad index the bags name, JEMBED_ERR_OFFSETS
// or JEMBED_ERR_ARGUMENT, found before anything is written and without touching memory outside the buffers; on
// success the output has the bits of the rules written plainly below (bag-contract.md), and the backward split among
// owners has the bits of the plain rules too.
#include <math.h>

#include "fuzz_common.h"

namespace {

template <typename T, typename I>
struct Api;
template <>
struct Api<float, int64_t> {
  static constexpr auto forward = jembed_embedding_bag_f32_i64;
  static constexpr auto backward = jembed_embedding_bag_backward_f32_i64;
};
template <>
struct Api<float, int32_t> {
  static constexpr auto forward = jembed_embedding_bag_f32_i32;
  static constexpr auto backward = jembed_embedding_bag_backward_f32_i32;
};
template <>
struct Api<double, int64_t> {
  static constexpr auto forward = jembed_embedding_bag_f64_i64;
  static constexpr auto backward = jembed_embedding_bag_backward_f64_i64;
};
template <>
struct Api<double, int32_t> {
  static constexpr auto forward = jembed_embedding_bag_f64_i32;
  static constexpr auto backward = jembed_embedding_bag_backward_f64_i32;
};

float fused(float x, float w, float acc) { return fmaf(x, w, acc); }
double fused(double x, double w, double acc) { return fma(x, w, acc); }

template <typename T, typename I>
void run(fuzz::Reader& in) {
  const int64_t dim = in.below(41);
  const bool huge = dim == 0 && in.flag();
  const int64_t rows = huge ? static_cast<int64_t>(in.u64() >> 1) : in.below(49);
  const int mode = static_cast<int>(in.below(4));  // 3: an unknown mode, refused
  const int64_t bags = in.below(9);
  const bool fixed = in.flag();
  const uint8_t option = in.u8();
  const bool weighted = (option & 1) != 0;
  const int flags = (option & 2) != 0 ? JEMBED_BAG_FUSED_WEIGHTS : 0;
  const bool specials = (option & 4) != 0;
  const int scale = (option & 8) != 0 ? 1 : 0;
  const int64_t owners = 1 + (option >> 6);
  const int64_t padding = (option & 16) != 0 && rows > 0 ? in.below(rows) : ((option & 32) != 0 ? in.index(rows) : -1);
  // Offsets: non-decreasing sizes, or now and then any value at all.
  int64_t n = 0;
  int64_t bag_size = 0;
  fuzz::Buffer<I> offsets(static_cast<size_t>(bags));
  if (fixed) {
    bag_size = in.below(7);
    n = bags * bag_size;
  } else {
    for (int64_t b = 0; b < bags; ++b) {
      const uint8_t kind = in.u8();
      offsets[b] = static_cast<I>(kind < 240 ? n : static_cast<int64_t>(in.index(n + 2)));
      n += kind < 240 ? kind % 9 : 0;
    }
    n = in.flag() ? n : in.below(n + 3);  // now and then an end before the last offset
  }
  fuzz::Buffer<I> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    idx[i] = static_cast<I>(in.index(rows));
  }
  fuzz::Buffer<T> weights(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    weights[i] = static_cast<T>(in.value(specials));
  }
  fuzz::Buffer<T> table(static_cast<size_t>(huge ? 0 : rows * dim));
  for (size_t k = 0; k < table.size(); ++k) {
    table[k] = static_cast<T>(in.value(specials));
  }
  fuzz::Buffer<T> grad_out(static_cast<size_t>(bags * dim));
  for (size_t k = 0; k < grad_out.size(); ++k) {
    grad_out[k] = static_cast<T>(in.value(specials));
  }
  const I* off = fixed ? nullptr : offsets.data();
  const T* w = weighted ? weights.data() : nullptr;

  // The expected status, in the kernels' order of checks.
  int64_t expected = JEMBED_OK;
  int64_t first = 0;
  if (mode > 2 || (w != nullptr && mode != JEMBED_BAG_SUM)) {
    expected = JEMBED_ERR_ARGUMENT;
  } else if (!fixed && bags > 0) {
    first = static_cast<int64_t>(offsets[0]);
    for (int64_t b = 0; b < bags; ++b) {
      const int64_t o = static_cast<int64_t>(offsets[b]);
      if (o < (b == 0 ? 0 : static_cast<int64_t>(offsets[b - 1])) || o > n) {
        expected = JEMBED_ERR_OFFSETS;
      }
    }
  } else if (!fixed) {
    first = n;
  }
  if (expected == JEMBED_OK && first < n) {
    const int64_t bad = fuzz::first_bad(idx.data() + first, n - first, rows);
    expected = bad == JEMBED_OK ? JEMBED_OK : bad + first;
  }

  // The plain rules (only when the call is valid).
  const size_t out_count = static_cast<size_t>(bags * dim);
  fuzz::Buffer<T> plain(out_count);
  fuzz::Buffer<int64_t> plain_arg(out_count);
  std::vector<int64_t> sizes(static_cast<size_t>(bags), 0);
  if (expected == JEMBED_OK) {
    for (int64_t b = 0; b < bags; ++b) {
      const int64_t start = fixed ? b * bag_size : static_cast<int64_t>(offsets[b]);
      const int64_t end = fixed ? start + bag_size : (b + 1 < bags ? static_cast<int64_t>(offsets[b + 1]) : n);
      for (int64_t i = start; i < end; ++i) {
        sizes[b] += static_cast<int64_t>(idx[i]) != padding ? 1 : 0;
      }
      for (int64_t j = 0; j < dim; ++j) {
        T acc = 0;
        int64_t winner = -1;
        bool seen = false;
        for (int64_t i = start; i < end; ++i) {
          const int64_t r = static_cast<int64_t>(idx[i]);
          if (r == padding) {
            continue;
          }
          const T x = table[static_cast<size_t>(r * dim + j)];
          if (mode == JEMBED_BAG_MAX) {
            if (!seen || x > acc) {
              acc = x;
              winner = r;
            }
          } else if (w == nullptr) {
            acc = acc + x;
          } else if (flags != 0) {
            acc = fused(x, w[i], acc);
          } else {
            const T product = x * w[i];
            acc = acc + product;
          }
          seen = true;
        }
        if (mode == JEMBED_BAG_MEAN) {
          acc = acc / static_cast<T>(sizes[b] > 0 ? sizes[b] : 1);
        }
        plain[static_cast<size_t>(b * dim + j)] = acc;
        plain_arg[static_cast<size_t>(b * dim + j)] = winner;
      }
    }
  }

  fuzz::for_each_variant([&](const char* variant) {
    fuzz::Buffer<T> out(out_count);
    fuzz::Buffer<int64_t> arg(out_count);
    for (size_t k = 0; k < out_count; ++k) {
      out[k] = static_cast<T>(-7.0);
      arg[k] = -7;
    }
    const int64_t status = Api<T, I>::forward(table.data(), rows, dim, idx.data(), n, off, bags, bag_size, w,
                                              padding, mode, flags, out.data(), arg.data());
    FUZZ_CHECK(status == expected, variant);
    if (status != JEMBED_OK) {
      for (size_t k = 0; k < out_count; ++k) {
        FUZZ_CHECK(out[k] == static_cast<T>(-7.0) && arg[k] == -7, variant);
      }
      return;
    }
    FUZZ_CHECK(fuzz::same_values(out.data(), plain.data(), out_count), variant);
    if (mode == JEMBED_BAG_MAX) {
      FUZZ_CHECK(arg.same_bytes(plain_arg), variant);
    }
    // The backward, split among owners, against the plain rules.
    if (mode == JEMBED_BAG_MAX && scale != 0) {
      return;  // refused: scale_grad_by_freq has no meaning for max
    }
    fuzz::Buffer<T> initial(huge ? 0 : static_cast<size_t>(rows * dim));
    for (size_t k = 0; k < initial.size(); ++k) {
      initial[k] = static_cast<T>(static_cast<double>(k % 5) * 0.5);
    }
    fuzz::Buffer<T> gw = initial.copy();
    const int64_t* winners = mode == JEMBED_BAG_MAX ? arg.data() : nullptr;
    for (int64_t owner = 0; owner < owners; ++owner) {
      const int64_t s = Api<T, I>::backward(gw.data(), rows, dim, idx.data(), n, off, bags, bag_size,
                                            grad_out.data(), w, padding, mode, scale, winners, owners, owner);
      FUZZ_CHECK(s == JEMBED_OK, variant);
    }
    fuzz::Buffer<T> want = initial.copy();
    for (int64_t b = 0; b < bags; ++b) {
      const int64_t start = fixed ? b * bag_size : static_cast<int64_t>(offsets[b]);
      const int64_t end = fixed ? start + bag_size : (b + 1 < bags ? static_cast<int64_t>(offsets[b + 1]) : n);
      if (mode == JEMBED_BAG_MAX) {
        for (int64_t j = 0; sizes[b] > 0 && j < dim; ++j) {
          const int64_t r = plain_arg[static_cast<size_t>(b * dim + j)];
          want[static_cast<size_t>(r * dim + j)] += grad_out[static_cast<size_t>(b * dim + j)];
        }
        continue;
      }
      for (int64_t i = start; i < end; ++i) {
        const int64_t r = static_cast<int64_t>(idx[i]);
        if (r == padding) {
          continue;
        }
        int64_t count = 0;
        for (int64_t k = first; k < n; ++k) {
          count += static_cast<int64_t>(idx[k]) == r ? 1 : 0;
        }
        double s = w != nullptr ? static_cast<double>(w[i]) : 1.0;
        s = scale != 0 ? s / static_cast<double>(count) : s;
        s = mode == JEMBED_BAG_MEAN && sizes[b] > 0 ? s / static_cast<double>(sizes[b]) : s;
        for (int64_t j = 0; j < dim; ++j) {
          T& acc = want[static_cast<size_t>(r * dim + j)];
          acc = fused(grad_out[static_cast<size_t>(b * dim + j)], static_cast<T>(s), acc);
        }
      }
    }
    FUZZ_CHECK(fuzz::same_values(gw.data(), want.data(), gw.size()), variant);
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
