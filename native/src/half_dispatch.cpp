// Routes the C ABI's 16-bit table entry points (float16, bfloat16) through the active variant's kernels: the variant
// kernel_table.h's dispatch chose (or a test forced), so both tables always run the same instruction set. Baseline
// code: it must run on any CPU of the target.
#include "half_kernel_table.h"
#include "jembed/jembed.h"

namespace jembed {
namespace {

#define JEMBED_HALF_TABLE(ns)                                                                                 \
  HalfKernelTable {                                                                                           \
    ns::gather_u16_i64, ns::gather_u16_i32, ns::f16_from_f32, ns::bf16_from_f32, ns::f32_from_f16,            \
        ns::f32_from_bf16, ns::bag_f16_i64, ns::bag_f16_i32, ns::bag_bf16_i64, ns::bag_bf16_i32               \
  }

const HalfKernelTable kHalfTables[JEMBED_VARIANT_COUNT] = {
    JEMBED_HALF_TABLE(scalar),
#if defined(JEMBED_HAVE_X86_VARIANTS)
    JEMBED_HALF_TABLE(avx2),
    JEMBED_HALF_TABLE(avx512),
#else
    JEMBED_HALF_TABLE(scalar),
    JEMBED_HALF_TABLE(scalar),
#endif
};

}  // namespace

const HalfKernelTable& active_half_kernels() {
  const int variant = jembed_active_variant();
  return kHalfTables[variant >= 0 && variant < JEMBED_VARIANT_COUNT ? variant : JEMBED_VARIANT_SCALAR];
}

}  // namespace jembed

extern "C" {

int64_t jembed_gather_u16_i64(const uint16_t* table, int64_t num_rows, int64_t dim, const int64_t* idx, int64_t n,
                              uint16_t* out) {
  return jembed::active_half_kernels().gather_u16_i64(table, num_rows, dim, idx, n, out);
}

int64_t jembed_gather_u16_i32(const uint16_t* table, int64_t num_rows, int64_t dim, const int32_t* idx, int64_t n,
                              uint16_t* out) {
  return jembed::active_half_kernels().gather_u16_i32(table, num_rows, dim, idx, n, out);
}

void jembed_f16_from_f32(const float* src, int64_t n, uint16_t* dst) {
  jembed::active_half_kernels().f16_from_f32(src, n, dst);
}

void jembed_bf16_from_f32(const float* src, int64_t n, uint16_t* dst) {
  jembed::active_half_kernels().bf16_from_f32(src, n, dst);
}

void jembed_f32_from_f16(const uint16_t* src, int64_t n, float* dst) {
  jembed::active_half_kernels().f32_from_f16(src, n, dst);
}

void jembed_f32_from_bf16(const uint16_t* src, int64_t n, float* dst) {
  jembed::active_half_kernels().f32_from_bf16(src, n, dst);
}

#define JEMBED_HALF_BAG_FORWARD(I, suffix)                                                                         \
  int64_t jembed_embedding_bag_##suffix(const uint16_t* table, int64_t rows, int64_t dim, const I* idx, int64_t n, \
                                        const I* offsets, int64_t num_bags, int64_t bag_size,                      \
                                        const uint16_t* weights, int64_t padding_idx, int mode, int flags,         \
                                        uint16_t* out, int64_t* max_indices) {                                     \
    return jembed::active_half_kernels().bag_##suffix(table, rows, dim, idx, n, offsets, num_bags, bag_size,      \
                                                      weights, padding_idx, mode, flags, out, max_indices);        \
  }

JEMBED_HALF_BAG_FORWARD(int64_t, f16_i64)
JEMBED_HALF_BAG_FORWARD(int32_t, f16_i32)
JEMBED_HALF_BAG_FORWARD(int64_t, bf16_i64)
JEMBED_HALF_BAG_FORWARD(int32_t, bf16_i32)

}  // extern "C"
