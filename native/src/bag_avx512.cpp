// AVX-512 EmbeddingBag forwards: 16 floats or 8 doubles per vector, sums in blocks of 8 vectors (128 floats), max in
// blocks of 8 with the winning row indices in 64-bit lanes (two more registers per float vector; there are 32). A
// row's last partial vector is one masked load and, per bag, one masked store: ordinary memory operations on AVX-512
// cores, which neither read nor write the lanes they leave out. Compiled with -mavx512f; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "bag_loop.h"
#include "half_float.h"

namespace jembed {
namespace {

struct Avx512F32 {
  using T = float;
  using V = __m512;
  using M = __mmask16;
  struct A {
    __m512i lo;
    __m512i hi;
  };
  static constexpr int kWidth = 16;
  static constexpr int kSumBlock = 8;
  static constexpr int kMaxBlock = 8;

  static __mmask16 lanes_below(int count) { return static_cast<__mmask16>((1u << count) - 1u); }
  static V zero() { return _mm512_setzero_ps(); }
  static V broadcast(T x) { return _mm512_set1_ps(x); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V load_part(const T* p, int count) { return _mm512_maskz_loadu_ps(lanes_below(count), p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static void store_part(T* p, V v, int count) { _mm512_mask_storeu_ps(p, lanes_below(count), v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V fma(V x, V w, V acc) { return _mm512_fmadd_ps(x, w, acc); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static M greater(V x, V acc) { return _mm512_cmp_ps_mask(x, acc, _CMP_GT_OQ); }
  static V select(M m, V x, V acc) { return _mm512_mask_blend_ps(m, acc, x); }
  static A arg_broadcast(int64_t r) { return A{_mm512_set1_epi64(r), _mm512_set1_epi64(r)}; }
  static A arg_select(M m, A r, A acc) {
    return A{_mm512_mask_blend_epi64(static_cast<__mmask8>(m), acc.lo, r.lo),
             _mm512_mask_blend_epi64(static_cast<__mmask8>(m >> 8), acc.hi, r.hi)};
  }
  static void arg_store(int64_t* p, A a) {
    _mm512_storeu_si512(p, a.lo);
    _mm512_storeu_si512(p + 8, a.hi);
  }
  static void arg_store_part(int64_t* p, A a, int count) {
    const int low = count < 8 ? count : 8;
    _mm512_mask_storeu_epi64(p, static_cast<__mmask8>((1u << low) - 1u), a.lo);
    if (count > 8) {
      _mm512_mask_storeu_epi64(p + 8, static_cast<__mmask8>((1u << (count - 8)) - 1u), a.hi);
    }
  }
};

struct Avx512F64 {
  using T = double;
  using V = __m512d;
  using M = __mmask8;
  using A = __m512i;
  static constexpr int kWidth = 8;
  static constexpr int kSumBlock = 8;
  static constexpr int kMaxBlock = 8;

  static __mmask8 lanes_below(int count) { return static_cast<__mmask8>((1u << count) - 1u); }
  static V zero() { return _mm512_setzero_pd(); }
  static V broadcast(T x) { return _mm512_set1_pd(x); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V load_part(const T* p, int count) { return _mm512_maskz_loadu_pd(lanes_below(count), p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static void store_part(T* p, V v, int count) { _mm512_mask_storeu_pd(p, lanes_below(count), v); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V fma(V x, V w, V acc) { return _mm512_fmadd_pd(x, w, acc); }
  static V div(V a, V b) { return _mm512_div_pd(a, b); }
  static M greater(V x, V acc) { return _mm512_cmp_pd_mask(x, acc, _CMP_GT_OQ); }
  static V select(M m, V x, V acc) { return _mm512_mask_blend_pd(m, acc, x); }
  static A arg_broadcast(int64_t r) { return _mm512_set1_epi64(r); }
  static A arg_select(M m, A r, A acc) { return _mm512_mask_blend_epi64(m, acc, r); }
  static void arg_store(int64_t* p, A a) { _mm512_storeu_si512(p, a); }
  static void arg_store_part(int64_t* p, A a, int count) { _mm512_mask_storeu_epi64(p, lanes_below(count), a); }
};

// 16-bit tables: Avx512F32's float arithmetic on sixteen elements widened as they are loaded (vcvtph2ps, or a shift
// for bfloat16), rounded once to nearest even as they are stored (vcvtps2ph, or c10's integer rounding: the AVX512-BF16
// vcvtneps2bf16 flushes subnormals). Masked 16-bit moves need AVX512-BW, which the variant does not require: a
// partial vector goes through a small buffer, both ways.
// The two formats' conversions, sixteen elements at a time (half_float.h).
struct Fp16x16 {
  static __m512 load(const uint16_t* p) { return fp16x16_load(p); }
  static __m256i narrow(__m512 v) { return fp16x16_from(v); }
  static float widen(uint16_t x) { return fp16_to_float(x); }
};
struct Bf16x16 {
  static __m512 load(const uint16_t* p) { return bf16x16_load(p); }
  static __m256i narrow(__m512 v) { return bf16x16_from(v); }
  static float widen(uint16_t x) { return bf16_to_float(x); }
};

template <typename Format>
struct Avx512Half : Avx512F32 {
  using T = uint16_t;
  static V broadcast(T x) { return _mm512_set1_ps(Format::widen(x)); }
  static V broadcast_count(int64_t count) { return _mm512_set1_ps(static_cast<float>(count)); }
  static V load(const T* p) { return Format::load(p); }
  static V load_part(const T* p, int count) {
    alignas(32) uint16_t lanes[16] = {};
    for (int k = 0; k < count; ++k) {
      lanes[k] = p[k];
    }
    return Format::load(lanes);
  }
  static void store(T* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), Format::narrow(v)); }
  static void store_part(T* p, V v, int count) {
    alignas(32) uint16_t lanes[16];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), Format::narrow(v));
    for (int k = 0; k < count; ++k) {
      p[k] = lanes[k];
    }
  }
};
using Avx512F16 = Avx512Half<Fp16x16>;
using Avx512BF16 = Avx512Half<Bf16x16>;

}  // namespace

JEMBED_DEFINE_BAGS(avx512, Avx512F32, Avx512F64)
JEMBED_DEFINE_HALF_BAGS(avx512, Avx512F16, Avx512BF16)

}  // namespace jembed
