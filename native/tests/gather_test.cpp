// Gather: every variant must give the scalar variant's bits, write nothing outside the output, and report the first
// bad index by position.
#include <string.h>

#include <limits>

#include "test_support.h"

namespace jembed_test {
namespace {

template <typename T, typename I>
void against_scalar(int variant, std::mt19937_64& rng, int64_t dim, int64_t n) {
  const auto table = random_table<T>(rng, kRows, dim);
  const auto idx64 = random_indices(rng, kRows, n);
  const auto idx = narrowed<I>(idx64);
  GuardedBuffer<T> expected(n * dim);
  GuardedBuffer<T> actual(n * dim);
  jembed_select_variant(JEMBED_VARIANT_SCALAR);
  const int64_t status_ref = Api<T>::gather(table.data(), kRows, dim, idx.data(), n, expected.data());
  jembed_select_variant(variant);
  const int64_t status = Api<T>::gather(table.data(), kRows, dim, idx.data(), n, actual.data());
  const std::string what = label(variant, "gather", Api<T>::kName) + (sizeof(I) == 4 ? " i32" : " i64") + " dim " +
                           std::to_string(dim) + " n " + std::to_string(n);
  check(status == JEMBED_OK && status_ref == JEMBED_OK, what + ": status");
  check(actual.guards_intact() && expected.guards_intact(), what + ": wrote outside the output");
  const auto a = actual.payload();
  const auto e = expected.payload();
  // memcmp may not be given the null data() of an empty vector, even for zero bytes.
  check(a.size() == e.size() && (a.empty() || memcmp(a.data(), e.data(), a.size() * sizeof(T)) == 0),
        what + ": bits differ from scalar");
  bool rows_ok = true;
  for (int64_t i = 0; i < n; ++i) {
    rows_ok &= memcmp(a.data() + i * dim, table.data() + idx64[i] * dim, dim * sizeof(T)) == 0;
  }
  check(rows_ok, what + ": rows are not the table's");
}

// A bad index at `position` of a batch of n (and, with `second` >= 0, another bad one there): the first one's position
// is returned and nothing at all is written, since the indices are validated before any row is copied. With
// n > kPrefetchDistance the prefetch would meet the bad index first; with n >= 16 the vectorised blocks see it.
template <typename T, typename I>
void bad_index(int variant, std::mt19937_64& rng, I bad, int64_t position, int64_t n, int64_t second = -1) {
  constexpr int64_t kDim = 5;
  const auto table = random_table<T>(rng, kRows, kDim);
  auto idx = narrowed<I>(random_indices(rng, kRows, n));
  idx[position] = bad;
  if (second >= 0) {
    idx[second] = bad;
  }
  GuardedBuffer<T> out(n * kDim);
  jembed_select_variant(variant);
  const int64_t status = Api<T>::gather(table.data(), kRows, kDim, idx.data(), n, out.data());
  const auto written = out.payload();
  bool untouched = out.guards_intact();
  for (int64_t k = 0; k < n * kDim; ++k) {
    untouched &= written[k] == GuardedBuffer<T>::sentinel();
  }
  const int64_t first = second >= 0 && second < position ? second : position;
  const std::string what = label(variant, "gather", Api<T>::kName) + " bad index " + std::to_string(int64_t{bad}) +
                           " at " + std::to_string(position) + (second >= 0 ? " and " + std::to_string(second) : "") +
                           " of " + std::to_string(n);
  check(status == first, what + ": position of the first one reported");
  const int64_t validated = sizeof(I) == 8
      ? jembed_first_bad_index_i64(reinterpret_cast<const int64_t*>(idx.data()), n, kRows)
      : jembed_first_bad_index_i32(reinterpret_cast<const int32_t*>(idx.data()), n, kRows);
  check(validated == first, what + ": jembed_first_bad_index agrees");
  check(untouched, what + ": nothing written");
}

// Row offsets beyond 2^31 elements: int32 indices near INT32_MAX times dim 8 only fit 64-bit arithmetic. The table
// pointer is placed so that those rows land in a small real buffer; the kernels compute the same flat addresses.
template <typename T>
void large_offsets(int variant) {
  if (sizeof(void*) != 8) {
    return;
  }
  constexpr int64_t kDim = 8;
  const int64_t first = std::numeric_limits<int32_t>::max() - 3;
  std::vector<T> rows(4 * kDim);
  for (size_t k = 0; k < rows.size(); ++k) {
    rows[k] = static_cast<T>(k);
  }
  const T* table = reinterpret_cast<const T*>(reinterpret_cast<uintptr_t>(rows.data()) -
                                              static_cast<uintptr_t>(first * kDim) * sizeof(T));
  const std::vector<int32_t> idx32 = {std::numeric_limits<int32_t>::max(), static_cast<int32_t>(first)};
  const std::vector<int64_t> idx64 = {first + 2, first + 1};
  std::vector<T> out32(2 * kDim);
  std::vector<T> out64(2 * kDim);
  jembed_select_variant(variant);
  const int64_t s32 = Api<T>::gather(table, first + 4, kDim, idx32.data(), 2, out32.data());
  const int64_t s64 = Api<T>::gather(table, first + 4, kDim, idx64.data(), 2, out64.data());
  const bool ok32 = memcmp(out32.data(), rows.data() + 3 * kDim, kDim * sizeof(T)) == 0 &&
                    memcmp(out32.data() + kDim, rows.data(), kDim * sizeof(T)) == 0;
  const bool ok64 = memcmp(out64.data(), rows.data() + 2 * kDim, kDim * sizeof(T)) == 0 &&
                    memcmp(out64.data() + kDim, rows.data() + kDim, kDim * sizeof(T)) == 0;
  check(s32 == JEMBED_OK && s64 == JEMBED_OK && ok32 && ok64,
        label(variant, "gather", Api<T>::kName) + " rows beyond 2^31 elements");
}

template <typename T>
void gather_suite(int variant, std::mt19937_64& rng) {
  for (int64_t dim : kDims) {
    for (int64_t n : kBatches) {
      against_scalar<T, int64_t>(variant, rng, dim, n);
      against_scalar<T, int32_t>(variant, rng, dim, n);
    }
  }
  constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
  for (int64_t bad : {int64_t{-1}, kRows, kMax64, kMin64}) {
    bad_index<T, int64_t>(variant, rng, bad, 2, 4);
    bad_index<T, int64_t>(variant, rng, bad, 25, 40);
    bad_index<T, int64_t>(variant, rng, bad, 15, 16);
    bad_index<T, int64_t>(variant, rng, bad, 35, 40);
    bad_index<T, int64_t>(variant, rng, bad, 21, 40, 18);
    bad_index<T, int64_t>(variant, rng, bad, 31, 64, 5);
  }
  for (int32_t bad : {int32_t{-7}, int32_t{kRows}, std::numeric_limits<int32_t>::max(),
                      std::numeric_limits<int32_t>::min()}) {
    bad_index<T, int32_t>(variant, rng, bad, 0, 1);
    bad_index<T, int32_t>(variant, rng, bad, 25, 40);
    bad_index<T, int32_t>(variant, rng, bad, 47, 48, 40);
  }
  large_offsets<T>(variant);
  const auto table = random_table<T>(rng, kRows, 4);
  const std::vector<int64_t> idx = {0};
  std::vector<T> out(4);
  check(Api<T>::gather(table.data(), kRows, -4, idx.data(), 1, out.data()) == JEMBED_ERR_ARGUMENT,
        label(variant, "gather", Api<T>::kName) + " refuses a negative dim");
}

}  // namespace

void test_gather(int variant, std::mt19937_64& rng) {
  gather_suite<float>(variant, rng);
  gather_suite<double>(variant, rng);
}

}  // namespace jembed_test
