// Portable gathers: rows up to 64 bytes with a few fixed-size moves, longer ones with one memcpy per row (the C library picks
// its own fastest copy for the machine), with software prefetch.
#include <string.h>

#include "gather_loop.h"

namespace jembed {
namespace {

[[gnu::always_inline]] inline void copy_row(const char* src, char* dst, int64_t bytes) {
  if (bytes < 32) {
    copy_short_row(src, dst, bytes);
  } else if (bytes <= 64) {
    // Four 16-byte moves, the last two ending at the row's end (overlapping the first two where the row is shorter
    // than 64 bytes): cheaper than the call for the 8..16 float dims that are common.
    __builtin_memcpy(dst, src, 16);
    __builtin_memcpy(dst + 16, src + 16, 16);
    __builtin_memcpy(dst + bytes - 32, src + bytes - 32, 16);
    __builtin_memcpy(dst + bytes - 16, src + bytes - 16, 16);
  } else {
    memcpy(dst, src, static_cast<size_t>(bytes));
  }
}

}  // namespace

JEMBED_DEFINE_GATHERS(scalar, copy_row)
JEMBED_DEFINE_GATHERS_U16(scalar, copy_row)

}  // namespace jembed
