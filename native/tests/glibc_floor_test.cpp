// Loads glibc_floor_probe (argv[1]) with dlopen, as the JVM loads the JNI library, and checks that C++ exceptions
// thrown inside it are caught inside it (the unwinder there runs on glibc_floor.cpp's _dl_find_object) and that the
// functions it calls at their old symbol versions give the right results.

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: glibc_floor_test <path of glibc_floor_probe>\n");
    return 2;
  }
  void* probe = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (probe == nullptr) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  auto catch_nested = reinterpret_cast<int (*)()>(dlsym(probe, "probe_catch_nested"));
  auto catch_bad_alloc = reinterpret_cast<int (*)(uint64_t)>(dlsym(probe, "probe_catch_bad_alloc"));
  auto probe_pow = reinterpret_cast<double (*)(double, double)>(dlsym(probe, "probe_pow"));
  auto fstat_size = reinterpret_cast<int64_t (*)(const char*)>(dlsym(probe, "probe_fstat_size"));
  if (catch_nested == nullptr || catch_bad_alloc == nullptr || probe_pow == nullptr || fstat_size == nullptr) {
    std::fprintf(stderr, "dlsym: %s\n", dlerror());
    return 1;
  }
  int failures = 0;
  auto expect = [&failures](bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    failures += ok ? 0 : 1;
  };
  expect(catch_nested() == 1, "an exception thrown five frames down is caught");
  // 2^44 int64 values = 128 TiB: more than any address space here, so operator new throws std::bad_alloc.
  expect(catch_bad_alloc(uint64_t{1} << 44) == 1, "std::bad_alloc from a failed allocation is caught");
  expect(catch_nested() == 1, "a second exception is caught too (the unwinder's one-time set-up ran once)");
  expect(probe_pow(2.0, 10.0) == 1024.0 && probe_pow(9.0, 0.5) == 3.0, "pow at its old symbol version");
  struct stat own;
  expect(stat(argv[1], &own) == 0 && fstat_size(argv[1]) == static_cast<int64_t>(own.st_size),
         "fstat through the old __fxstat gives the file's size");
  dlclose(probe);
  return failures == 0 ? 0 : 1;
}
