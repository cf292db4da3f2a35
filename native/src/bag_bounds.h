// The checks every EmbeddingBag kernel makes before it writes anything: arguments in their domain, offsets
// non-decreasing within [0, n], and every index the bags name within [0, rows). Offsets and indices are caller memory
// that another thread may rewrite during the call, so the kernels check them again as they use them; these first
// checks make a call with bad input fail before it changes anything. Internal linkage (anonymous namespace), so ISA
// files may include it: see cmake/JembedIsa.cmake.
#ifndef JEMBED_BAG_BOUNDS_H
#define JEMBED_BAG_BOUNDS_H

#include <stdint.h>

#include "jembed/jembed.h"

namespace jembed {
namespace {

// The position of the first index in [begin, end) outside [0, rows), or JEMBED_OK. Blocks of 16 are or-reduced
// without a branch per index (the compiler vectorises them); one unsigned compare also rejects negatives.
template <typename I>
int64_t first_bad_index(const I* idx, int64_t begin, int64_t end, int64_t rows) {
  const uint64_t limit = static_cast<uint64_t>(rows);
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    bool bad = false;
    for (int k = 0; k < 16; ++k) {
      bad |= static_cast<uint64_t>(static_cast<int64_t>(idx[i + k])) >= limit;
    }
    if (bad) {
      break;
    }
  }
  for (; i < end; ++i) {
    if (static_cast<uint64_t>(static_cast<int64_t>(idx[i])) >= limit) {
      return i;
    }
  }
  return JEMBED_OK;
}

// Checks a bag call's arguments, offsets and indices; on success *first is the position where the first bag starts.
template <typename I, typename T>
int64_t check_bags(int64_t rows, int64_t dim, const I* idx, int64_t n, const I* offsets, int64_t num_bags,
                   int64_t bag_size, const T* per_sample_weights, int mode, int64_t* first) {
  if (rows < 0 || dim < 0 || n < 0 || num_bags < 0 || mode < JEMBED_BAG_SUM || mode > JEMBED_BAG_MAX ||
      (per_sample_weights != nullptr && mode != JEMBED_BAG_SUM)) {
    return JEMBED_ERR_ARGUMENT;
  }
  *first = 0;
  if (offsets == nullptr) {
    // Fixed-size bags: n == num_bags * bag_size, checked without overflow.
    if (bag_size < 0 || (bag_size == 0 ? n != 0 : (n % bag_size != 0 || n / bag_size != num_bags))) {
      return JEMBED_ERR_ARGUMENT;
    }
  } else if (num_bags > 0) {
    int64_t previous = static_cast<int64_t>(offsets[0]);
    if (previous < 0 || previous > n) {
      return JEMBED_ERR_OFFSETS;
    }
    *first = previous;
    for (int64_t b = 1; b < num_bags; ++b) {
      const int64_t o = static_cast<int64_t>(offsets[b]);
      if (o < previous || o > n) {
        return JEMBED_ERR_OFFSETS;
      }
      previous = o;
    }
  } else {
    *first = n;  // no bag: nothing is read
  }
  return first_bad_index(idx, *first, n, rows);
}

// The end of bag b, whose start is `start` (the previous bag's end): read once, and checked again, since the offsets
// may have been rewritten since check_bags. A negative result is JEMBED_ERR_OFFSETS.
template <typename I>
int64_t bag_end(const I* offsets, int64_t b, int64_t num_bags, int64_t bag_size, int64_t start, int64_t n) {
  if (offsets == nullptr) {
    return start + bag_size;
  }
  if (b + 1 == num_bags) {
    return n;
  }
  const int64_t end = static_cast<int64_t>(offsets[b + 1]);
  return end < start || end > n ? JEMBED_ERR_OFFSETS : end;
}

}  // namespace
}  // namespace jembed

#endif
