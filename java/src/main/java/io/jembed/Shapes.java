package io.jembed;

import java.util.Arrays;

/** Shape arithmetic and its checks, with PyTorch's messages. */
final class Shapes {
    private Shapes() {}

    /** The number of elements of {@code shape}, after checking that no size is negative and the product fits. */
    static long numel(long[] shape) {
        long numel = 1;
        for (long size : shape) {
            if (size < 0) {
                throw new IllegalArgumentException("Trying to create tensor with negative dimension " + size + ": "
                        + Arrays.toString(shape));
            }
        }
        for (long size : shape) {
            try {
                numel = Math.multiplyExact(numel, size);
            } catch (ArithmeticException e) {
                if (Arrays.stream(shape).anyMatch(s -> s == 0)) {
                    return 0;
                }
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than "
                        + Long.MAX_VALUE + " elements");
            }
        }
        return numel;
    }

    /** The bytes needed by {@code numel} elements of {@code dtype}. */
    static long byteSize(long numel, DType dtype, long[] shape) {
        try {
            return Math.multiplyExact(numel, (long) dtype.itemSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype + " needs more than "
                    + Long.MAX_VALUE + " bytes");
        }
    }

    /** PyTorch's rendering of a shape, e.g. {@code [2, 0, 3]}. */
    static String toString(long[] shape) {
        return Arrays.toString(shape);
    }
}
