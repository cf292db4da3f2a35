# The glibc floor of the Linux JNI library: the oldest glibc that can load it. native/src/glibc_floor.cpp explains
# how it is kept at 2.17 while building on a newer glibc; scripts/check-glibc-floor checks the result.
#
# jembed_jni_link_flags() writes ${CMAKE_BINARY_DIR}/jni-link.rsp, a gcc response file JavaCPP passes when it links
# the JNI library (pom.xml: @.../jni-link.rsp): on Linux the floor object and the linker flags below; elsewhere
# nothing. JEMBED_JNI_LINK_FLAGS holds the same flags for CMake targets that link like the JNI library.

include_guard(GLOBAL)

# Every glibc symbol that the library, the static libstdc++ or the static libgcc reference at a version above 2.17
# when built on Debian 12. A new one fails scripts/check-glibc-floor; add it here and in glibc_floor.cpp.
set(JEMBED_GLIBC_FLOOR_WRAPPED
  pow dlopen dlsym dlerror dlclose pthread_once __pthread_key_create pthread_key_create pthread_setspecific fstat __libc_single_threaded _dl_find_object)

function(jembed_jni_link_flags)
  set(rsp "${CMAKE_BINARY_DIR}/jni-link.rsp")
  if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
    file(GENERATE OUTPUT "${rsp}" CONTENT "\n")
    return()
  endif()
  add_library(jembed_glibc_floor OBJECT src/glibc_floor.cpp)
  jembed_compile_options(jembed_glibc_floor)
  set(flags)
  foreach(symbol ${JEMBED_GLIBC_FLOOR_WRAPPED})
    list(APPEND flags "-Wl,--wrap=${symbol}")
  endforeach()
  list(APPEND flags
    # The static libstdc++'s and libgcc's symbols stay inside (they are not jembed's API, and another library's copy
    # could otherwise interpose), and what nothing calls goes: std::random_device, for one, which needs
    # arc4random (glibc 2.36) and came in only because the copy-on-write std::string's object file names it.
    "-Wl,--exclude-libs,ALL" "-Wl,--gc-sections"
    # Where the dl* and pthread functions live before glibc 2.34 (empty stubs from 2.34 on).
    "-Wl,--push-state,--no-as-needed" "-l:libdl.so.2" "-l:libpthread.so.0" "-Wl,--pop-state")
  set(JEMBED_JNI_LINK_FLAGS ${flags} PARENT_SCOPE)
  string(JOIN "\n" lines ${flags})
  file(GENERATE OUTPUT "${rsp}" CONTENT "\"$<JOIN:$<TARGET_OBJECTS:jembed_glibc_floor>,\"\n\">\"\n${lines}\n")
endfunction()
