// Row-wise quantized lookups (jembed_quantized_bag_*): every variant must give the scalar variant's bits, the scalar
// variant must follow the rounding rules written plainly below (FBGEMM's EmbeddingSpMDM order), bad input must be
// refused before anything is written, and nothing may be written outside the output nor read outside the table
// (the table is an exactly sized heap block: the sanitizer builds of scripts/fuzz run this test too).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <random>
#include <string>
#include <vector>

#include "../src/portable_fma.h"
#include "test_support.h"

namespace jembed_test {
namespace {

constexpr int64_t kQuantDims[] = {0, 2, 4, 6, 8, 14, 16, 18, 30, 32, 34, 62, 64, 66, 100, 126, 128, 130, 256, 1000};

template <int kBits, typename I>
struct QuantApi;
template <>
struct QuantApi<8, int64_t> {
  static constexpr auto bag = jembed_quantized_bag_u8_i64;
};
template <>
struct QuantApi<8, int32_t> {
  static constexpr auto bag = jembed_quantized_bag_u8_i32;
};
template <>
struct QuantApi<4, int64_t> {
  static constexpr auto bag = jembed_quantized_bag_u4_i64;
};
template <>
struct QuantApi<4, int32_t> {
  static constexpr auto bag = jembed_quantized_bag_u4_i32;
};

int64_t row_bytes(int bits, int64_t dim) { return bits == 8 ? dim + 8 : dim / 2 + 4; }

// Random codes, and per row a scale and bias: normal values (8-bit, float32) or float16 bit patterns of moderate
// values (4-bit).
std::vector<uint8_t> random_quant_table(std::mt19937_64& rng, int bits, int64_t rows, int64_t dim) {
  const int64_t rb = row_bytes(bits, dim);
  std::vector<uint8_t> table(static_cast<size_t>(rows * rb));
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = table.data() + r * rb;
    const int64_t codes = rb - (bits == 8 ? 8 : 4);
    for (int64_t c = 0; c < codes; ++c) {
      row[c] = static_cast<uint8_t>(byte(rng));
    }
    if (bits == 8) {
      const float sb[2] = {fabsf(normal(rng)) / 255.0f, normal(rng)};
      memcpy(row + codes, sb, sizeof sb);
    } else {
      // Sign 0/1, exponent 10..19 (2^-5 .. 2^4), any fraction.
      for (int k = 0; k < 2; ++k) {
        const uint16_t h = static_cast<uint16_t>(((k == 1 ? byte(rng) & 1 : 0) << 15) | ((10 + byte(rng) % 10) << 10) |
                                                 (byte(rng) << 2 | (byte(rng) & 3)));
        memcpy(row + codes + 2 * k, &h, sizeof h);
      }
    }
  }
  return table;
}

float half_to_float(uint16_t h) {
  const int exponent = (h >> 10) & 0x1F;
  const int fraction = h & 0x3FF;
  const float magnitude = exponent == 0 ? ldexpf(static_cast<float>(fraction), -24)
                                        : ldexpf(static_cast<float>(1024 + fraction), exponent - 25);
  return (h & 0x8000) != 0 ? -magnitude : magnitude;
}

// The rules, one element at a time: acc = fma(w * scale, q, acc + w * bias) in input order from +0; mean divides once.
void plain_quant_forward(int bits, const std::vector<uint8_t>& table, int64_t dim, const std::vector<int64_t>& idx,
                         const std::vector<int64_t>& offsets, int64_t n, const float* w, int mode,
                         std::vector<float>* out) {
  const int64_t rb = row_bytes(bits, dim);
  const int64_t codes = bits == 8 ? dim : dim / 2;
  const int64_t bags = static_cast<int64_t>(offsets.size());
  out->assign(static_cast<size_t>(bags * dim), 0.0f);
  for (int64_t b = 0; b < bags; ++b) {
    const int64_t end = b + 1 < bags ? offsets[b + 1] : n;
    for (int64_t j = 0; j < dim; ++j) {
      float acc = 0.0f;
      for (int64_t i = offsets[b]; i < end; ++i) {
        const uint8_t* row = table.data() + idx[i] * rb;
        float scale;
        float bias;
        if (bits == 8) {
          memcpy(&scale, row + codes, 4);
          memcpy(&bias, row + codes + 4, 4);
        } else {
          uint16_t h[2];
          memcpy(h, row + codes, 4);
          scale = half_to_float(h[0]);
          bias = half_to_float(h[1]);
        }
        const int q = bits == 8 ? row[j] : (row[j / 2] >> ((j % 2) * 4)) & 0x0F;
        const float weight = w == nullptr ? 1.0f : w[i];
        const float s = weight * scale;
        const float bw = weight * bias;
        const float shifted = acc + bw;
        acc = jembed::fma_f32(s, static_cast<float>(q), shifted);
      }
      if (mode == JEMBED_BAG_MEAN) {
        const int64_t count = end - offsets[b];
        acc = acc / static_cast<float>(count > 0 ? count : 1);
      }
      (*out)[b * dim + j] = acc;
    }
  }
}

bool same_bits(const void* a, const void* b, size_t bytes) { return bytes == 0 || memcmp(a, b, bytes) == 0; }

std::vector<int64_t> quant_offsets(std::mt19937_64& rng, int64_t bags, int64_t* n) {
  std::vector<int64_t> offsets(static_cast<size_t>(bags));
  int64_t at = 0;
  for (int64_t b = 0; b < bags; ++b) {
    offsets[b] = at;
    const int64_t kind = static_cast<int64_t>(rng() % 26);
    at += kind < 4 ? 0 : (kind < 8 ? 1 : (kind == 25 ? 60 : kind));  // empty bags, bags of one, a long bag
  }
  *n = at;
  return offsets;
}

template <int kBits, typename I>
void quant_case(int variant, std::mt19937_64& rng, int64_t dim, int mode, bool weighted, bool fixed_size) {
  const auto table = random_quant_table(rng, kBits, kRows, dim);
  const int64_t bags = 1 + static_cast<int64_t>(rng() % 12);
  int64_t n = 0;
  std::vector<int64_t> offsets;
  if (fixed_size) {
    const int64_t size = 1 + static_cast<int64_t>(rng() % 5);
    for (int64_t b = 0; b < bags; ++b) {
      offsets.push_back(b * size);
    }
    n = bags * size;
  } else {
    offsets = quant_offsets(rng, bags, &n);
  }
  const auto idx64 = random_indices(rng, kRows, n);
  const auto idx = narrowed<I>(idx64);
  const auto off = narrowed<I>(offsets);
  std::vector<float> weights(static_cast<size_t>(n));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& x : weights) {
    x = normal(rng);
  }
  const float* w = weighted ? weights.data() : nullptr;
  const I* off_arg = fixed_size ? nullptr : off.data();
  const int64_t bag_size = fixed_size ? n / bags : 0;
  const std::string what = label(variant, "quantized bag", kBits == 8 ? "u8" : "u4") +
                           (sizeof(I) == 4 ? " i32 " : " i64 ") + (mode == JEMBED_BAG_MEAN ? "mean" : "sum") +
                           (weighted ? " psw" : "") + (fixed_size ? " fixed" : "") + " dim " + std::to_string(dim) +
                           " bags " + std::to_string(bags) + " n " + std::to_string(n);

  GuardedBuffer<float> expected(bags * dim);
  jembed_select_variant(JEMBED_VARIANT_SCALAR);
  const int64_t s1 = QuantApi<kBits, I>::bag(table.data(), kRows, dim, idx.data(), n, off_arg, bags, bag_size, w,
                                             mode, expected.data());
  GuardedBuffer<float> actual(bags * dim);
  jembed_select_variant(variant);
  const int64_t s2 = QuantApi<kBits, I>::bag(table.data(), kRows, dim, idx.data(), n, off_arg, bags, bag_size, w,
                                             mode, actual.data());
  check(s1 == JEMBED_OK && s2 == JEMBED_OK, what + ": status");
  check(expected.guards_intact() && actual.guards_intact(), what + ": wrote outside the output");
  const auto a = actual.payload();
  const auto e = expected.payload();
  check(same_bits(a.data(), e.data(), a.size() * sizeof(float)), what + ": bits differ from scalar");
  if (variant == JEMBED_VARIANT_SCALAR) {
    std::vector<float> plain;
    plain_quant_forward(kBits, table, dim, idx64, offsets, n, w, mode, &plain);
    check(same_bits(plain.data(), e.data(), e.size() * sizeof(float)), what + ": scalar breaks the rounding rules");
  }
  // The bags split in two calls, with pointers into the same buffers (positions stay absolute).
  if (!fixed_size && bags >= 2) {
    const int64_t half = bags / 2;
    GuardedBuffer<float> split(bags * dim);
    const int64_t first = QuantApi<kBits, I>::bag(table.data(), kRows, dim, idx.data(), offsets[half], off.data(),
                                                  half, 0, w, mode, split.data());
    const int64_t second = QuantApi<kBits, I>::bag(table.data(), kRows, dim, idx.data(), n, off.data() + half,
                                                   bags - half, 0, w, mode, split.data() + half * dim);
    const auto sp = split.payload();
    check(first == JEMBED_OK && second == JEMBED_OK && split.guards_intact() &&
              same_bits(sp.data(), e.data(), e.size() * sizeof(float)),
          what + ": two halves differ from one call");
  }
  // A bad index late in the input: its position comes back and nothing is written.
  if (n > 0) {
    auto bad = idx64;
    const int64_t at = n - 1;
    bad[at] = (rng() % 2 == 0) ? kRows : -1;
    const auto bad_idx = narrowed<I>(bad);
    GuardedBuffer<float> untouched(bags * dim);
    const int64_t status = QuantApi<kBits, I>::bag(table.data(), kRows, dim, bad_idx.data(), n, off_arg, bags,
                                                   bag_size, w, mode, untouched.data());
    bool unchanged = true;
    for (float x : untouched.payload()) {
      unchanged = unchanged && x == GuardedBuffer<float>::sentinel();
    }
    check(status == at && unchanged && untouched.guards_intact(), what + ": a bad index is refused first");
  }
}

template <int kBits, typename I>
void quant_refusals(int variant) {
  jembed_select_variant(variant);
  const std::vector<uint8_t> table(static_cast<size_t>(3 * row_bytes(kBits, 4)), 0);
  const I idx[3] = {0, 1, 2};
  const I decreasing[2] = {0, static_cast<I>(-1)};
  const I past_end[2] = {0, 4};
  float out[8] = {};
  const std::string what = label(variant, "quantized bag refusals", kBits == 8 ? "u8" : "u4");
  check(QuantApi<kBits, I>::bag(table.data(), 3, 4, idx, 3, idx, 2, 0, nullptr, JEMBED_BAG_MAX, out) ==
            JEMBED_ERR_ARGUMENT,
        what + ": max is refused");
  check(QuantApi<kBits, I>::bag(table.data(), 3, 4, idx, 3, decreasing, 2, 0, nullptr, JEMBED_BAG_SUM, out) ==
            JEMBED_ERR_OFFSETS,
        what + ": a negative offset is refused");
  check(QuantApi<kBits, I>::bag(table.data(), 3, 4, idx, 3, past_end, 2, 0, nullptr, JEMBED_BAG_SUM, out) ==
            JEMBED_ERR_OFFSETS,
        what + ": an offset past the end is refused");
  check(QuantApi<kBits, I>::bag(table.data(), 3, 4, idx, 3, nullptr, 1, 2, nullptr, JEMBED_BAG_SUM, out) ==
            JEMBED_ERR_ARGUMENT,
        what + ": fixed bags that do not cover the input are refused");
  if (kBits == 4) {
    check(QuantApi<kBits, I>::bag(table.data(), 3, 3, idx, 3, nullptr, 3, 1, nullptr, JEMBED_BAG_SUM, out) ==
              JEMBED_ERR_ARGUMENT,
          what + ": an odd dim is refused");
  }
}

// A hand-computed 8-bit case: codes {0, 255, 128}, scale 0.5, bias -1, weights 2 and -1 in one bag:
// bag = fma(2*0.5, q, 0 + 2*(-1)) then fma(-1*0.5, q, acc + 1).
void quant_hand_computed(int variant) {
  jembed_select_variant(variant);
  std::vector<uint8_t> table(2 * 11);
  const uint8_t codes[2][3] = {{0, 255, 128}, {10, 20, 30}};
  const float sb[2] = {0.5f, -1.0f};
  for (int r = 0; r < 2; ++r) {
    memcpy(table.data() + r * 11, codes[r], 3);
    memcpy(table.data() + r * 11 + 3, sb, 8);
  }
  const int64_t idx[2] = {0, 1};
  const int64_t off[1] = {0};
  const float w[2] = {2.0f, -1.0f};
  float out[3];
  const int64_t status = jembed_quantized_bag_u8_i64(table.data(), 2, 3, idx, 2, off, 1, 0, w, JEMBED_BAG_SUM, out);
  // Row 0 weighted 2: q - 2 -> {-2, 253, 126}; row 1 weighted -1: acc + 1 - q/2 -> {-6, 244, 112}.
  check(status == JEMBED_OK && out[0] == -6.0f && out[1] == 244.0f && out[2] == 112.0f,
        label(variant, "quantized bag", "u8") + ": the hand-computed bag");
}

void test_quant_bags(int variant, std::mt19937_64& rng) {
  for (int64_t dim : kQuantDims) {
    for (int mode : {JEMBED_BAG_SUM, JEMBED_BAG_MEAN}) {
      for (bool weighted : {false, true}) {
        if (weighted && mode == JEMBED_BAG_MEAN) {
          continue;
        }
        for (bool fixed : {false, true}) {
          quant_case<8, int64_t>(variant, rng, dim, mode, weighted, fixed);
          quant_case<8, int32_t>(variant, rng, dim, mode, weighted, fixed);
          quant_case<4, int64_t>(variant, rng, dim, mode, weighted, fixed);
          quant_case<4, int32_t>(variant, rng, dim, mode, weighted, fixed);
        }
      }
    }
  }
  quant_refusals<8, int64_t>(variant);
  quant_refusals<8, int32_t>(variant);
  quant_refusals<4, int64_t>(variant);
  quant_refusals<4, int32_t>(variant);
  quant_hand_computed(variant);
}

}  // namespace
}  // namespace jembed_test

int main() {
  std::mt19937_64 rng(20261202);
  for (int v = 0; v < JEMBED_VARIANT_COUNT; ++v) {
    if (!jembed_variant_supported(v)) {
      printf("variant %s: skipped (this CPU cannot run it)\n", jembed_variant_name(v));
      continue;
    }
    printf("variant %s: tested\n", jembed_variant_name(v));
    jembed_test::test_quant_bags(v, rng);
  }
  return jembed_test::finish();
}
