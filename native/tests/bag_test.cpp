// EmbeddingBag: every variant must give the scalar variant's bits (forward and backward, any split of the bags or of
// the gradient's rows), the scalar variant must follow the rounding rules written plainly below (the rules of
// bag-contract.md, libtorch's), libtorch's own worked example must come out, bad input must be refused before
// anything is written, and nothing may be written outside the outputs.
#include "../src/portable_fma.h"
#include <math.h>
#include <string.h>

#include <atomic>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace jembed_test {
namespace {

constexpr const char* kModes[] = {"sum", "mean", "max"};
constexpr const char* kWeightings[] = {"", " psw-fused", " psw-unfused"};

// Bag sizes with the awkward ones on purpose: empty bags, bags of one, a long bag.
std::vector<int64_t> random_offsets(std::mt19937_64& rng, int64_t bags, int64_t* n) {
  std::uniform_int_distribution<int64_t> size(0, 25);
  std::vector<int64_t> offsets(static_cast<size_t>(bags));
  int64_t at = 0;
  for (int64_t b = 0; b < bags; ++b) {
    offsets[b] = at;
    const int64_t kind = size(rng);
    at += kind < 4 ? 0 : (kind < 8 ? 1 : (kind == 25 ? 60 : kind));
  }
  *n = at;
  return offsets;
}

// One rounding, as the kernels round: MinGW-w64's fma/fmaf are not correctly rounded (portable_fma.h), so the rules
// use the same correctly rounded fma as the scalar kernels, which kernel_test checks against the FMA instructions.
template <typename T>
T fused(T x, T w, T acc) {
  return static_cast<T>(jembed::fma_f64(x, w, acc));
}
template <>
float fused(float x, float w, float acc) {
  return jembed::fma_f32(x, w, acc);
}

// The forward's rules, one element at a time (bag-contract.md).
template <typename T>
void plain_forward(const std::vector<T>& table, int64_t dim, const std::vector<int64_t>& idx,
                   const std::vector<int64_t>& offsets, int64_t n, const T* w, bool fused_weights, int64_t pad,
                   int mode, std::vector<T>* out, std::vector<int64_t>* arg) {
  const int64_t bags = static_cast<int64_t>(offsets.size());
  out->assign(static_cast<size_t>(bags * dim), T(0));
  arg->assign(static_cast<size_t>(bags * dim), -1);
  for (int64_t b = 0; b < bags; ++b) {
    const int64_t end = b + 1 < bags ? offsets[b + 1] : n;
    for (int64_t j = 0; j < dim; ++j) {
      T acc = 0;
      int64_t winner = -1;
      int64_t count = 0;
      for (int64_t i = offsets[b]; i < end; ++i) {
        if (idx[i] == pad) {
          continue;
        }
        const T x = table[idx[i] * dim + j];
        if (mode == JEMBED_BAG_MAX) {
          if (count == 0 || x > acc) {
            acc = x;
            winner = idx[i];
          }
        } else if (w == nullptr) {
          acc = acc + x;
        } else if (fused_weights) {
          acc = fused(x, w[i], acc);
        } else {
          const T product = x * w[i];
          acc = acc + product;
        }
        ++count;
      }
      if (mode == JEMBED_BAG_MEAN) {
        acc = acc / static_cast<T>(count > 0 ? count : 1);
      }
      (*out)[b * dim + j] = acc;
      (*arg)[b * dim + j] = winner;
    }
  }
}

bool same_bits(const void* a, const void* b, size_t bytes) {
  return bytes == 0 || memcmp(a, b, bytes) == 0;
}

template <typename T, typename I>
void forward_case(int variant, std::mt19937_64& rng, int64_t dim, int mode, int weighting, bool padded,
                  bool fixed_size) {
  auto table = random_table<T>(rng, kRows, dim);
  // Row 1 equals row 0: ties between different rows, which max must settle for the first.
  std::copy(table.begin(), table.begin() + dim, table.begin() + dim);
  int64_t bags = 1 + static_cast<int64_t>(rng() % 12);
  int64_t n = 0;
  std::vector<int64_t> offsets;
  if (fixed_size) {
    const int64_t size = static_cast<int64_t>(rng() % 6);
    for (int64_t b = 0; b < bags; ++b) {
      offsets.push_back(b * size);
    }
    n = bags * size;
  } else {
    offsets = random_offsets(rng, bags, &n);
  }
  auto idx64 = random_indices(rng, kRows, n);
  const int64_t pad = padded && n > 0 ? idx64[0] : -1;
  if (padded && !fixed_size) {
    for (int64_t b = 0; b < bags; ++b) {  // the first bag with two or more lookups is all padding
      const int64_t end = b + 1 < bags ? offsets[b + 1] : n;
      if (end - offsets[b] >= 2) {
        for (int64_t i = offsets[b]; i < end; ++i) {
          idx64[i] = pad;
        }
        break;
      }
    }
  }
  const auto idx = narrowed<I>(idx64);
  const auto off = narrowed<I>(offsets);
  const auto weights = random_table<T>(rng, 1, n);
  const T* w = weighting == 0 ? nullptr : weights.data();
  const int flags = weighting == 1 ? JEMBED_BAG_FUSED_WEIGHTS : 0;
  const I* off_arg = fixed_size ? nullptr : off.data();
  const int64_t bag_size = fixed_size ? (bags > 0 ? n / bags : 0) : 0;

  GuardedBuffer<T> expected(bags * dim);
  GuardedBuffer<int64_t> expected_arg(bags * dim);
  jembed_select_variant(JEMBED_VARIANT_SCALAR);
  const int64_t s1 = Api<T>::bag(table.data(), kRows, dim, idx.data(), n, off_arg, bags, bag_size, w, pad, mode,
                                 flags, expected.data(), expected_arg.data());
  GuardedBuffer<T> actual(bags * dim);
  GuardedBuffer<int64_t> actual_arg(bags * dim);
  jembed_select_variant(variant);
  const int64_t s2 = Api<T>::bag(table.data(), kRows, dim, idx.data(), n, off_arg, bags, bag_size, w, pad, mode,
                                 flags, actual.data(), actual_arg.data());
  const std::string what = label(variant, "bag", Api<T>::kName) + (sizeof(I) == 4 ? " i32 " : " i64 ") +
                           kModes[mode] + kWeightings[weighting] + (padded ? " padded" : "") +
                           (fixed_size ? " 2-D" : "") + " dim " + std::to_string(dim) + " bags " +
                           std::to_string(bags) + " n " + std::to_string(n);
  check(s1 == JEMBED_OK && s2 == JEMBED_OK, what + ": status");
  check(expected.guards_intact() && actual.guards_intact() && expected_arg.guards_intact() &&
            actual_arg.guards_intact(),
        what + ": wrote outside the output");
  const auto a = actual.payload();
  const auto e = expected.payload();
  check(same_bits(a.data(), e.data(), a.size() * sizeof(T)), what + ": bits differ from scalar");
  if (mode == JEMBED_BAG_MAX) {
    const auto aa = actual_arg.payload();
    const auto ea = expected_arg.payload();
    check(same_bits(aa.data(), ea.data(), aa.size() * sizeof(int64_t)), what + ": max indices differ from scalar");
  }
  if (variant == JEMBED_VARIANT_SCALAR) {
    std::vector<T> plain;
    std::vector<int64_t> plain_arg;
    plain_forward(table, dim, idx64, offsets, n, w, flags != 0, pad, mode, &plain, &plain_arg);
    check(same_bits(plain.data(), e.data(), e.size() * sizeof(T)), what + ": scalar breaks the rounding rules");
    if (mode == JEMBED_BAG_MAX) {
      check(plain_arg == expected_arg.payload(), what + ": scalar max indices break the rules");
    }
  }
  // The bags split in two calls, as NativeBackend splits them between threads: pointers into the same buffers.
  if (!fixed_size && bags >= 2) {
    const int64_t half = bags / 2;
    GuardedBuffer<T> split(bags * dim);
    GuardedBuffer<int64_t> split_arg(bags * dim);
    const int64_t first = Api<T>::bag(table.data(), kRows, dim, idx.data(), offsets[half], off.data(), half, 0, w,
                                      pad, mode, flags, split.data(), split_arg.data());
    const int64_t second = Api<T>::bag(table.data(), kRows, dim, idx.data(), n, off.data() + half, bags - half, 0,
                                       w, pad, mode, flags, split.data() + half * dim,
                                       split_arg.data() + half * dim);
    const auto sp = split.payload();
    check(first == JEMBED_OK && second == JEMBED_OK && split.guards_intact() &&
              same_bits(sp.data(), e.data(), e.size() * sizeof(T)),
          what + ": two halves differ from one call");
  }
}

template <typename T, typename I>
void backward_case(int variant, std::mt19937_64& rng, int64_t dim, int mode, bool weighted, bool padded,
                   bool scale) {
  const int64_t bags = 1 + static_cast<int64_t>(rng() % 10);
  int64_t n = 0;
  const auto offsets = random_offsets(rng, bags, &n);
  const auto idx64 = random_indices(rng, kRows, n);
  const int64_t pad = padded && n > 0 ? idx64[n / 2] : -1;
  const auto idx = narrowed<I>(idx64);
  const auto off = narrowed<I>(offsets);
  const auto table = random_table<T>(rng, kRows, dim);
  const auto grad_out = random_table<T>(rng, bags, dim);
  const auto weights = random_table<T>(rng, 1, n);
  const T* w = weighted ? weights.data() : nullptr;
  // max needs the forward's winners
  std::vector<int64_t> winners(static_cast<size_t>(bags * dim));
  std::vector<T> pooled(static_cast<size_t>(bags * dim));
  jembed_select_variant(JEMBED_VARIANT_SCALAR);
  Api<T>::bag(table.data(), kRows, dim, idx.data(), n, off.data(), bags, 0, nullptr, pad, JEMBED_BAG_MAX, 0,
              pooled.data(), winners.data());
  const int64_t* arg = mode == JEMBED_BAG_MAX ? winners.data() : nullptr;

  auto expected = random_table<T>(rng, kRows, dim);  // accumulates onto an existing gradient
  auto actual = expected;
  const auto initial = expected;
  const int64_t s1 = Api<T>::bag_backward(expected.data(), kRows, dim, idx.data(), n, off.data(), bags, 0,
                                          grad_out.data(), w, pad, mode, scale, arg, 1, 0);
  jembed_select_variant(variant);
  int64_t s2 = JEMBED_OK;
  for (int64_t owner = 0; owner < 3; ++owner) {
    const int64_t s = Api<T>::bag_backward(actual.data(), kRows, dim, idx.data(), n, off.data(), bags, 0,
                                           grad_out.data(), w, pad, mode, scale, arg, 3, owner);
    s2 = s == JEMBED_OK ? s2 : s;
  }
  const std::string what = label(variant, "bag backward", Api<T>::kName) + (sizeof(I) == 4 ? " i32 " : " i64 ") +
                           kModes[mode] + (weighted ? " psw" : "") + (padded ? " padded" : "") +
                           (scale ? " scaled" : "") + " dim " + std::to_string(dim) + " n " + std::to_string(n);
  check(s1 == JEMBED_OK && s2 == JEMBED_OK, what + ": status");
  check(same_bits(expected.data(), actual.data(), expected.size() * sizeof(T)),
        what + ": 3 owners on this variant differ from 1 owner on scalar");
  if (variant != JEMBED_VARIANT_SCALAR) {
    return;
  }
  // The rules written plainly (bag-contract.md).
  auto plain = initial;
  for (int64_t b = 0; b < bags; ++b) {
    const int64_t end = b + 1 < bags ? offsets[b + 1] : n;
    int64_t size = 0;
    for (int64_t i = offsets[b]; i < end; ++i) {
      size += idx64[i] != pad ? 1 : 0;
    }
    if (mode == JEMBED_BAG_MAX) {
      for (int64_t j = 0; size > 0 && j < dim; ++j) {
        plain[winners[b * dim + j] * dim + j] += grad_out[b * dim + j];
      }
      continue;
    }
    for (int64_t i = offsets[b]; i < end; ++i) {
      const int64_t r = idx64[i];
      if (r == pad) {
        continue;
      }
      int64_t count = 0;
      for (int64_t k = 0; k < n; ++k) {
        count += idx64[k] == r ? 1 : 0;
      }
      double s = w != nullptr ? static_cast<double>(w[i]) : 1.0;
      s = scale ? s / static_cast<double>(count) : s;
      s = mode == JEMBED_BAG_MEAN && size > 0 ? s / static_cast<double>(size) : s;
      for (int64_t j = 0; j < dim; ++j) {
        plain[r * dim + j] = fused(grad_out[b * dim + j], static_cast<T>(s), plain[r * dim + j]);
      }
    }
  }
  check(same_bits(plain.data(), expected.data(), plain.size() * sizeof(T)), what + ": scalar breaks the rules");
}

// Bad input is refused before anything is written.
template <typename T, typename I>
void refusals(int variant) {
  jembed_select_variant(variant);
  const std::string what = label(variant, "bag", Api<T>::kName) + (sizeof(I) == 4 ? " i32" : " i64");
  const std::vector<T> table = {1, 2, 3, 4, 5, 6};  // 3 rows of 2
  const std::vector<I> idx = {0, 1, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0};
  const std::vector<I> offsets = {0, 3, 3, 10};
  for (int mode = 0; mode < 3; ++mode) {
    for (I bad : {I(-1), I(3), std::numeric_limits<I>::max(), std::numeric_limits<I>::min()}) {
      for (int64_t position : {0, 9, 19}) {
        auto with_bad = idx;
        with_bad[position] = bad;
        GuardedBuffer<T> out(4 * 2);
        GuardedBuffer<int64_t> arg(4 * 2);
        const int64_t status = Api<T>::bag(table.data(), 3, 2, with_bad.data(), 20, offsets.data(), 4, 0, nullptr,
                                           -1, mode, 0, out.data(), arg.data());
        bool untouched = out.guards_intact() && arg.guards_intact();
        for (T v : out.payload()) {
          untouched &= v == GuardedBuffer<T>::sentinel();
        }
        check(status == position && untouched, what + " " + kModes[mode] + " bad index " +
                                                   std::to_string(int64_t{bad}) + " at " + std::to_string(position) +
                                                   ": reported, nothing written");
      }
    }
  }
  const std::vector<std::vector<I>> bad_offsets = {{0, 5, 3, 10}, {-1, 3, 3, 10}, {0, 3, 3, 21}, {21, 21, 21, 21}};
  for (const auto& o : bad_offsets) {
    GuardedBuffer<T> out(4 * 2);
    const int64_t status = Api<T>::bag(table.data(), 3, 2, idx.data(), 20, o.data(), 4, 0, nullptr, -1,
                                       JEMBED_BAG_SUM, 0, out.data(), nullptr);
    bool untouched = out.guards_intact();
    for (T v : out.payload()) {
      untouched &= v == GuardedBuffer<T>::sentinel();
    }
    check(status == JEMBED_ERR_OFFSETS && untouched, what + " bad offsets refused, nothing written");
  }
  std::vector<T> out(8);
  const std::vector<T> w(20, T(1));
  check(Api<T>::bag(table.data(), 3, 2, idx.data(), 20, offsets.data(), 4, 0, w.data(), -1, JEMBED_BAG_MEAN, 0,
                    out.data(), nullptr) == JEMBED_ERR_ARGUMENT,
        what + " per-sample weights refused outside sum");
  check(Api<T>::bag(table.data(), 3, 2, idx.data(), 20, nullptr, 3, 6, nullptr, -1, JEMBED_BAG_SUM, 0, out.data(),
                    nullptr) == JEMBED_ERR_ARGUMENT,
        what + " fixed-size bags that do not cover n refused");
  check(Api<T>::bag(table.data(), 3, 2, idx.data(), 20, offsets.data(), 4, 0, nullptr, -1, 3, 0, out.data(),
                    nullptr) == JEMBED_ERR_ARGUMENT,
        what + " unknown mode refused");
  // Backward: a bad index or winner changes nothing; max needs winners.
  std::vector<T> gw(6, T(7));
  const std::vector<T> go(8, T(1));
  auto with_bad = idx;
  with_bad[12] = 3;
  check(Api<T>::bag_backward(gw.data(), 3, 2, with_bad.data(), 20, offsets.data(), 4, 0, go.data(), nullptr, -1,
                             JEMBED_BAG_SUM, 1, nullptr, 1, 0) == 12 &&
            gw == std::vector<T>(6, T(7)),
        what + " backward bad index reported, nothing changed");
  std::vector<int64_t> winners(8, 0);
  winners[7] = 3;  // bag 3 is not empty
  check(Api<T>::bag_backward(gw.data(), 3, 2, idx.data(), 20, offsets.data(), 4, 0, go.data(), nullptr, -1,
                             JEMBED_BAG_MAX, 0, winners.data(), 1, 0) == JEMBED_ERR_ARGUMENT &&
            gw == std::vector<T>(6, T(7)),
        what + " backward bad winner refused, nothing changed");
  winners[7] = 0;
  winners[2] = 99;  // bag 1 is empty: its winners are never read
  check(Api<T>::bag_backward(gw.data(), 3, 2, idx.data(), 20, offsets.data(), 4, 0, go.data(), nullptr, -1,
                             JEMBED_BAG_MAX, 0, winners.data(), 1, 0) == JEMBED_OK,
        what + " backward ignores an empty bag's winners");
  check(Api<T>::bag_backward(gw.data(), 3, 2, idx.data(), 20, offsets.data(), 4, 0, go.data(), nullptr, -1,
                             JEMBED_BAG_MAX, 0, nullptr, 1, 0) == JEMBED_ERR_ARGUMENT,
        what + " max backward without winners refused");
}

// PyTorch's test_embedding_bag (_test_EmbeddingBag): W = arange(1, 11).view(5, 2), input [3,1,1,1,4,0], offsets
// [0,0,3,3,6], so bags [], [3,1,1], [], [1,4,0], []; grad_out [[99,99],[1,2],[99,99],[3,4],[99,99]].
template <typename T>
void pytorch_example(int variant) {
  jembed_select_variant(variant);
  const std::string what = label(variant, "bag", Api<T>::kName) + " PyTorch's example";
  const std::vector<T> w = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::vector<int64_t> idx = {3, 1, 1, 1, 4, 0};
  const std::vector<int64_t> offsets = {0, 0, 3, 3, 6};
  std::vector<T> out(10);
  std::vector<int64_t> arg(10);
  Api<T>::bag(w.data(), 5, 2, idx.data(), 6, offsets.data(), 5, 0, nullptr, -1, JEMBED_BAG_SUM, 0, out.data(),
              nullptr);
  check(out == std::vector<T>{0, 0, 13, 16, 0, 0, 13, 16, 0, 0}, what + ": sum");
  Api<T>::bag(w.data(), 5, 2, idx.data(), 6, offsets.data(), 5, 0, nullptr, -1, JEMBED_BAG_MEAN, 0, out.data(),
              nullptr);
  check(out == std::vector<T>{0, 0, T(13) / 3, T(16) / 3, 0, 0, T(13) / 3, T(16) / 3, 0, 0}, what + ": mean");
  Api<T>::bag(w.data(), 5, 2, idx.data(), 6, offsets.data(), 5, 0, nullptr, -1, JEMBED_BAG_MAX, 0, out.data(),
              arg.data());
  check(out == std::vector<T>{0, 0, 7, 8, 0, 0, 9, 10, 0, 0}, what + ": max");
  const std::vector<T> go = {99, 99, 1, 2, 99, 99, 3, 4, 99, 99};
  std::vector<T> gw(10, T(0));
  Api<T>::bag_backward(gw.data(), 5, 2, idx.data(), 6, offsets.data(), 5, 0, go.data(), nullptr, -1, JEMBED_BAG_SUM,
                       0, nullptr, 1, 0);
  check(gw == std::vector<T>{3, 4, 5, 8, 0, 0, 1, 2, 3, 4}, what + ": sum gradient");
  gw.assign(10, T(0));
  Api<T>::bag_backward(gw.data(), 5, 2, idx.data(), 6, offsets.data(), 5, 0, go.data(), nullptr, -1, JEMBED_BAG_MAX,
                       0, arg.data(), 1, 0);
  check(gw == std::vector<T>{0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, what + ": max gradient");
}

// Another thread rewrites indices and offsets while the kernels run (a caller's bug that Java cannot rule out): every
// call must still stay within its buffers (the guard zones; AddressSanitizer in the fuzz build) and return a status
// from the contract.
template <typename T>
void concurrent_rewrites(int variant) {
  jembed_select_variant(variant);
  constexpr int64_t kDim = 19;
  constexpr int64_t kBags = 6;
  std::mt19937_64 table_rng(1);
  const auto table = random_table<T>(table_rng, kRows, kDim);
  std::vector<int64_t> idx(60);
  std::vector<int64_t> offsets = {0, 10, 20, 30, 40, 50};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::mt19937_64 rng(2);
    const int64_t bad[] = {-1, kRows, std::numeric_limits<int64_t>::max(), 3, 7};
    while (!stop.load(std::memory_order_relaxed)) {
      volatile int64_t* i = idx.data();
      volatile int64_t* o = offsets.data();
      i[rng() % 60] = bad[rng() % 5];
      o[1 + rng() % 5] = static_cast<int64_t>(rng() % 70) - 5;
      i[rng() % 60] = static_cast<int64_t>(rng() % kRows);
      o[1 + rng() % 5] = 10 * static_cast<int64_t>(1 + rng() % 5);
    }
  });
  bool ok = true;
  for (int round = 0; round < 3000; ++round) {
    GuardedBuffer<T> out(kBags * kDim);
    GuardedBuffer<int64_t> arg(kBags * kDim);
    const int mode = round % 3;
    const int64_t s = Api<T>::bag(table.data(), kRows, kDim, idx.data(), 60, offsets.data(), kBags, 0, nullptr, -1,
                                  mode, 0, out.data(), arg.data());
    ok &= out.guards_intact() && arg.guards_intact() &&
          (s == JEMBED_OK || s == JEMBED_ERR_OFFSETS || (s >= 0 && s < 60));
    std::vector<T> gw(static_cast<size_t>(kRows * kDim), T(0));
    const std::vector<T> go(static_cast<size_t>(kBags * kDim), T(1));
    const int64_t sb = Api<T>::bag_backward(gw.data(), kRows, kDim, idx.data(), 60, offsets.data(), kBags, 0,
                                            go.data(), nullptr, -1, mode == 2 ? 0 : mode, round % 2, nullptr, 1, 0);
    ok &= sb == JEMBED_OK || sb == JEMBED_ERR_OFFSETS || (sb >= 0 && sb < 60);
  }
  stop.store(true);
  writer.join();
  check(ok, label(variant, "bag", Api<T>::kName) + " stays in its buffers while another thread rewrites its input");
}

template <typename T, typename I>
void bag_suite(int variant, std::mt19937_64& rng) {
  for (int64_t dim : kDims) {
    for (int mode = 0; mode < 3; ++mode) {
      for (int weighting = 0; weighting < (mode == JEMBED_BAG_SUM ? 3 : 1); ++weighting) {
        for (bool padded : {false, true}) {
          forward_case<T, I>(variant, rng, dim, mode, weighting, padded, false);
          forward_case<T, I>(variant, rng, dim, mode, weighting, padded, true);
        }
      }
      for (bool padded : {false, true}) {
        const bool weighted = mode == JEMBED_BAG_SUM && padded;
        backward_case<T, I>(variant, rng, dim, mode, weighted, padded, false);
        if (mode != JEMBED_BAG_MAX) {
          backward_case<T, I>(variant, rng, dim, mode, !weighted && mode == JEMBED_BAG_SUM, padded, true);
        }
      }
    }
  }
  refusals<T, I>(variant);
}

}  // namespace

void test_bags(int variant, std::mt19937_64& rng) {
  bag_suite<float, int64_t>(variant, rng);
  bag_suite<float, int32_t>(variant, rng);
  bag_suite<double, int64_t>(variant, rng);
  bag_suite<double, int32_t>(variant, rng);
  pytorch_example<float>(variant);
  pytorch_example<double>(variant);
  concurrent_rewrites<float>(variant);
  concurrent_rewrites<double>(variant);
}

}  // namespace jembed_test
