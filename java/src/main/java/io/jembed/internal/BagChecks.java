package io.jembed.internal;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.internal.memory.Memory;
import java.util.Arrays;

/**
 * The checks of an {@code embedding_bag} call's shapes and of the contents of its offsets and indices, with PyTorch's
 * messages, shared by {@code F.embedding_bag} and the quantized lookups ({@code io.jembed.quantized.QuantizedOps}).
 * The backends run the content checks: the Java backend before it writes; the native one only when its kernel,
 * which checks the same things in its own pass before it writes, reports a failure, so that a call reads its
 * indices once.
 *
 * <p>libtorch checks only the first and the last offset. jembed also checks that they never decrease (libtorch
 * reads out of bounds otherwise) and the count rules: with {@code include_last_offset} at least one offset, the last
 * being the input's length (libtorch's kernels disagree on where the last bag ends otherwise); without, no offsets
 * only for an empty input (else no bag holds the indices).
 *
 * <p>Every method that reads the contents reads tensor memory: the caller holds the tensors' guard.
 */
public final class BagChecks {
    private BagChecks() {
    }

    /**
     * PyTorch's check that {@code per_sample_weights}, when given, has the input's shape (its message names both
     * shapes).
     */
    public static void checkPerSampleWeightsShape(Tensor perSampleWeights, Tensor input) {
        if (perSampleWeights != null && !sameShape(perSampleWeights, input)) {
            throw new IllegalArgumentException("embedding_bag: If per_sample_weights ("
                    + Arrays.toString(perSampleWeights.shape()) + ") is not None, then it must have the same "
                    + "shape as the input (" + Arrays.toString(input.shape()) + ")");
        }
    }

    /**
     * The shape checks of a call's input and offsets, in PyTorch's order and with its messages (a 2-D input takes no
     * offsets and bags of one length, which must not be 0; a 1-D input takes 1-D offsets), reading no tensor memory:
     * the number of bags. {@code offsets} must be open when given.
     */
    public static long numBags(Tensor input, Tensor offsets, boolean includeLastOffset) {
        if (input.dim() == 2) {
            if (offsets != null) {
                throw new IllegalArgumentException("if input is 2D, then offsets has to be None, as input is treated "
                        + "is a mini-batch of fixed length sequences. However, found offsets of shape "
                        + Arrays.toString(offsets.shape()));
            }
            if (input.size(1) == 0 && input.size(0) > 0) {
                // PyTorch builds the offsets with arange(0, numel, N), which rejects a step of 0.
                throw new IllegalArgumentException("embedding_bag: a 2-D input of shape "
                        + Arrays.toString(input.shape()) + " has bags of length 0, which PyTorch rejects "
                        + "(arange: step must be nonzero); pass a 1-D input with offsets for empty bags");
            }
            return input.size(0);
        }
        if (input.dim() == 1) {
            if (offsets == null) {
                throw new IllegalArgumentException("offsets has to be a 1D Tensor but got None");
            }
            if (offsets.dim() != 1) {
                throw new IllegalArgumentException("offsets has to be a 1D Tensor, but got Tensor of dimension "
                        + offsets.dim() + " (shape " + Arrays.toString(offsets.shape()) + ")");
            }
            return offsets.numel() - (includeLastOffset ? 1 : 0);
        }
        throw new IllegalArgumentException("input has to be 1D or 2D Tensor, but got Tensor of dimension "
                + input.dim() + " (shape " + Arrays.toString(input.shape()) + ")");
    }

    /** Shapes compared without the copies {@link Tensor#shape()} makes: this runs on every zero-allocation call. */
    private static boolean sameShape(Tensor a, Tensor b) {
        if (a.dim() != b.dim()) {
            return false;
        }
        for (int d = 0; d < a.dim(); d++) {
            if (a.size(d) != b.size(d)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the offsets pass the checks that read at most two of them (the first is 0, the last at most {@code n},
     * the count rules): what a backend whose kernel checks the order itself asks before calling it. Whether
     * {@code include_last_offset} was given follows from the counts: {@code numBags + 1} offsets, not {@code numBags}.
     */
    public static boolean offsetEndsValid(Tensor offsets, long n, long numBags) {
        Memory memory = TensorInternals.memory(offsets);
        boolean wide = offsets.dtype() == DType.INT64;
        long count = offsets.numel();
        if (count == 0) {
            return n == 0;
        }
        long last = Bags.read(memory, wide, count - 1);
        return Bags.read(memory, wide, 0) == 0 && (count == numBags + 1 ? last == n : last <= n);
    }

    /**
     * Every check on the contents, in PyTorch's order, each failure with its message: the first offset, the last,
     * their order, the count rules, then every index in {@code [0, numRows)}.
     */
    public static void checkContents(Tensor input, Tensor offsets, long numBags, long numRows) {
        if (offsets != null) {
            checkOffsets(offsets, input.numel(), numBags);
        }
        checkIndexRange(input, numRows);
    }

    /** The offsets' checks of {@link #checkContents}. */
    public static void checkOffsets(Tensor offsets, long n, long numBags) {
        Memory memory = TensorInternals.memory(offsets);
        boolean wide = offsets.dtype() == DType.INT64;
        long count = offsets.numel();
        boolean includeLastOffset = count == numBags + 1;
        if (count > 0) {
            long first = Bags.read(memory, wide, 0);
            if (first != 0) {
                throw new IllegalArgumentException("offsets[0] has to be 0, i.e., the first sequence in the "
                        + "mini-batch has to start from position 0. However, got " + first);
            }
            long last = Bags.read(memory, wide, count - 1);
            if (last > n) {
                throw new IllegalArgumentException("offsets[-1] can not be greater than input's length " + n
                        + " but got offsets[-1] of " + last);
            }
            long previous = 0;
            for (long b = 1; b < count; b++) {
                long offset = Bags.read(memory, wide, b);
                if (offset < previous) {
                    throw new IllegalArgumentException("offsets must be non-decreasing, but offsets[" + b + "] = "
                            + offset + " is less than offsets[" + (b - 1) + "] = " + previous + " (each offset "
                            + "must lie in [offsets[i-1], " + n + "])");
                }
                previous = offset;
            }
        }
        if (includeLastOffset) {
            long last = Bags.read(memory, wide, count - 1);
            if (last != n) {
                throw new IllegalArgumentException("include_last_offset: the last offset ends the last bag and must "
                        + "be the input's length " + n + ", but got offsets[-1] of " + last);
            }
        } else if (count == 0 && n > 0) {
            throw new IllegalArgumentException("offsets is empty, so there are no bags, but the input holds " + n
                    + " indices; offsets must start with 0");
        }
    }

    /** The indices' check of {@link #checkContents}. */
    public static void checkIndexRange(Tensor input, long numRows) {
        Memory memory = TensorInternals.memory(input);
        boolean wide = input.dtype() == DType.INT64;
        long n = input.numel();
        for (long i = 0; i < n; i++) {
            long index = Bags.read(memory, wide, i);
            if (index < 0 || index >= numRows) {
                throw indexOutOfRange(input.shape(), i, index, numRows);
            }
        }
    }

    /** The exception for index {@code index} at flat position {@code flat} of an input of shape {@code shape}. */
    public static IndexOutOfBoundsException indexOutOfRange(long[] shape, long flat, long index, long numRows) {
        String range = numRows == 0 ? "the weight has no rows" : "valid indices are 0 to " + (numRows - 1);
        return new IndexOutOfBoundsException("embedding_bag: Expected idx >= 0 && idx < num_embeddings but found "
                + "idx to be " + index + " at position " + EmbeddingChecks.position(shape, flat) + " of the input; "
                + range);
    }
}
