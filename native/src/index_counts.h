// How often each distinct index occurs in a batch, in O(n): an open-addressing table sized to twice the batch, each
// slot holding its key and count side by side, so that a lookup touches one cache line. The backward
// (scale_grad_by_freq) and the renorm (distinct rows) need this per call; sorting the batch cost more than the rows'
// own arithmetic. Baseline code only (internal linkage: see cmake/JembedIsa.cmake).
#ifndef JEMBED_INDEX_COUNTS_H
#define JEMBED_INDEX_COUNTS_H

#include <stdint.h>

#include <vector>

namespace jembed {
namespace {

class IndexCounts {
 public:
  // Room for up to n distinct indices. Throws std::bad_alloc; callers turn it into JEMBED_ERR_ALLOC.
  explicit IndexCounts(int64_t n) {
    int bits = 4;
    while ((int64_t{1} << bits) < 2 * n) {
      ++bits;
    }
    shift_ = 64 - bits;
    slots_.assign(size_t{1} << bits, Slot{-1, 0});
  }

  // Counts one occurrence of index r (r >= 0) and returns its slot, which stays r's for the table's life.
  int64_t add(int64_t r) {
    const size_t slot = find(r);
    slots_[slot].key = r;
    ++slots_[slot].count;
    return static_cast<int64_t>(slot);
  }

  // The occurrences counted so far of the index in `slot` (a value add returned); 1 right after its first add.
  int64_t count_at(int64_t slot) const {
    return slots_[static_cast<size_t>(slot)].count;
  }

  int64_t count(int64_t r) const {
    return slots_[find(r)].count;
  }

 private:
  struct Slot {
    int64_t key;  // -1: empty
    int64_t count;
  };

  size_t find(int64_t r) const {
    size_t slot = static_cast<size_t>((static_cast<uint64_t>(r) * 0x9E3779B97F4A7C15ull) >> shift_);
    const size_t mask = slots_.size() - 1;
    while (slots_[slot].key >= 0 && slots_[slot].key != r) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  int shift_;
  std::vector<Slot> slots_;
};

}  // namespace
}  // namespace jembed

#endif
