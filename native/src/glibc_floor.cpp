// Keeps the Linux JNI library loadable on glibc 2.17 (by its symbol versions: RHEL/CentOS 7, Amazon Linux 2 and
// everything newer) although it is built on Debian 12 (glibc 2.36) with gcc 12's static libstdc++ and libgcc.
//
// A reference to a glibc function binds, at link time, to the newest version of it that the build machine's glibc
// defines: pow@GLIBC_2.29, dlopen@GLIBC_2.34, ..., and the library then fails to load on any older glibc. Every
// function below exists under the platform's base version too (GLIBC_2.2.5 on x86-64, GLIBC_2.17 on aarch64, the
// versions of glibc 2.17) with the same behaviour for what this library asks of it. The link (jni-link.rsp, written
// by cmake/JembedGlibcFloor.cmake) passes -Wl,--wrap=NAME for each, which sends every undefined reference to NAME,
// also those inside libstdc++.a and libgcc_eh.a, to __wrap_NAME here; these forward to NAME at the base version
// (.symver), or to its older form (fstat). Two symbols have no old version: __libc_single_threaded (glibc 2.32) and
// _dl_find_object (2.35); they get definitions of their own below. scripts/check-glibc-floor fails the build when a
// reference above 2.17 appears again.
//
// Compiled for Linux (glibc) only; linked into the JNI library and into the ctest probe library linked the same way
// (tests/glibc_floor_probe.cpp).

#include <dlfcn.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#if defined(__x86_64__)
#define JEMBED_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define JEMBED_GLIBC_BASE "GLIBC_2.17"
#else
#error "glibc_floor.cpp knows the base glibc version of x86-64 and aarch64 only"
#endif

// References in this file go to the base versions. On glibc < 2.34 the dl* functions live in libdl.so.2 and the
// pthread ones in libpthread.so.0, both NEEDED by the library (jni-link.rsp), so the dynamic loader finds them there.
__asm__(".symver pow, pow@" JEMBED_GLIBC_BASE);
__asm__(".symver dlopen, dlopen@" JEMBED_GLIBC_BASE);
__asm__(".symver dlsym, dlsym@" JEMBED_GLIBC_BASE);
__asm__(".symver dlerror, dlerror@" JEMBED_GLIBC_BASE);
__asm__(".symver dlclose, dlclose@" JEMBED_GLIBC_BASE);
__asm__(".symver pthread_once, pthread_once@" JEMBED_GLIBC_BASE);
__asm__(".symver pthread_key_create, pthread_key_create@" JEMBED_GLIBC_BASE);
__asm__(".symver pthread_setspecific, pthread_setspecific@" JEMBED_GLIBC_BASE);
__asm__(".symver __fxstat, __fxstat@" JEMBED_GLIBC_BASE);

#define JEMBED_HIDDEN __attribute__((visibility("hidden")))

extern "C" {

// pow@GLIBC_2.29 differs from the old one only in its error handling (the old one passes overflow, underflow and
// domain errors through the SVID/POSIX error wrapper); the values are the same. Used by the renorm's p-norms.
JEMBED_HIDDEN double __wrap_pow(double x, double y) { return pow(x, y); }

// JavaCPP's own natives (Loader.loadGlobal, addressof) use the dl* functions; glibc 2.34 moved them from libdl
// into libc under a new version, unchanged.
JEMBED_HIDDEN void* __wrap_dlopen(const char* file, int mode) { return dlopen(file, mode); }
JEMBED_HIDDEN void* __wrap_dlsym(void* handle, const char* name) { return dlsym(handle, name); }
JEMBED_HIDDEN char* __wrap_dlerror(void) { return dlerror(); }
JEMBED_HIDDEN int __wrap_dlclose(void* handle) { return dlclose(handle); }

// libgcc's unwinder takes these through weak references (gthr-posix.h): the address of __pthread_key_create says
// whether threads are in use, pthread_once guards its one-time set-up. Both moved from libpthread into libc in 2.34.
JEMBED_HIDDEN int __wrap_pthread_once(pthread_once_t* once, void (*init)(void)) { return pthread_once(once, init); }
JEMBED_HIDDEN int __wrap___pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) {
  return pthread_key_create(key, destructor);
}

// per_thread.h frees each thread's kernel scratch through a pthread key (a thread_local with a destructor would need
// __cxa_thread_atexit_impl, glibc 2.18); both functions moved from libpthread into libc in 2.34.
JEMBED_HIDDEN int __wrap_pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) {
  return pthread_key_create(key, destructor);
}
JEMBED_HIDDEN int __wrap_pthread_setspecific(pthread_key_t key, const void* value) {
  return pthread_setspecific(key, value);
}

// Before glibc 2.33, fstat was an inline function in <sys/stat.h> calling __fxstat with the version of struct stat
// the caller was compiled for (_STAT_VER, no longer defined by the headers): 1 on x86-64, 0 on aarch64. The struct
// itself is the same. The mapped-file code (mapped_file.cpp) reads a file's size and type with it.
#if defined(__x86_64__)
#define JEMBED_STAT_VER 1
#else
#define JEMBED_STAT_VER 0
#endif
int __fxstat(int version, int fd, struct stat* info);
JEMBED_HIDDEN int __wrap_fstat(int fd, struct stat* info) { return __fxstat(JEMBED_STAT_VER, fd, info); }

// glibc 2.32+ sets __libc_single_threaded while a process has one thread, and libstdc++ then skips atomic
// operations on reference counts and static-initialisation guards. A JVM always has many threads: 0 ("not single
// threaded") is the truth here and keeps every operation atomic.
JEMBED_HIDDEN char __wrap___libc_single_threaded = 0;

#ifdef DLFO_STRUCT_HAS_EH_DBASE
#if DLFO_STRUCT_HAS_EH_DBASE || DLFO_STRUCT_HAS_EH_COUNT
#error "struct dl_find_object has fields here that x86-64 and aarch64 do not have: fill them"
#endif
// gcc 12's unwinder, built against glibc 2.35+, finds the unwind tables of the code it walks through with
// _dl_find_object and has no other way when that fails; before glibc 2.35 (and in gcc <= 11) it walked the loaded
// objects with dl_iterate_phdr, as this does. Called only while an exception propagates (allocation failures), so
// its speed does not matter. Fills what the unwinder reads: the object's mapping and its PT_GNU_EH_FRAME segment.
struct FindObject {
  uintptr_t address;
  struct dl_find_object* result;
};

static int find_object_in(struct dl_phdr_info* info, size_t, void* data) {
  FindObject* find = static_cast<FindObject*>(data);
  uintptr_t start = UINTPTR_MAX;
  uintptr_t end = 0;
  bool contains = false;
  const ElfW(Phdr)* eh_frame = nullptr;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type == PT_LOAD) {
      const uintptr_t lo = info->dlpi_addr + segment.p_vaddr;
      const uintptr_t hi = lo + segment.p_memsz;
      start = lo < start ? lo : start;
      end = hi > end ? hi : end;
      contains = contains || (find->address >= lo && find->address < hi);
    } else if (segment.p_type == PT_GNU_EH_FRAME) {
      eh_frame = &segment;
    }
  }
  if (!contains) {
    return 0;
  }
  struct dl_find_object* result = find->result;
  result->dlfo_flags = 0;
  result->dlfo_map_start = reinterpret_cast<void*>(start);
  result->dlfo_map_end = reinterpret_cast<void*>(end);
  result->dlfo_link_map = nullptr;  // not read by the unwinder
  result->dlfo_eh_frame =
      eh_frame == nullptr ? nullptr : reinterpret_cast<void*>(info->dlpi_addr + eh_frame->p_vaddr);
  return 1;
}

JEMBED_HIDDEN int __wrap__dl_find_object(void* address, struct dl_find_object* result) {
  FindObject find{reinterpret_cast<uintptr_t>(address), result};
  return dl_iterate_phdr(find_object_in, &find) > 0 ? 0 : -1;
}
#endif

}  // extern "C"
