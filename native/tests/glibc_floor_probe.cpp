// A shared library linked as the JNI library is (static libstdc++ and libgcc, the glibc-floor wrappers of
// src/glibc_floor.cpp), for glibc_floor_test: C++ exceptions must still unwind through it, which needs the
// unwinder's _dl_find_object replacement and pthread wrappers to work, and the wrapped functions must still work.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <vector>

namespace {
__attribute__((noinline)) int throw_from_depth(int depth) {
  if (depth == 0) {
    throw std::runtime_error("from the bottom");
  }
  return throw_from_depth(depth - 1) + 1;
}
}  // namespace

extern "C" {

// 1 when an exception thrown five frames down is caught here.
__attribute__((visibility("default"))) int probe_catch_nested() {
  try {
    return throw_from_depth(5) == 5 ? 0 : 2;
  } catch (const std::runtime_error&) {
    return 1;
  }
}

// 1 when an allocation of `elements` int64 values fails with std::bad_alloc and is caught, as the kernels do.
__attribute__((visibility("default"))) int probe_catch_bad_alloc(uint64_t elements) {
  try {
    std::vector<int64_t> v(static_cast<size_t>(elements));
    return v.empty() ? 2 : 0;
  } catch (const std::bad_alloc&) {
    return 1;
  }
}

// The size of the file at `path` by fstat, through the wrapper that calls the old __fxstat; -1 on failure.
__attribute__((visibility("default"))) int64_t probe_fstat_size(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  struct stat info;
  const int64_t size = fstat(fd, &info) == 0 && S_ISREG(info.st_mode) ? static_cast<int64_t>(info.st_size) : -1;
  close(fd);
  return size;
}

// pow through the wrapper that pins its old symbol version.
__attribute__((visibility("default"))) double probe_pow(double x, double y) { return std::pow(x, y); }
}
