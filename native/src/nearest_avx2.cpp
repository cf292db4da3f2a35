// AVX2+FMA row scan of the nearest-neighbour search: 8 floats per step, the tail with vmaskmovps (masked-off lanes
// are not read and cannot fault). Compiled with -mavx2 -mfma; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "nearest.h"
#include "nearest_loop.h"

namespace jembed {
namespace {

struct Avx2F32 {
  using Reg = __m256;
  static constexpr int64_t kWidth = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg load_tail(const float* p, int n) {
    // Lane i is loaded when its mask's sign bit is set: i < n.
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes);
    return _mm256_maskload_ps(p, mask);
  }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static float sum(Reg a) {
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
    return _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)));
  }
};

}  // namespace

JEMBED_DEFINE_DOT_NORM(avx2, Avx2F32)

}  // namespace jembed
