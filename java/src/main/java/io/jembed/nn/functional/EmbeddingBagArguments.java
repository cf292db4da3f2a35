package io.jembed.nn.functional;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.BagChecks;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.nn.EmbeddingBagMode;
import java.util.Arrays;

/**
 * The arguments of one {@code embedding_bag} call, validated in PyTorch's order (the Python checks of
 * {@code F.embedding_bag}, then the renorm's, then ATen's {@code check_arguments}), with the offsets checked in full
 * where libtorch checks only the first and the last. Nothing is written before every check has passed.
 *
 * <p>Holds the indices and offsets the backend reads: the caller's own tensors, or int64 copies when their dtypes
 * differ (PyTorch promotes them to a common type); {@link #close()} frees such copies.
 */
final class EmbeddingBagArguments implements AutoCloseable {
    final Tensor indices;
    final Tensor offsets;
    final long bagSize;
    final long numBags;
    final long paddingIdx;
    final EmbeddingBagMode mode;
    final Tensor perSampleWeights;
    private final boolean ownsIndices;
    private final boolean ownsOffsets;

    private EmbeddingBagArguments(Tensor indices, boolean ownsIndices, Tensor offsets, boolean ownsOffsets,
                                  long bagSize, long numBags, long paddingIdx, EmbeddingBagMode mode,
                                  Tensor perSampleWeights) {
        this.indices = indices;
        this.ownsIndices = ownsIndices;
        this.offsets = offsets;
        this.ownsOffsets = ownsOffsets;
        this.bagSize = bagSize;
        this.numBags = numBags;
        this.paddingIdx = paddingIdx;
        this.mode = mode;
        this.perSampleWeights = perSampleWeights;
    }

    /** {@link #check} and then the tensors the backend reads (int64 copies when the index dtypes differ). */
    static EmbeddingBagArguments validate(Tensor input, Tensor weight, Tensor offsets, Double maxNorm,
                                          double normType, boolean scaleGradByFreq, EmbeddingBagMode mode,
                                          boolean sparse, Tensor perSampleWeights, boolean includeLastOffset,
                                          Long paddingIdx) {
        check(input, weight, offsets, maxNorm, normType, scaleGradByFreq, mode, sparse, perSampleWeights,
                includeLastOffset, paddingIdx);
        return promote(input, offsets, numBags(input, offsets, includeLastOffset),
                paddingRow(paddingIdx, weight.size(0)), mode, perSampleWeights);
    }

    /** Checked arguments, with int64 copies of the indices or offsets when their dtypes differ (as PyTorch promotes). */
    static EmbeddingBagArguments promote(Tensor input, Tensor offsets, long numBags, long paddingRow,
                                         EmbeddingBagMode mode, Tensor perSampleWeights) {
        Tensor indices = input;
        Tensor offsetsUsed = offsets;
        boolean ownsIndices = false;
        boolean ownsOffsets = false;
        if (offsets != null && offsets.dtype() != input.dtype()) {
            if (input.dtype() == DType.INT32) {
                indices = Torch.empty(DType.INT64, input.shape()).copy_(input);
                ownsIndices = true;
            } else {
                offsetsUsed = Torch.empty(DType.INT64, offsets.shape()).copy_(offsets);
                ownsOffsets = true;
            }
        }
        return new EmbeddingBagArguments(indices, ownsIndices, offsetsUsed, ownsOffsets, bagSize(input), numBags,
                paddingRow, mode, perSampleWeights);
    }

    /**
     * Every check that allocates nothing and reads at most two offsets, in PyTorch's order. The contents of the
     * offsets and indices are the backend's to check (it reads them anyway), except before a {@code max_norm}
     * renorm, which writes the weight and so must not start on bad input.
     */
    static void check(Tensor input, Tensor weight, Tensor offsets, Double maxNorm, double normType,
                      boolean scaleGradByFreq, EmbeddingBagMode mode, boolean sparse, Tensor perSampleWeights,
                      boolean includeLastOffset, Long paddingIdx) {
        EmbeddingChecks.checkOpen(input, "input");
        EmbeddingChecks.checkOpen(weight, "weight");
        if (offsets != null) {
            EmbeddingChecks.checkOpen(offsets, "offsets");
        }
        if (perSampleWeights != null) {
            EmbeddingChecks.checkOpen(perSampleWeights, "per_sample_weights");
            BagChecks.checkPerSampleWeightsShape(perSampleWeights, input);
        }
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("weight has to be a 2D Tensor, but got Tensor of dimension "
                    + weight.dim() + " (shape " + Arrays.toString(weight.shape()) + ")");
        }
        long numBags = BagChecks.numBags(input, offsets, includeLastOffset);
        if (input.dim() == 2) {
            includeLastOffset = false;
        }
        if (mode == null) {
            throw new IllegalArgumentException("mode has to be one of sum, mean or max, got null");
        }
        if (mode == EmbeddingBagMode.MAX && scaleGradByFreq) {
            throw new IllegalArgumentException("max mode does not support scaling the gradient by the frequency");
        }
        if (mode == EmbeddingBagMode.MAX && sparse) {
            throw new IllegalArgumentException("max mode does not support sparse weights");
        }
        long numRows = weight.size(0);
        if (maxNorm != null) {
            // PyTorch renormalises here, before its remaining checks; jembed checks what the renorm would trip on
            // in the same place, and renormalises only once every check has passed.
            EmbeddingChecks.checkRenormOptions(maxNorm, normType);
            checkIndexType(input, "indices", "embedding_renorm_", 2);
            if (!weight.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("max_norm needs a floating-point weight, got " + weight.dtype());
            }
            EmbeddingChecks.checkNotReducedPrecision(weight, "max_norm");
            // max_norm rescales rows of the weight in place, which a read-only (memory-mapped) table cannot take.
            TensorInternals.memory(weight).checkWritable();
            checkIndexRange(input, numRows);
        }
        if (perSampleWeights != null && mode != EmbeddingBagMode.SUM) {
            throw new UnsupportedOperationException("embedding_bag: per_sample_weights was not None. "
                    + "per_sample_weights is only supported for mode='sum' (got mode='" + mode.pythonName()
                    + "'). Please open a feature request on GitHub.");
        }
        if (paddingIdx != null) {
            long p = paddingIdx;
            if (p < -numRows || p >= numRows) {
                throw new IllegalArgumentException("padding_idx must be within the number of embeddings, "
                        + (-numRows) + " through " + (numRows - 1) + ", but got " + p);
            }
        }
        checkIndexType(input, "indices", "embedding_bag", 1);
        if (offsets != null) {
            checkIndexType(offsets, "offsets", "embedding_bag", 1);
        }
        if (!weight.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("Expected tensor for argument #1 'weight' to have one of the following "
                    + "scalar types: Half, BFloat16, Float, Double; but got " + weight.dtype().legacyTensorTypeName()
                    + " instead (while checking arguments for embedding_bag)");
        }
        if (includeLastOffset && offsets.numel() < 1) {
            throw new IllegalArgumentException("include_last_offset: number of offset should be at least 1");
        }
        if (maxNorm != null && offsets != null) {
            checkOffsets(offsets, input.numel(), numBags);
        }
        if (perSampleWeights != null && perSampleWeights.dtype() != weight.dtype()) {
            throw new IllegalArgumentException("Expected tensor for argument #1 'weight' to have the same type as "
                    + "tensor for argument #1 'per_sample_weights'; but type " + weight.dtype().legacyTensorTypeName()
                    + " does not equal " + perSampleWeights.dtype().legacyTensorTypeName()
                    + " (while checking arguments for embedding_bag)");
        }
    }

    /** The length of every bag of a 2-D input; 0 with offsets. */
    static long bagSize(Tensor input) {
        return input.dim() == 2 ? input.size(1) : 0;
    }

    /** The number of bags of checked arguments. */
    static long numBags(Tensor input, Tensor offsets, boolean includeLastOffset) {
        return input.dim() == 2 ? input.size(0) : offsets.numel() - (includeLastOffset ? 1 : 0);
    }

    /** The row {@code padding_idx} names ({@code [-V, V)} checked), or -1 for none. */
    static long paddingRow(Long paddingIdx, long numRows) {
        if (paddingIdx == null) {
            return -1;
        }
        long p = paddingIdx;
        return p < 0 ? p + numRows : p;
    }

    private static void checkIndexType(Tensor t, String name, String operation, int argument) {
        DType dtype = t.dtype();
        if (dtype != DType.INT64 && dtype != DType.INT32) {
            throw new IllegalArgumentException("Expected tensor for argument #" + argument + " '" + name + "' to have "
                    + "one of the following scalar types: Long, Int; but got " + dtype.legacyTensorTypeName()
                    + " instead (while checking arguments for " + operation + ")");
        }
    }

    private static void checkOffsets(Tensor offsets, long n, long numBags) {
        MemoryGuard guard = TensorInternals.guard(offsets);
        try {
            BagChecks.checkOffsets(offsets, n, numBags);
        } finally {
            guard.exit();
        }
    }

    private static void checkIndexRange(Tensor input, long numRows) {
        MemoryGuard guard = TensorInternals.guard(input);
        try {
            BagChecks.checkIndexRange(input, numRows);
        } finally {
            guard.exit();
        }
    }

    @Override
    public void close() {
        if (ownsIndices) {
            indices.close();
        }
        if (ownsOffsets) {
            offsets.close();
        }
    }
}
