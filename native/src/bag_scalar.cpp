// Portable EmbeddingBag forwards: "vectors" of one element, blocks of 8 columns kept in registers per pass over a bag.
// This is the reference the vector variants are tested against (kernel_test), and the shape of the Ops interface
// that bag_loop.h needs from each variant.
#include "bag_loop.h"
#include "half_float.h"
#include "portable_fma.h"

namespace jembed {
namespace {

template <typename Elem>
struct ScalarOps {
  using T = Elem;
  using V = Elem;
  using M = bool;      // the result of a comparison
  using A = int64_t;   // the winning row index of each lane of a V
  static constexpr int kWidth = 1;
  static constexpr int kSumBlock = 8;
  static constexpr int kMaxBlock = 8;

  static V zero() { return T(0); }
  static V broadcast(T x) { return x; }
  static V load(const T* p) { return *p; }
  static V load_part(const T* p, int) { return *p; }  // lanes in [0, count), the rest 0 and never read
  static void store(T* p, V v) { *p = v; }
  static void store_part(T* p, V v, int) { *p = v; }
  static V add(V a, V b) { return a + b; }
  static V mul(V a, V b) { return a * b; }
  static V fma(V x, V w, V acc) { return fused(x, w, acc); }  // one rounding
  static V div(V a, V b) { return a / b; }
  static M greater(V x, V acc) { return x > acc; }
  static V select(M m, V x, V acc) { return m ? x : acc; }
  static A arg_broadcast(int64_t r) { return r; }
  static A arg_select(M m, A r, A acc) { return m ? r : acc; }
  static void arg_store(int64_t* p, A a) { *p = a; }
  static void arg_store_part(int64_t* p, A a, int) { *p = a; }

 private:
  static float fused(float x, float w, float acc) { return fma_f32(x, w, acc); }
  static double fused(double x, double w, double acc) { return fma_f64(x, w, acc); }
};

// 16-bit tables: float arithmetic (ScalarOps<float>'s), each element widened exactly as it is loaded and the result
// rounded once, to nearest even, as it is stored.
struct Fp16 {
  static float widen(uint16_t x) { return fp16_to_float(x); }
  static uint16_t narrow(float x) { return float_to_fp16(x); }
};
struct Bf16 {
  static float widen(uint16_t x) { return bf16_to_float(x); }
  static uint16_t narrow(float x) { return float_to_bf16(x); }
};

template <typename Format>
struct ScalarHalfOps : ScalarOps<float> {
  using T = uint16_t;
  static V broadcast(T x) { return Format::widen(x); }
  static V broadcast_count(int64_t count) { return static_cast<float>(count); }
  static V load(const T* p) { return Format::widen(*p); }
  static V load_part(const T* p, int) { return Format::widen(*p); }
  static void store(T* p, V v) { *p = Format::narrow(v); }
  static void store_part(T* p, V v, int) { *p = Format::narrow(v); }
};
using ScalarF16Ops = ScalarHalfOps<Fp16>;
using ScalarBF16Ops = ScalarHalfOps<Bf16>;

}  // namespace

JEMBED_DEFINE_BAGS(scalar, ScalarOps<float>, ScalarOps<double>)
JEMBED_DEFINE_HALF_BAGS(scalar, ScalarF16Ops, ScalarBF16Ops)

}  // namespace jembed
