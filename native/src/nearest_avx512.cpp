// AVX-512 row scan of the nearest-neighbour search: 16 floats per step, the tail with one masked load (masked-off
// lanes are not read and cannot fault). Compiled with -mavx512f; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "nearest.h"
#include "nearest_loop.h"

namespace jembed {
namespace {

struct Avx512F32 {
  using Reg = __m512;
  static constexpr int64_t kWidth = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static Reg load_tail(const float* p, int n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p);
  }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static float sum(Reg a) { return _mm512_reduce_add_ps(a); }
};

}  // namespace

JEMBED_DEFINE_DOT_NORM(avx512, Avx512F32)

}  // namespace jembed
