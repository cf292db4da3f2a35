// AVX2+FMA EmbeddingBag forwards: 8 floats or 4 doubles per vector, sums in blocks of 8 vectors (64 floats), max in
// blocks of 4 (its winning row indices take two more registers per float vector). A row's last partial vector is read
// with vmaskmov (a masked load does not fault on the lanes it leaves out; on AMD cores it is the masked store that is
// slow, so partial vectors are stored through a small buffer, once per bag). Compiled with -mavx2 -mfma; see
// cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "bag_loop.h"
#include "half_float.h"

namespace jembed {
namespace {

struct Avx2F32 {
  using T = float;
  using V = __m256;
  using M = __m256;
  struct A {
    __m256i lo;
    __m256i hi;
  };
  static constexpr int kWidth = 8;
  static constexpr int kSumBlock = 8;
  static constexpr int kMaxBlock = 4;

  static __m256i lanes_below(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V zero() { return _mm256_setzero_ps(); }
  static V broadcast(T x) { return _mm256_set1_ps(x); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V load_part(const T* p, int count) { return _mm256_maskload_ps(p, lanes_below(count)); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static void store_part(T* p, V v, int count) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, v);
    for (int k = 0; k < count; ++k) {
      p[k] = lanes[k];
    }
  }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V fma(V x, V w, V acc) { return _mm256_fmadd_ps(x, w, acc); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static M greater(V x, V acc) { return _mm256_cmp_ps(x, acc, _CMP_GT_OQ); }
  static V select(M m, V x, V acc) { return _mm256_blendv_ps(acc, x, m); }
  static A arg_broadcast(int64_t r) { return A{_mm256_set1_epi64x(r), _mm256_set1_epi64x(r)}; }
  static A arg_select(M m, A r, A acc) {
    const __m256i bits = _mm256_castps_si256(m);
    const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(bits));
    const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(bits, 1));
    return A{_mm256_blendv_epi8(acc.lo, r.lo, lo), _mm256_blendv_epi8(acc.hi, r.hi, hi)};
  }
  static void arg_store(int64_t* p, A a) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), a.lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 4), a.hi);
  }
  static void arg_store_part(int64_t* p, A a, int count) {
    alignas(32) int64_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a.lo);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 4), a.hi);
    for (int k = 0; k < count; ++k) {
      p[k] = lanes[k];
    }
  }
};

struct Avx2F64 {
  using T = double;
  using V = __m256d;
  using M = __m256d;
  using A = __m256i;
  static constexpr int kWidth = 4;
  static constexpr int kSumBlock = 8;
  static constexpr int kMaxBlock = 4;

  static __m256i lanes_below(int count) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static V zero() { return _mm256_setzero_pd(); }
  static V broadcast(T x) { return _mm256_set1_pd(x); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V load_part(const T* p, int count) { return _mm256_maskload_pd(p, lanes_below(count)); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static void store_part(T* p, V v, int count) {
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, v);
    for (int k = 0; k < count; ++k) {
      p[k] = lanes[k];
    }
  }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V fma(V x, V w, V acc) { return _mm256_fmadd_pd(x, w, acc); }
  static V div(V a, V b) { return _mm256_div_pd(a, b); }
  static M greater(V x, V acc) { return _mm256_cmp_pd(x, acc, _CMP_GT_OQ); }
  static V select(M m, V x, V acc) { return _mm256_blendv_pd(acc, x, m); }
  static A arg_broadcast(int64_t r) { return _mm256_set1_epi64x(r); }
  static A arg_select(M m, A r, A acc) { return _mm256_blendv_epi8(acc, r, _mm256_castpd_si256(m)); }
  static void arg_store(int64_t* p, A a) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), a); }
  static void arg_store_part(int64_t* p, A a, int count) {
    alignas(32) int64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a);
    for (int k = 0; k < count; ++k) {
      p[k] = lanes[k];
    }
  }
};

// 16-bit tables: Avx2F32's float arithmetic on eight elements widened as they are loaded (F16C's vcvtph2ps, or a
// shift for bfloat16), rounded once to nearest even as they are stored (vcvtps2ph, or c10's integer rounding). There
// is no masked 16-bit load in AVX2: a partial vector goes through a small buffer, both ways.
// The two formats' conversions, eight elements at a time (half_float.h).
struct Fp16x8 {
  static __m256 load(const uint16_t* p) { return fp16x8_load(p); }
  static __m128i narrow(__m256 v) { return fp16x8_from(v); }
  static float widen(uint16_t x) { return fp16_to_float(x); }
};
struct Bf16x8 {
  static __m256 load(const uint16_t* p) { return bf16x8_load(p); }
  static __m128i narrow(__m256 v) { return bf16x8_from(v); }
  static float widen(uint16_t x) { return bf16_to_float(x); }
};

template <typename Format>
struct Avx2Half : Avx2F32 {
  using T = uint16_t;
  static V broadcast(T x) { return _mm256_set1_ps(Format::widen(x)); }
  static V broadcast_count(int64_t count) { return _mm256_set1_ps(static_cast<float>(count)); }
  static V load(const T* p) { return Format::load(p); }
  static V load_part(const T* p, int count) {
    alignas(16) uint16_t lanes[8] = {};
    for (int k = 0; k < count; ++k) {
      lanes[k] = p[k];
    }
    return Format::load(lanes);
  }
  static void store(T* p, V v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), Format::narrow(v)); }
  static void store_part(T* p, V v, int count) {
    alignas(16) uint16_t lanes[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes), Format::narrow(v));
    for (int k = 0; k < count; ++k) {
      p[k] = lanes[k];
    }
  }
};
using Avx2F16 = Avx2Half<Fp16x8>;
using Avx2BF16 = Avx2Half<Bf16x8>;

}  // namespace

JEMBED_DEFINE_BAGS(avx2, Avx2F32, Avx2F64)
JEMBED_DEFINE_HALF_BAGS(avx2, Avx2F16, Avx2BF16)

}  // namespace jembed
