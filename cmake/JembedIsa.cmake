# Instruction-set handling for jembed's kernels.
#
# Only the files that hold one instruction set's kernels get that set's flags; everything else is compiled for the
# baseline of the target, so that code every CPU runs contains no AVX instruction. ISA files keep their code in
# anonymous namespaces and use no header templates (std::sort, std::min, ...): an inline template instantiated
# under -mavx2 could otherwise be the copy the linker keeps for everyone.

include_guard(GLOBAL)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|x64)$")
  set(JEMBED_X86_64 ON)
else()
  set(JEMBED_X86_64 OFF)
endif()

# jembed_isa_sources(<target> <isa> <files...>): adds files compiled with the flags of <isa> (avx2 or avx512).
function(jembed_isa_sources target isa)
  if(isa STREQUAL "avx2")
    set(flags -mavx2 -mfma)
  elseif(isa STREQUAL "avx512")
    # gcc 12 warns falsely inside its own avx512fintrin.h (maybe-uninitialized in _mm512_abs_ps).
    set(flags -mavx512f -mavx2 -mfma)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      list(APPEND flags -Wno-maybe-uninitialized)
    endif()
  else()
    message(FATAL_ERROR "unknown instruction set '${isa}'")
  endif()
  if(MINGW)
    # GCC on Windows does not realign the stack beyond 16 bytes, yet may spill ymm/zmm registers with aligned moves
    # (GCC bug 54412): have the assembler emit unaligned moves, which cost nothing on aligned data.
    list(APPEND flags -Wa,-muse-unaligned-vector-move)
  endif()
  target_sources(${target} PRIVATE ${ARGN})
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "${flags}")
endfunction()

# Warnings as the project wants them, and no silent contraction of a*b+c into an FMA: results must not depend on
# whether the compiler found an FMA to use.
function(jembed_compile_options target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -ffp-contract=off -fno-math-errno)
  endif()
endfunction()
