// The tally, labels and index batches shared by the kernel tests.
#include "test_support.h"

#include <stdio.h>

namespace jembed_test {

namespace {
int passed = 0;
int failed = 0;
}  // namespace

void check(bool ok, const std::string& what) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    fprintf(stderr, "FAIL: %s\n", what.c_str());
  }
}

std::string label(int variant, const char* operation, const char* type) {
  return std::string(jembed_variant_name(variant)) + " " + operation + " " + type;
}

std::vector<int64_t> random_indices(std::mt19937_64& rng, int64_t rows, int64_t n) {
  std::uniform_int_distribution<int64_t> row(0, rows - 1);
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    idx[i] = (i > 0 && row(rng) % 2 == 0) ? idx[row(rng) % i] : row(rng);
  }
  return idx;
}

int finish() {
  printf("%d checks passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace jembed_test
