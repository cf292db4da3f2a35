// The kernels of 16-bit tables (torch.float16 and torch.bfloat16) of each instruction-set variant, in a table of
// their own beside kernel_table.h's, indexed by the same active variant (half_dispatch.cpp). Declarations only.
#ifndef JEMBED_HALF_KERNEL_TABLE_H
#define JEMBED_HALF_KERNEL_TABLE_H

#include <stdint.h>

namespace jembed {

#define JEMBED_DECLARE_HALF_VARIANT(ns)                                                                         \
  namespace ns {                                                                                                \
  /* Gathers of 16-bit rows (gather_loop.h): bit copies, the same for both formats. */                          \
  int64_t gather_u16_i64(const uint16_t* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,       \
                         uint16_t* out);                                                                        \
  int64_t gather_u16_i32(const uint16_t* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,       \
                         uint16_t* out);                                                                        \
  /* Element-wise conversions (half_float.h's rules). */                                                        \
  void f16_from_f32(const float* src, int64_t n, uint16_t* dst);                                                \
  void bf16_from_f32(const float* src, int64_t n, uint16_t* dst);                                               \
  void f32_from_f16(const uint16_t* src, int64_t n, float* dst);                                                \
  void f32_from_bf16(const uint16_t* src, int64_t n, float* dst);                                               \
  /* EmbeddingBag forwards of 16-bit tables (bag_loop.h; float32 accumulation, one rounding per bag). */        \
  int64_t bag_f16_i64(const uint16_t* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,          \
                      const int64_t* offsets, int64_t num_bags, int64_t bag_size, const uint16_t* weights,      \
                      int64_t padding_idx, int mode, int flags, uint16_t* out, int64_t* max_indices);           \
  int64_t bag_f16_i32(const uint16_t* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,          \
                      const int32_t* offsets, int64_t num_bags, int64_t bag_size, const uint16_t* weights,      \
                      int64_t padding_idx, int mode, int flags, uint16_t* out, int64_t* max_indices);           \
  int64_t bag_bf16_i64(const uint16_t* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,         \
                       const int64_t* offsets, int64_t num_bags, int64_t bag_size, const uint16_t* weights,     \
                       int64_t padding_idx, int mode, int flags, uint16_t* out, int64_t* max_indices);          \
  int64_t bag_bf16_i32(const uint16_t* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,         \
                       const int32_t* offsets, int64_t num_bags, int64_t bag_size, const uint16_t* weights,     \
                       int64_t padding_idx, int mode, int flags, uint16_t* out, int64_t* max_indices);          \
  }

JEMBED_DECLARE_HALF_VARIANT(scalar)
#if defined(JEMBED_HAVE_X86_VARIANTS)
JEMBED_DECLARE_HALF_VARIANT(avx2)
JEMBED_DECLARE_HALF_VARIANT(avx512)
#endif

using HalfBagFn = int64_t (*)(const uint16_t*, int64_t, int64_t, const int64_t*, int64_t, const int64_t*, int64_t,
                              int64_t, const uint16_t*, int64_t, int, int, uint16_t*, int64_t*);
using HalfBagFnI32 = int64_t (*)(const uint16_t*, int64_t, int64_t, const int32_t*, int64_t, const int32_t*,
                                 int64_t, int64_t, const uint16_t*, int64_t, int, int, uint16_t*, int64_t*);

struct HalfKernelTable {
  int64_t (*gather_u16_i64)(const uint16_t*, int64_t, int64_t, const int64_t*, int64_t, uint16_t*);
  int64_t (*gather_u16_i32)(const uint16_t*, int64_t, int64_t, const int32_t*, int64_t, uint16_t*);
  void (*f16_from_f32)(const float*, int64_t, uint16_t*);
  void (*bf16_from_f32)(const float*, int64_t, uint16_t*);
  void (*f32_from_f16)(const uint16_t*, int64_t, float*);
  void (*f32_from_bf16)(const uint16_t*, int64_t, float*);
  HalfBagFn bag_f16_i64;
  HalfBagFnI32 bag_f16_i32;
  HalfBagFn bag_bf16_i64;
  HalfBagFnI32 bag_bf16_i32;
};

// The table of the active variant (jembed_active_variant()).
const HalfKernelTable& active_half_kernels();

}  // namespace jembed

#endif
