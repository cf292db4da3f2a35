// The fma emulation of src/portable_fma.h (used on MinGW, whose fma is not correctly rounded) against a C library
// whose fma is (glibc), on random operands and on the cases where one rounding differs from two: near-cancellation
// (z close to -x*y) and sums that land between two floats.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <random>

#include "portable_fma.h"

namespace {

int failed = 0;
long checked = 0;

template <typename T>
bool same_bits(T a, T b) {
  return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

void check_f32(float x, float y, float z) {
  ++checked;
  const float want = fmaf(x, y, z);
  const float got = jembed::emulated_fma_f32(x, y, z);
  if (!same_bits(want, got) && failed++ < 10) {
    printf("FAIL: fma_f32(%a, %a, %a) = %a, expected %a\n", x, y, z, got, want);
  }
}

void check_f64(double x, double y, double z) {
  ++checked;
  const double want = fma(x, y, z);
  const double got = jembed::emulated_fma_f64(x, y, z);
  if (!same_bits(want, got) && failed++ < 10) {
    printf("FAIL: fma_f64(%a, %a, %a) = %a, expected %a\n", x, y, z, got, want);
  }
}

}  // namespace

int main() {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-60, 60);
  for (int i = 0; i < 2000000; ++i) {
    const double x = ldexp(unit(rng), exponent(rng));
    const double y = ldexp(unit(rng), exponent(rng));
    const double z = ldexp(unit(rng), exponent(rng));
    check_f64(x, y, z);
    check_f64(x, y, -x * y * (1 + ldexp(unit(rng), -50)));  // near-cancellation
    check_f32(static_cast<float>(x), static_cast<float>(y), static_cast<float>(z));
    const float xf = static_cast<float>(x), yf = static_cast<float>(y);
    check_f32(xf, yf, -xf * yf);                               // the product's rounding error, exactly
    check_f32(xf, yf, static_cast<float>(-x * y * (1 + ldexp(unit(rng), -20))));
  }
  // Special values: signed zeros, infinities, NaN, and the ends of the range where the emulation falls back.
  const double specials[] = {0.0, -0.0, 1.0, -1.0, INFINITY, -INFINITY, NAN, 0x1p1000, -0x1p-1000, 0x1p-1074};
  for (double x : specials) {
    for (double y : specials) {
      for (double z : specials) {
        check_f64(x, y, z);
        check_f32(static_cast<float>(x), static_cast<float>(y), static_cast<float>(z));
      }
    }
  }
  printf("%ld fma checks, %d failed\n", checked, failed);
  return failed == 0 ? 0 : 1;
}
