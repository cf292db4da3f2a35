// Aligned native memory for tensors. 64-byte alignment keeps rows of 16 floats on one cache line; blocks of 2 MiB and
// more are aligned to 2 MiB and advised to use transparent huge pages, since random rows of a big table otherwise
// cost a TLB miss (a two-level page walk under a hypervisor) on top of the cache miss.
#include <stdlib.h>
#include <string.h>

#include "jembed/jembed.h"

#if defined(_WIN32)
#include <malloc.h>
#else
#include <sys/mman.h>
#endif

namespace {
constexpr int64_t kHugePage = 2 * 1024 * 1024;
}

extern "C" {

void* jembed_alloc(int64_t bytes) {
  if (bytes < 0) {
    return nullptr;
  }
  const size_t size = bytes == 0 ? 64 : static_cast<size_t>(bytes);
  const size_t alignment = bytes >= kHugePage ? static_cast<size_t>(kHugePage) : 64;
#if defined(_WIN32)
  return _aligned_malloc(size, alignment);
#else
  void* block = nullptr;
  if (posix_memalign(&block, alignment, size) != 0) {
    return nullptr;
  }
#if defined(MADV_HUGEPAGE)
  if (bytes >= kHugePage) {
    // Advice only: failure (e.g. THP disabled) leaves ordinary pages.
    madvise(block, size, MADV_HUGEPAGE);
  }
#endif
  return block;
#endif
}

void jembed_copy(void* dst, const void* src, int64_t bytes) {
  if (bytes > 0) {
    memcpy(dst, src, static_cast<size_t>(bytes));
  }
}

void jembed_free(void* block) {
#if defined(_WIN32)
  _aligned_free(block);
#else
  free(block);
#endif
}

}  // extern "C"
