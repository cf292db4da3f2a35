// One T per thread, created on the thread's first use and deleted when the thread exits.
//
// A thread_local object with a destructor makes the compiler register it through __cxa_thread_atexit_impl, a glibc
// 2.18 symbol that would lift the Linux library above its glibc 2.17 floor (scripts/check-glibc-floor). On Linux the
// thread_local here is a plain pointer (no destructor to register) and a pthread key, which glibc 2.17 has, deletes
// the object at thread exit. Elsewhere a thread_local object does the same job.
// Internal linkage (anonymous namespace); see cmake/JembedIsa.cmake.
#ifndef JEMBED_PER_THREAD_H
#define JEMBED_PER_THREAD_H

#if defined(__linux__)
#include <pthread.h>
#endif

namespace jembed {
namespace {

template <typename T>
T& per_thread() {
#if defined(__linux__)
  static thread_local T* object = nullptr;
  if (object == nullptr) {
    static const pthread_key_t key = [] {
      pthread_key_t k;
      // Without a key the object would only leak at thread exit; the lookup still works.
      if (pthread_key_create(&k, [](void* p) { delete static_cast<T*>(p); }) != 0) k = pthread_key_t(-1);
      return k;
    }();
    T* created = new T();
    if (key != pthread_key_t(-1)) pthread_setspecific(key, created);
    object = created;
  }
  return *object;
#else
  static thread_local T object;
  return object;
#endif
}

}  // namespace
}  // namespace jembed

#endif
