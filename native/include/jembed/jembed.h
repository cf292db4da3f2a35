/*
 * jembed native kernels: the C ABI that the Java binding (io.jembed.internal.nativebinding.JembedNative) calls.
 *
 * Contract shared by every entry point:
 *  - Tables are row-major and contiguous: row r of a (num_rows x dim) table starts at table + r * dim.
 *  - Java validates every argument but the index values before calling. The gathers validate their indices in one
 *    vectorised pass before they write anything (a failed gather changes nothing) and bounds-check each index again
 *    as they load it (one unsigned compare, which also rejects negatives), because the index buffer is caller
 *    memory that another thread may rewrite meanwhile; a bad index is reported, never dereferenced. The other
 *    kernels get indices that Java validated, and check each as they load it.
 *  - Kernels never allocate on the gather path. Renorm needs one sorted copy of the indices and allocates it.
 *  - No C++ exception crosses this boundary.
 */
#ifndef JEMBED_JEMBED_H
#define JEMBED_JEMBED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returned by every kernel that succeeded. Any value >= 0 is the position (in the index buffer) of the first
 * index found outside [0, num_rows); JEMBED_ERR_ALLOC means scratch memory could not be allocated. */
#define JEMBED_OK (-1)
#define JEMBED_ERR_ALLOC (-2)
/* An argument outside its documented domain (e.g. owner >= owners). Java validates first, so this means a bug. */
#define JEMBED_ERR_ARGUMENT (-3)

/* Kernel variants, in increasing order of instruction-set requirements. */
#define JEMBED_VARIANT_SCALAR 0
#define JEMBED_VARIANT_AVX2 1
#define JEMBED_VARIANT_AVX512 2
#define JEMBED_VARIANT_COUNT 3

/* Name of a variant ("scalar", "avx2", "avx512"), or "" when out of range. */
const char* jembed_variant_name(int variant);

/* 1 when this build contains the variant and the running CPU (and OS) can execute it. */
int jembed_variant_supported(int variant);

/* The variant in use. On first use it is chosen from the environment variable JEMBED_KERNELS
 * ("scalar", "avx2", "avx512"; ignored when unsupported) or else the best supported one. */
int jembed_active_variant(void);

/* Forces a variant for all later calls. Returns 0 on success, -1 if the variant is not supported. */
int jembed_select_variant(int variant);

/* out[i*dim .. i*dim+dim) = table[idx[i]*dim .. +dim) for i in [0, n). Returns JEMBED_OK, or the position of the
 * first index outside [0, num_rows) with nothing written (unless another thread rewrote the indices meanwhile). */
int64_t jembed_gather_f32_i64(const float* table, int64_t num_rows, int64_t dim,
                              const int64_t* idx, int64_t n, float* out);
int64_t jembed_gather_f32_i32(const float* table, int64_t num_rows, int64_t dim,
                              const int32_t* idx, int64_t n, float* out);
int64_t jembed_gather_f64_i64(const double* table, int64_t num_rows, int64_t dim,
                              const int64_t* idx, int64_t n, double* out);
int64_t jembed_gather_f64_i32(const double* table, int64_t num_rows, int64_t dim,
                              const int32_t* idx, int64_t n, double* out);

/* The position of the first idx value outside [0, num_rows), or JEMBED_OK: the gathers' own validation, for callers
 * that split one lookup among threads and must validate it whole before any part writes. */
int64_t jembed_first_bad_index_i64(const int64_t* idx, int64_t n, int64_t num_rows);
int64_t jembed_first_bad_index_i32(const int32_t* idx, int64_t n, int64_t num_rows);

/* PyTorch's embedding_renorm_: for every distinct idx value r, if the norm_type-norm of row r is strictly greater
 * than max_norm, multiply the row in place by max_norm / (norm + 1e-7). norm_type may be any double including
 * +inf (max |x|), -inf (min |x|), 0 (count of non-zeros). float32 rows accumulate their norm in float, float64 rows
 * in double, as PyTorch's CPU norm does. Only rows r with r % owners == owner are touched, so `owners` threads (each
 * calling with its own `owner`) split the work and give the same bits as one call with owners 1, owner 0. Returns
 * JEMBED_OK, the position of the first index outside [0, num_rows) (nothing changed), JEMBED_ERR_ARGUMENT or
 * JEMBED_ERR_ALLOC. */
int64_t jembed_renorm_f32_i64(float* table, int64_t num_rows, int64_t dim,
                              const int64_t* idx, int64_t n, double max_norm, double norm_type,
                              int64_t owners, int64_t owner);
int64_t jembed_renorm_f32_i32(float* table, int64_t num_rows, int64_t dim,
                              const int32_t* idx, int64_t n, double max_norm, double norm_type,
                              int64_t owners, int64_t owner);
int64_t jembed_renorm_f64_i64(double* table, int64_t num_rows, int64_t dim,
                              const int64_t* idx, int64_t n, double max_norm, double norm_type,
                              int64_t owners, int64_t owner);
int64_t jembed_renorm_f64_i32(double* table, int64_t num_rows, int64_t dim,
                              const int32_t* idx, int64_t n, double max_norm, double norm_type,
                              int64_t owners, int64_t owner);

/* PyTorch's embedding_dense_backward, accumulating into an existing gradient instead of a fresh zero tensor, so that
 * the cost grows with n * dim and not with the table:
 *   for i in [0, n) in input order, r = idx[i], r != padding_idx (-1 for none), r % owners == owner:
 *     grad_weight[r] += grad_out[i]                                   (scale_grad_by_freq == 0)
 *     grad_weight[r] = fma(grad_out[i], 1 / count(r), grad_weight[r])  (scale_grad_by_freq != 0; count over all of idx)
 * Each row accumulates in input order, so splitting rows among `owners` threads (each calling with its own `owner`)
 * gives the same bits as one thread. scale_grad_by_freq allocates a table of counts and a list of this owner's
 * lookups. */
int64_t jembed_dense_backward_f32_i64(float* grad_weight, int64_t num_rows, int64_t dim, const int64_t* idx,
                                      int64_t n, const float* grad_out, int64_t padding_idx,
                                      int scale_grad_by_freq, int64_t owners, int64_t owner);
int64_t jembed_dense_backward_f32_i32(float* grad_weight, int64_t num_rows, int64_t dim, const int32_t* idx,
                                      int64_t n, const float* grad_out, int64_t padding_idx,
                                      int scale_grad_by_freq, int64_t owners, int64_t owner);
int64_t jembed_dense_backward_f64_i64(double* grad_weight, int64_t num_rows, int64_t dim, const int64_t* idx,
                                      int64_t n, const double* grad_out, int64_t padding_idx,
                                      int scale_grad_by_freq, int64_t owners, int64_t owner);
int64_t jembed_dense_backward_f64_i32(double* grad_weight, int64_t num_rows, int64_t dim, const int32_t* idx,
                                      int64_t n, const double* grad_out, int64_t padding_idx,
                                      int scale_grad_by_freq, int64_t owners, int64_t owner);

/* Fused sparse optimizer steps: for each entry k of a coalesced sparse gradient (row idx[k], values[k*dim ..]), update
 * the parameter row (and the optimizer's state rows) in one pass, touching no other row. Arithmetic is in double with
 * one rounding to the table's type per stored value, in the order of PyTorch's update rules, so the Java backend
 * gives the same bits. Returns JEMBED_OK or the position of the first index outside [0, num_rows) (nothing changed).
 *   add:     param[r] += alpha * g                                                  (SGD without momentum)
 *   adagrad: sum[r] += g^2; param[r] -= clr * g / (sqrt(sum[r]) + eps)              (g negated when maximize)
 *   adam:    m += (1-b1)(g-m); v += (1-b2)(g^2-v); param[r] -= step_size * m / (sqrt(v) + eps)   (SparseAdam) */
int64_t jembed_sparse_add_f32(float* param, int64_t num_rows, int64_t dim, const int64_t* idx, int64_t nnz,
                              const float* values, double alpha);
int64_t jembed_sparse_add_f64(double* param, int64_t num_rows, int64_t dim, const int64_t* idx, int64_t nnz,
                              const double* values, double alpha);
int64_t jembed_sparse_adagrad_f32(float* param, float* sum, int64_t num_rows, int64_t dim, const int64_t* idx,
                                  int64_t nnz, const float* values, double clr, double eps, int maximize);
int64_t jembed_sparse_adagrad_f64(double* param, double* sum, int64_t num_rows, int64_t dim, const int64_t* idx,
                                  int64_t nnz, const double* values, double clr, double eps, int maximize);
int64_t jembed_sparse_adam_f32(float* param, float* exp_avg, float* exp_avg_sq, int64_t num_rows, int64_t dim,
                               const int64_t* idx, int64_t nnz, const float* values, double beta1, double beta2,
                               double step_size, double eps, int maximize);
int64_t jembed_sparse_adam_f64(double* param, double* exp_avg, double* exp_avg_sq, int64_t num_rows, int64_t dim,
                               const int64_t* idx, int64_t nnz, const double* values, double beta1, double beta2,
                               double step_size, double eps, int maximize);

/* EmbeddingBag modes (PyTorch's EmbeddingBagMode) and the forward's flags. */
#define JEMBED_BAG_SUM 0
#define JEMBED_BAG_MEAN 1
#define JEMBED_BAG_MAX 2
/* Per-sample weights applied as fma(row, w, acc), one rounding (libtorch's float32 path without padding_idx, FBGEMM);
 * without the flag as acc + row * w, two roundings (libtorch's float64 path, and float32 with a padding_idx). */
#define JEMBED_BAG_FUSED_WEIGHTS 1
/* Offsets that are not 0 <= offsets[0] <= offsets[1] <= ... <= n: Java validates them, so only a concurrent rewrite
 * of the offsets buffer gets here. Nothing was written. */
#define JEMBED_ERR_OFFSETS (-4)

/* PyTorch's embedding_bag forward, fused: each output row is reduced in registers while its bag's rows stream in.
 * Bag b holds the lookups [offsets[b], offsets[b+1]), the last one [offsets[num_bags-1], n); with offsets == NULL
 * (2-D input) bag b holds [b * bag_size, (b+1) * bag_size) and n must equal num_bags * bag_size. Only idx[offsets[0]
 * .. n) is read, so a caller may pass a range of bags with pointers into the full buffers (positions stay absolute).
 * Lookups of padding_idx (-1 for none) are left out of their bag. Per output element, in the table's type:
 *   SUM:  acc = +0; acc = acc + row (or with per_sample_weights: fma(row, w, acc) or acc + row * w, see the flag), in
 *         input order; an empty bag gives +0.
 *   MEAN: the sum, then divided by max(non-padding lookups, 1).
 *   MAX:  the first non-padding row, then a row replaces it where strictly greater; max_indices (int64, num_bags x
 *         dim, may be NULL) gets the winning row index; an empty or all-padding bag gives 0 and index -1.
 * per_sample_weights: NULL or indexed by absolute position, SUM only. Every index the bags name and every offset is
 * checked before anything is written: returns JEMBED_OK, the position of the first index outside [0, num_rows)
 * (nothing written), JEMBED_ERR_OFFSETS or JEMBED_ERR_ARGUMENT. The result's bits do not depend on the variant. */
int64_t jembed_embedding_bag_f32_i64(const float* table, int64_t num_rows, int64_t dim, const int64_t* idx,
                                     int64_t n, const int64_t* offsets, int64_t num_bags, int64_t bag_size,
                                     const float* per_sample_weights, int64_t padding_idx, int mode, int flags,
                                     float* out, int64_t* max_indices);
int64_t jembed_embedding_bag_f32_i32(const float* table, int64_t num_rows, int64_t dim, const int32_t* idx,
                                     int64_t n, const int32_t* offsets, int64_t num_bags, int64_t bag_size,
                                     const float* per_sample_weights, int64_t padding_idx, int mode, int flags,
                                     float* out, int64_t* max_indices);
int64_t jembed_embedding_bag_f64_i64(const double* table, int64_t num_rows, int64_t dim, const int64_t* idx,
                                     int64_t n, const int64_t* offsets, int64_t num_bags, int64_t bag_size,
                                     const double* per_sample_weights, int64_t padding_idx, int mode, int flags,
                                     double* out, int64_t* max_indices);
int64_t jembed_embedding_bag_f64_i32(const double* table, int64_t num_rows, int64_t dim, const int32_t* idx,
                                     int64_t n, const int32_t* offsets, int64_t num_bags, int64_t bag_size,
                                     const double* per_sample_weights, int64_t padding_idx, int mode, int flags,
                                     double* out, int64_t* max_indices);

/* PyTorch's _embedding_bag_dense_backward, accumulating into grad_weight, bags as in the forward:
 *   SUM/MEAN: for each lookup i in input order with r = idx[i] != padding_idx and r % owners == owner:
 *     s = per_sample_weights ? (double) w[i] : 1.0; scale_grad_by_freq: s /= occurrences of r in idx[first .. n);
 *     MEAN: s /= the bag's non-padding count; grad_weight[r] = fma(grad_out[bag(i)], (T) s, grad_weight[r]).
 *   MAX: for each bag b in order with a non-padding lookup, each column j, r = max_indices[b][j], r % owners == owner:
 *     grad_weight[r][j] += grad_out[b][j].
 * Rows accumulate in input order, so any split of rows among owners gives the bits of one owner. Everything is
 * checked first (indices, offsets, and max_indices against num_rows: JEMBED_ERR_ARGUMENT); a failed call changes
 * nothing. scale_grad_by_freq allocates a count table (JEMBED_ERR_ALLOC). */
int64_t jembed_embedding_bag_backward_f32_i64(float* grad_weight, int64_t num_rows, int64_t dim, const int64_t* idx,
                                              int64_t n, const int64_t* offsets, int64_t num_bags, int64_t bag_size,
                                              const float* grad_out, const float* per_sample_weights,
                                              int64_t padding_idx, int mode, int scale_grad_by_freq,
                                              const int64_t* max_indices, int64_t owners, int64_t owner);
int64_t jembed_embedding_bag_backward_f32_i32(float* grad_weight, int64_t num_rows, int64_t dim, const int32_t* idx,
                                              int64_t n, const int32_t* offsets, int64_t num_bags, int64_t bag_size,
                                              const float* grad_out, const float* per_sample_weights,
                                              int64_t padding_idx, int mode, int scale_grad_by_freq,
                                              const int64_t* max_indices, int64_t owners, int64_t owner);
int64_t jembed_embedding_bag_backward_f64_i64(double* grad_weight, int64_t num_rows, int64_t dim,
                                              const int64_t* idx, int64_t n, const int64_t* offsets,
                                              int64_t num_bags, int64_t bag_size, const double* grad_out,
                                              const double* per_sample_weights, int64_t padding_idx, int mode,
                                              int scale_grad_by_freq, const int64_t* max_indices, int64_t owners,
                                              int64_t owner);
int64_t jembed_embedding_bag_backward_f64_i32(double* grad_weight, int64_t num_rows, int64_t dim,
                                              const int32_t* idx, int64_t n, const int32_t* offsets,
                                              int64_t num_bags, int64_t bag_size, const double* grad_out,
                                              const double* per_sample_weights, int64_t padding_idx, int mode,
                                              int scale_grad_by_freq, const int64_t* max_indices, int64_t owners,
                                              int64_t owner);

/* memcpy of `bytes` bytes: the physical reference that benchmarks compare gathers with. */
void jembed_copy(void* dst, const void* src, int64_t bytes);

/* 64-byte aligned, uninitialised memory; blocks of 2 MiB or more are advised to use transparent huge pages.
 * NULL on failure or bytes < 0; bytes == 0 gives a valid 64-byte block, so that an empty tensor has an address. */
void* jembed_alloc(int64_t bytes);
void jembed_free(void* block);

/* Cosine nearest neighbours (torch.topk(F.cosine_similarity(table, query[None, :], dim=1, eps=eps), k)) over rows
 * [row_begin, row_end) of a float32 table: similarity = dot(row, query) / (max(|row|, eps) * max(|query|, eps)).
 * Writes the min(k, row_end - row_begin) best rows, best first, to values/indices (absolute row numbers); NaN
 * similarities rank above all others, as in torch.topk, and equal ones by lower row first. Returns the count written,
 * or JEMBED_ERR_ARGUMENT. Rows are read once, in order; calls on disjoint row ranges may run on several threads. */
int64_t jembed_cosine_topk_f32(const float* table, int64_t row_begin, int64_t row_end, int64_t dim,
                               const float* query, int64_t k, double eps, float* values, int64_t* indices);

/* Read-only memory maps of files (tables in safetensors / .npy files).
 * jembed_map_file maps bytes [offset, offset + length) of the regular file at `path` (UTF-8) read-only and shared,
 * and returns the address of byte `offset` (any alignment; the mapping itself starts at the page below it), or 0 with
 * *status set: an errno value (> 0; Windows: GetLastError()), or one of the codes below. *status is 0 on success.
 * The file must hold every mapped byte: pages past its end would fault (SIGBUS) when touched. huge_pages != 0 asks
 * for transparent huge pages on mappings of 2 MiB and more (advice; most file systems ignore it). length 0 gives an
 * address that must not be read. The mapping outlives the file descriptor, which is closed before returning.
 * jembed_unmap_file(address, length) undoes one jembed_map_file with the same address and length; 0 on success. */
#define JEMBED_MAP_ERR_ARGUMENT (-3)
#define JEMBED_MAP_ERR_SHORT_FILE (-4)
#define JEMBED_MAP_ERR_NOT_REGULAR (-5)
intptr_t jembed_map_file(const char* path, int64_t offset, int64_t length, int32_t huge_pages, int64_t* status);
int jembed_unmap_file(intptr_t address, int64_t length);

/* 16-bit tables: torch.float16 (IEEE binary16) and torch.bfloat16, held as their uint16_t bit patterns.
 * The gathers copy bits (NaN payloads included) and are the same for both formats; arguments and results as the
 * float gathers'. */
int64_t jembed_gather_u16_i64(const uint16_t* table, int64_t num_rows, int64_t dim,
                              const int64_t* idx, int64_t n, uint16_t* out);
int64_t jembed_gather_u16_i32(const uint16_t* table, int64_t num_rows, int64_t dim,
                              const int32_t* idx, int64_t n, uint16_t* out);
/* dst[i] = src[i] converted, for i in [0, n): float -> float16 rounds to nearest even (subnormals kept, 65520 and up
 * to infinity, NaN made quiet with its sign and top payload bits); float -> bfloat16 is c10::BFloat16's rounding
 * (nearest even, every NaN -> 0x7FC0); widening is exact. The same bits on every variant. */
void jembed_f16_from_f32(const float* src, int64_t n, uint16_t* dst);
void jembed_bf16_from_f32(const float* src, int64_t n, uint16_t* dst);
void jembed_f32_from_f16(const uint16_t* src, int64_t n, float* dst);
void jembed_f32_from_bf16(const uint16_t* src, int64_t n, float* dst);
/* EmbeddingBag forwards of float16 / bfloat16 tables: arguments and results as jembed_embedding_bag_f32_*, with
 * per_sample_weights and out in the table's format. Each element is widened exactly to float, the bag accumulated in
 * float (per-sample weights fused or not as `flags` says), a mean divided in float by the count, and the result
 * rounded once to nearest even (ties to even for bfloat16 too, where libtorch's FBGEMM path rounds ties away from
 * zero); max compares in float and a NaN winner comes out as a quiet (float16) or canonical (bfloat16) NaN. */
int64_t jembed_embedding_bag_f16_i64(const uint16_t* table, int64_t num_rows, int64_t dim, const int64_t* idx,
                                     int64_t n, const int64_t* offsets, int64_t num_bags, int64_t bag_size,
                                     const uint16_t* per_sample_weights, int64_t padding_idx, int mode, int flags,
                                     uint16_t* out, int64_t* max_indices);
int64_t jembed_embedding_bag_f16_i32(const uint16_t* table, int64_t num_rows, int64_t dim, const int32_t* idx,
                                     int64_t n, const int32_t* offsets, int64_t num_bags, int64_t bag_size,
                                     const uint16_t* per_sample_weights, int64_t padding_idx, int mode, int flags,
                                     uint16_t* out, int64_t* max_indices);
int64_t jembed_embedding_bag_bf16_i64(const uint16_t* table, int64_t num_rows, int64_t dim, const int64_t* idx,
                                      int64_t n, const int64_t* offsets, int64_t num_bags, int64_t bag_size,
                                      const uint16_t* per_sample_weights, int64_t padding_idx, int mode, int flags,
                                      uint16_t* out, int64_t* max_indices);
int64_t jembed_embedding_bag_bf16_i32(const uint16_t* table, int64_t num_rows, int64_t dim, const int32_t* idx,
                                      int64_t n, const int32_t* offsets, int64_t num_bags, int64_t bag_size,
                                      const uint16_t* per_sample_weights, int64_t padding_idx, int mode, int flags,
                                      uint16_t* out, int64_t* max_indices);
/* Lookups in row-wise quantized tables, PyTorch's prepacked layouts (embedding_bag_byte_prepack: each row holds dim
 * uint8 codes, then its scale and bias as float32, dim + 8 bytes; embedding_bag_4bit_prepack: dim / 2 bytes of two
 * codes each, element c in the low (c even) or high nibble of byte c / 2, then scale and bias as float16, dim / 2 + 4
 * bytes, dim even). Rows are contiguous, unaligned. Bags as in jembed_embedding_bag_*; per output element, in float32,
 * in input order from +0, with w = per_sample_weights[i] (NULL: 1):
 *   acc = fma(w * scale, q, acc + w * bias)           (FBGEMM's EmbeddingSpMDM order: libtorch's
 *                                                      embedding_bag_{byte,4bit}_rowwise_offsets bit for bit)
 * mode JEMBED_BAG_SUM, or JEMBED_BAG_MEAN: the sum divided once by max(bag length, 1); JEMBED_BAG_MAX is refused
 * (JEMBED_ERR_ARGUMENT). A plain lookup (quantized::embedding_byte / embedding_4bit) is bags of one: offsets NULL,
 * bag_size 1. Every index and offset is checked before anything is written: returns JEMBED_OK, the position of the
 * first index outside [0, num_rows), JEMBED_ERR_OFFSETS or JEMBED_ERR_ARGUMENT. Bits do not depend on the variant. */
int64_t jembed_quantized_bag_u8_i64(const uint8_t* table, int64_t num_rows, int64_t dim, const int64_t* idx,
                                    int64_t n, const int64_t* offsets, int64_t num_bags, int64_t bag_size,
                                    const float* per_sample_weights, int mode, float* out);
int64_t jembed_quantized_bag_u8_i32(const uint8_t* table, int64_t num_rows, int64_t dim, const int32_t* idx,
                                    int64_t n, const int32_t* offsets, int64_t num_bags, int64_t bag_size,
                                    const float* per_sample_weights, int mode, float* out);
int64_t jembed_quantized_bag_u4_i64(const uint8_t* table, int64_t num_rows, int64_t dim, const int64_t* idx,
                                    int64_t n, const int64_t* offsets, int64_t num_bags, int64_t bag_size,
                                    const float* per_sample_weights, int mode, float* out);
int64_t jembed_quantized_bag_u4_i32(const uint8_t* table, int64_t num_rows, int64_t dim, const int32_t* idx,
                                    int64_t n, const int32_t* offsets, int64_t num_bags, int64_t bag_size,
                                    const float* per_sample_weights, int mode, float* out);

#ifdef __cplusplus
}
#endif

#endif
