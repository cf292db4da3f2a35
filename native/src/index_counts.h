// How often each distinct index occurs in a batch, in O(n): an open-addressing table sized to twice the batch.
// The backward (scale_grad_by_freq) and the renorm (distinct rows) need this per call; sorting the batch cost more
// than the rows' own arithmetic. Baseline code only (internal linkage: see cmake/JembedIsa.cmake).
#ifndef JEMBED_INDEX_COUNTS_H
#define JEMBED_INDEX_COUNTS_H

#include <stdint.h>

#include <vector>

namespace jembed {
namespace {

class IndexCounts {
 public:
  // Throws std::bad_alloc; callers turn it into JEMBED_ERR_ALLOC.
  explicit IndexCounts(int64_t n) {
    int bits = 4;
    while ((int64_t{1} << bits) < 2 * n) {
      ++bits;
    }
    shift_ = 64 - bits;
    keys_.assign(size_t{1} << bits, -1);
    counts_.assign(size_t{1} << bits, 0);
  }

  // Counts one occurrence of index r (r >= 0); returns true the first time r is seen.
  bool add(int64_t r) {
    const size_t slot = find(r);
    const bool first = keys_[slot] < 0;
    keys_[slot] = r;
    ++counts_[slot];
    return first;
  }

  int64_t count(int64_t r) const {
    return counts_[find(r)];
  }

 private:
  size_t find(int64_t r) const {
    size_t slot = static_cast<size_t>((static_cast<uint64_t>(r) * 0x9E3779B97F4A7C15ull) >> shift_);
    const size_t mask = keys_.size() - 1;
    while (keys_[slot] >= 0 && keys_[slot] != r) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  int shift_;
  std::vector<int64_t> keys_;
  std::vector<int64_t> counts_;
};

}  // namespace
}  // namespace jembed

#endif
