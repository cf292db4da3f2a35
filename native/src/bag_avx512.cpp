// AVX-512 EmbeddingBag forwards: 16 floats or 8 doubles per vector, sums in blocks of 8 vectors (128 floats), max in
// blocks of 8 with the winning row indices in 64-bit lanes (two more registers per float vector; there are 32). A
// row's last partial vector is one masked load and, per bag, one masked store: ordinary memory operations on AVX-512
// cores, which neither read nor write the lanes they leave out. Compiled with -mavx512f; see cmake/JembedIsa.cmake.
#include <immintrin.h>

#include "bag_loop.h"

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

}  // namespace

JEMBED_DEFINE_BAGS(avx512, Avx512F32, Avx512F64)

}  // namespace jembed
