package io.jembed.internal;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.internal.memory.Memory;

/**
 * Where each bag of an {@code EmbeddingBag} call starts and ends in the flat index tensor, for arguments that have
 * been validated: with offsets, bag {@code b} is {@code [offsets[b], offsets[b + 1])} and the last bag (the one
 * without a following offset) ends at the end of the input; without offsets (2-D input read flat), every bag holds
 * {@code bagSize} consecutive indices. Also reads one index of an int32 or int64 tensor.
 *
 * <p>Not thread-safe to share while the tensors it reads are written; a view, not a copy.
 */
public final class Bags {
    private final Memory offsets;
    private final boolean wideOffsets;
    private final long offsetCount;
    private final long bagSize;
    private final long numIndices;
    private final long numBags;

    /**
     * @param offsets int32/int64 offsets, or {@code null} for fixed-size bags
     * @param bagSize the length of every bag when {@code offsets} is {@code null}
     */
    public Bags(Tensor indices, Tensor offsets, long bagSize, long numBags) {
        this.offsets = offsets == null ? null : TensorInternals.memory(offsets);
        this.wideOffsets = offsets != null && offsets.dtype() == DType.INT64;
        this.offsetCount = offsets == null ? 0 : offsets.numel();
        this.bagSize = bagSize;
        this.numIndices = indices.numel();
        this.numBags = numBags;
    }

    public long numBags() {
        return numBags;
    }

    /** The first flat position of bag {@code b}. */
    public long start(long b) {
        return offsets == null ? b * bagSize : read(offsets, wideOffsets, b);
    }

    /** One past the last flat position of bag {@code b}. */
    public long end(long b) {
        if (offsets == null) {
            return (b + 1) * bagSize;
        }
        return b + 1 < offsetCount ? read(offsets, wideOffsets, b + 1) : numIndices;
    }

    /** Element {@code i} of a flat int32 ({@code wide} false) or int64 tensor. */
    public static long read(Memory memory, boolean wide, long i) {
        return wide ? memory.getLong(8 * i) : memory.getInt(4 * i);
    }
}
