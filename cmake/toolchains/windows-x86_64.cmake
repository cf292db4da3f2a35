# Cross-compiles the kernels for windows-x86_64 with Debian's mingw-w64, posix thread model (the win32 model of
# Debian's gcc 12 has no std::thread). ctest runs the .exe tests under wine when it is installed.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

# Test executables carry the C++ runtime, so wine needs no mingw DLLs on its path.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Debian's wine64 package puts its loader in /usr/lib/wine (the `wine` wrapper comes with the `wine` package). The
# prefix lives in the build directory, so a build never touches ~/.wine; WINEDEBUG=-all keeps wine's noise out of
# the test output.
find_program(JEMBED_WINE NAMES wine64 wine HINTS /usr/lib/wine)
if(JEMBED_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      "${CMAKE_COMMAND};-E;env;WINEDEBUG=-all;WINEPREFIX=${CMAKE_BINARY_DIR}/wineprefix;${JEMBED_WINE}")
endif()
