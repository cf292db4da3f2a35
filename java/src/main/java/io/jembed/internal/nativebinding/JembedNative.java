package io.jembed.internal.nativebinding;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JNI binding to the C ABI in {@code native/include/jembed/jembed.h}.
 *
 * <p>Buffers cross as raw addresses ({@code long}) rather than Java arrays or {@code Pointer} objects: arrays are
 * copied on every call by HotSpot, and {@code Pointer} arguments cost a few field reads per call on the hot path.
 * Callers (the {@code NativeBackend}) have validated every argument; the kernels still check each index they load.
 *
 * <p>The kernels live in the static library {@code jembed_kernels}, linked into this class's JNI library; the
 * trailing {@code #} keeps JavaCPP's Loader from looking for a separate shared library at run time.
 *
 * <p>Thread-safe: every function is reentrant.
 */
@Platform(include = "jembed/jembed.h", link = "jembed_kernels#")
@NoException
public final class JembedNative {
    static {
        Loader.load();
    }

    private JembedNative() {}

    @Name("jembed_variant_name")
    public static native String variantName(int variant);

    @Name("jembed_variant_supported")
    public static native int variantSupported(int variant);

    @Name("jembed_active_variant")
    public static native int activeVariant();

    @Name("jembed_select_variant")
    public static native int selectVariant(int variant);

    @Name("jembed_gather_f32_i64")
    public static native long gatherF32I64(@Cast("const float*") long table, long numRows, long dim,
                                           @Cast("const int64_t*") long idx, long n, @Cast("float*") long out);

    @Name("jembed_gather_f32_i32")
    public static native long gatherF32I32(@Cast("const float*") long table, long numRows, long dim,
                                           @Cast("const int32_t*") long idx, long n, @Cast("float*") long out);

    @Name("jembed_gather_f64_i64")
    public static native long gatherF64I64(@Cast("const double*") long table, long numRows, long dim,
                                           @Cast("const int64_t*") long idx, long n, @Cast("double*") long out);

    @Name("jembed_gather_f64_i32")
    public static native long gatherF64I32(@Cast("const double*") long table, long numRows, long dim,
                                           @Cast("const int32_t*") long idx, long n, @Cast("double*") long out);

    @Name("jembed_first_bad_index_i64")
    public static native long firstBadIndexI64(@Cast("const int64_t*") long idx, long n, long numRows);

    @Name("jembed_first_bad_index_i32")
    public static native long firstBadIndexI32(@Cast("const int32_t*") long idx, long n, long numRows);

    @Name("jembed_renorm_f32_i64")
    public static native long renormF32I64(@Cast("float*") long table, long numRows, long dim,
                                           @Cast("const int64_t*") long idx, long n, double maxNorm, double normType,
                                           long owners, long owner);

    @Name("jembed_renorm_f32_i32")
    public static native long renormF32I32(@Cast("float*") long table, long numRows, long dim,
                                           @Cast("const int32_t*") long idx, long n, double maxNorm, double normType,
                                           long owners, long owner);

    @Name("jembed_renorm_f64_i64")
    public static native long renormF64I64(@Cast("double*") long table, long numRows, long dim,
                                           @Cast("const int64_t*") long idx, long n, double maxNorm, double normType,
                                           long owners, long owner);

    @Name("jembed_renorm_f64_i32")
    public static native long renormF64I32(@Cast("double*") long table, long numRows, long dim,
                                           @Cast("const int32_t*") long idx, long n, double maxNorm, double normType,
                                           long owners, long owner);

    @Name("jembed_dense_backward_f32_i64")
    public static native long denseBackwardF32I64(@Cast("float*") long gradWeight, long numRows, long dim,
                                                  @Cast("const int64_t*") long idx, long n,
                                                  @Cast("const float*") long gradOut, long paddingIdx,
                                                  int scaleGradByFreq, long owners, long owner);

    @Name("jembed_dense_backward_f32_i32")
    public static native long denseBackwardF32I32(@Cast("float*") long gradWeight, long numRows, long dim,
                                                  @Cast("const int32_t*") long idx, long n,
                                                  @Cast("const float*") long gradOut, long paddingIdx,
                                                  int scaleGradByFreq, long owners, long owner);

    @Name("jembed_dense_backward_f64_i64")
    public static native long denseBackwardF64I64(@Cast("double*") long gradWeight, long numRows, long dim,
                                                  @Cast("const int64_t*") long idx, long n,
                                                  @Cast("const double*") long gradOut, long paddingIdx,
                                                  int scaleGradByFreq, long owners, long owner);

    @Name("jembed_dense_backward_f64_i32")
    public static native long denseBackwardF64I32(@Cast("double*") long gradWeight, long numRows, long dim,
                                                  @Cast("const int32_t*") long idx, long n,
                                                  @Cast("const double*") long gradOut, long paddingIdx,
                                                  int scaleGradByFreq, long owners, long owner);

    @Name("jembed_embedding_bag_f32_i64")
    public static native long embeddingBagF32I64(@Cast("const float*") long table, long numRows, long dim,
                                             @Cast("const int64_t*") long idx, long n, @Cast("const int64_t*") long offsets,
                                             long numBags, long bagSize, @Cast("const float*") long perSampleWeights,
                                             long paddingIdx, int mode, int flags, @Cast("float*") long out,
                                             @Cast("int64_t*") long maxIndices);

    @Name("jembed_embedding_bag_f32_i32")
    public static native long embeddingBagF32I32(@Cast("const float*") long table, long numRows, long dim,
                                             @Cast("const int32_t*") long idx, long n, @Cast("const int32_t*") long offsets,
                                             long numBags, long bagSize, @Cast("const float*") long perSampleWeights,
                                             long paddingIdx, int mode, int flags, @Cast("float*") long out,
                                             @Cast("int64_t*") long maxIndices);

    @Name("jembed_embedding_bag_f64_i64")
    public static native long embeddingBagF64I64(@Cast("const double*") long table, long numRows, long dim,
                                             @Cast("const int64_t*") long idx, long n, @Cast("const int64_t*") long offsets,
                                             long numBags, long bagSize, @Cast("const double*") long perSampleWeights,
                                             long paddingIdx, int mode, int flags, @Cast("double*") long out,
                                             @Cast("int64_t*") long maxIndices);

    @Name("jembed_embedding_bag_f64_i32")
    public static native long embeddingBagF64I32(@Cast("const double*") long table, long numRows, long dim,
                                             @Cast("const int32_t*") long idx, long n, @Cast("const int32_t*") long offsets,
                                             long numBags, long bagSize, @Cast("const double*") long perSampleWeights,
                                             long paddingIdx, int mode, int flags, @Cast("double*") long out,
                                             @Cast("int64_t*") long maxIndices);

    @Name("jembed_embedding_bag_backward_f32_i64")
    public static native long embeddingBagBackwardF32I64(@Cast("float*") long gradWeight, long numRows, long dim,
                                                     @Cast("const int64_t*") long idx, long n,
                                                     @Cast("const int64_t*") long offsets, long numBags, long bagSize,
                                                     @Cast("const float*") long gradOut,
                                                     @Cast("const float*") long perSampleWeights, long paddingIdx,
                                                     int mode, int scaleGradByFreq,
                                                     @Cast("const int64_t*") long maxIndices, long owners,
                                                     long owner);

    @Name("jembed_embedding_bag_backward_f32_i32")
    public static native long embeddingBagBackwardF32I32(@Cast("float*") long gradWeight, long numRows, long dim,
                                                     @Cast("const int32_t*") long idx, long n,
                                                     @Cast("const int32_t*") long offsets, long numBags, long bagSize,
                                                     @Cast("const float*") long gradOut,
                                                     @Cast("const float*") long perSampleWeights, long paddingIdx,
                                                     int mode, int scaleGradByFreq,
                                                     @Cast("const int64_t*") long maxIndices, long owners,
                                                     long owner);

    @Name("jembed_embedding_bag_backward_f64_i64")
    public static native long embeddingBagBackwardF64I64(@Cast("double*") long gradWeight, long numRows, long dim,
                                                     @Cast("const int64_t*") long idx, long n,
                                                     @Cast("const int64_t*") long offsets, long numBags, long bagSize,
                                                     @Cast("const double*") long gradOut,
                                                     @Cast("const double*") long perSampleWeights, long paddingIdx,
                                                     int mode, int scaleGradByFreq,
                                                     @Cast("const int64_t*") long maxIndices, long owners,
                                                     long owner);

    @Name("jembed_embedding_bag_backward_f64_i32")
    public static native long embeddingBagBackwardF64I32(@Cast("double*") long gradWeight, long numRows, long dim,
                                                     @Cast("const int32_t*") long idx, long n,
                                                     @Cast("const int32_t*") long offsets, long numBags, long bagSize,
                                                     @Cast("const double*") long gradOut,
                                                     @Cast("const double*") long perSampleWeights, long paddingIdx,
                                                     int mode, int scaleGradByFreq,
                                                     @Cast("const int64_t*") long maxIndices, long owners,
                                                     long owner);

    @Name("jembed_sparse_add_f32")
    public static native long sparseAddF32(@Cast("float*") long param, long numRows, long dim,
                                           @Cast("const int64_t*") long idx, long nnz,
                                           @Cast("const float*") long values, double alpha);

    @Name("jembed_sparse_add_f64")
    public static native long sparseAddF64(@Cast("double*") long param, long numRows, long dim,
                                           @Cast("const int64_t*") long idx, long nnz,
                                           @Cast("const double*") long values, double alpha);

    @Name("jembed_sparse_adagrad_f32")
    public static native long sparseAdagradF32(@Cast("float*") long param, @Cast("float*") long sum, long numRows,
                                               long dim, @Cast("const int64_t*") long idx, long nnz,
                                               @Cast("const float*") long values, double clr, double eps,
                                               int maximize);

    @Name("jembed_sparse_adagrad_f64")
    public static native long sparseAdagradF64(@Cast("double*") long param, @Cast("double*") long sum, long numRows,
                                               long dim, @Cast("const int64_t*") long idx, long nnz,
                                               @Cast("const double*") long values, double clr, double eps,
                                               int maximize);

    @Name("jembed_sparse_adam_f32")
    public static native long sparseAdamF32(@Cast("float*") long param, @Cast("float*") long expAvg,
                                            @Cast("float*") long expAvgSq, long numRows, long dim,
                                            @Cast("const int64_t*") long idx, long nnz,
                                            @Cast("const float*") long values, double beta1, double beta2,
                                            double stepSize, double eps, int maximize);

    @Name("jembed_sparse_adam_f64")
    public static native long sparseAdamF64(@Cast("double*") long param, @Cast("double*") long expAvg,
                                            @Cast("double*") long expAvgSq, long numRows, long dim,
                                            @Cast("const int64_t*") long idx, long nnz,
                                            @Cast("const double*") long values, double beta1, double beta2,
                                            double stepSize, double eps, int maximize);

    @Name("jembed_copy")
    public static native void copy(@Cast("void*") long dst, @Cast("const void*") long src, long bytes);

    @Name("jembed_alloc")
    public static native @Cast("intptr_t") long alloc(long bytes);

    @Name("jembed_free")
    public static native void free(@Cast("void*") long block);

    /**
     * Maps bytes {@code [offset, offset + length)} of a file read-only; returns the address of byte {@code offset}, or
     * 0 with {@code status[0]} set (an errno value, or a negative {@code JEMBED_MAP_ERR_*} code).
     */
    @Name("jembed_map_file")
    public static native @Cast("intptr_t") long mapFile(@Cast("const char*") BytePointer path, long offset,
                                                        long length, int hugePages,
                                                        @Cast("int64_t*") LongPointer status);

    @Name("jembed_unmap_file")
    public static native int unmapFile(@Cast("intptr_t") long address, long length);

    @Name("jembed_cosine_topk_f32")
    public static native long cosineTopKF32(@Cast("const float*") long table, long rowBegin, long rowEnd, long dim,
                                            @Cast("const float*") long query, long k, double eps,
                                            @Cast("float*") long values, @Cast("int64_t*") long indices);

    // ---- 16-bit tables (float16, bfloat16): the bit patterns as uint16_t ------------------------------------

    @Name("jembed_gather_u16_i64")
    public static native long gatherU16I64(@Cast("const uint16_t*") long table, long numRows, long dim,
                                           @Cast("const int64_t*") long idx, long n, @Cast("uint16_t*") long out);

    @Name("jembed_gather_u16_i32")
    public static native long gatherU16I32(@Cast("const uint16_t*") long table, long numRows, long dim,
                                           @Cast("const int32_t*") long idx, long n, @Cast("uint16_t*") long out);

    @Name("jembed_f16_from_f32")
    public static native void f16FromF32(@Cast("const float*") long src, long n, @Cast("uint16_t*") long dst);

    @Name("jembed_bf16_from_f32")
    public static native void bf16FromF32(@Cast("const float*") long src, long n, @Cast("uint16_t*") long dst);

    @Name("jembed_f32_from_f16")
    public static native void f32FromF16(@Cast("const uint16_t*") long src, long n, @Cast("float*") long dst);

    @Name("jembed_f32_from_bf16")
    public static native void f32FromBf16(@Cast("const uint16_t*") long src, long n, @Cast("float*") long dst);

    @Name("jembed_embedding_bag_f16_i64")
    public static native long embeddingBagF16I64(@Cast("const uint16_t*") long table, long numRows, long dim,
                                                 @Cast("const int64_t*") long idx, long n,
                                                 @Cast("const int64_t*") long offsets, long numBags, long bagSize,
                                                 @Cast("const uint16_t*") long perSampleWeights, long paddingIdx,
                                                 int mode, int flags, @Cast("uint16_t*") long out,
                                                 @Cast("int64_t*") long maxIndices);

    @Name("jembed_embedding_bag_f16_i32")
    public static native long embeddingBagF16I32(@Cast("const uint16_t*") long table, long numRows, long dim,
                                                 @Cast("const int32_t*") long idx, long n,
                                                 @Cast("const int32_t*") long offsets, long numBags, long bagSize,
                                                 @Cast("const uint16_t*") long perSampleWeights, long paddingIdx,
                                                 int mode, int flags, @Cast("uint16_t*") long out,
                                                 @Cast("int64_t*") long maxIndices);

    @Name("jembed_embedding_bag_bf16_i64")
    public static native long embeddingBagBf16I64(@Cast("const uint16_t*") long table, long numRows, long dim,
                                                  @Cast("const int64_t*") long idx, long n,
                                                  @Cast("const int64_t*") long offsets, long numBags, long bagSize,
                                                  @Cast("const uint16_t*") long perSampleWeights, long paddingIdx,
                                                  int mode, int flags, @Cast("uint16_t*") long out,
                                                  @Cast("int64_t*") long maxIndices);

    @Name("jembed_embedding_bag_bf16_i32")
    public static native long embeddingBagBf16I32(@Cast("const uint16_t*") long table, long numRows, long dim,
                                                  @Cast("const int32_t*") long idx, long n,
                                                  @Cast("const int32_t*") long offsets, long numBags, long bagSize,
                                                  @Cast("const uint16_t*") long perSampleWeights, long paddingIdx,
                                                  int mode, int flags, @Cast("uint16_t*") long out,
                                                  @Cast("int64_t*") long maxIndices);
    @Name("jembed_quantized_bag_u8_i64")
    public static native long quantizedBagU8I64(@Cast("const uint8_t*") long table, long numRows, long dim,
                                                @Cast("const int64_t*") long idx, long n,
                                                @Cast("const int64_t*") long offsets, long numBags, long bagSize,
                                                @Cast("const float*") long perSampleWeights, int mode,
                                                @Cast("float*") long out);

    @Name("jembed_quantized_bag_u8_i32")
    public static native long quantizedBagU8I32(@Cast("const uint8_t*") long table, long numRows, long dim,
                                                @Cast("const int32_t*") long idx, long n,
                                                @Cast("const int32_t*") long offsets, long numBags, long bagSize,
                                                @Cast("const float*") long perSampleWeights, int mode,
                                                @Cast("float*") long out);

    @Name("jembed_quantized_bag_u4_i64")
    public static native long quantizedBagU4I64(@Cast("const uint8_t*") long table, long numRows, long dim,
                                                @Cast("const int64_t*") long idx, long n,
                                                @Cast("const int64_t*") long offsets, long numBags, long bagSize,
                                                @Cast("const float*") long perSampleWeights, int mode,
                                                @Cast("float*") long out);

    @Name("jembed_quantized_bag_u4_i32")
    public static native long quantizedBagU4I32(@Cast("const uint8_t*") long table, long numRows, long dim,
                                                @Cast("const int32_t*") long idx, long n,
                                                @Cast("const int32_t*") long offsets, long numBags, long bagSize,
                                                @Cast("const float*") long perSampleWeights, int mode,
                                                @Cast("float*") long out);
}
