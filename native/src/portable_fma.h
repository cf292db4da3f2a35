// fma rounded once, on every C library. MinGW-w64's fma/fmaf (at least up to the v10 Debian 12 ships) are not
// correctly rounded, so the scalar kernels there gave other bits than the vector variants' FMA instructions and the
// Java backend's Math.fma (seen in kernel_test under wine). Where the C library is right, its fma is used.
// Internal linkage; included by baseline files only (see cmake/JembedIsa.cmake).
#ifndef JEMBED_PORTABLE_FMA_H
#define JEMBED_PORTABLE_FMA_H

#include <math.h>
#include <stdint.h>
#include <string.h>

namespace jembed {
namespace {

// Rounds s, which is the sum a + b rounded to nearest, to odd instead: if the sum was inexact and s's last bit is
// even, the neighbour toward the exact sum has an odd last bit. Round-to-odd at 2+ extra bits followed by
// round-to-nearest is a correct single rounding (Boldo & Melquiond, IEEE TC 2008).
inline double round_sum_to_odd(double a, double b, double s) {
  const double b_part = s - a;
  const double error = (a - (s - b_part)) + (b - b_part);  // exact: Knuth's TwoSum
  uint64_t bits;
  memcpy(&bits, &s, sizeof bits);
  if (error == 0 || (bits & 1) != 0) {
    return s;
  }
  return nextafter(s, error > 0 ? INFINITY : -INFINITY);
}

// float: x*y is exact in double (24 + 24 bits), the sum is rounded to odd in double (53 >= 24 + 2), then to float.
inline float emulated_fma_f32(float x, float y, float z) {
  const double product = static_cast<double>(x) * y;
  const double sum = product + z;
  if (!isfinite(sum)) {
    return static_cast<float>(sum);  // inf and NaN as IEEE fma gives them
  }
  return static_cast<float>(round_sum_to_odd(product, z, sum));
}

// double: Dekker's exact product and TwoSum make x*y + z = high + tail + product_error exactly; the small part is
// rounded to odd, then the whole once to nearest (Boldo & Melquiond's emulation). Dekker's split needs |x|, |y| <
// 2^995 and a product far from underflow; the cases outside are exact too, except a product that overflows (or
// underflows) by itself while the sum with z would not, which get the naive x*y + z.
inline double emulated_fma_f64(double x, double y, double z) {
  if (!isfinite(x) || !isfinite(y) || !isfinite(z)) {
    return isinf(z) && isfinite(x) && isfinite(y) ? z : x * y + z;
  }
  const double limit = 0x1p995;
  if (fabs(x) >= limit && fabs(y) < 0x1p900) {  // exact rescaling; the product stays the same
    x *= 0x1p-100;
    y *= 0x1p100;
  } else if (fabs(y) >= limit && fabs(x) < 0x1p900) {
    y *= 0x1p-100;
    x *= 0x1p100;
  }
  const double product = x * y;
  if (z == 0) {  // one rounding of the product; a zero product keeps IEEE's signed-zero sum
    return x != 0 && y != 0 ? product : product + z;
  }
  if (fabs(product) < 0x1p-960) {
    // Far below half an ulp of any z of at least 2^-850: the sum rounds to z.
    return fabs(z) >= 0x1p-850 && x != 0 && y != 0 ? z : product + z;
  }
  if (!isfinite(product) || fabs(x) >= limit || fabs(y) >= limit) {
    return product + z;
  }
  const double split = 134217729.0;  // 2^27 + 1: Veltkamp's split into two 26-bit halves
  const double xs = split * x;
  const double x_hi = xs - (xs - x);
  const double x_lo = x - x_hi;
  const double ys = split * y;
  const double y_hi = ys - (ys - y);
  const double y_lo = y - y_hi;
  const double product_error = ((x_hi * y_hi - product) + x_hi * y_lo + x_lo * y_hi) + x_lo * y_lo;
  const double high = z + product;
  if (!isfinite(high)) {
    return high;
  }
  const double z_part = high - product;
  const double tail = (z - z_part) + (product - (high - z_part));
  const double small = tail + product_error;
  return high + round_sum_to_odd(tail, product_error, small);
}

inline float fma_f32(float x, float y, float z) {
#if defined(__MINGW32__)
  return emulated_fma_f32(x, y, z);
#else
  return fmaf(x, y, z);
#endif
}

inline double fma_f64(double x, double y, double z) {
#if defined(__MINGW32__)
  return emulated_fma_f64(x, y, z);
#else
  return fma(x, y, z);
#endif
}

}  // namespace
}  // namespace jembed

#endif
