// Which rows one caller of a split kernel owns. Kernels that write table rows (backward, renorm) split the rows, not
// the batch, among threads: no two threads write one row, and each row sees its lookups in input order, so every
// thread count gives the same bits. Internal linkage (anonymous namespace); see cmake/JembedIsa.cmake.
#ifndef JEMBED_ROW_OWNER_H
#define JEMBED_ROW_OWNER_H

#include <stdint.h>

namespace jembed {
namespace {

// r % owners == owner (r >= 0), without a division when owners is a power of two (the usual 1 or 2 threads): one
// division per lookup was a visible part of a small row's cost.
class RowOwner {
 public:
  RowOwner(int64_t owners, int64_t owner)
      : owners_(owners), owner_(owner), mask_((owners & (owners - 1)) == 0 ? owners - 1 : -1) {}

  bool owns(int64_t r) const {
    return mask_ >= 0 ? (r & mask_) == owner_ : r % owners_ == owner_;
  }

 private:
  int64_t owners_;
  int64_t owner_;
  int64_t mask_;
};

}  // namespace
}  // namespace jembed

#endif
