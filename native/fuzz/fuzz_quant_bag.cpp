// Fuzz target: the row-wise quantized lookups (8-bit rows x int64/int32 indices and offsets) on every kernel variant,
// with offsets of every kind (empty bags, decreasing, past the end), fixed-size bags, per-sample weights, modes
// (max and unknown ones refused), indices outside the table, and any bytes as codes, scales and biases (NaN and
// infinities included).
// Contract (jembed.h): the status is JEMBED_OK, the position of the first bad index the bags name, JEMBED_ERR_OFFSETS
// or JEMBED_ERR_ARGUMENT, found before anything is written and without touching memory outside the buffers (the
// table is an exactly sized heap block); on success the output has the bits of the rules written plainly below
// (acc = fma(w * scale, q, acc + w * bias), FBGEMM's order; mean divides once).
#include <math.h>

#include "../src/half_float.h"
#include "fuzz_common.h"

namespace {

template <int kBits, typename I>
struct Api;
template <>
struct Api<8, int64_t> {
  static constexpr auto bag = jembed_quantized_bag_u8_i64;
};
template <>
struct Api<8, int32_t> {
  static constexpr auto bag = jembed_quantized_bag_u8_i32;
};
template <>
struct Api<4, int64_t> {
  static constexpr auto bag = jembed_quantized_bag_u4_i64;
};
template <>
struct Api<4, int32_t> {
  static constexpr auto bag = jembed_quantized_bag_u4_i32;
};

template <int kBits, typename I>
void run(fuzz::Reader& in) {
  const int64_t dim = in.below(41) * (kBits == 4 ? 2 : 1) + (kBits == 4 && in.u8() == 255 ? 1 : 0);
  const int64_t rows = in.below(33);
  const int mode = static_cast<int>(in.below(4));  // 2: max, 3: unknown; both refused
  const int64_t bags = in.below(9);
  const bool fixed = in.flag();
  const bool weighted = in.flag();
  const bool specials = in.flag();
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
    n = in.flag() ? n : in.below(n + 3);
  }
  fuzz::Buffer<I> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    idx[i] = static_cast<I>(in.index(rows));
  }
  fuzz::Buffer<float> weights(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    weights[i] = static_cast<float>(in.value(specials));
  }
  const int64_t code_bytes = kBits == 8 ? dim : dim / 2;
  const int64_t scale_bias_bytes = kBits == 8 ? 8 : 4;
  const int64_t row_bytes = code_bytes + scale_bias_bytes;
  fuzz::Buffer<uint8_t> table(static_cast<size_t>(rows * row_bytes));
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = table.data() + r * row_bytes;
    for (int64_t c = 0; c < code_bytes; ++c) {
      row[c] = in.u8();
    }
    const float sb[2] = {static_cast<float>(in.value(specials)) / 64, static_cast<float>(in.value(specials))};
    if (kBits == 8) {
      memcpy(row + code_bytes, sb, sizeof sb);
    } else {
      const uint16_t h[2] = {jembed::float_to_fp16(sb[0]), jembed::float_to_fp16(sb[1])};
      memcpy(row + code_bytes, h, sizeof h);
    }
  }
  const I* off = fixed ? nullptr : offsets.data();
  const float* w = weighted ? weights.data() : nullptr;

  int64_t expected = JEMBED_OK;
  int64_t first = 0;
  if (mode >= 2 || (kBits == 4 && dim % 2 != 0) || (w != nullptr && mode != JEMBED_BAG_SUM) ||
      (fixed && (bag_size == 0 ? n != 0 : n / bag_size != bags))) {
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

  const size_t out_count = static_cast<size_t>(bags * dim);
  fuzz::Buffer<float> plain(out_count);
  if (expected == JEMBED_OK) {
    for (int64_t b = 0; b < bags; ++b) {
      const int64_t start = fixed ? b * bag_size : static_cast<int64_t>(offsets[b]);
      const int64_t end = fixed ? start + bag_size : (b + 1 < bags ? static_cast<int64_t>(offsets[b + 1]) : n);
      for (int64_t j = 0; j < dim; ++j) {
        float acc = 0;
        for (int64_t i = start; i < end; ++i) {
          const uint8_t* row = table.data() + static_cast<int64_t>(idx[i]) * row_bytes;
          float sb[2];
          if (kBits == 8) {
            memcpy(sb, row + code_bytes, sizeof sb);
          } else {
            uint16_t h[2];
            memcpy(h, row + code_bytes, sizeof h);
            sb[0] = jembed::fp16_to_float(h[0]);
            sb[1] = jembed::fp16_to_float(h[1]);
          }
          const int q = kBits == 8 ? row[j] : (row[j / 2] >> ((j % 2) * 4)) & 0x0F;
          const float weight = w == nullptr ? 1.0f : w[i];
          const float s = weight * sb[0];
          const float bw = weight * sb[1];
          const float shifted = acc + bw;
          acc = fmaf(s, static_cast<float>(q), shifted);
        }
        if (mode == JEMBED_BAG_MEAN) {
          acc = acc / static_cast<float>(end - start > 0 ? end - start : 1);
        }
        plain[static_cast<size_t>(b * dim + j)] = acc;
      }
    }
  }

  fuzz::for_each_variant([&](const char* variant) {
    fuzz::Buffer<float> out(out_count);
    for (size_t k = 0; k < out_count; ++k) {
      out[k] = -7.0f;
    }
    const int64_t status = Api<kBits, I>::bag(table.data(), rows, dim, idx.data(), n, off, bags, bag_size, w, mode,
                                              out.data());
    FUZZ_CHECK(status == expected, variant);
    if (status != JEMBED_OK) {
      for (size_t k = 0; k < out_count; ++k) {
        FUZZ_CHECK(out[k] == -7.0f, variant);
      }
      return;
    }
    FUZZ_CHECK(fuzz::same_values(out.data(), plain.data(), out_count), variant);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  switch (in.u8() % 4) {
    case 0: run<8, int64_t>(in); break;
    case 1: run<8, int32_t>(in); break;
    case 2: run<4, int64_t>(in); break;
    default: run<4, int32_t>(in); break;
  }
  return 0;
}
