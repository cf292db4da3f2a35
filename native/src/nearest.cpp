// Cosine nearest neighbours: scans rows [row_begin, row_end) of a float32 table once, block by block (the variant's
// dot_norm_rows_f32 gives each row's dot product with the query and its squared norm), turns them into PyTorch's
// cosine similarity and keeps the k best in a heap held in the output buffers. Baseline code: the variant is chosen
// per call from jembed_active_variant().
#include <math.h>

#include "jembed/jembed.h"
#include "nearest.h"

namespace jembed {
namespace {

using DotNormFn = void (*)(const float*, int64_t, int64_t, const float*, float*, float*);

DotNormFn dot_norm_for(int variant) {
#if defined(JEMBED_HAVE_X86_VARIANTS)
  switch (variant) {
    case JEMBED_VARIANT_AVX2: return avx2::dot_norm_rows_f32;
    case JEMBED_VARIANT_AVX512: return avx512::dot_norm_rows_f32;
    default: break;
  }
#else
  (void)variant;
#endif
  return scalar::dot_norm_rows_f32;
}

// torch.topk's order for the largest values: NaN above everything, then by value; equal values by lower row first
// (topk leaves ties unspecified; this makes results reproducible).
inline bool better(float a, int64_t ia, float b, int64_t ib) {
  const bool a_nan = a != a;
  const bool b_nan = b != b;
  if (a_nan != b_nan) {
    return a_nan;
  }
  if (!a_nan && a != b) {
    return a > b;
  }
  return ia < ib;
}

// A binary heap of `size` entries whose root is the worst kept entry.
void sift_down(float* values, int64_t* indices, int64_t size, int64_t at) {
  for (;;) {
    const int64_t left = 2 * at + 1;
    if (left >= size) {
      return;
    }
    int64_t worst = left;
    const int64_t right = left + 1;
    if (right < size && better(values[worst], indices[worst], values[right], indices[right])) {
      worst = right;
    }
    if (!better(values[at], indices[at], values[worst], indices[worst])) {
      return;
    }
    const float v = values[at];
    const int64_t i = indices[at];
    values[at] = values[worst];
    indices[at] = indices[worst];
    values[worst] = v;
    indices[worst] = i;
    at = worst;
  }
}

void sift_up(float* values, int64_t* indices, int64_t at) {
  while (at > 0) {
    const int64_t parent = (at - 1) / 2;
    if (!better(values[parent], indices[parent], values[at], indices[at])) {
      return;
    }
    const float v = values[at];
    const int64_t i = indices[at];
    values[at] = values[parent];
    indices[at] = indices[parent];
    values[parent] = v;
    indices[parent] = i;
    at = parent;
  }
}

constexpr int64_t kBlock = 256;

}  // namespace
}  // namespace jembed

extern "C" {

int64_t jembed_cosine_topk_f32(const float* table, int64_t row_begin, int64_t row_end, int64_t dim,
                               const float* query, int64_t k, double eps, float* values, int64_t* indices) {
  if (row_begin < 0 || row_end < row_begin || dim < 0 || k < 0 || !(eps >= 0)) {
    return JEMBED_ERR_ARGUMENT;
  }
  const jembed::DotNormFn dot_norm = jembed::dot_norm_for(jembed_active_variant());
  float query_dot = 0;
  float query_norm2 = 0;
  dot_norm(query, 1, dim, query, &query_dot, &query_norm2);
  const double query_norm = fmax(sqrt(static_cast<double>(query_norm2)), eps);
  float dots[jembed::kBlock];
  float norms2[jembed::kBlock];
  int64_t size = 0;
  for (int64_t start = row_begin; start < row_end && k > 0; start += jembed::kBlock) {
    const int64_t count = row_end - start < jembed::kBlock ? row_end - start : jembed::kBlock;
    dot_norm(table + start * dim, count, dim, query, dots, norms2);
    for (int64_t r = 0; r < count; ++r) {
      // PyTorch's cosine_similarity clamps each norm to at least eps.
      const double norm = fmax(sqrt(static_cast<double>(norms2[r])), eps);
      const float similarity = static_cast<float>(static_cast<double>(dots[r]) / (norm * query_norm));
      const int64_t row = start + r;
      if (size < k) {
        values[size] = similarity;
        indices[size] = row;
        jembed::sift_up(values, indices, size);
        ++size;
      } else if (jembed::better(similarity, row, values[0], indices[0])) {
        values[0] = similarity;
        indices[0] = row;
        jembed::sift_down(values, indices, size, 0);
      }
    }
  }
  // Heap to best-first order: the worst goes to the end, then the next worst before it, and so on.
  for (int64_t end = size - 1; end > 0; --end) {
    const float v = values[0];
    const int64_t i = indices[0];
    values[0] = values[end];
    indices[0] = indices[end];
    values[end] = v;
    indices[end] = i;
    jembed::sift_down(values, indices, end, 0);
  }
  return size;
}

}  // extern "C"
