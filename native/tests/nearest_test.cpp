// Cosine top-k: every variant against a double-precision brute force and against the scalar variant, on awkward
// dims (below, at and around each vector width, and 300) and row counts (empty, one, not a multiple of the block),
// with k from 0 to all rows; ranges that start inside the table; ties; NaN rows; zero rows; refused arguments.
#include <math.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "test_support.h"

namespace jembed_test {
namespace {

struct TopK {
  std::vector<float> values;
  std::vector<int64_t> indices;
  int64_t count;
};

TopK run(const std::vector<float>& table, int64_t begin, int64_t end, int64_t dim, const std::vector<float>& q,
         int64_t k, double eps = 1e-8) {
  TopK out{std::vector<float>(static_cast<size_t>(k) + 1, -777.0f),
           std::vector<int64_t>(static_cast<size_t>(k) + 1, -777), 0};
  out.count = jembed_cosine_topk_f32(table.data(), begin, end, dim, q.data(), k, eps, out.values.data(),
                                     out.indices.data());
  return out;
}

// The definition, in double: every row's similarity, the rows ordered best first (ties by lower row).
std::vector<std::pair<double, int64_t>> brute_force(const std::vector<float>& table, int64_t begin, int64_t end,
                                                    int64_t dim, const std::vector<float>& q, double eps) {
  double qn = 0;
  for (int64_t j = 0; j < dim; ++j) {
    qn += static_cast<double>(q[j]) * q[j];
  }
  qn = std::max(sqrt(qn), eps);
  std::vector<std::pair<double, int64_t>> all;
  for (int64_t r = begin; r < end; ++r) {
    double dot = 0;
    double n = 0;
    for (int64_t j = 0; j < dim; ++j) {
      dot += static_cast<double>(table[r * dim + j]) * q[j];
      n += static_cast<double>(table[r * dim + j]) * table[r * dim + j];
    }
    all.emplace_back(dot / (std::max(sqrt(n), eps) * qn), r);
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return all;
}

void against_brute_force_and_scalar(int variant, std::mt19937_64& rng) {
  const int64_t dims[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 300};
  const int64_t row_counts[] = {0, 1, 5, 257, 1000};
  for (int64_t dim : dims) {
    for (int64_t rows : row_counts) {
      const auto table = random_table<float>(rng, rows, dim);
      const auto q = random_table<float>(rng, 1, dim);
      const int64_t ks[] = {0, 1, 5, rows};
      for (int64_t k : ks) {
        const int64_t begin = rows > 3 ? 2 : 0;  // a range that starts inside the table
        const auto expected = brute_force(table, begin, rows, dim, q, 1e-8);
        jembed_select_variant(JEMBED_VARIANT_SCALAR);
        const TopK ref = run(table, begin, rows, dim, q, k);
        jembed_select_variant(variant);
        const TopK got = run(table, begin, rows, dim, q, k);
        const std::string what = label(variant, "cosine_topk", "f32") + " dim " + std::to_string(dim) + " rows " +
                                 std::to_string(rows) + " k " + std::to_string(k);
        const int64_t want = std::min<int64_t>(k, rows - begin);
        check(got.count == want && ref.count == want, what + ": count");
        bool ok = got.values[static_cast<size_t>(want)] == -777.0f && got.indices[static_cast<size_t>(want)] == -777;
        std::vector<double> similarity_of(static_cast<size_t>(rows), 0.0);
        for (const auto& e : expected) {
          similarity_of[static_cast<size_t>(e.second)] = e.first;
        }
        for (int64_t i = 0; i < want && got.count == want; ++i) {
          // Float sums in another order move a similarity by a few ulps, so rows whose similarities are that close
          // (dim 1 has only +1 and -1) may come in either order: each rank must hold a row whose exact similarity
          // is the brute force's at that rank.
          const int64_t row = got.indices[i];
          ok &= row >= begin && row < rows && fabs(similarity_of[static_cast<size_t>(row)] - expected[i].first) <= 2e-6;
          ok &= fabs(got.values[i] - expected[i].first) <= 2e-6 && fabs(got.values[i] - ref.values[i]) <= 2e-6;
          ok &= i == 0 || !(got.values[i] > got.values[i - 1]);
        }
        check(ok, what + ": the brute force's rows and similarities, nothing written past k");
      }
    }
  }
}

void ties_nan_and_zero_rows(int variant) {
  jembed_select_variant(variant);
  const int64_t dim = 5;
  // Rows 1 and 3 equal the query's direction (ties: lower row first); row 4 is NaN (ranks first, as in topk); row 2
  // is zero (similarity 0 thanks to eps); row 0 points away.
  std::vector<float> q = {1, 2, 3, 4, 5};
  std::vector<float> table(5 * dim);
  for (int64_t j = 0; j < dim; ++j) {
    table[0 * dim + j] = -q[j];
    table[1 * dim + j] = 2 * q[j];
    table[2 * dim + j] = 0;
    table[3 * dim + j] = 2 * q[j];
    table[4 * dim + j] = j == 2 ? std::numeric_limits<float>::quiet_NaN() : 1;
  }
  const TopK got = run(table, 0, 5, dim, q, 5);
  const std::string what = label(variant, "cosine_topk", "f32") + " ties/NaN/zero";
  check(got.count == 5, what + ": count");
  check(got.indices[0] == 4 && std::isnan(got.values[0]), what + ": NaN first");
  check(got.indices[1] == 1 && got.indices[2] == 3 && got.values[1] == got.values[2], what + ": ties by lower row");
  check(fabs(got.values[1] - 1.0f) <= 1e-6, what + ": parallel rows have similarity 1");
  check(got.indices[3] == 2 && got.values[3] == 0.0f, what + ": a zero row has similarity 0");
  check(got.indices[4] == 0 && fabs(got.values[4] + 1.0f) <= 1e-6, what + ": the opposite row is last at -1");
  float v = 0;
  int64_t i = 0;
  check(jembed_cosine_topk_f32(table.data(), 3, 2, dim, q.data(), 1, 1e-8, &v, &i) == JEMBED_ERR_ARGUMENT,
        what + ": an end before the beginning is refused");
  check(jembed_cosine_topk_f32(table.data(), 0, 5, dim, q.data(), -1, 1e-8, &v, &i) == JEMBED_ERR_ARGUMENT,
        what + ": a negative k is refused");
  check(jembed_cosine_topk_f32(table.data(), 0, 5, dim, q.data(), 1, std::nan(""), &v, &i) == JEMBED_ERR_ARGUMENT,
        what + ": a NaN eps is refused");
}

}  // namespace

void test_nearest(int variant, std::mt19937_64& rng) {
  against_brute_force_and_scalar(variant, rng);
  ties_nan_and_zero_rows(variant);
}

}  // namespace jembed_test
