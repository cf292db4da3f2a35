// Fuzz target: the six gathers (float/double/16-bit table x int64/int32 indices) on every kernel variant.
// Contract (jembed.h): out[i] = table[idx[i]] for every i; the status is JEMBED_OK, or the position of the first index
// outside [0, num_rows), found without reading or writing outside the table, the index buffer or out.
#include "fuzz_common.h"

namespace {

template <typename T, typename I>
int64_t gather(const T* table, int64_t rows, int64_t dim, const I* idx, int64_t n, T* out);
template <>
int64_t gather(const float* t, int64_t r, int64_t d, const int64_t* i, int64_t n, float* o) {
  return jembed_gather_f32_i64(t, r, d, i, n, o);
}
template <>
int64_t gather(const float* t, int64_t r, int64_t d, const int32_t* i, int64_t n, float* o) {
  return jembed_gather_f32_i32(t, r, d, i, n, o);
}
template <>
int64_t gather(const double* t, int64_t r, int64_t d, const int64_t* i, int64_t n, double* o) {
  return jembed_gather_f64_i64(t, r, d, i, n, o);
}
template <>
int64_t gather(const double* t, int64_t r, int64_t d, const int32_t* i, int64_t n, double* o) {
  return jembed_gather_f64_i32(t, r, d, i, n, o);
}

template <>
int64_t gather(const uint16_t* t, int64_t r, int64_t d, const int64_t* i, int64_t n, uint16_t* o) {
  return jembed_gather_u16_i64(t, r, d, i, n, o);
}
template <>
int64_t gather(const uint16_t* t, int64_t r, int64_t d, const int32_t* i, int64_t n, uint16_t* o) {
  return jembed_gather_u16_i32(t, r, d, i, n, o);
}

// A recognisable element for position k (16-bit tables: a bit pattern, NaN payloads included).
template <typename T>
T element(size_t k) {
  return static_cast<T>(static_cast<double>(k) + 0.25);
}
template <>
uint16_t element(size_t k) {
  return static_cast<uint16_t>(k * 40503u + 0x7C01u);
}

template <typename T>
T sentinel() {
  return static_cast<T>(-7.0);
}
template <>
uint16_t sentinel() {
  return 0xBEEF;
}

template <typename T, typename I>
void run(fuzz::Reader& in) {
  const int64_t dim = in.below(41);
  // A table without columns may have any number of rows (it holds no bytes): Java allows (2^40, 0).
  const bool huge = dim == 0 && in.flag();
  const int64_t rows = huge ? static_cast<int64_t>(in.u64() >> 1) : in.below(65);
  const int64_t n = in.below(97);
  fuzz::Buffer<I> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    idx[i] = static_cast<I>(in.index(rows));
  }
  fuzz::Buffer<T> table(static_cast<size_t>(huge ? 0 : rows * dim));
  for (size_t k = 0; k < table.size(); ++k) {
    table[k] = element<T>(k);
  }
  const fuzz::Buffer<T> before = table.copy();
  const int64_t expected = fuzz::first_bad(idx.data(), n, rows);
  fuzz::for_each_variant([&](const char* variant) {
    fuzz::Buffer<T> out(static_cast<size_t>(n * dim));
    for (size_t k = 0; k < out.size(); ++k) {
      out[k] = sentinel<T>();
    }
    const int64_t status = gather<T, I>(table.data(), rows, dim, idx.data(), n, out.data());
    FUZZ_CHECK(status == expected, variant);
    FUZZ_CHECK(table.same_bytes(before), variant);
    if (status == JEMBED_OK) {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t r = static_cast<int64_t>(idx[i]);
        FUZZ_CHECK(dim == 0 || memcmp(out.data() + i * dim, table.data() + r * dim, dim * sizeof(T)) == 0, variant);
      }
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  switch (in.u8() % 6) {
    case 0: run<float, int64_t>(in); break;
    case 1: run<float, int32_t>(in); break;
    case 2: run<double, int64_t>(in); break;
    case 3: run<double, int32_t>(in); break;
    case 4: run<uint16_t, int64_t>(in); break;
    default: run<uint16_t, int32_t>(in); break;
  }
  return 0;
}
