package io.jembed.quantized;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backend;
import io.jembed.backend.Backends;
import io.jembed.internal.BagChecks;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.nn.EmbeddingBagMode;
import java.util.Arrays;

/**
 * Lookups in a {@link QuantizedTable}, dequantized on the fly into float32, bit for bit as libtorch's quantized
 * operators (FBGEMM's {@code EmbeddingSpMDM} kernels) compute them: per output element, in float32, from +0, for each
 * looked-up row in input order, {@code acc = fma(w * scale, q, acc + w * bias)} with {@code w} the per-sample weight
 * (or 1).
 *
 * <p>Beyond PyTorch's operators, which only sum (they ignore their {@code mode} argument), {@code MEAN} divides the
 * sum once by the bag's length, as {@code nn.EmbeddingBag}'s float path does. {@code MAX} is refused. PyTorch's
 * pruned-weights arguments ({@code pruned_weights}, {@code compressed_indices_mapping}) are not supported.
 *
 * <p>Every argument is checked before anything is written, and more strictly than libtorch checks them: indices
 * within the table (libtorch's message names position and value; so does jembed's), offsets starting at 0 and never
 * decreasing, with {@code include_last_offset} the last equal to the input's length (libtorch does not check it),
 * per-sample weights of the input's shape (libtorch does not check their length). A failed call changes nothing.
 *
 * <p>Thread-safe: concurrent lookups in one table are safe.
 */
public final class QuantizedOps {
    private QuantizedOps() {}

    /**
     * Row lookup: the dequantized rows named by {@code indices} (int32 or int64, any shape), as a float32 tensor of
     * shape {@code (*indices.shape, embedding_dim)}.
     *
     * <p>PyTorch equivalent: {@code torch.ops.quantized.embedding_byte(packed_params, indices)} /
     * {@code embedding_4bit} (the forward of {@code torch.ao.nn.quantized.Embedding}); its rows equal the unpack
     * operator's bit for bit.
     *
     * @throws IndexOutOfBoundsException naming the first index outside {@code [0, num_embeddings)} and its position
     */
    public static Tensor embedding(QuantizedTable table, Tensor indices) {
        checkTable(table);
        checkIndices(indices, "indices");
        long[] shape = Arrays.copyOf(indices.shape(), indices.dim() + 1);
        shape[indices.dim()] = table.embeddingDim();
        Tensor out = Torch.empty(DType.FLOAT32, shape);
        try {
            Backend backend = Backends.current();
            backend.quantizedEmbeddingBag(table.memory(), table.numEmbeddings(), table.embeddingDim(),
                    table.dtype().bits(), indices, null, 1, EmbeddingBagMode.SUM, null, flatView(out));
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * As {@link #embedding(QuantizedTable, Tensor)}, into a caller-provided float32 {@code out} of shape
     * {@code (*indices.shape, embedding_dim)}: no allocation on the hot path. Every index is checked before anything is
     * written.
     */
    public static void embedding(QuantizedTable table, Tensor indices, Tensor out) {
        checkTable(table);
        checkIndices(indices, "indices");
        long[] shape = Arrays.copyOf(indices.shape(), indices.dim() + 1);
        shape[indices.dim()] = table.embeddingDim();
        if (out == null) {
            throw new IllegalArgumentException("'out' must not be null");
        }
        if (out.isClosed()) {
            throw new IllegalStateException("'out' has been closed");
        }
        if (out.dtype() != DType.FLOAT32 || !Arrays.equals(out.shape(), shape)) {
            throw new IllegalArgumentException("'out' must be float32 of shape " + Arrays.toString(shape)
                    + " (indices' shape, embedding_dim), got " + Arrays.toString(out.shape()) + " of " + out.dtype());
        }
        if (out == indices) {
            throw new IllegalArgumentException("'out' must not be the indices");
        }
        TensorInternals.memory(out).checkWritable();
        Backends.current().quantizedEmbeddingBag(table.memory(), table.numEmbeddings(), table.embeddingDim(),
                table.dtype().bits(), indices, null, 1, EmbeddingBagMode.SUM, null, flatView(out));
    }

    /**
     * The sums of bags of rows, {@code mode} SUM, without per-sample weights and without
     * {@code include_last_offset}: as {@link #embeddingBag(QuantizedTable, Tensor, Tensor, EmbeddingBagMode, Tensor,
     * boolean)}.
     */
    public static Tensor embeddingBag(QuantizedTable table, Tensor input, Tensor offsets) {
        return embeddingBag(table, input, offsets, EmbeddingBagMode.SUM, null, false);
    }

    /**
     * Pooled lookup: bag {@code b} of the output (float32 {@code (B, embedding_dim)}) sums (or averages) the
     * dequantized rows named by its indices. Bags as in {@code F.embedding_bag}: a 1-D {@code input} with 1-D
     * {@code offsets} (the start of each bag; with {@code includeLastOffset} one more, equal to the input's length),
     * or a 2-D {@code input} {@code (B, N)} with {@code offsets} null. Indices and offsets are int32 or int64 (mixed
     * ones are promoted to int64, as PyTorch does).
     *
     * <p>PyTorch equivalent: {@code torch.ops.quantized.embedding_bag_byte_rowwise_offsets(packed, input, offsets,
     * mode=0, per_sample_weights=psw, include_last_offset=...)} / {@code embedding_bag_4bit_rowwise_offsets} (the
     * forward of {@code torch.ao.nn.quantized.EmbeddingBag}).
     *
     * @param mode SUM (PyTorch's quantized ops) or MEAN (the sum divided once by the bag's length; 0 for an empty
     *     bag); MAX is refused
     * @param perSampleWeights {@code null}, or float32 of the input's shape, SUM only: row {@code i} scaled by
     *     {@code w[i]} inside the fused step
     * @throws IndexOutOfBoundsException naming the first index outside {@code [0, num_embeddings)} and its position
     * @throws IllegalArgumentException for bad shapes, dtypes, offsets or mode
     */
    public static Tensor embeddingBag(QuantizedTable table, Tensor input, Tensor offsets, EmbeddingBagMode mode,
                                      Tensor perSampleWeights, boolean includeLastOffset) {
        checkTable(table);
        try (Arguments a = Arguments.validate(table, input, offsets, mode, perSampleWeights, includeLastOffset)) {
            Tensor out = Torch.empty(DType.FLOAT32, a.numBags, table.embeddingDim());
            try {
                run(table, a, out);
                return out;
            } catch (RuntimeException | Error e) {
                out.close();
                throw e;
            }
        }
    }

    /**
     * As {@link #embeddingBag(QuantizedTable, Tensor, Tensor, EmbeddingBagMode, Tensor, boolean)}, into a
     * caller-provided float32 {@code out} of shape {@code (B, embedding_dim)}: no allocation on the hot path
     * (except int64 copies when the indices' and offsets' dtypes differ).
     *
     * <p>PyTorch equivalent: {@code embedding_bag_byte_rowwise_offsets} into a preallocated output.
     */
    public static void embeddingBag(QuantizedTable table, Tensor input, Tensor offsets, EmbeddingBagMode mode,
                                    Tensor perSampleWeights, boolean includeLastOffset, Tensor out) {
        checkTable(table);
        try (Arguments a = Arguments.validate(table, input, offsets, mode, perSampleWeights, includeLastOffset)) {
            checkOut(out, a.numBags, table.embeddingDim(), input, perSampleWeights, offsets);
            run(table, a, out);
        }
    }

    private static void run(QuantizedTable table, Arguments a, Tensor out) {
        Backends.current().quantizedEmbeddingBag(table.memory(), table.numEmbeddings(), table.embeddingDim(),
                table.dtype().bits(), a.indices, a.offsets, a.bagSize, a.mode, a.perSampleWeights, out);
    }

    static void checkTable(QuantizedTable table) {
        if (table == null) {
            throw new IllegalArgumentException("'table' must not be null");
        }
        if (table.isClosed()) {
            throw new IllegalStateException("'table' has been closed");
        }
    }

    private static void checkIndices(Tensor indices, String name) {
        if (indices == null) {
            throw new IllegalArgumentException("'" + name + "' must not be null");
        }
        if (indices.isClosed()) {
            throw new IllegalStateException("'" + name + "' has been closed");
        }
        if (indices.dtype() != DType.INT64 && indices.dtype() != DType.INT32) {
            throw new IllegalArgumentException("Expected tensor for argument '" + name + "' to have one of the "
                    + "following scalar types: Long, Int; but got " + indices.dtype().legacyTensorTypeName()
                    + " instead");
        }
    }

    private static void checkOut(Tensor out, long numBags, long dim, Tensor... inputs) {
        if (out == null) {
            throw new IllegalArgumentException("'out' must not be null");
        }
        if (out.isClosed()) {
            throw new IllegalStateException("'out' has been closed");
        }
        if (out.dtype() != DType.FLOAT32 || out.dim() != 2 || out.size(0) != numBags || out.size(1) != dim) {
            throw new IllegalArgumentException("'out' must be float32 of shape [" + numBags + ", " + dim
                    + "] (bags, embedding_dim), got " + Arrays.toString(out.shape()) + " of " + out.dtype());
        }
        for (Tensor input : inputs) {
            if (input == out) {
                throw new IllegalArgumentException("'out' must not be one of the inputs");
            }
        }
        TensorInternals.memory(out).checkWritable();
    }

    /**
     * A 2-D view {@code (numel(indices), dim)} of a lookup's output: another tensor over the same memory, which the
     * output owns (the view is never closed; dropping it frees nothing).
     */
    private static Tensor flatView(Tensor out) {
        if (out.dim() == 2) {
            return out;
        }
        long lookups = 1;
        for (int d = 0; d < out.dim() - 1; d++) {
            lookups *= out.size(d);
        }
        return TensorInternals.wrap(DType.FLOAT32, new long[] {lookups, out.size(out.dim() - 1)},
                TensorInternals.memory(out));
    }

    /** The validated arguments of one bag call, with int64 copies when indices and offsets differ in dtype. */
    static final class Arguments implements AutoCloseable {
        final Tensor indices;
        final Tensor offsets;
        final long bagSize;
        final long numBags;
        final EmbeddingBagMode mode;
        final Tensor perSampleWeights;
        private final boolean ownsIndices;
        private final boolean ownsOffsets;

        private Arguments(Tensor indices, boolean ownsIndices, Tensor offsets, boolean ownsOffsets, long bagSize,
                          long numBags, EmbeddingBagMode mode, Tensor perSampleWeights) {
            this.indices = indices;
            this.ownsIndices = ownsIndices;
            this.offsets = offsets;
            this.ownsOffsets = ownsOffsets;
            this.bagSize = bagSize;
            this.numBags = numBags;
            this.mode = mode;
            this.perSampleWeights = perSampleWeights;
        }

        static Arguments validate(QuantizedTable table, Tensor input, Tensor offsets, EmbeddingBagMode mode,
                                  Tensor perSampleWeights, boolean includeLastOffset) {
            checkIndices(input, "input");
            if (mode == null || mode == EmbeddingBagMode.MAX) {
                throw new IllegalArgumentException("a quantized embedding_bag sums or averages: mode has to be sum or "
                        + "mean, got " + (mode == null ? "null" : "'" + mode.pythonName() + "'")
                        + " (PyTorch's quantized operators only sum)");
            }
            if (perSampleWeights != null) {
                if (perSampleWeights.isClosed()) {
                    throw new IllegalStateException("'per_sample_weights' has been closed");
                }
                BagChecks.checkPerSampleWeightsShape(perSampleWeights, input);
                if (perSampleWeights.dtype() != DType.FLOAT32) {
                    throw new IllegalArgumentException("per_sample_weights must be float32 for a quantized table, "
                            + "got " + perSampleWeights.dtype());
                }
                if (mode != EmbeddingBagMode.SUM) {
                    throw new UnsupportedOperationException("embedding_bag: per_sample_weights was not None. "
                            + "per_sample_weights is only supported for mode='sum' (got mode='" + mode.pythonName()
                            + "')");
                }
            }
            if (offsets != null && offsets.isClosed()) {
                throw new IllegalStateException("'offsets' has been closed");
            }
            // The shapes and the offsets' contents: F.embedding_bag's checks and messages.
            long numBags = BagChecks.numBags(input, offsets, includeLastOffset);
            long bagSize = input.dim() == 2 ? input.size(1) : 0;
            if (offsets != null) {
                checkIndices(offsets, "offsets");
                if (includeLastOffset && offsets.numel() < 1) {
                    throw new IllegalArgumentException("include_last_offset: number of offset should be at least 1");
                }
                MemoryGuard guard = TensorInternals.guard(offsets);
                try {
                    BagChecks.checkOffsets(offsets, input.numel(), numBags);
                } finally {
                    guard.exit();
                }
            }
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
            return new Arguments(indices, ownsIndices, offsetsUsed, ownsOffsets, bagSize, Math.max(numBags, 0),
                    mode, perSampleWeights);
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
}
