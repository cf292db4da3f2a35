// Portable row scan of the nearest-neighbour search: the traits of a one-lane "vector". A multiply and an add, not
// fma: without FMA instructions fmaf is a library call per element, and the variants' sums differ in order anyway.
#include "nearest.h"
#include "nearest_loop.h"

namespace jembed {
namespace {

struct ScalarF32 {
  using Reg = float;
  static constexpr int64_t kWidth = 1;
  static Reg zero() { return 0.0f; }
  static Reg load(const float* p) { return *p; }
  static Reg load_tail(const float* p, int) { return *p; }  // never called: a tail is shorter than one lane
  static Reg fma(Reg a, Reg b, Reg c) { return a * b + c; }
  static Reg add(Reg a, Reg b) { return a + b; }
  static float sum(Reg a) { return a; }
};

}  // namespace

JEMBED_DEFINE_DOT_NORM(scalar, ScalarF32)

}  // namespace jembed
