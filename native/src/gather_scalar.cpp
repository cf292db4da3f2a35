// Portable gathers: one memcpy per row (the C library picks its own fastest copy), with software prefetch.
#include <string.h>

#include "gather_loop.h"

namespace jembed {
namespace {

void copy_row(const char* src, char* dst, int64_t bytes) {
  memcpy(dst, src, static_cast<size_t>(bytes));
}

}  // namespace

JEMBED_DEFINE_GATHERS(scalar, copy_row)

}  // namespace jembed
