// Chooses the kernel variant once, from CPU detection or the JEMBED_KERNELS environment variable, and routes the
// C ABI's gather entry points through it. Baseline code: it must run on any CPU of the target.
#include <atomic>
#include <stdlib.h>
#include <string.h>

#include "jembed/jembed.h"
#include "kernel_table.h"

#if defined(JEMBED_HAVE_X86_VARIANTS)
#include <cpuid.h>
#endif

namespace jembed {
namespace {

#define JEMBED_TABLE(ns)                                                                                      \
  KernelTable {                                                                                               \
    #ns, ns::gather_f32_i64, ns::gather_f32_i32, ns::gather_f64_i64, ns::gather_f64_i32, ns::row_norm_f32,    \
        ns::row_norm_f64, ns::add_row_f32, ns::add_row_f64, ns::fma_row_f32, ns::fma_row_f64,                 \
        ns::bag_f32_i64, ns::bag_f32_i32, ns::bag_f64_i64, ns::bag_f64_i32                                    \
  }

const KernelTable kTables[JEMBED_VARIANT_COUNT] = {
    JEMBED_TABLE(scalar),
#if defined(JEMBED_HAVE_X86_VARIANTS)
    JEMBED_TABLE(avx2),
    JEMBED_TABLE(avx512),
#else
    JEMBED_TABLE(scalar),
    JEMBED_TABLE(scalar),
#endif
};

#if defined(JEMBED_HAVE_X86_VARIANTS)
// CPUID leaf 1, ECX bit 29. Not __builtin_cpu_supports("f16c"): clang does not know that name.
bool cpu_has_f16c() {
  unsigned eax = 0;
  unsigned ebx = 0;
  unsigned ecx = 0;
  unsigned edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
#endif

bool cpu_supports(int variant) {
  switch (variant) {
    case JEMBED_VARIANT_SCALAR:
      return true;
#if defined(JEMBED_HAVE_X86_VARIANTS)
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
    case JEMBED_VARIANT_AVX2:
      __builtin_cpu_init();
      // F16C: the 16-bit tables' float16 conversions (every AVX2 CPU has it; an emulator might not).
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    case JEMBED_VARIANT_AVX512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             cpu_has_f16c();
#endif
    default:
      return false;
  }
}

int initial_variant() {
  const char* forced = getenv("JEMBED_KERNELS");
  if (forced != nullptr) {
    for (int v = 0; v < JEMBED_VARIANT_COUNT; ++v) {
      if (strcmp(forced, jembed_variant_name(v)) == 0 && cpu_supports(v)) {
        return v;
      }
    }
  }
  for (int v = JEMBED_VARIANT_COUNT - 1; v > 0; --v) {
    if (cpu_supports(v)) {
      return v;
    }
  }
  return JEMBED_VARIANT_SCALAR;
}

std::atomic<int>& active_variant_slot() {
  // Initialised once, thread-safely, on first use.
  static std::atomic<int> slot{initial_variant()};
  return slot;
}

}  // namespace

const KernelTable& active_kernels() {
  return kTables[active_variant_slot().load(std::memory_order_relaxed)];
}

}  // namespace jembed

extern "C" {

const char* jembed_variant_name(int variant) {
  switch (variant) {
    case JEMBED_VARIANT_SCALAR: return "scalar";
    case JEMBED_VARIANT_AVX2: return "avx2";
    case JEMBED_VARIANT_AVX512: return "avx512";
    default: return "";
  }
}

int jembed_variant_supported(int variant) {
  return jembed::cpu_supports(variant) ? 1 : 0;
}

int jembed_active_variant(void) {
  return jembed::active_variant_slot().load(std::memory_order_relaxed);
}

int jembed_select_variant(int variant) {
  if (!jembed::cpu_supports(variant)) {
    return -1;
  }
  jembed::active_variant_slot().store(variant, std::memory_order_relaxed);
  return 0;
}

int64_t jembed_gather_f32_i64(const float* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,
                              float* out) {
  return jembed::active_kernels().gather_f32_i64(table, rows, dim, idx, n, out);
}

int64_t jembed_gather_f32_i32(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                              float* out) {
  return jembed::active_kernels().gather_f32_i32(table, rows, dim, idx, n, out);
}

int64_t jembed_gather_f64_i64(const double* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,
                              double* out) {
  return jembed::active_kernels().gather_f64_i64(table, rows, dim, idx, n, out);
}

int64_t jembed_gather_f64_i32(const double* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                              double* out) {
  return jembed::active_kernels().gather_f64_i32(table, rows, dim, idx, n, out);
}

#define JEMBED_BAG_FORWARD(T, I, suffix)                                                                        \
  int64_t jembed_embedding_bag_##suffix(const T* table, int64_t rows, int64_t dim, const I* idx, int64_t n,       \
                                        const I* offsets, int64_t num_bags, int64_t bag_size, const T* weights,   \
                                        int64_t padding_idx, int mode, int flags, T* out, int64_t* max_indices) { \
    return jembed::active_kernels().bag_##suffix(table, rows, dim, idx, n, offsets, num_bags, bag_size, weights, \
                                                 padding_idx, mode, flags, out, max_indices);                    \
  }

JEMBED_BAG_FORWARD(float, int64_t, f32_i64)
JEMBED_BAG_FORWARD(float, int32_t, f32_i32)
JEMBED_BAG_FORWARD(double, int64_t, f64_i64)
JEMBED_BAG_FORWARD(double, int32_t, f64_i32)

}  // extern "C"

// ---- row-wise quantized tables: their own table, indexed by the same variant ----------------------------------

namespace jembed {
namespace {

#define JEMBED_QUANT_TABLE(ns) \
  QuantKernelTable { ns::quant_bag_u8_i64, ns::quant_bag_u8_i32, ns::quant_bag_u4_i64, ns::quant_bag_u4_i32 }

const QuantKernelTable kQuantTables[JEMBED_VARIANT_COUNT] = {
    JEMBED_QUANT_TABLE(scalar),
#if defined(JEMBED_HAVE_X86_VARIANTS)
    JEMBED_QUANT_TABLE(avx2),
    JEMBED_QUANT_TABLE(avx512),
#else
    JEMBED_QUANT_TABLE(scalar),
    JEMBED_QUANT_TABLE(scalar),
#endif
};

}  // namespace

const QuantKernelTable& active_quant_kernels() {
  return kQuantTables[active_variant_slot().load(std::memory_order_relaxed)];
}

}  // namespace jembed

extern "C" {

int64_t jembed_quantized_bag_u8_i64(const uint8_t* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,
                                    const int64_t* offsets, int64_t num_bags, int64_t bag_size,
                                    const float* per_sample_weights, int mode, float* out) {
  return jembed::active_quant_kernels().quant_bag_u8_i64(table, rows, dim, idx, n, offsets, num_bags, bag_size,
                                                         per_sample_weights, mode, out);
}

int64_t jembed_quantized_bag_u8_i32(const uint8_t* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                                    const int32_t* offsets, int64_t num_bags, int64_t bag_size,
                                    const float* per_sample_weights, int mode, float* out) {
  return jembed::active_quant_kernels().quant_bag_u8_i32(table, rows, dim, idx, n, offsets, num_bags, bag_size,
                                                         per_sample_weights, mode, out);
}

int64_t jembed_quantized_bag_u4_i64(const uint8_t* table, int64_t rows, int64_t dim, const int64_t* idx, int64_t n,
                                    const int64_t* offsets, int64_t num_bags, int64_t bag_size,
                                    const float* per_sample_weights, int mode, float* out) {
  return jembed::active_quant_kernels().quant_bag_u4_i64(table, rows, dim, idx, n, offsets, num_bags, bag_size,
                                                         per_sample_weights, mode, out);
}

int64_t jembed_quantized_bag_u4_i32(const uint8_t* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                                    const int32_t* offsets, int64_t num_bags, int64_t bag_size,
                                    const float* per_sample_weights, int mode, float* out) {
  return jembed::active_quant_kernels().quant_bag_u4_i32(table, rows, dim, idx, n, offsets, num_bags, bag_size,
                                                         per_sample_weights, mode, out);
}

}  // extern "C"
