package io.jembed;

import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * Tensor factories and the default generator: the {@code torch.*} functions a PyTorch user reaches for.
 *
 * <p>Array factories take the element type from the Java array: {@code float[]} gives {@link DType#FLOAT32},
 * {@code double[]} {@link DType#FLOAT64}, {@code long[]} {@link DType#INT64}, {@code int[]} {@link DType#INT32}.
 * Every tensor returned is owned by the caller (close it, or let the garbage collector free it).
 *
 * <p>Thread-safe.
 */
public final class Torch {
    private static final Generator DEFAULT_GENERATOR = new Generator();

    private Torch() {}

    /** PyTorch equivalent: {@code torch.default_generator}. */
    public static Generator defaultGenerator() {
        return DEFAULT_GENERATOR;
    }

    /** PyTorch equivalent: {@code torch.manual_seed(seed)}: reseeds the default generator. */
    public static Generator manualSeed(long seed) {
        return DEFAULT_GENERATOR.manualSeed(seed);
    }

    // ---- from Java arrays ----------------------------------------------------------------------------------

    /**
     * A 1-D tensor of {@code data.length} elements.
     * PyTorch equivalent: {@code torch.tensor(data, dtype=torch.float32)}.
     */
    public static Tensor tensor(float[] data) {
        return Tensor.allocate(DType.FLOAT32, new long[] {data.length}, false).copyFrom(data);
    }

    /**
     * {@code data} in the given shape, honoured as written: an empty {@code shape} gives a 0-d tensor (one element).
     * PyTorch equivalent: {@code torch.tensor(data, dtype=torch.float32).reshape(shape)},
     * e.g. {@code reshape(())}.
     *
     * @throws IllegalArgumentException if the shape's element count is not {@code data.length}, or a size is negative
     */
    public static Tensor tensor(float[] data, long[] shape) {
        return Tensor.allocate(DType.FLOAT32, checkedShape(data.length, shape), false).copyFrom(data);
    }

    /** {@link #tensor(float[], long[])} with the sizes written out, e.g. {@code tensor(data, 2, 3)}. */
    public static Tensor tensor(float[] data, long size0, long... moreSizes) {
        return tensor(data, prepend(size0, moreSizes));
    }

    /**
     * A 1-D tensor of {@code dtype} from float values: {@link DType#FLOAT16} and {@link DType#BFLOAT16} round each to
     * nearest even, {@link DType#FLOAT64} widens exactly, {@link DType#FLOAT32} keeps them.
     * PyTorch equivalent: {@code torch.tensor(data, dtype=dtype)} (of float32 values).
     *
     * @throws IllegalArgumentException if {@code dtype} is not floating point
     */
    public static Tensor tensor(float[] data, DType dtype) {
        return tensor(data, dtype, new long[] {data.length});
    }

    /**
     * As {@link #tensor(float[], DType)}, in the given shape (an empty {@code shape} gives a 0-d tensor).
     * PyTorch equivalent: {@code torch.tensor(data, dtype=dtype).reshape(shape)}.
     */
    public static Tensor tensor(float[] data, DType dtype, long[] shape) {
        if (dtype == null || !dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("float values make a floating-point tensor, not " + dtype);
        }
        long[] checked = checkedShape(data.length, shape);
        if (dtype == DType.FLOAT64) {
            double[] wide = new double[data.length];
            for (int i = 0; i < data.length; i++) {
                wide[i] = data[i];
            }
            return Tensor.allocate(dtype, checked, false).copyFrom(wide);
        }
        return Tensor.allocate(dtype, checked, false).copyFrom(data);
    }

    /**
     * A 1-D tensor of {@code data.length} elements.
     * PyTorch equivalent: {@code torch.tensor(data, dtype=torch.float64)}.
     */
    public static Tensor tensor(double[] data) {
        return Tensor.allocate(DType.FLOAT64, new long[] {data.length}, false).copyFrom(data);
    }

    /**
     * {@code data} in the given shape, honoured as written: an empty {@code shape} gives a 0-d tensor (one element).
     * PyTorch equivalent: {@code torch.tensor(data, dtype=torch.float64).reshape(shape)},
     * e.g. {@code reshape(())}.
     *
     * @throws IllegalArgumentException if the shape's element count is not {@code data.length}, or a size is negative
     */
    public static Tensor tensor(double[] data, long[] shape) {
        return Tensor.allocate(DType.FLOAT64, checkedShape(data.length, shape), false).copyFrom(data);
    }

    /** {@link #tensor(double[], long[])} with the sizes written out, e.g. {@code tensor(data, 2, 3)}. */
    public static Tensor tensor(double[] data, long size0, long... moreSizes) {
        return tensor(data, prepend(size0, moreSizes));
    }

    /**
     * A 1-D tensor of {@code data.length} elements.
     * PyTorch equivalent: {@code torch.tensor(data)} (int64).
     */
    public static Tensor tensor(long[] data) {
        return Tensor.allocate(DType.INT64, new long[] {data.length}, false).copyFrom(data);
    }

    /**
     * {@code data} in the given shape, honoured as written: an empty {@code shape} gives a 0-d tensor (one element).
     * PyTorch equivalent: {@code torch.tensor(data)} (int64){@code .reshape(shape)}, e.g. {@code reshape(())}.
     *
     * @throws IllegalArgumentException if the shape's element count is not {@code data.length}, or a size is negative
     */
    public static Tensor tensor(long[] data, long[] shape) {
        return Tensor.allocate(DType.INT64, checkedShape(data.length, shape), false).copyFrom(data);
    }

    /** {@link #tensor(long[], long[])} with the sizes written out, e.g. {@code tensor(data, 2, 3)}. */
    public static Tensor tensor(long[] data, long size0, long... moreSizes) {
        return tensor(data, prepend(size0, moreSizes));
    }

    /**
     * A 1-D tensor of {@code data.length} elements.
     * PyTorch equivalent: {@code torch.tensor(data, dtype=torch.int32)}.
     */
    public static Tensor tensor(int[] data) {
        return Tensor.allocate(DType.INT32, new long[] {data.length}, false).copyFrom(data);
    }

    /**
     * {@code data} in the given shape, honoured as written: an empty {@code shape} gives a 0-d tensor (one element).
     * PyTorch equivalent: {@code torch.tensor(data, dtype=torch.int32).reshape(shape)},
     * e.g. {@code reshape(())}.
     *
     * @throws IllegalArgumentException if the shape's element count is not {@code data.length}, or a size is negative
     */
    public static Tensor tensor(int[] data, long[] shape) {
        return Tensor.allocate(DType.INT32, checkedShape(data.length, shape), false).copyFrom(data);
    }

    /** {@link #tensor(int[], long[])} with the sizes written out, e.g. {@code tensor(data, 2, 3)}. */
    public static Tensor tensor(int[] data, long size0, long... moreSizes) {
        return tensor(data, prepend(size0, moreSizes));
    }

    /** PyTorch equivalent: {@code torch.tensor([[...], ...])} for a rectangular 2-D float array. */
    public static Tensor tensor(float[][] rows) {
        return tensor(flatten(rows, float[]::new, row -> row.length), rows.length, width(rows, row -> row.length));
    }

    /** PyTorch equivalent: {@code torch.tensor([[...], ...], dtype=torch.float64)}. */
    public static Tensor tensor(double[][] rows) {
        return tensor(flatten(rows, double[]::new, row -> row.length), rows.length, width(rows, row -> row.length));
    }

    /** PyTorch equivalent: {@code torch.tensor([[...], ...])} (int64), e.g. a batch of index sequences. */
    public static Tensor tensor(long[][] rows) {
        return tensor(flatten(rows, long[]::new, row -> row.length), rows.length, width(rows, row -> row.length));
    }

    /** PyTorch equivalent: {@code torch.tensor([[...], ...], dtype=torch.int32)}. */
    public static Tensor tensor(int[][] rows) {
        return tensor(flatten(rows, int[]::new, row -> row.length), rows.length, width(rows, row -> row.length));
    }

    /** The rows of a rectangular 2-D array, concatenated. */
    private static <A> A flatten(A[] rows, IntFunction<A> newArray, ToIntFunction<A> length) {
        int width = width(rows, length);
        A flat = newArray.apply(Math.multiplyExact(rows.length, width));
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * width, width);
        }
        return flat;
    }

    private static <A> int width(A[] rows, ToIntFunction<A> length) {
        int width = rows.length == 0 ? 0 : length.applyAsInt(rows[0]);
        for (A row : rows) {
            if (length.applyAsInt(row) != width) {
                throw new IllegalArgumentException("expected sequence of length " + width + " at dim 1 (got "
                        + length.applyAsInt(row) + ")");
            }
        }
        return width;
    }

    /** A 0-d tensor. PyTorch equivalent: {@code torch.scalar_tensor(value, dtype=dtype)}. */
    public static Tensor scalarTensor(double value, DType dtype) {
        Tensor scalar = Tensor.allocate(dtype, new long[0], false);
        scalar.flatSet(0, value);
        return scalar;
    }

    /** A 0-d int64 tensor, e.g. a single index. PyTorch equivalent: {@code torch.tensor(value)}. */
    public static Tensor scalarTensor(long value) {
        Tensor scalar = Tensor.allocate(DType.INT64, new long[0], false);
        scalar.flatSetLong(0, value);
        return scalar;
    }

    /** The explicit shape, which must hold exactly {@code length} elements (a 0-d shape holds one). */
    private static long[] checkedShape(int length, long[] shape) {
        if (shape == null) {
            throw new IllegalArgumentException("shape must not be null (pass new long[0] for a 0-d tensor)");
        }
        long numel = Shapes.numel(shape);
        if (numel != length) {
            throw new IllegalArgumentException("shape " + Shapes.toString(shape) + " is invalid for input of size "
                    + length);
        }
        return shape;
    }

    private static long[] prepend(long first, long[] rest) {
        long[] shape = new long[rest.length + 1];
        shape[0] = first;
        System.arraycopy(rest, 0, shape, 1, rest.length);
        return shape;
    }

    // ---- filled --------------------------------------------------------------------------------------------

    /** Uninitialised contents. PyTorch equivalent: {@code torch.empty(shape, dtype=dtype)}. */
    public static Tensor empty(DType dtype, long... shape) {
        return Tensor.allocate(dtype, shape, false);
    }

    /** PyTorch equivalent: {@code torch.zeros(shape, dtype=dtype)}. */
    public static Tensor zeros(DType dtype, long... shape) {
        return Tensor.allocate(dtype, shape, true);
    }

    /** PyTorch equivalent: {@code torch.ones(shape, dtype=dtype)}. */
    public static Tensor ones(DType dtype, long... shape) {
        return Tensor.allocate(dtype, shape, false).fill_(1);
    }

    /** PyTorch equivalent: {@code torch.full(shape, value, dtype=dtype)}. */
    public static Tensor full(DType dtype, double value, long... shape) {
        return Tensor.allocate(dtype, shape, false).fill_(value);
    }

    /** PyTorch equivalent: {@code torch.arange(end, dtype=dtype)}: 0, 1, ..., end-1. */
    public static Tensor arange(long end, DType dtype) {
        Tensor range = Tensor.allocate(dtype, new long[] {Math.max(0, end)}, false);
        for (long i = 0; i < end; i++) {
            range.flatSet(i, i);
        }
        return range;
    }

    /** PyTorch equivalent: {@code torch.randn(shape, dtype=dtype, generator=generator)}. */
    public static Tensor randn(Generator generator, DType dtype, long... shape) {
        return Tensor.allocate(dtype, shape, false).normal_(0, 1, generator);
    }

    /** PyTorch equivalent: {@code torch.randn(shape)} (float32, default generator). */
    public static Tensor randn(long... shape) {
        return randn(DEFAULT_GENERATOR, DType.FLOAT32, shape);
    }

    /** PyTorch equivalent: {@code torch.rand(shape, dtype=dtype, generator=generator)}: U[0, 1). */
    public static Tensor rand(Generator generator, DType dtype, long... shape) {
        return Tensor.allocate(dtype, shape, false).uniform_(0, 1, generator);
    }

    // ---- comparisons ---------------------------------------------------------------------------------------

    /** PyTorch equivalent: {@code torch.equal(a, b)}: same shape and equal elements (NaN is never equal). */
    public static boolean equal(Tensor a, Tensor b) {
        a.checkOpen();
        b.checkOpen();
        if (!java.util.Arrays.equals(a.shape(), b.shape())) {
            return false;
        }
        MemoryGuard guard = MemoryGuard.enter(a.memory(), b.memory());
        try {
            for (long i = 0; i < a.numel(); i++) {
                if (!(a.flatDouble(i) == b.flatDouble(i))) {
                    return false;
                }
            }
            return true;
        } finally {
            guard.exit();
        }
    }

    /**
     * PyTorch equivalent: {@code torch.allclose(a, b, rtol, atol)}: {@code |a - b| <= atol + rtol * |b|} everywhere.
     */
    public static boolean allclose(Tensor a, Tensor b, double rtol, double atol) {
        a.checkOpen();
        b.checkOpen();
        if (!java.util.Arrays.equals(a.shape(), b.shape())) {
            return false;
        }
        MemoryGuard guard = MemoryGuard.enter(a.memory(), b.memory());
        try {
            for (long i = 0; i < a.numel(); i++) {
                double x = a.flatDouble(i);
                double y = b.flatDouble(i);
                if (!(x == y || Math.abs(x - y) <= atol + rtol * Math.abs(y))) {
                    return false;
                }
            }
            return true;
        } finally {
            guard.exit();
        }
    }

    // ---- from files ----------------------------------------------------------------------------------------

    /**
     * Maps {@code numel(shape)} little-endian elements of {@code dtype} starting at byte {@code offset} of a file as a
     * read-only tensor, without reading them: the open costs the same for a kilobyte and for gigabytes, pages are
     * read as lookups touch them, and every process that maps the file shares one copy in the page cache. Lookups
     * ({@code F.embedding}, {@code Embedding.forward}) run on the same kernels as in memory; writes (training steps,
     * {@code max_norm}, in-place operations) throw {@link UnsupportedOperationException} naming the file, and
     * {@link Tensor#clone()} gives a writable copy in memory. {@link Tensor#close()} unmaps at once.
     *
     * <p>PyTorch equivalent: {@code torch.from_file(filename, shared=True, size=numel, dtype=dtype)}, or NumPy's
     * {@code numpy.memmap(filename, dtype, mode='r', offset=offset, shape=shape)}. For tables inside safetensors or
     * {@code .npy} files, the formats' readers find the offset and shape in the header.
     *
     * <p>Do not truncate or rewrite a file while it is mapped: on Linux, touching a page past the new end of the file
     * raises SIGBUS, which kills the JVM. Replace mapped files by writing a new file and renaming it over the old one
     * (the mapping keeps the old file's pages).
     *
     * @throws java.io.IOException if the file cannot be opened or mapped, or is shorter than {@code offset} plus the
     *     tensor's bytes (the message names the file and the sizes)
     * @throws IllegalArgumentException if the dtype is null, a size is negative, the byte size overflows, or the offset
     *     is negative
     */
    public static Tensor fromFile(java.nio.file.Path file, DType dtype, long offset, long[] shape)
            throws java.io.IOException {
        if (file == null || dtype == null || shape == null) {
            throw new IllegalArgumentException("file, dtype and shape must not be null");
        }
        long[] copy = shape.clone();
        long numel = Shapes.numel(copy);
        long bytes = Shapes.byteSize(numel, dtype, copy);
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        }
        return TensorInternals.wrap(dtype, copy, Memory.mapReadOnly(file, offset, bytes));
    }
}
