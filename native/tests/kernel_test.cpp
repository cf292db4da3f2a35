// Every kernel variant the CPU can run, against the scalar reference, on awkward sizes: dims 1 to 1000, empty batches,
// duplicate indices, unaligned outputs with guard zones, bad indices; plus renorm by hand-computed examples. The gather
// cases are in gather_test.cpp, the shared helpers in test_support.h.
// Usage: kernel_test [--expect-variant NAME]   (the second form checks JEMBED_KERNELS was honoured)
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <random>
#include <string>
#include <vector>

#include "jembed/jembed.h"
#include "test_support.h"

using jembed_test::Api;
using jembed_test::check;
using jembed_test::kBatches;
using jembed_test::kDims;
using jembed_test::kRows;
using jembed_test::random_indices;
using jembed_test::random_table;

namespace {

template <typename T>
void test_renorm(int variant, std::mt19937_64& rng, const char* type) {
  const double norm_types[] = {2, 1, 3, 0.5, 0, INFINITY, -INFINITY};
  for (double p : norm_types) {
    for (int64_t dim : kDims) {
      auto reference = random_table<T>(rng, kRows, dim);
      auto tested = reference;
      const auto idx = random_indices(rng, kRows, 40);
      const double max_norm = p == 0 ? dim / 2.0 : (isinf(p) ? (p > 0 ? 1.5 : 0.01) : pow(double(dim), 1 / p) * 0.8);
      jembed_select_variant(JEMBED_VARIANT_SCALAR);
      const int64_t s1 = Api<T>::renorm(reference.data(), kRows, dim, idx.data(), 40, max_norm, p);
      jembed_select_variant(variant);
      const int64_t s2 = Api<T>::renorm(tested.data(), kRows, dim, idx.data(), 40, max_norm, p);
      bool close = s1 == JEMBED_OK && s2 == JEMBED_OK;
      for (size_t k = 0; k < reference.size(); ++k) {
        close &= fabs(double(reference[k]) - double(tested[k])) <= Api<T>::kRenormTolerance * fabs(double(reference[k]));
      }
      check(close, std::string(jembed_variant_name(variant)) + " renorm " + type + " p=" + std::to_string(p) +
                       " dim " + std::to_string(dim) + " agrees with scalar");
    }
  }
  jembed_select_variant(variant);
  // Rows split among 2 or 3 owners (threads), each call touching only its own rows: the same bits as one owner,
  // with duplicates in the batch (40 lookups of 57 rows, then 200).
  for (double p : norm_types) {
    for (int64_t dim : kDims) {
      for (int64_t n : {int64_t{40}, int64_t{200}}) {
        auto whole = random_table<T>(rng, kRows, dim);
        const auto idx = random_indices(rng, kRows, n);
        const double max_norm = p == 0 ? dim / 2.0 : (isinf(p) ? (p > 0 ? 1.5 : 0.01) : pow(double(dim), 1 / p) * 0.8);
        for (int64_t owners : {int64_t{2}, int64_t{3}}) {
          auto split = whole;
          bool ok = true;
          for (int64_t owner = 0; owner < owners; ++owner) {
            ok &= Api<T>::renorm(split.data(), kRows, dim, idx.data(), n, max_norm, p, owners, owner) == JEMBED_OK;
          }
          auto single = whole;
          ok &= Api<T>::renorm(single.data(), kRows, dim, idx.data(), n, max_norm, p) == JEMBED_OK;
          ok &= memcmp(split.data(), single.data(), split.size() * sizeof(T)) == 0;
          check(ok, std::string(jembed_variant_name(variant)) + " renorm " + type + " p=" + std::to_string(p) + " dim " +
                        std::to_string(dim) + " on " + std::to_string(owners) + " owners gives one owner's bits");
        }
      }
    }
  }
  std::vector<T> refused = {3, 4};
  std::vector<int64_t> zero = {0};
  check(Api<T>::renorm(refused.data(), 1, 2, zero.data(), 1, 1.0, 2.0, 2, 2) == JEMBED_ERR_ARGUMENT &&
            refused[0] == 3,
        std::string(type) + " renorm refuses owner >= owners");
  // Row [3, 4] with max_norm 1: scaled by 1 / (5 + 1e-7) once, although it is looked up three times.
  std::vector<T> row = {3, 4, 0, 0};
  std::vector<int64_t> thrice = {0, 0, 0, 1};
  Api<T>::renorm(row.data(), 2, 2, thrice.data(), 4, 1.0, 2.0);
  const T scale = static_cast<T>(1.0 / (5.0 + 1e-7));
  check(row[0] == T(3) * scale && row[1] == T(4) * scale && row[2] == 0 && row[3] == 0,
        std::string(jembed_variant_name(variant)) + " renorm " + type + " scales [3,4] once, leaves a zero row");
  // max_norm 0 zeroes the rows it names.
  std::vector<T> zeroed = {1, 2, 3, 4};
  std::vector<int32_t> first = {0};
  Api<T>::renorm(zeroed.data(), 2, 2, first.data(), 1, 0.0, 2.0);
  check(zeroed[0] == 0 && zeroed[1] == 0 && zeroed[2] == 3, std::string(type) + " renorm with max_norm 0");
  // A bad index anywhere changes nothing.
  std::vector<T> untouched = {3, 4, 6, 8};
  std::vector<int64_t> with_bad = {0, 1, 2};
  const int64_t status = Api<T>::renorm(untouched.data(), 2, 2, with_bad.data(), 3, 1.0, 2.0);
  check(status == 2 && untouched[0] == 3 && untouched[3] == 8,
        std::string(jembed_variant_name(variant)) + " renorm " + type + " with a bad index changes nothing");
}

// The backward accumulates with exact operations (add, or one fused multiply-add), so every variant and every split
// of rows among owners must give the same bits as the scalar variant on one owner.
template <typename T>
void test_backward(int variant, std::mt19937_64& rng, const char* type) {
  for (int64_t dim : kDims) {
    for (int64_t n : kBatches) {
      for (int scale : {0, 1}) {
        const auto grad_out = random_table<T>(rng, n, dim);
        const auto idx = random_indices(rng, kRows, n);
        const int64_t pad = n > 0 ? idx[0] : -1;
        auto expected = random_table<T>(rng, kRows, dim);  // accumulates onto an existing gradient
        auto actual = expected;
        jembed_select_variant(JEMBED_VARIANT_SCALAR);
        int64_t s1 = Api<T>::backward(expected.data(), kRows, dim, idx.data(), n, grad_out.data(), pad, scale, 1, 0);
        jembed_select_variant(variant);
        int64_t s2 = JEMBED_OK;
        for (int64_t owner = 0; owner < 3; ++owner) {
          const int64_t s = Api<T>::backward(actual.data(), kRows, dim, idx.data(), n, grad_out.data(), pad, scale,
                                                 3, owner);
          s2 = s == JEMBED_OK ? s2 : s;
        }
        const std::string what = std::string(jembed_variant_name(variant)) + " backward " + type + " dim " +
                                 std::to_string(dim) + " n " + std::to_string(n) + (scale ? " scaled" : "");
        check(s1 == JEMBED_OK && s2 == JEMBED_OK, what + ": status");
        check(memcmp(expected.data(), actual.data(), expected.size() * sizeof(T)) == 0,
              what + ": 3 owners on this variant differ from 1 owner on scalar");
      }
    }
  }
  // Embedding(3, 6, padding_idx=0, scale_grad_by_freq=True), input [[2, 1, 0, 2]], upstream ones: rows 0, 1, 1.
  jembed_select_variant(variant);
  std::vector<T> gw(18, T(0));
  std::vector<T> ones(24, T(1));
  std::vector<int64_t> idx = {2, 1, 0, 2};
  Api<T>::backward(gw.data(), 3, 6, idx.data(), 4, ones.data(), 0, 1, 1, 0);
  check(gw[0] == 0 && gw[5] == 0 && gw[6] == 1 && gw[11] == 1 && gw[12] == 1 && gw[17] == 1,
        std::string(jembed_variant_name(variant)) + " backward " + type + " scale_grad_by_freq example");
  std::vector<int64_t> bad = {0, 3};
  check(Api<T>::backward(gw.data(), 3, 6, bad.data(), 2, ones.data(), -1, 0, 1, 0) == 1 && gw[6] == 1,
        std::string(type) + " backward reports a bad index and changes nothing");
  check(Api<T>::backward(gw.data(), 3, 6, idx.data(), 4, ones.data(), -1, 0, 2, 2) == JEMBED_ERR_ARGUMENT,
        std::string(type) + " backward refuses owner >= owners");
}

void test_hand_computed_p_half() {
  // a = [[1,2,3],[4,5,6]], p = 0.5, max_norm = 2 (PyTorch's test_embedding_from_pretrained_options).
  std::vector<double> a = {1, 2, 3, 4, 5, 6};
  std::vector<int64_t> idx = {0, 1};
  jembed_renorm_f64_i64(a.data(), 2, 3, idx.data(), 2, 2.0, 0.5, 1, 0);
  const double expected[] = {0.1163365, 0.2326730, 0.3490095, 0.1789842, 0.2237303, 0.2684763};
  bool ok = true;
  for (int k = 0; k < 6; ++k) {
    ok &= fabs(a[k] - expected[k]) < 1e-6;
  }
  check(ok, "renorm p=0.5 matches the hand-computed example");
}

void test_alloc() {
  void* block = jembed_alloc(1000);
  check(block != nullptr && reinterpret_cast<uintptr_t>(block) % 64 == 0, "alloc is 64-byte aligned");
  jembed_free(block);
  void* empty = jembed_alloc(0);
  check(empty != nullptr, "alloc of 0 bytes gives a block");
  jembed_free(empty);
  check(jembed_alloc(-1) == nullptr, "alloc of a negative size fails");
  void* big = jembed_alloc(5 << 20);
  check(big != nullptr && reinterpret_cast<uintptr_t>(big) % (2 << 20) == 0, "big alloc is 2 MiB aligned");
  jembed_free(big);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--expect-variant") == 0) {
    const char* active = jembed_variant_name(jembed_active_variant());
    check(strcmp(active, argv[2]) == 0, std::string("active variant is ") + active + ", expected " + argv[2]);
  }
  printf("active variant at start: %s\n", jembed_variant_name(jembed_active_variant()));
  check(jembed_variant_supported(JEMBED_VARIANT_SCALAR) == 1, "scalar is always supported");
  check(jembed_select_variant(JEMBED_VARIANT_COUNT) == -1, "an unknown variant is refused");
  std::mt19937_64 rng(12345);
  for (int v = 0; v < JEMBED_VARIANT_COUNT; ++v) {
    if (!jembed_variant_supported(v)) {
      printf("variant %s: skipped (this CPU cannot run it)\n", jembed_variant_name(v));
      check(jembed_select_variant(v) == -1, std::string("unsupported ") + jembed_variant_name(v) + " is refused");
      continue;
    }
    printf("variant %s: tested\n", jembed_variant_name(v));
    jembed_test::test_gather(v, rng);
    jembed_test::test_bags(v, rng);
    jembed_test::test_nearest(v, rng);
    test_renorm<float>(v, rng, "f32");
    test_renorm<double>(v, rng, "f64");
    test_backward<float>(v, rng, "f32");
    test_backward<double>(v, rng, "f64");
    jembed_test::test_half(v, rng);
  }
  test_hand_computed_p_half();
  test_alloc();
  jembed_test::test_mapped_file();
  return jembed_test::finish();
}
