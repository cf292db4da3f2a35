// Fuzz target: the float16 and bfloat16 EmbeddingBag forwards (int64/int32 indices and offsets) and the float <->
// 16-bit conversions, on every kernel variant, with any 16-bit patterns in the table and the per-sample weights (NaN
// payloads, infinities, subnormals), offsets of every kind and indices outside the table.
// Contract (jembed.h): the bags' status is JEMBED_OK, the position of the first bad index the bags name,
// JEMBED_ERR_OFFSETS or JEMBED_ERR_ARGUMENT, found before anything is written and without touching memory outside the
// buffers; on success every element is the float32 accumulation rounded once (the rules written plainly below, NaN
// compared as NaN); every variant converts with the scalar functions' bits.
#include <math.h>

#include "../src/half_float.h"
#include "fuzz_common.h"

namespace {

using Bag64 = int64_t (*)(const uint16_t*, int64_t, int64_t, const int64_t*, int64_t, const int64_t*, int64_t,
                          int64_t, const uint16_t*, int64_t, int, int, uint16_t*, int64_t*);
using Bag32 = int64_t (*)(const uint16_t*, int64_t, int64_t, const int32_t*, int64_t, const int32_t*, int64_t,
                          int64_t, const uint16_t*, int64_t, int, int, uint16_t*, int64_t*);

template <typename I>
struct Api;
template <>
struct Api<int64_t> {
  static Bag64 forward(bool bf16) { return bf16 ? jembed_embedding_bag_bf16_i64 : jembed_embedding_bag_f16_i64; }
};
template <>
struct Api<int32_t> {
  static Bag32 forward(bool bf16) { return bf16 ? jembed_embedding_bag_bf16_i32 : jembed_embedding_bag_f16_i32; }
};

bool is_nan16(uint16_t h, bool bf16) {
  return bf16 ? (h & 0x7FFF) > 0x7F80 : (h & 0x7FFF) > 0x7C00;
}

template <typename I>
void bags(fuzz::Reader& in, bool bf16) {
  auto widen = [bf16](uint16_t x) { return bf16 ? jembed::bf16_to_float(x) : jembed::fp16_to_float(x); };
  auto narrow = [bf16](float x) { return bf16 ? jembed::float_to_bf16(x) : jembed::float_to_fp16(x); };
  const int64_t dim = in.below(41);
  const bool huge = dim == 0 && in.flag();
  const int64_t rows = huge ? static_cast<int64_t>(in.u64() >> 1) : in.below(49);
  const int mode = static_cast<int>(in.below(4));  // 3: an unknown mode, refused
  const int64_t num_bags = in.below(9);
  const bool fixed = in.flag();
  const uint8_t option = in.u8();
  const bool weighted = (option & 1) != 0;
  const int flags = (option & 2) != 0 ? JEMBED_BAG_FUSED_WEIGHTS : 0;
  const bool specials = (option & 4) != 0;
  const int64_t padding = (option & 16) != 0 && rows > 0 ? in.below(rows) : ((option & 32) != 0 ? in.index(rows) : -1);
  int64_t n = 0;
  int64_t bag_size = 0;
  fuzz::Buffer<I> offsets(static_cast<size_t>(num_bags));
  if (fixed) {
    bag_size = in.below(7);
    n = num_bags * bag_size;
  } else {
    for (int64_t b = 0; b < num_bags; ++b) {
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
  // Patterns: any 16 bits with `specials`, else small values (multiples of 1/8) rounded to the format.
  auto pattern = [&]() {
    return specials ? in.u16() : narrow(static_cast<float>(static_cast<int8_t>(in.u8())) / 8.0f);
  };
  fuzz::Buffer<uint16_t> weights(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    weights[i] = pattern();
  }
  fuzz::Buffer<uint16_t> table(static_cast<size_t>(huge ? 0 : rows * dim));
  for (size_t k = 0; k < table.size(); ++k) {
    table[k] = pattern();
  }
  const I* off = fixed ? nullptr : offsets.data();
  const uint16_t* w = weighted ? weights.data() : nullptr;

  int64_t expected = JEMBED_OK;
  int64_t first = 0;
  if (mode > 2 || (w != nullptr && mode != JEMBED_BAG_SUM)) {
    expected = JEMBED_ERR_ARGUMENT;
  } else if (!fixed && num_bags > 0) {
    first = static_cast<int64_t>(offsets[0]);
    for (int64_t b = 0; b < num_bags; ++b) {
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

  const size_t out_count = static_cast<size_t>(num_bags * dim);
  fuzz::Buffer<uint16_t> plain(out_count);
  fuzz::Buffer<int64_t> plain_arg(out_count);
  if (expected == JEMBED_OK) {
    for (int64_t b = 0; b < num_bags; ++b) {
      const int64_t start = fixed ? b * bag_size : static_cast<int64_t>(offsets[b]);
      const int64_t end = fixed ? start + bag_size : (b + 1 < num_bags ? static_cast<int64_t>(offsets[b + 1]) : n);
      int64_t count = 0;
      for (int64_t i = start; i < end; ++i) {
        count += static_cast<int64_t>(idx[i]) != padding ? 1 : 0;
      }
      for (int64_t j = 0; j < dim; ++j) {
        float acc = 0;
        int64_t winner = -1;
        bool seen = false;
        for (int64_t i = start; i < end; ++i) {
          const int64_t r = static_cast<int64_t>(idx[i]);
          if (r == padding) {
            continue;
          }
          const float x = widen(table[static_cast<size_t>(r * dim + j)]);
          if (mode == JEMBED_BAG_MAX) {
            if (!seen || x > acc) {
              acc = x;
              winner = r;
            }
          } else if (w == nullptr) {
            acc = acc + x;
          } else if (flags != 0) {
            acc = fmaf(x, widen(w[i]), acc);
          } else {
            const float product = x * widen(w[i]);
            acc = acc + product;
          }
          seen = true;
        }
        if (mode == JEMBED_BAG_MEAN) {
          acc = acc / static_cast<float>(count > 0 ? count : 1);
        }
        plain[static_cast<size_t>(b * dim + j)] = narrow(acc);
        plain_arg[static_cast<size_t>(b * dim + j)] = winner;
      }
    }
  }

  fuzz::for_each_variant([&](const char* variant) {
    fuzz::Buffer<uint16_t> out(out_count);
    fuzz::Buffer<int64_t> arg(out_count);
    for (size_t k = 0; k < out_count; ++k) {
      out[k] = 0xBEEF;
      arg[k] = -7;
    }
    const int64_t status = Api<I>::forward(bf16)(table.data(), rows, dim, idx.data(), n, off, num_bags, bag_size, w,
                                                 padding, mode, flags, out.data(), arg.data());
    FUZZ_CHECK(status == expected, variant);
    if (status != JEMBED_OK) {
      for (size_t k = 0; k < out_count; ++k) {
        FUZZ_CHECK(out[k] == 0xBEEF && arg[k] == -7, variant);
      }
      return;
    }
    for (size_t k = 0; k < out_count; ++k) {
      FUZZ_CHECK(out[k] == plain[k] || (is_nan16(out[k], bf16) && is_nan16(plain[k], bf16)), variant);
    }
    if (mode == JEMBED_BAG_MAX) {
      FUZZ_CHECK(arg.same_bytes(plain_arg), variant);
    }
  });
}

void conversions(fuzz::Reader& in) {
  const int64_t n = in.below(70);
  fuzz::Buffer<float> values(static_cast<size_t>(n));
  fuzz::Buffer<uint16_t> patterns(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t bits = in.u64();
    float f;
    const uint32_t low = static_cast<uint32_t>(bits);
    memcpy(&f, &low, sizeof f);
    values[i] = f;
    patterns[i] = static_cast<uint16_t>(bits >> 32);
  }
  fuzz::for_each_variant([&](const char* variant) {
    fuzz::Buffer<uint16_t> h(static_cast<size_t>(n));
    fuzz::Buffer<uint16_t> b(static_cast<size_t>(n));
    fuzz::Buffer<float> wh(static_cast<size_t>(n));
    fuzz::Buffer<float> wb(static_cast<size_t>(n));
    jembed_f16_from_f32(values.data(), n, h.data());
    jembed_bf16_from_f32(values.data(), n, b.data());
    jembed_f32_from_f16(patterns.data(), n, wh.data());
    jembed_f32_from_bf16(patterns.data(), n, wb.data());
    for (int64_t i = 0; i < n; ++i) {
      FUZZ_CHECK(h[i] == jembed::float_to_fp16(values[i]), variant);
      FUZZ_CHECK(b[i] == jembed::float_to_bf16(values[i]), variant);
      FUZZ_CHECK(fuzz::same_value(wh[i], jembed::fp16_to_float(patterns[i])), variant);
      FUZZ_CHECK(fuzz::same_value(wb[i], jembed::bf16_to_float(patterns[i])), variant);
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  switch (in.u8() % 5) {
    case 0: bags<int64_t>(in, false); break;
    case 1: bags<int32_t>(in, false); break;
    case 2: bags<int64_t>(in, true); break;
    case 3: bags<int32_t>(in, true); break;
    default: conversions(in); break;
  }
  return 0;
}
