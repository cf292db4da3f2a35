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

// prefetch_row's lines for rows of `bytes` bytes of one table, worked out once for a kernel call that reads many such
// rows. When every row starts on a line boundary (the table on one, rows a whole number of lines), the prefetch of
// the last byte would always be redundant, and is left out: at 64 bytes a row, it was every second prefetch.
class RowPrefetch {
 public:
  RowPrefetch() = default;
  RowPrefetch(const void* table, int64_t bytes) {
    if (bytes <= 0) {
      return;
    }
    const int64_t covered = bytes < kPrefetchBytes ? bytes : kPrefetchBytes;
    lines_ = (covered + 63) / 64;
    const bool on_lines = reinterpret_cast<uintptr_t>(table) % 64 == 0 && bytes % 64 == 0;
    last_ = on_lines ? -1 : covered - 1;
  }

  void row(const void* row) const {
    const char* start = static_cast<const char*>(row);
    for (int64_t line = 0; line < lines_; ++line) {
      __builtin_prefetch(start + 64 * line, 0, 3);
    }
    if (last_ >= 0) {
      __builtin_prefetch(start + last_, 0, 3);
    }
  }

 private:
  int64_t lines_ = 0;
  int64_t last_ = -1;  // the offset of the extra prefetch, or -1 for none
};

// How many lookups ahead a kernel that reads whole rows prefetches: about `budget_lines` cache lines of rows in
// flight (a row counted as the whole lines of its first kPrefetchBytes bytes, the lines RowPrefetch issues for a row
// that starts on a line), clamped to [min_rows, max_rows].
inline int64_t prefetch_rows_ahead(int64_t row_bytes, int64_t budget_lines, int64_t min_rows, int64_t max_rows) {
  const int64_t covered = row_bytes < kPrefetchBytes ? row_bytes : kPrefetchBytes;
  const int64_t lines = covered <= 0 ? 1 : (covered + 63) / 64;
  const int64_t rows = budget_lines / lines;
  return rows < min_rows ? min_rows : (rows > max_rows ? max_rows : rows);
}

}  // namespace
}  // namespace jembed

#endif
