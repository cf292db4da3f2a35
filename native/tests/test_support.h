// What every kernel test file shares: the pass/fail tally, typed wrappers over the C ABI (so one test template covers
// float and double tables), random tables and index batches, and buffers with guard zones.
#ifndef JEMBED_TEST_SUPPORT_H
#define JEMBED_TEST_SUPPORT_H

#include <stdint.h>

#include <random>
#include <string>
#include <vector>

#include "jembed/jembed.h"

namespace jembed_test {

void check(bool ok, const std::string& what);

// The name of a variant for failure messages, e.g. "avx2 gather f32".
std::string label(int variant, const char* operation, const char* type);

// Index batches of every size and table widths of every shape the tests use.
constexpr int64_t kDims[] = {1, 3, 7, 8, 9, 16, 31, 33, 64, 128, 1000};
constexpr int64_t kBatches[] = {0, 1, 5, 100};
constexpr int64_t kRows = 57;

template <typename T>
struct Api;

template <>
struct Api<float> {
  static constexpr const char* kName = "f32";
  static int64_t gather(const float* t, int64_t r, int64_t d, const int64_t* i, int64_t n, float* o) {
    return jembed_gather_f32_i64(t, r, d, i, n, o);
  }
  static int64_t gather(const float* t, int64_t r, int64_t d, const int32_t* i, int64_t n, float* o) {
    return jembed_gather_f32_i32(t, r, d, i, n, o);
  }
  static int64_t renorm(float* t, int64_t r, int64_t d, const int64_t* i, int64_t n, double m, double p,
                        int64_t owners = 1, int64_t owner = 0) {
    return jembed_renorm_f32_i64(t, r, d, i, n, m, p, owners, owner);
  }
  static int64_t renorm(float* t, int64_t r, int64_t d, const int32_t* i, int64_t n, double m, double p,
                        int64_t owners = 1, int64_t owner = 0) {
    return jembed_renorm_f32_i32(t, r, d, i, n, m, p, owners, owner);
  }
  static int64_t backward(float* gw, int64_t r, int64_t d, const int64_t* i, int64_t n, const float* go, int64_t pad,
                          int scale, int64_t owners, int64_t owner) {
    return jembed_dense_backward_f32_i64(gw, r, d, i, n, go, pad, scale, owners, owner);
  }
  static int64_t backward(float* gw, int64_t r, int64_t d, const int32_t* i, int64_t n, const float* go, int64_t pad,
                          int scale, int64_t owners, int64_t owner) {
    return jembed_dense_backward_f32_i32(gw, r, d, i, n, go, pad, scale, owners, owner);
  }
  static int64_t bag(const float* t, int64_t r, int64_t d, const int64_t* i, int64_t n, const int64_t* o, int64_t b,
                     int64_t bs, const float* w, int64_t pad, int mode, int flags, float* out, int64_t* arg) {
    return jembed_embedding_bag_f32_i64(t, r, d, i, n, o, b, bs, w, pad, mode, flags, out, arg);
  }
  static int64_t bag(const float* t, int64_t r, int64_t d, const int32_t* i, int64_t n, const int32_t* o, int64_t b,
                     int64_t bs, const float* w, int64_t pad, int mode, int flags, float* out, int64_t* arg) {
    return jembed_embedding_bag_f32_i32(t, r, d, i, n, o, b, bs, w, pad, mode, flags, out, arg);
  }
  static int64_t bag_backward(float* gw, int64_t r, int64_t d, const int64_t* i, int64_t n, const int64_t* o,
                              int64_t b, int64_t bs, const float* go, const float* w, int64_t pad, int mode, int scale,
                              const int64_t* arg, int64_t owners, int64_t owner) {
    return jembed_embedding_bag_backward_f32_i64(gw, r, d, i, n, o, b, bs, go, w, pad, mode, scale, arg, owners,
                                                 owner);
  }
  static int64_t bag_backward(float* gw, int64_t r, int64_t d, const int32_t* i, int64_t n, const int32_t* o,
                              int64_t b, int64_t bs, const float* go, const float* w, int64_t pad, int mode, int scale,
                              const int64_t* arg, int64_t owners, int64_t owner) {
    return jembed_embedding_bag_backward_f32_i32(gw, r, d, i, n, o, b, bs, go, w, pad, mode, scale, arg, owners,
                                                 owner);
  }
  // Renorm agreement with the scalar variant, relative per element: SIMD sums in another order, and float rounding
  // of a norm of up to 1000 terms moves it by some 1e-7 relative, which the scale passes on to every element.
  static constexpr double kRenormTolerance = 1e-5;
};

template <>
struct Api<double> {
  static constexpr const char* kName = "f64";
  static int64_t gather(const double* t, int64_t r, int64_t d, const int64_t* i, int64_t n, double* o) {
    return jembed_gather_f64_i64(t, r, d, i, n, o);
  }
  static int64_t gather(const double* t, int64_t r, int64_t d, const int32_t* i, int64_t n, double* o) {
    return jembed_gather_f64_i32(t, r, d, i, n, o);
  }
  static int64_t renorm(double* t, int64_t r, int64_t d, const int64_t* i, int64_t n, double m, double p,
                        int64_t owners = 1, int64_t owner = 0) {
    return jembed_renorm_f64_i64(t, r, d, i, n, m, p, owners, owner);
  }
  static int64_t renorm(double* t, int64_t r, int64_t d, const int32_t* i, int64_t n, double m, double p,
                        int64_t owners = 1, int64_t owner = 0) {
    return jembed_renorm_f64_i32(t, r, d, i, n, m, p, owners, owner);
  }
  static int64_t backward(double* gw, int64_t r, int64_t d, const int64_t* i, int64_t n, const double* go,
                          int64_t pad, int scale, int64_t owners, int64_t owner) {
    return jembed_dense_backward_f64_i64(gw, r, d, i, n, go, pad, scale, owners, owner);
  }
  static int64_t backward(double* gw, int64_t r, int64_t d, const int32_t* i, int64_t n, const double* go,
                          int64_t pad, int scale, int64_t owners, int64_t owner) {
    return jembed_dense_backward_f64_i32(gw, r, d, i, n, go, pad, scale, owners, owner);
  }
  static int64_t bag(const double* t, int64_t r, int64_t d, const int64_t* i, int64_t n, const int64_t* o,
                     int64_t b, int64_t bs, const double* w, int64_t pad, int mode, int flags, double* out,
                     int64_t* arg) {
    return jembed_embedding_bag_f64_i64(t, r, d, i, n, o, b, bs, w, pad, mode, flags, out, arg);
  }
  static int64_t bag(const double* t, int64_t r, int64_t d, const int32_t* i, int64_t n, const int32_t* o,
                     int64_t b, int64_t bs, const double* w, int64_t pad, int mode, int flags, double* out,
                     int64_t* arg) {
    return jembed_embedding_bag_f64_i32(t, r, d, i, n, o, b, bs, w, pad, mode, flags, out, arg);
  }
  static int64_t bag_backward(double* gw, int64_t r, int64_t d, const int64_t* i, int64_t n, const int64_t* o,
                              int64_t b, int64_t bs, const double* go, const double* w, int64_t pad, int mode,
                              int scale, const int64_t* arg, int64_t owners, int64_t owner) {
    return jembed_embedding_bag_backward_f64_i64(gw, r, d, i, n, o, b, bs, go, w, pad, mode, scale, arg, owners,
                                                 owner);
  }
  static int64_t bag_backward(double* gw, int64_t r, int64_t d, const int32_t* i, int64_t n, const int32_t* o,
                              int64_t b, int64_t bs, const double* go, const double* w, int64_t pad, int mode,
                              int scale, const int64_t* arg, int64_t owners, int64_t owner) {
    return jembed_embedding_bag_backward_f64_i32(gw, r, d, i, n, o, b, bs, go, w, pad, mode, scale, arg, owners,
                                                 owner);
  }
  static constexpr double kRenormTolerance = 1e-12;
};

// Standard normal values; with zero_fraction > 0 some are exactly zero (for p = 0 and -inf norms).
template <typename T>
std::vector<T> random_table(std::mt19937_64& rng, int64_t rows, int64_t dim, double zero_fraction = 0) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<T> table(static_cast<size_t>(rows * dim));
  for (auto& v : table) {
    v = uniform(rng) < zero_fraction ? T(0) : static_cast<T>(normal(rng));
  }
  return table;
}

// About half the entries repeat an earlier one: duplicates are the common case in real batches.
std::vector<int64_t> random_indices(std::mt19937_64& rng, int64_t rows, int64_t n);

template <typename I>
std::vector<I> narrowed(const std::vector<int64_t>& idx) {
  return std::vector<I>(idx.begin(), idx.end());
}

// A 64-byte aligned block (jembed_alloc) holding `guard` sentinel elements, `count` payload elements starting one
// element past the guard (so the payload is never 64-byte aligned, nor 32-byte aligned), and `guard` more sentinels.
template <typename T>
class GuardedBuffer {
 public:
  static constexpr int64_t kGuard = 16;

  explicit GuardedBuffer(int64_t count) : count_(count), total_(count + 2 * kGuard + 1) {
    block_ = static_cast<T*>(jembed_alloc(total_ * static_cast<int64_t>(sizeof(T))));
    for (int64_t k = 0; k < total_; ++k) {
      block_[k] = sentinel();
    }
  }
  ~GuardedBuffer() { jembed_free(block_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  T* data() { return block_ + kGuard + 1; }
  std::vector<T> payload() const { return std::vector<T>(block_ + kGuard + 1, block_ + kGuard + 1 + count_); }

  bool guards_intact() const {
    for (int64_t k = 0; k < total_; ++k) {
      const bool payload = k > kGuard && k <= kGuard + count_;
      if (!payload && block_[k] != sentinel()) {
        return false;
      }
    }
    return true;
  }

  static T sentinel() { return static_cast<T>(-12345.5); }

 private:
  int64_t count_;
  int64_t total_;
  T* block_;
};

// Prints the tally; the process's exit status: 0 when every check passed.
int finish();

// The gather cases of gather_test.cpp on one variant.
void test_gather(int variant, std::mt19937_64& rng);

// The EmbeddingBag cases of bag_test.cpp on one variant (forward and backward, against the scalar variant and by hand).
void test_bags(int variant, std::mt19937_64& rng);

// The cosine top-k cases of nearest_test.cpp on one variant.
void test_nearest(int variant, std::mt19937_64& rng);

// The float16/bfloat16 cases of half_test.cpp on one variant (conversions, gathers, bags).
void test_half(int variant, std::mt19937_64& rng);

// The read-only file maps of mapped_file_test.cpp.
void test_mapped_file();

}  // namespace jembed_test

#endif
