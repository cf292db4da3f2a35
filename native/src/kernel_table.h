// The kernels of each instruction-set variant, and the table that dispatch.cpp fills from them once.
// Shared by every translation unit, so it declares only plain functions and types: no inline code, no templates.
#ifndef JEMBED_KERNEL_TABLE_H
#define JEMBED_KERNEL_TABLE_H

#include <stdint.h>

namespace jembed {

// Rows this many lookups ahead are prefetched by the gathers, backward passes and renorms.
constexpr int64_t kPrefetchDistance = 16;
// The float bag forwards prefetch about this many cache lines of rows ahead (prefetch_rows_ahead): 64 lookups of
// one-line rows (dim 16 floats), 32 of dim 64, 16 of dim 128, 8 of dim 256 and wider. A fixed 16 lookups kept only
// 16 lines in flight for one-line rows, where a DRAM gather waits on latency, and hundreds for wide rows, more than
// the core tracks. From interleaved JMH forks on a loaded machine (docs/bench/bags/README.md).
constexpr int64_t kBagPrefetchLines = 128;
constexpr int64_t kBagPrefetchMinRows = 8;
constexpr int64_t kBagPrefetchMaxRows = 64;
// Prefetching covers at most this many bytes of a row; the hardware prefetcher follows the rest.
constexpr int64_t kPrefetchBytes = 1024;

#define JEMBED_DECLARE_VARIANT(ns)                                                                              \
  namespace ns {                                                                                                \
  int64_t gather_f32_i64(const float* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,          \
                         float* out);                                                                           \
  int64_t gather_f32_i32(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,          \
                         float* out);                                                                           \
  int64_t gather_f64_i64(const double* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,         \
                         double* out);                                                                          \
  int64_t gather_f64_i32(const double* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,         \
                         double* out);                                                                          \
  /* The norm_type-norm of one row, accumulated in the row's precision, widened to double. */                   \
  double row_norm_f32(const float* row, int64_t dim, double norm_type);                                         \
  double row_norm_f64(const double* row, int64_t dim, double norm_type);                                        \
  /* acc[j] += x[j], and acc[j] = fma(x[j], alpha, acc[j]) (one rounding, as PyTorch's vectorised add_stub). */ \
  void add_row_f32(float* acc, const float* x, int64_t dim);                                                    \
  void add_row_f64(double* acc, const double* x, int64_t dim);                                                  \
  void fma_row_f32(float* acc, const float* x, float alpha, int64_t dim);                                       \
  void fma_row_f64(double* acc, const double* x, double alpha, int64_t dim);                                    \
  /* The fused EmbeddingBag forwards (bag_loop.h; arguments as jembed_embedding_bag_*). */                      \
  int64_t bag_f32_i64(const float* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,             \
                      const int64_t* offsets, int64_t num_bags, int64_t bag_size, const float* weights,         \
                      int64_t padding_idx, int mode, int flags, float* out, int64_t* max_indices);              \
  int64_t bag_f32_i32(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,             \
                      const int32_t* offsets, int64_t num_bags, int64_t bag_size, const float* weights,         \
                      int64_t padding_idx, int mode, int flags, float* out, int64_t* max_indices);              \
  int64_t bag_f64_i64(const double* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,            \
                      const int64_t* offsets, int64_t num_bags, int64_t bag_size, const double* weights,        \
                      int64_t padding_idx, int mode, int flags, double* out, int64_t* max_indices);             \
  int64_t bag_f64_i32(const double* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,            \
                      const int32_t* offsets, int64_t num_bags, int64_t bag_size, const double* weights,        \
                      int64_t padding_idx, int mode, int flags, double* out, int64_t* max_indices);             \
  }

JEMBED_DECLARE_VARIANT(scalar)
#if defined(JEMBED_HAVE_X86_VARIANTS)
JEMBED_DECLARE_VARIANT(avx2)
JEMBED_DECLARE_VARIANT(avx512)
#endif

struct KernelTable {
  const char* name;
  int64_t (*gather_f32_i64)(const float*, int64_t, int64_t, const int64_t*, int64_t, float*);
  int64_t (*gather_f32_i32)(const float*, int64_t, int64_t, const int32_t*, int64_t, float*);
  int64_t (*gather_f64_i64)(const double*, int64_t, int64_t, const int64_t*, int64_t, double*);
  int64_t (*gather_f64_i32)(const double*, int64_t, int64_t, const int32_t*, int64_t, double*);
  double (*row_norm_f32)(const float*, int64_t, double);
  double (*row_norm_f64)(const double*, int64_t, double);
  void (*add_row_f32)(float*, const float*, int64_t);
  void (*add_row_f64)(double*, const double*, int64_t);
  void (*fma_row_f32)(float*, const float*, float, int64_t);
  void (*fma_row_f64)(double*, const double*, double, int64_t);
  int64_t (*bag_f32_i64)(const float*, int64_t, int64_t, const int64_t*, int64_t, const int64_t*, int64_t, int64_t,
                         const float*, int64_t, int, int, float*, int64_t*);
  int64_t (*bag_f32_i32)(const float*, int64_t, int64_t, const int32_t*, int64_t, const int32_t*, int64_t, int64_t,
                         const float*, int64_t, int, int, float*, int64_t*);
  int64_t (*bag_f64_i64)(const double*, int64_t, int64_t, const int64_t*, int64_t, const int64_t*, int64_t, int64_t,
                         const double*, int64_t, int, int, double*, int64_t*);
  int64_t (*bag_f64_i32)(const double*, int64_t, int64_t, const int32_t*, int64_t, const int32_t*, int64_t, int64_t,
                         const double*, int64_t, int, int, double*, int64_t*);
};

// The table in use (dispatch.cpp).
const KernelTable& active_kernels();

// The lookups of row-wise quantized tables (quant_bag_loop.h; arguments as jembed_quantized_bag_*), in a table of
// their own, chosen by the same variant as KernelTable.
#define JEMBED_DECLARE_QUANT_VARIANT(ns)                                                                        \
  namespace ns {                                                                                                \
  int64_t quant_bag_u8_i64(const uint8_t* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,       \
                           const int64_t* offsets, int64_t num_bags, int64_t bag_size, const float* weights,    \
                           int mode, float* out);                                                               \
  int64_t quant_bag_u8_i32(const uint8_t* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,       \
                           const int32_t* offsets, int64_t num_bags, int64_t bag_size, const float* weights,    \
                           int mode, float* out);                                                               \
  int64_t quant_bag_u4_i64(const uint8_t* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,       \
                           const int64_t* offsets, int64_t num_bags, int64_t bag_size, const float* weights,    \
                           int mode, float* out);                                                               \
  int64_t quant_bag_u4_i32(const uint8_t* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,       \
                           const int32_t* offsets, int64_t num_bags, int64_t bag_size, const float* weights,    \
                           int mode, float* out);                                                               \
  }

JEMBED_DECLARE_QUANT_VARIANT(scalar)
#if defined(JEMBED_HAVE_X86_VARIANTS)
JEMBED_DECLARE_QUANT_VARIANT(avx2)
JEMBED_DECLARE_QUANT_VARIANT(avx512)
#endif

struct QuantKernelTable {
  int64_t (*quant_bag_u8_i64)(const uint8_t*, int64_t, int64_t, const int64_t*, int64_t, const int64_t*, int64_t,
                              int64_t, const float*, int, float*);
  int64_t (*quant_bag_u8_i32)(const uint8_t*, int64_t, int64_t, const int32_t*, int64_t, const int32_t*, int64_t,
                              int64_t, const float*, int, float*);
  int64_t (*quant_bag_u4_i64)(const uint8_t*, int64_t, int64_t, const int64_t*, int64_t, const int64_t*, int64_t,
                              int64_t, const float*, int, float*);
  int64_t (*quant_bag_u4_i32)(const uint8_t*, int64_t, int64_t, const int32_t*, int64_t, const int32_t*, int64_t,
                              int64_t, const float*, int, float*);
};

// The quantized table in use (dispatch.cpp).
const QuantKernelTable& active_quant_kernels();

}  // namespace jembed

#endif
