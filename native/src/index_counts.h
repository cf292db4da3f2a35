// How often each distinct index occurs in a batch, in O(n): an open-addressing table sized to twice the batch, each
// slot holding its key and count side by side, so that a lookup touches one cache line. The backward
// (scale_grad_by_freq) and the renorm (distinct rows) need this per call; sorting the batch cost more than the rows'
// own arithmetic.
//
// The table lives in a per-thread scratch block that later calls on the thread reuse: a fresh 128 KB table per call of
// 4096 lookups cost more than the counting (glibc serves blocks of 128 KB and more with mmap, so every call took page
// faults on zeroed pages). Slots carry the number of the call that filled them, so a new call starts with an empty
// table without clearing it. A thread keeps at most kKeptSlots slots (3 MB) after a call; a larger table is freed when
// its call ends, and the rest when the thread exits. One table per thread at a time: kernels never nest.
// Baseline code only (internal linkage: see cmake/JembedIsa.cmake).
#ifndef JEMBED_INDEX_COUNTS_H
#define JEMBED_INDEX_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "per_thread.h"

namespace jembed {
namespace {

class IndexCounts {
 public:
  // Room for up to n distinct indices. Throws std::bad_alloc; callers turn it into JEMBED_ERR_ALLOC.
  explicit IndexCounts(int64_t n) : scratch_(thread_scratch()) {
    int bits = 4;
    while ((int64_t{1} << bits) < 2 * n) {
      ++bits;
    }
    shift_ = 64 - bits;
    const size_t size = size_t{1} << bits;
    if (scratch_.slots.size() < size) {
      scratch_.slots.assign(size, Slot{0, 0, 0});
    }
    call_ = ++scratch_.call;  // 64 bits: never wraps
    mask_ = size - 1;
    slots_ = scratch_.slots.data();
  }

  ~IndexCounts() {
    if (scratch_.slots.size() > kKeptSlots) {
      std::vector<Slot>().swap(scratch_.slots);
    }
  }

  IndexCounts(const IndexCounts&) = delete;
  IndexCounts& operator=(const IndexCounts&) = delete;

  // Counts one occurrence of index r (r >= 0) and returns its slot, which stays r's for the table's life.
  int64_t add(int64_t r) {
    size_t slot = home(r);
    while (slots_[slot].call == call_ && slots_[slot].key != r) {
      slot = (slot + 1) & mask_;
    }
    Slot& s = slots_[slot];
    if (s.call != call_) {
      s = Slot{r, 0, call_};
    }
    ++s.count;
    return static_cast<int64_t>(slot);
  }

  // The occurrences of index r counted so far (0 if none).
  int64_t count(int64_t r) const {
    size_t slot = home(r);
    while (slots_[slot].call == call_) {
      if (slots_[slot].key == r) {
        return slots_[slot].count;
      }
      slot = (slot + 1) & mask_;
    }
    return 0;
  }

  // Starts fetching the slot where index r (any value) would be looked for first: the table is usually out of the
  // cache, since the rows a kernel touches between two calls evict it.
  void prefetch(int64_t r) const {
    __builtin_prefetch(&slots_[home(r)], 1, 3);
  }

  // The occurrences counted so far of the index in `slot` (a value add returned); 1 right after its first add.
  int64_t count_at(int64_t slot) const {
    return slots_[static_cast<size_t>(slot)].count;
  }

 private:
  struct Slot {
    int64_t key;
    int64_t count;
    uint64_t call;  // the call that filled the slot; any other value means empty
  };
  static constexpr size_t kKeptSlots = size_t{1} << 17;

  struct Scratch {
    std::vector<Slot> slots;
    uint64_t call = 0;
  };

  static Scratch& thread_scratch() {
    return per_thread<Scratch>();
  }

  size_t home(int64_t r) const {
    return static_cast<size_t>((static_cast<uint64_t>(r) * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  Scratch& scratch_;
  int shift_;
  size_t mask_;
  uint64_t call_;
  Slot* slots_;
};

}  // namespace
}  // namespace jembed

#endif
