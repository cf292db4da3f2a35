// Software prefetch of a table row that a kernel will touch a few iterations from now. Random rows of a large table
// are cache (and TLB) misses; issuing them early overlaps their latency with the work on the current rows.
// Internal linkage (anonymous namespace), so ISA files may include it: see cmake/JembedIsa.cmake.
#ifndef JEMBED_PREFETCH_H
#define JEMBED_PREFETCH_H

#include <stdint.h>

#include "kernel_table.h"

namespace jembed {
namespace {

// Every cache line that holds one of the row's first kPrefetchBytes bytes. A row that does not start on a line
// boundary spans one line more than its size suggests (12 bytes at offset 60 span two lines), and whether it does
// changes from row to row; a loop over exactly the spanned lines would mispredict its exit about that often, which
// cost more than the copy itself for rows of a few floats. So the loop count depends on the size only, and the
// row's last byte gets one more prefetch, which is redundant (and harmless) when the row spans no extra line.
template <int kForWrite>
inline void prefetch_row(const void* row, int64_t bytes) {
  if (bytes <= 0) {
    return;
  }
  const char* start = static_cast<const char*>(row);
  const int64_t covered = bytes < kPrefetchBytes ? bytes : kPrefetchBytes;
  for (int64_t offset = 0; offset < covered; offset += 64) {
    __builtin_prefetch(start + offset, kForWrite, 3);
  }
  __builtin_prefetch(start + covered - 1, kForWrite, 3);
}

}  // namespace
}  // namespace jembed

#endif
