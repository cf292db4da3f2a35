// An uninitialised array for the length of one kernel call, from a per-thread block that later calls on the thread
// reuse. Allocating ~100 KB per call and freeing it made glibc trim and regrow its heap (or mmap and unmap the block),
// so every call took page faults on fresh zeroed pages: more time than the work on a 4096-row batch. A thread keeps
// at most kKeptBytes per element type after a call; a larger block is freed when its call ends, the rest when the
// thread exits. One array per element type and thread at a time: kernels never nest.
// Internal linkage (anonymous namespace); see cmake/JembedIsa.cmake.
#ifndef JEMBED_SCRATCH_ARRAY_H
#define JEMBED_SCRATCH_ARRAY_H

#include <stddef.h>

#include <memory>

#include "per_thread.h"

namespace jembed {
namespace {

template <typename T>
class ScratchArray {
 public:
  // Throws std::bad_alloc; callers turn it into JEMBED_ERR_ALLOC.
  explicit ScratchArray(size_t n) : block_(thread_block()) {
    if (block_.size < n || !block_.data) {
      block_.data.reset();
      block_.size = 0;
      block_.data.reset(new T[n > 0 ? n : 1]);
      block_.size = n > 0 ? n : 1;
    }
  }

  ~ScratchArray() {
    if (block_.size * sizeof(T) > kKeptBytes) {
      block_.data.reset();
      block_.size = 0;
    }
  }

  ScratchArray(const ScratchArray&) = delete;
  ScratchArray& operator=(const ScratchArray&) = delete;

  T& operator[](size_t i) {
    return block_.data[i];
  }

 private:
  static constexpr size_t kKeptBytes = size_t{2} << 20;

  struct Block {
    std::unique_ptr<T[]> data;
    size_t size = 0;
  };

  static Block& thread_block() {
    return per_thread<Block>();
  }

  Block& block_;
};

}  // namespace
}  // namespace jembed

#endif
