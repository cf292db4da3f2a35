// 16-bit tables (float16, bfloat16): the scalar conversions against independent references (F16C-free double
// arithmetic for bfloat16, the exhaustive round trip for both), every variant's conversions, gathers and bags against
// the scalar variant's bits, the scalar bags against their rules written plainly (float accumulation, one rounding),
// bad indices refused with nothing written, and nothing written outside the outputs.
#include "../src/half_float.h"

#include <math.h>
#include <string.h>

#include <string>
#include <vector>

#include "../src/portable_fma.h"
#include "test_support.h"

namespace jembed_test {
namespace {

using jembed::bf16_to_float;
using jembed::float_to_bf16;
using jembed::float_to_fp16;
using jembed::fp16_to_float;

uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

// The nearest bfloat16 by exact comparison in double of the two candidates around x, ties to the even pattern.
uint16_t reference_bf16(float x) {
  if (isnan(x)) {
    return 0x7FC0;
  }
  const uint32_t u = bits_of(x);
  const uint32_t down = u & 0xFFFF0000u;
  if (down == u) {
    return static_cast<uint16_t>(u >> 16);
  }
  const uint32_t up = down + 0x10000u;  // the next pattern away from zero (infinity after the largest finite value)
  const double lo = fabs(static_cast<double>(float_of(down)));
  const double hi = (up & 0x7FFFFFFFu) == 0x7F800000u ? ldexp(1.0, 128) : fabs(static_cast<double>(float_of(up)));
  const double a = fabs(static_cast<double>(x));
  const double below = a - lo;
  const double above = hi - a;
  const bool round_up = above < below || (above == below && ((down >> 16) & 1) != 0);
  return static_cast<uint16_t>((round_up ? up : down) >> 16);
}

// Every 16-bit value, the midpoint to its neighbour and the floats around it, each exponent's edges, a sweep over all
// floats and random floats.
std::vector<float> probes(std::mt19937_64& rng) {
  std::vector<float> p;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    for (int format = 0; format < 2; ++format) {
      const float x = format == 0 ? fp16_to_float(static_cast<uint16_t>(h)) : bf16_to_float(static_cast<uint16_t>(h));
      const float next = format == 0 ? fp16_to_float(static_cast<uint16_t>(h + 1))
                                     : bf16_to_float(static_cast<uint16_t>(h + 1));
      const float mid = static_cast<float>((static_cast<double>(x) + next) / 2);
      p.push_back(x);
      p.push_back(mid);
      p.push_back(nextafterf(mid, 0.0f));
      p.push_back(nextafterf(mid, INFINITY));
    }
  }
  for (uint32_t e = 0; e < 256; ++e) {
    for (uint32_t low : {0u, 1u, 0xFFFu, 0x1000u, 0x1001u, 0x1FFFu, 0x7FFFu, 0x8000u, 0x8001u, 0x7FFFFFu}) {
      p.push_back(float_of((e << 23) | low));
      p.push_back(float_of(0x80000000u | (e << 23) | low));
    }
  }
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 4099) {
    p.push_back(float_of(static_cast<uint32_t>(u)));
  }
  for (int i = 0; i < 1000000; ++i) {
    p.push_back(float_of(static_cast<uint32_t>(rng())));
  }
  return p;
}

void test_scalar_conversions(std::mt19937_64& rng) {
  bool round_trip = true;
  bool nan_rule = true;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint16_t b = static_cast<uint16_t>(h);
    const bool nan16 = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
    // float16: every pattern comes back, NaNs made quiet (sign and payload kept).
    round_trip &= float_to_fp16(fp16_to_float(b)) == (nan16 ? (h | 0x200) : h);
    // bfloat16: every non-NaN pattern comes back, every NaN becomes 0x7FC0.
    const bool nanb = (h & 0x7F80) == 0x7F80 && (h & 0x7F) != 0;
    round_trip &= bits_of(bf16_to_float(b)) == (h << 16);
    nan_rule &= float_to_bf16(bf16_to_float(b)) == (nanb ? 0x7FC0 : h);
  }
  check(round_trip && nan_rule, "every float16 and bfloat16 pattern survives widening and narrowing");
  bool bf16_ok = true;
  for (float x : probes(rng)) {
    bf16_ok &= float_to_bf16(x) == reference_bf16(x);
  }
  check(bf16_ok, "float -> bfloat16 is the nearest value, ties to even, on every probe");
  // Worked edges (by hand): 65520 is the tie above 65504 and goes to infinity; 2^-25 ties to zero; 1 + 2^-11 ties to
  // 1; 1 + 2^-8 ties to 1 in bfloat16 (FBGEMM's ties-away rounding gives 0x3F81).
  check(float_to_fp16(65520.0f) == 0x7C00 && float_to_fp16(nextafterf(65520.0f, 0)) == 0x7BFF &&
            float_to_fp16(ldexpf(1, -25)) == 0 && float_to_fp16(ldexpf(1, -24)) == 1 &&
            float_to_fp16(1 + ldexpf(1, -11)) == 0x3C00 && float_to_fp16(-0.0f) == 0x8000 &&
            float_to_bf16(1 + ldexpf(1, -8)) == 0x3F80 &&
            jembed::float_to_bf16_ties_away(1 + ldexpf(1, -8)) == 0x3F81 &&
            float_to_bf16(3.4028234663852886e38f) == 0x7F80,
        "hand-computed float16 and bfloat16 edges");
}

void test_conversions(int variant, std::mt19937_64& rng) {
  const std::vector<float> p = probes(rng);
  const int64_t n = static_cast<int64_t>(p.size());
  std::vector<uint16_t> h16(p.size());
  std::vector<uint16_t> b16(p.size());
  jembed_select_variant(variant);
  // Odd starting points and lengths, so that every variant's vector loop and its tail both run.
  jembed_f16_from_f32(p.data(), 3, h16.data());
  jembed_f16_from_f32(p.data() + 3, n - 3, h16.data() + 3);
  jembed_bf16_from_f32(p.data(), 5, b16.data());
  jembed_bf16_from_f32(p.data() + 5, n - 5, b16.data() + 5);
  bool f16_ok = true;
  bool bf16_ok = true;
  for (int64_t i = 0; i < n; ++i) {
    f16_ok &= h16[i] == float_to_fp16(p[i]);
    bf16_ok &= b16[i] == float_to_bf16(p[i]);
  }
  check(f16_ok, label(variant, "narrow", "f16") + ": the scalar rounding's bits on every probe");
  check(bf16_ok, label(variant, "narrow", "bf16") + ": the scalar rounding's bits on every probe");
  std::vector<uint16_t> all(0x10000 + 7);
  for (size_t k = 0; k < all.size(); ++k) {
    all[k] = static_cast<uint16_t>(k);
  }
  std::vector<float> wide16(all.size());
  std::vector<float> wideb(all.size());
  jembed_f32_from_f16(all.data(), static_cast<int64_t>(all.size()), wide16.data());
  jembed_f32_from_bf16(all.data(), static_cast<int64_t>(all.size()), wideb.data());
  bool widen_ok = true;
  for (size_t k = 0; k < all.size(); ++k) {
    const bool nan16 = (all[k] & 0x7C00) == 0x7C00 && (all[k] & 0x3FF) != 0;
    // F16C quiets a signalling NaN as it widens: compare NaN-ness there, bits everywhere else.
    widen_ok &= nan16 ? isnan(wide16[k]) : bits_of(wide16[k]) == bits_of(fp16_to_float(all[k]));
    widen_ok &= bits_of(wideb[k]) == bits_of(bf16_to_float(all[k]));
  }
  check(widen_ok, label(variant, "widen", "f16/bf16") + ": every pattern widens to its value");
}

// Buffers with 16 sentinel elements on each side.
struct Guarded16 {
  explicit Guarded16(int64_t count) : data(static_cast<size_t>(count + 32), 0xBEEF), count(count) {}
  uint16_t* payload() { return data.data() + 16; }
  bool guards_intact() const {
    for (int64_t k = 0; k < 16; ++k) {
      if (data[k] != 0xBEEF || data[16 + count + k] != 0xBEEF) {
        return false;
      }
    }
    return true;
  }
  std::vector<uint16_t> data;
  int64_t count;
};

std::vector<uint16_t> random_half_table(std::mt19937_64& rng, int64_t rows, int64_t dim, bool bf16) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> t(static_cast<size_t>(rows * dim));
  for (auto& v : t) {
    v = bf16 ? float_to_bf16(normal(rng)) : float_to_fp16(normal(rng));
  }
  // A few special patterns: NaN payloads, infinities, subnormals and signed zeros must travel as bits.
  const uint16_t specials[] = {0x7C01, 0xFE37, 0x7F81, 0x0001, 0x8000, 0x7C00, 0x03FF};
  for (size_t k = 0; k < t.size() && k < 7; ++k) {
    t[k * 3 % t.size()] = specials[k];
  }
  return t;
}

template <typename I>
void gather_case(int variant, std::mt19937_64& rng, int64_t dim, int64_t n) {
  const auto table = random_half_table(rng, kRows, dim, false);
  const auto idx64 = random_indices(rng, kRows, n);
  const std::vector<I> idx(idx64.begin(), idx64.end());
  Guarded16 out(n * dim);
  jembed_select_variant(variant);
  const int64_t status = sizeof(I) == 8
      ? jembed_gather_u16_i64(table.data(), kRows, dim, reinterpret_cast<const int64_t*>(idx.data()), n, out.payload())
      : jembed_gather_u16_i32(table.data(), kRows, dim, reinterpret_cast<const int32_t*>(idx.data()), n,
                              out.payload());
  bool rows_ok = status == JEMBED_OK;
  for (int64_t i = 0; i < n; ++i) {
    rows_ok &= memcmp(out.payload() + i * dim, table.data() + idx64[i] * dim, static_cast<size_t>(dim) * 2) == 0;
  }
  const std::string what = label(variant, "gather", "u16") + (sizeof(I) == 4 ? " i32" : " i64") + " dim " +
                           std::to_string(dim) + " n " + std::to_string(n);
  check(rows_ok, what + ": the table's rows, bit for bit");
  check(out.guards_intact(), what + ": nothing written outside the output");
}

void gather_bad_index(int variant, std::mt19937_64& rng) {
  const int64_t dim = 5;
  const int64_t n = 40;
  const auto table = random_half_table(rng, kRows, dim, true);
  auto idx = random_indices(rng, kRows, n);
  idx[23] = kRows;
  idx[30] = -1;
  Guarded16 out(n * dim);
  jembed_select_variant(variant);
  const int64_t status = jembed_gather_u16_i64(table.data(), kRows, dim, idx.data(), n, out.payload());
  bool untouched = out.guards_intact();
  for (int64_t k = 0; k < n * dim; ++k) {
    untouched &= out.payload()[k] == 0xBEEF;
  }
  check(status == 23 && untouched, label(variant, "gather", "u16") + ": the first bad index named, nothing written");
}

// The bag rules, one element at a time: widen, accumulate in float from +0 in input order (weights fused or
// multiplied then added), mean divides the float sum by max(count, 1), then one rounding; max keeps the first largest.
void plain_bags(const std::vector<uint16_t>& table, int64_t dim, const std::vector<int64_t>& idx,
                const std::vector<int64_t>& offsets, int64_t n, const uint16_t* w, bool fused_weights, int64_t pad,
                int mode, bool bf16, std::vector<uint16_t>* out, std::vector<int64_t>* arg) {
  auto widen = [bf16](uint16_t x) { return bf16 ? bf16_to_float(x) : fp16_to_float(x); };
  auto narrow = [bf16](float x) { return bf16 ? float_to_bf16(x) : float_to_fp16(x); };
  const int64_t bags = static_cast<int64_t>(offsets.size());
  out->assign(static_cast<size_t>(bags * dim), 0);
  arg->assign(static_cast<size_t>(bags * dim), -1);
  for (int64_t b = 0; b < bags; ++b) {
    const int64_t end = b + 1 < bags ? offsets[b + 1] : n;
    for (int64_t j = 0; j < dim; ++j) {
      float acc = 0;
      int64_t winner = -1;
      int64_t count = 0;
      for (int64_t i = offsets[b]; i < end; ++i) {
        if (idx[i] == pad) {
          continue;
        }
        const float x = widen(table[idx[i] * dim + j]);
        if (mode == JEMBED_BAG_MAX) {
          if (count == 0 || x > acc) {
            acc = x;
            winner = idx[i];
          }
        } else if (w == nullptr) {
          acc = acc + x;
        } else if (fused_weights) {
          acc = jembed::fma_f32(x, widen(w[i]), acc);
        } else {
          const float product = x * widen(w[i]);
          acc = acc + product;
        }
        ++count;
      }
      if (mode == JEMBED_BAG_MEAN) {
        acc = acc / static_cast<float>(count > 0 ? count : 1);
      }
      (*out)[b * dim + j] = narrow(acc);
      (*arg)[b * dim + j] = winner;
    }
  }
}

int64_t call_bag(bool bf16, const uint16_t* t, int64_t dim, const int64_t* idx, int64_t n, const int64_t* off,
                 int64_t bags, const uint16_t* w, int64_t pad, int mode, int flags, uint16_t* out, int64_t* arg) {
  return bf16 ? jembed_embedding_bag_bf16_i64(t, kRows, dim, idx, n, off, bags, 0, w, pad, mode, flags, out, arg)
              : jembed_embedding_bag_f16_i64(t, kRows, dim, idx, n, off, bags, 0, w, pad, mode, flags, out, arg);
}

void bag_case(int variant, std::mt19937_64& rng, int64_t dim, int mode, int weighting, bool padded, bool bf16) {
  auto table = random_half_table(rng, kRows, dim, bf16);
  for (auto& v : table) {  // no NaN here: a NaN winner of max comes out canonical, checked by hand below
    if ((v & 0x7FFF) > 0x7C00 && !bf16) {
      v = 0x3C00;
    }
    if ((v & 0x7FFF) > 0x7F80 && bf16) {
      v = 0x3F80;
    }
  }
  const int64_t bags = 1 + static_cast<int64_t>(rng() % 12);
  std::vector<int64_t> offsets;
  int64_t n = 0;
  std::uniform_int_distribution<int64_t> size(0, 25);
  for (int64_t b = 0; b < bags; ++b) {
    offsets.push_back(n);
    const int64_t kind = size(rng);
    n += kind < 4 ? 0 : (kind == 25 ? 60 : kind);
  }
  const auto idx = random_indices(rng, kRows, n);
  const int64_t pad = padded && n > 0 ? idx[0] : -1;
  const auto weights = random_half_table(rng, 1, n + 1, bf16);
  std::vector<uint16_t> clean_weights(weights);
  for (auto& v : clean_weights) {
    v = bf16 ? float_to_bf16(0.5f + (v & 0xFF) / 256.0f) : float_to_fp16(0.5f + (v & 0xFF) / 256.0f);
  }
  const uint16_t* w = weighting == 0 ? nullptr : clean_weights.data();
  const int flags = weighting == 1 ? JEMBED_BAG_FUSED_WEIGHTS : 0;
  std::vector<uint16_t> rule;
  std::vector<int64_t> rule_arg;
  plain_bags(table, dim, idx, offsets, n, w, weighting == 1, pad, mode, bf16, &rule, &rule_arg);
  Guarded16 out(bags * dim);
  std::vector<int64_t> arg(static_cast<size_t>(bags * dim), -7);
  jembed_select_variant(variant);
  const int64_t status = call_bag(bf16, table.data(), dim, idx.data(), n, offsets.data(), bags, w, pad, mode, flags,
                                  out.payload(), arg.data());
  const std::string what = label(variant, "bag", bf16 ? "bf16" : "f16") + " " +
                           (mode == 0 ? "sum" : mode == 1 ? "mean" : "max") +
                           (weighting == 0 ? "" : weighting == 1 ? " psw-fused" : " psw-unfused") +
                           (padded ? " padded" : "") + " dim " + std::to_string(dim);
  const bool same = status == JEMBED_OK &&
                    (rule.empty() || memcmp(rule.data(), out.payload(), rule.size() * sizeof(uint16_t)) == 0);
  check(same, what + ": float accumulation rounded once, as the rules say (and so every variant's bits)");
  check(mode != JEMBED_BAG_MAX || arg == rule_arg, what + ": max's winning rows");
  check(out.guards_intact(), what + ": nothing written outside the output");
}

void bag_by_hand(int variant) {
  jembed_select_variant(variant);
  // bfloat16 rows 1 and 2^-8 sum to the tie 1 + 2^-8: to even, 1.0 (0x3F80); libtorch's FBGEMM path gives 0x3F81.
  const uint16_t rows[] = {0x3F80, 0x3B80};
  const int64_t idx[] = {0, 1};
  const int64_t off[] = {0};
  uint16_t out = 0;
  int64_t arg = 0;
  check(jembed_embedding_bag_bf16_i64(rows, 2, 1, idx, 2, off, 1, 0, nullptr, -1, JEMBED_BAG_SUM, 0, &out, &arg) ==
                JEMBED_OK &&
            out == 0x3F80,
        label(variant, "bag", "bf16") + ": 1 + 2^-8 rounds to even (1.0)");
  // Mean of 1, 2^-8 and 0 in one rounding: (1 + 2^-8) / 3 = 0.33463541..., nearest bfloat16 0.333984375 (0x3EAB);
  // libtorch rounds the sum first and gets 0.3359375.
  const uint16_t rows3[] = {0x3F80, 0x3B80, 0x0000};
  const int64_t idx3[] = {0, 1, 2};
  check(jembed_embedding_bag_bf16_i64(rows3, 3, 1, idx3, 3, off, 1, 0, nullptr, -1, JEMBED_BAG_MEAN, 0, &out, &arg) ==
                JEMBED_OK &&
            out == 0x3EAB,
        label(variant, "bag", "bf16") + ": mean rounds once");
  // float16 2048 + 1 + 1: float accumulation gives 2050 exactly (0x6801); 16-bit accumulation would give 2048.
  const uint16_t rows16[] = {0x6800, 0x3C00};
  const int64_t idx16[] = {0, 1, 1};
  check(jembed_embedding_bag_f16_i64(rows16, 2, 1, idx16, 3, off, 1, 0, nullptr, -1, JEMBED_BAG_SUM, 0, &out, &arg) ==
                JEMBED_OK &&
            out == 0x6801,
        label(variant, "bag", "f16") + ": accumulates in float");
}

}  // namespace

void test_half(int variant, std::mt19937_64& rng) {
  if (variant == JEMBED_VARIANT_SCALAR) {
    test_scalar_conversions(rng);
  }
  test_conversions(variant, rng);
  for (int64_t dim : kDims) {
    for (int64_t n : kBatches) {
      gather_case<int64_t>(variant, rng, dim, n);
      gather_case<int32_t>(variant, rng, dim, n);
    }
  }
  for (int64_t dim : {int64_t{2}, int64_t{5}, int64_t{6}, int64_t{15}, int64_t{17}, int64_t{255}}) {
    gather_case<int64_t>(variant, rng, dim, 100);
  }
  gather_bad_index(variant, rng);
  for (bool bf16 : {false, true}) {
    for (int64_t dim : kDims) {
      for (int mode = JEMBED_BAG_SUM; mode <= JEMBED_BAG_MAX; ++mode) {
        for (int weighting = 0; weighting < (mode == JEMBED_BAG_SUM ? 3 : 1); ++weighting) {
          for (bool padded : {false, true}) {
            bag_case(variant, rng, dim, mode, weighting, padded, bf16);
          }
        }
      }
    }
  }
  bag_by_hand(variant);
}

}  // namespace jembed_test
