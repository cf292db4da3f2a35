package io.jembed.internal;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import java.util.Arrays;

/**
 * The argument checks of the embedding family, shared by the module and the functional form. Every message names
 * the bad value and the valid range. They run before any tensor is touched, so a rejected call changes nothing.
 *
 * <p>Thread-safe: stateless (the index check reads the index tensor once).
 */
public final class EmbeddingChecks {
    private EmbeddingChecks() {}

    /**
     * PyTorch's padding_idx rule: {@code [-numEmbeddings, numEmbeddings)} is valid and a negative value counts from
     * the end; {@code null} means no padding. Returns the normalised index, or {@code null}.
     */
    public static Long normalizePaddingIdx(Long paddingIdx, long numEmbeddings) {
        if (paddingIdx == null) {
            return null;
        }
        long p = paddingIdx;
        if (p >= numEmbeddings && p > 0 || p < -numEmbeddings) {
            throw new IllegalArgumentException("Padding_idx must be within num_embeddings: got " + p
                    + ", expected a value in [" + (-numEmbeddings) + ", " + (numEmbeddings - 1) + "]");
        }
        return p < 0 ? p + numEmbeddings : p;
    }

    /**
     * {@code maxNorm} must be a number >= 0 (PyTorch accepts NaN, which silently disables the renorm, and negative
     * values, which flip the sign of rows; jembed rejects both as mistakes). {@code normType} must not be NaN.
     */
    public static void checkRenormOptions(Double maxNorm, double normType) {
        if (maxNorm != null && !(maxNorm >= 0)) {
            throw new IllegalArgumentException("max_norm must be >= 0 (or absent), got " + maxNorm);
        }
        if (Double.isNaN(normType)) {
            throw new IllegalArgumentException("norm_type must be a number (any p, including 0 and +/-Infinity), "
                    + "got NaN");
        }
    }

    /**
     * float16 and bfloat16 tables are for lookups: jembed computes no gradient of them and no {@code max_norm} renorm
     * in them (PyTorch does both on CPU). Named here, with the way out, where PyTorch would go ahead.
     *
     * @param what the operation, e.g. {@code "max_norm"} or {@code "the gradient of embedding"}
     * @throws IllegalArgumentException if {@code tensor} is float16 or bfloat16
     */
    public static void checkNotReducedPrecision(Tensor tensor, String what) {
        if (tensor.dtype().isReducedPrecision()) {
            throw new IllegalArgumentException(what + " is not supported for " + tensor.dtype() + " tensors in jembed "
                    + "(float16 and bfloat16 tables serve lookups): train a float32 table (tensor.to(DType.FLOAT32)) "
                    + "and convert it with to(DType." + (tensor.dtype() == DType.FLOAT16 ? "FLOAT16" : "BFLOAT16")
                    + ") to serve it, or call requiresGrad_(false) on a 16-bit weight that needs no gradient");
        }
    }

    /** @throws IllegalArgumentException if the tensor is not 2-D */
    public static void checkWeight(Tensor weight) {
        checkOpen(weight, "weight");
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("'weight' must be 2-D, but got a " + weight.dim()
                    + "-D tensor of shape " + Arrays.toString(weight.shape()));
        }
    }

    /** @throws IllegalStateException if the tensor has been closed */
    public static void checkOpen(Tensor tensor, String name) {
        if (tensor == null) {
            throw new IllegalArgumentException("'" + name + "' must not be null");
        }
        if (tensor.isClosed()) {
            throw new IllegalStateException("'" + name + "' has been closed");
        }
    }

    /** The index tensor is open and int64 or int32 (PyTorch's message); its values are not read. */
    public static void checkIndexType(Tensor indices, String operation) {
        checkOpen(indices, "input");
        DType dtype = indices.dtype();
        if (dtype != DType.INT64 && dtype != DType.INT32) {
            throw new IllegalArgumentException("Expected tensor for argument #1 'indices' to have one of the following "
                    + "scalar types: Long, Int; but got " + dtype.legacyTensorTypeName() + " instead (while checking "
                    + "arguments for " + operation + ")");
        }
    }

    /**
     * Indices must be int64 or int32 (PyTorch's message), and every one must name a row of a table with
     * {@code numRows} rows. Negative indices are errors: only padding_idx wraps.
     */
    public static void checkIndices(Tensor indices, long numRows, String operation) {
        checkIndexType(indices, operation);
        DType dtype = indices.dtype();
        Memory memory = TensorInternals.memory(indices);
        long n = indices.numel();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            if (dtype == DType.INT64) {
                for (long i = 0; i < n; i++) {
                    long index = memory.getLong(8 * i);
                    if (Long.compareUnsigned(index, numRows) >= 0) {
                        throw outOfRange(indices, i, index, numRows);
                    }
                }
            } else {
                for (long i = 0; i < n; i++) {
                    int index = memory.getInt(4 * i);
                    if (Long.compareUnsigned(index, numRows) >= 0) {
                        throw outOfRange(indices, i, index, numRows);
                    }
                }
            }
        } finally {
            guard.exit();
        }
    }

    private static IndexOutOfBoundsException outOfRange(Tensor indices, long flat, long index, long numRows) {
        return indexOutOfRange(indices.shape(), flat, index, numRows);
    }

    /**
     * The exception for index {@code index} at flat position {@code flat} of an input of shape {@code shape}: it
     * names the index, its position as a multi-index, and the valid range (PyTorch's "index out of range in self").
     */
    public static IndexOutOfBoundsException indexOutOfRange(long[] shape, long flat, long index, long numRows) {
        String range = numRows == 0 ? "the weight has no rows" : "valid indices are 0 to " + (numRows - 1);
        return new IndexOutOfBoundsException("index out of range in self: index " + index + " at position "
                + position(shape, flat) + " of the input; " + range);
    }

    /** The multi-index of a flat position, e.g. {@code [1, 3]}. */
    static String position(long[] shape, long flat) {
        long[] at = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            at[d] = flat % shape[d];
            flat /= shape[d];
        }
        return Arrays.toString(at);
    }
}
