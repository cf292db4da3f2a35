// What the fuzz targets share: a reader that turns fuzz bytes into sizes, indices and values (reading past the end
// gives zeros, so every input is valid), exactly-sized heap buffers (so AddressSanitizer sees any access outside
// them), the loop over every kernel variant this CPU runs, and the contract checks' failure report.
//
// Each target defines LLVMFuzzerTestOneInput and links with libFuzzer (-fsanitize=fuzzer).
#ifndef JEMBED_FUZZ_COMMON_H
#define JEMBED_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <limits>
#include <memory>
#include <vector>

#include "jembed/jembed.h"

namespace fuzz {

// A contract violation: print what and where, then abort so that libFuzzer (or the replay driver) records a crash.
[[noreturn]] inline void fail(const char* what, const char* file, int line, const char* variant) {
  fprintf(stderr, "CONTRACT VIOLATION (%s kernels) at %s:%d: %s\n", variant, file, line, what);
  abort();
}
#define FUZZ_CHECK(cond, variant)                     \
  do {                                                \
    if (!(cond)) {                                    \
      ::fuzz::fail(#cond, __FILE__, __LINE__, variant); \
    }                                                 \
  } while (0)

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) | (static_cast<uint32_t>(u16()) << 16); }
  uint64_t u64() { return static_cast<uint64_t>(u32()) | (static_cast<uint64_t>(u32()) << 32); }
  bool flag() { return (u8() & 1) != 0; }
  // A value in [0, bound) (bound > 0).
  int64_t below(int64_t bound) { return static_cast<int64_t>(u16() % static_cast<uint64_t>(bound)); }

  // An index for a table of `rows` rows: mostly in range, sometimes at or past either end, or extreme.
  int64_t index(int64_t rows) {
    const uint8_t kind = u8();
    if (kind < 200) {
      return rows > 0 ? static_cast<int64_t>(u16() % static_cast<uint64_t>(rows)) : 0;
    }
    switch (kind % 10) {
      case 0: return -1;
      case 1: return rows;
      case 2: {
        const int64_t past = static_cast<int64_t>(u8());
        return rows > std::numeric_limits<int64_t>::max() - past ? std::numeric_limits<int64_t>::max() : rows + past;
      }
      case 3: return std::numeric_limits<int64_t>::min();
      case 4: return std::numeric_limits<int64_t>::max();
      case 5: return std::numeric_limits<int32_t>::min();
      case 6: return std::numeric_limits<int32_t>::max();
      case 7: return int64_t{1} << 32;  // in range for an int32 view of the low bits, not as int64
      case 8: return -static_cast<int64_t>(u16()) - 1;
      default: return static_cast<int64_t>(u64());
    }
  }

  // A table value: small multiples of 1/8 (exact in float), or, when `specials`, NaN, infinities, -0, subnormals
  // and huge values.
  double value(bool specials) {
    const uint8_t kind = u8();
    if (!specials || kind < 224) {
      return static_cast<double>(static_cast<int8_t>(u8())) / 8.0;
    }
    switch (kind % 8) {
      case 0: return std::numeric_limits<double>::quiet_NaN();
      case 1: return std::numeric_limits<double>::infinity();
      case 2: return -std::numeric_limits<double>::infinity();
      case 3: return -0.0;
      case 4: return 1e-40;   // subnormal as float
      case 5: return 3e38;    // near float's max
      case 6: return -1e300;  // infinite as float
      default: return static_cast<double>(static_cast<int32_t>(u32())) * 1e-3;
    }
  }

  size_t remaining() const { return pos_ < size_ ? size_ - pos_ : 0; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// `count` elements on the heap, exactly: ASan reports any access outside [data, data + count). A zero count still
// gives a distinct non-null pointer with no accessible byte, as an empty tensor's 64-byte block does for Java.
template <typename T>
class Buffer {
 public:
  explicit Buffer(size_t count) : count_(count), data_(new T[count]()) {}
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return count_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  bool same_bytes(const Buffer& other) const {
    return count_ == other.count_ && (count_ == 0 || memcmp(data(), other.data(), count_ * sizeof(T)) == 0);
  }
  Buffer copy() const {
    Buffer b(count_);
    if (count_ > 0) {
      memcpy(b.data(), data(), count_ * sizeof(T));
    }
    return b;
  }

 private:
  size_t count_;
  std::unique_ptr<T[]> data_;
};

// Equal bits, or both NaN (NaN payloads may differ between scalar and vector instructions).
template <typename T>
bool same_value(T a, T b) {
  if (a != a && b != b) {
    return true;
  }
  return memcmp(&a, &b, sizeof(T)) == 0;
}

template <typename T>
bool same_values(const T* a, const T* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!same_value(a[i], b[i])) {
      return false;
    }
  }
  return true;
}

// The position of the first index outside [0, rows), or JEMBED_OK: the kernels' documented status.
template <typename I>
int64_t first_bad(const I* idx, int64_t n, int64_t rows) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = static_cast<int64_t>(idx[i]);
    if (r < 0 || r >= rows) {
      return i;
    }
  }
  return JEMBED_OK;
}

// Runs fn(variant_name) once per kernel variant the CPU supports, with that variant selected; leaves scalar
// selected afterwards (the choice is global, as in the JVM).
template <typename Fn>
void for_each_variant(Fn fn) {
  for (int v = 0; v < JEMBED_VARIANT_COUNT; ++v) {
    if (jembed_variant_supported(v) == 1) {
      FUZZ_CHECK(jembed_select_variant(v) == 0, jembed_variant_name(v));
      FUZZ_CHECK(jembed_active_variant() == v, jembed_variant_name(v));
      fn(jembed_variant_name(v));
    }
  }
  jembed_select_variant(JEMBED_VARIANT_SCALAR);
}

}  // namespace fuzz

#endif
