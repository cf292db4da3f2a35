package io.jembed;

import io.jembed.autograd.GradFn;
import io.jembed.internal.HalfFloats;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import java.util.Arrays;

/**
 * A dense, contiguous, row-major array of one {@link DType}, of any rank (0-d and empty included), stored off-heap.
 *
 * <p>PyTorch equivalent: {@code torch.Tensor} (CPU, contiguous). Create tensors with {@link Torch}'s factories.
 *
 * <p><b>Ownership.</b> A tensor owns its memory. {@link #close()} frees it at once and is harmless when repeated; any
 * later use throws {@link IllegalStateException}. A tensor dropped without {@code close()} is freed after the garbage
 * collector finds it unreachable. Sizes are {@code long}: a tensor may hold more than 2<sup>31</sup> elements
 * (conversions to Java arrays then refuse, naming the size).
 *
 * <p><b>Thread safety.</b> Concurrent reads are safe. Writes must not race with reads or writes of the same
 * elements; jembed does not lock elements. {@code close()} may race with any use on other threads and never crashes
 * the JVM: every operation that touches a tensor's memory (its methods here, lookups, backward passes, optimizer
 * steps, in Java or native code) holds the memory for its duration, so a {@code close()} that comes during an
 * operation waits until it is over before freeing the memory, and an operation that starts after {@code close()}
 * throws {@link IllegalStateException}. Closing a tensor inside an operation of the same thread that uses it throws
 * {@link IllegalStateException} and leaves it open. The memory also stays reachable for the garbage collector while
 * an operation holds it.
 */
public final class Tensor implements AutoCloseable {
    static {
        TensorInternals.install(new TensorInternals.Access() {
            @Override
            public Memory memory(Tensor tensor) {
                return tensor.memory;
            }

            @Override
            public Tensor wrap(DType dtype, long[] shape, Memory memory) {
                return new Tensor(dtype, shape.clone(), Shapes.numel(shape), memory);
            }

            @Override
            public void setGradFn(Tensor tensor, GradFn gradFn) {
                tensor.gradFn = gradFn;
            }

            @Override
            public Tensor denseGradForRows(Tensor leaf, Tensor rows) {
                return leaf.gradients().denseForRows(leaf, rows);
            }

            @Override
            public Tensor denseGradWhole(Tensor leaf) {
                return leaf.gradients().denseWhole(leaf);
            }

            @Override
            public void accumulateSparseGrad(Tensor leaf, SparseTensor gradient) {
                leaf.gradients().accumulateSparse(leaf, gradient);
            }
        });
    }

    private final DType dtype;
    private final long[] shape;
    /**
     * {@code shape.length}, kept here so that a check of a 1-D request reads this object only, not its shape array
     * too: a server's request tensors are cold, and each object read is a cache miss (issue 13).
     */
    private final int rank;
    private final long numel;
    private final Memory memory;
    private volatile boolean requiresGrad;
    private GradFn gradFn;
    private Gradients gradients;

    private Tensor(DType dtype, long[] shape, long numel, Memory memory) {
        this.dtype = dtype;
        this.shape = shape;
        this.rank = shape.length;
        this.numel = numel;
        this.memory = memory;
    }

    /** A tensor with uninitialised (or, with {@code zeroed}, zero) contents. */
    static Tensor allocate(DType dtype, long[] shape, boolean zeroed) {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype must not be null");
        }
        long[] copy = shape.clone();
        long numel = Shapes.numel(copy);
        long bytes = Shapes.byteSize(numel, dtype, copy);
        Memory memory = zeroed ? Memory.allocateZeroed(bytes) : Memory.allocate(bytes);
        return new Tensor(dtype, copy, numel, memory);
    }

    /** PyTorch equivalent: {@code tensor.dtype}. */
    public DType dtype() {
        return dtype;
    }

    /** PyTorch equivalent: {@code tensor.shape} (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * PyTorch equivalent: {@code tensor.size(dim)}; negative {@code dim} counts from the end.
     *
     * @throws IndexOutOfBoundsException if {@code dim} is outside {@code [-dim(), dim())}
     */
    public long size(int dim) {
        return shape[wrapDim(dim)];
    }

    /** PyTorch equivalent: {@code tensor.dim()}. */
    public int dim() {
        return rank;
    }

    /** PyTorch equivalent: {@code tensor.numel()}. */
    public long numel() {
        return numel;
    }

    private int wrapDim(int dim) {
        int rank = shape.length;
        if (dim < -rank || dim >= rank || rank == 0) {
            throw new IndexOutOfBoundsException("Dimension out of range (expected to be in range of [" + (-rank)
                    + ", " + (rank - 1) + "], but got " + dim + ")");
        }
        return dim < 0 ? dim + rank : dim;
    }

    /** The flat element position of a multi-index; negative indices count from the end, as in PyTorch. */
    private long flatIndex(long[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("expected " + shape.length + " indices for a tensor of shape "
                    + Shapes.toString(shape) + ", but got " + index.length);
        }
        long flat = 0;
        for (int d = 0; d < shape.length; d++) {
            long i = index[d];
            long size = shape[d];
            if (i < -size || i >= size) {
                throw new IndexOutOfBoundsException("index " + i + " is out of bounds for dimension " + d
                        + " with size " + size);
            }
            flat = flat * size + (i < 0 ? i + size : i);
        }
        return flat;
    }

    private long byteOffset(long flat) {
        return flat * dtype.itemSize();
    }

    // ---- element access ------------------------------------------------------------------------------------

    /**
     * The element at {@code index} as a double (one index per dimension; none for a 0-d tensor).
     * PyTorch equivalent: {@code tensor[i, j].item()}.
     */
    public double getDouble(long... index) {
        checkOpen();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            return flatDouble(flatIndex(index));
        } finally {
            guard.exit();
        }
    }

    /** The element at {@code index} as a long; floating values are truncated toward zero as by {@code .long()}. */
    public long getLong(long... index) {
        checkOpen();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            return flatLong(flatIndex(index));
        } finally {
            guard.exit();
        }
    }

    /** Sets the element at {@code index}, converting {@code value} to this tensor's dtype. */
    public void set(double value, long... index) {
        checkWritable();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            flatSet(flatIndex(index), value);
        } finally {
            guard.exit();
        }
    }

    /**
     * The value of a one-element tensor. PyTorch equivalent: {@code tensor.item()}.
     *
     * @throws IllegalStateException if the tensor does not have exactly one element
     */
    public double item() {
        checkOpen();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            if (numel != 1) {
                throw new IllegalStateException("a Tensor with " + numel + " elements cannot be converted to Scalar");
            }
            return flatDouble(0);
        } finally {
            guard.exit();
        }
    }

    double flatDouble(long flat) {
        long offset = byteOffset(flat);
        switch (dtype) {
            case FLOAT32: return memory.getFloat(offset);
            case FLOAT64: return memory.getDouble(offset);
            case INT32: return memory.getInt(offset);
            case INT64: return memory.getLong(offset);
            case FLOAT16: return HalfFloats.float16ToFloat(memory.getShort(offset));
            case BFLOAT16: return HalfFloats.bfloat16ToFloat(memory.getShort(offset));
            default: throw new AssertionError(dtype);
        }
    }

    long flatLong(long flat) {
        long offset = byteOffset(flat);
        switch (dtype) {
            case FLOAT32: return (long) memory.getFloat(offset);
            case FLOAT16: return (long) HalfFloats.float16ToFloat(memory.getShort(offset));
            case BFLOAT16: return (long) HalfFloats.bfloat16ToFloat(memory.getShort(offset));
            case FLOAT64: return (long) memory.getDouble(offset);
            case INT32: return memory.getInt(offset);
            case INT64: return memory.getLong(offset);
            default: throw new AssertionError(dtype);
        }
    }

    void flatSet(long flat, double value) {
        long offset = byteOffset(flat);
        switch (dtype) {
            case FLOAT32: memory.putFloat(offset, (float) value); break;
            case FLOAT64: memory.putDouble(offset, value); break;
            case INT32: memory.putInt(offset, (int) value); break;
            case INT64: memory.putLong(offset, (long) value); break;
            // Through float, as c10::Half(float) and c10::BFloat16(float) convert a double.
            case FLOAT16: memory.putShort(offset, HalfFloats.floatToFloat16((float) value)); break;
            case BFLOAT16: memory.putShort(offset, HalfFloats.floatToBFloat16((float) value)); break;
            default: throw new AssertionError(dtype);
        }
    }

    // ---- Java arrays ---------------------------------------------------------------------------------------

    private int arrayLength() {
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a tensor of " + numel + " elements does not fit in a Java array (at most "
                    + (Integer.MAX_VALUE - 8) + ")");
        }
        return (int) numel;
    }

    /** The elements in row-major order, converted to float. PyTorch equivalent: {@code tensor.flatten().tolist()}. */
    public float[] toFloatArray() {
        checkOpen();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            float[] out = new float[arrayLength()];
            if (dtype == DType.FLOAT32) {
                memory.copyToArray(0, out, 0, out.length);
            } else {
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) flatDouble(i);
                }
            }
            return out;
        } finally {
            guard.exit();
        }
    }

    /** The elements in row-major order, converted to double. */
    public double[] toDoubleArray() {
        checkOpen();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            double[] out = new double[arrayLength()];
            if (dtype == DType.FLOAT64) {
                memory.copyToArray(0, out, 0, out.length);
                return out;
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = flatDouble(i);
            }
            return out;
        } finally {
            guard.exit();
        }
    }

    /** The elements in row-major order, converted to long (floating values truncated toward zero). */
    public long[] toLongArray() {
        checkOpen();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            long[] out = new long[arrayLength()];
            if (dtype == DType.INT64) {
                memory.copyToArray(0, out, 0, out.length);
                return out;
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = flatLong(i);
            }
            return out;
        } finally {
            guard.exit();
        }
    }

    /** The elements in row-major order, converted to int (as by a narrowing cast from long). */
    public int[] toIntArray() {
        checkOpen();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            int[] out = new int[arrayLength()];
            for (int i = 0; i < out.length; i++) {
                out[i] = (int) flatLong(i);
            }
            return out;
        } finally {
            guard.exit();
        }
    }

    /**
     * Overwrites every element from {@code values} (row-major). The hot-path way to refill an index or input tensor
     * without allocating. The dtype must be {@link DType#FLOAT32}, or {@link DType#FLOAT16} / {@link DType#BFLOAT16},
     * whose elements get each value rounded to nearest even
     * (PyTorch equivalent: {@code t.copy_(torch.tensor(values))}).
     */
    public Tensor copyFrom(float[] values) {
        if (dtype.isReducedPrecision()) {
            checkCopySource(dtype, values.length);
            MemoryGuard guard = MemoryGuard.enter(memory);
            try {
                HalfTensors.narrow(values, memory, dtype);
                return this;
            } finally {
                guard.exit();
            }
        }
        checkCopySource(DType.FLOAT32, values.length);
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            memory.copyFromArray(values, 0, values.length, 0);
            return this;
        } finally {
            guard.exit();
        }
    }

    /** As {@link #copyFrom(float[])}, for {@link DType#FLOAT64}. */
    public Tensor copyFrom(double[] values) {
        checkCopySource(DType.FLOAT64, values.length);
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            memory.copyFromArray(values, 0, values.length, 0);
            return this;
        } finally {
            guard.exit();
        }
    }

    /** As {@link #copyFrom(float[])}, for {@link DType#INT64}. */
    public Tensor copyFrom(long[] values) {
        checkCopySource(DType.INT64, values.length);
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            memory.copyFromArray(values, 0, values.length, 0);
            return this;
        } finally {
            guard.exit();
        }
    }

    /** As {@link #copyFrom(float[])}, for {@link DType#INT32}. */
    public Tensor copyFrom(int[] values) {
        checkCopySource(DType.INT32, values.length);
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            memory.copyFromArray(values, 0, values.length, 0);
            return this;
        } finally {
            guard.exit();
        }
    }

    private void checkCopySource(DType sourceType, int length) {
        checkWritable();
        if (dtype != sourceType) {
            throw new IllegalArgumentException("cannot copy " + sourceType + " values into a tensor of " + dtype);
        }
        if (length != numel) {
            throw new IllegalArgumentException("expected " + numel + " values for a tensor of shape "
                    + Shapes.toString(shape) + ", but got " + length);
        }
    }

    // ---- in-place operations -------------------------------------------------------------------------------

    /**
     * Copies {@code source}'s elements into this tensor, converting between dtypes.
     * PyTorch equivalent: {@code tensor.copy_(source)} (without broadcasting: the shapes must be equal).
     */
    public Tensor copy_(Tensor source) {
        checkWritable();
        source.checkOpen();
        if (!Arrays.equals(shape, source.shape)) {
            throw new IllegalArgumentException("cannot copy a tensor of shape " + Shapes.toString(source.shape)
                    + " into one of shape " + Shapes.toString(shape));
        }
        if (source == this) {
            return this;
        }
        MemoryGuard guard = MemoryGuard.enter(memory, source.memory);
        try {
            if (source.dtype == dtype) {
                source.memory.copyTo(0, memory, 0, numel * dtype.itemSize());
            } else if (HalfTensors.convert(source, this)) {
                return this;
            } else if (dtype.isFloatingPoint()) {
                for (long i = 0; i < numel; i++) {
                    flatSet(i, source.flatDouble(i));
                }
            } else {
                for (long i = 0; i < numel; i++) {
                    flatSetLong(i, source.flatLong(i));
                }
            }
            return this;
        } finally {
            guard.exit();
        }
    }

    void flatSetLong(long flat, long value) {
        if (dtype == DType.INT64) {
            memory.putLong(byteOffset(flat), value);
        } else if (dtype == DType.INT32) {
            memory.putInt(byteOffset(flat), (int) value);
        } else {
            flatSet(flat, value);
        }
    }

    /** PyTorch equivalent: {@code tensor.fill_(value)}. */
    public Tensor fill_(double value) {
        checkWritable();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            for (long i = 0; i < numel; i++) {
                flatSet(i, value);
            }
            return this;
        } finally {
            guard.exit();
        }
    }

    /** PyTorch equivalent: {@code tensor.zero_()}. */
    public Tensor zero_() {
        checkWritable();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            memory.fillZero(0, numel * dtype.itemSize());
            return this;
        } finally {
            guard.exit();
        }
    }

    /**
     * Fills with samples of N(mean, std²) from {@code generator}, by PyTorch's CPU algorithm.
     * PyTorch equivalent: {@code tensor.normal_(mean, std, generator=g)}.
     *
     * @throws IllegalArgumentException if {@code std} is negative or not finite, or the dtype is not floating point
     */
    public Tensor normal_(double mean, double std, Generator generator) {
        checkWritable();
        checkFloatingFill("normal_");
        if (!(std >= 0.0) || Double.isInfinite(std)) {
            throw new IllegalArgumentException("normal expects std >= 0.0, but found std " + std);
        }
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            RandomFill.normal(this, mean, std, generator);
            return this;
        } finally {
            guard.exit();
        }
    }

    /** PyTorch equivalent: {@code tensor.normal_(mean, std)} with the default generator. */
    public Tensor normal_(double mean, double std) {
        return normal_(mean, std, Torch.defaultGenerator());
    }

    /**
     * Fills with samples of U[from, to) from {@code generator}, by PyTorch's CPU algorithm.
     * PyTorch equivalent: {@code tensor.uniform_(from, to, generator=g)}.
     *
     * @throws IllegalArgumentException if {@code from > to}, either is not finite, or the dtype is not floating point
     */
    public Tensor uniform_(double from, double to, Generator generator) {
        checkWritable();
        checkFloatingFill("uniform_");
        if (!Double.isFinite(from) || !Double.isFinite(to) || from > to) {
            throw new IllegalArgumentException("uniform_ expects to return a [from, to) range, but found from=" + from
                    + " > to=" + to + " or a bound that is not finite");
        }
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            RandomFill.uniform(this, from, to, generator);
            return this;
        } finally {
            guard.exit();
        }
    }

    /** PyTorch equivalent: {@code tensor.uniform_(from, to)} with the default generator. */
    public Tensor uniform_(double from, double to) {
        return uniform_(from, to, Torch.defaultGenerator());
    }

    private void checkFloatingFill(String operation) {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException(operation + " is not implemented for " + dtype
                    + ": it needs a floating-point tensor");
        }
    }

    /**
     * A new tensor of {@code dtype} with this tensor's shape and values, converted as {@link #copy_} converts (to
     * float16/bfloat16 by rounding to nearest even; from them exactly). Always a new tensor, owned by the caller,
     * even when {@code dtype} is this tensor's (where PyTorch returns the tensor itself).
     * PyTorch equivalent: {@code tensor.to(dtype)}.
     */
    public Tensor to(DType dtype) {
        checkOpen();
        Tensor converted = allocate(dtype, shape, false);
        try {
            return converted.copy_(this);
        } catch (RuntimeException | Error e) {
            converted.close();
            throw e;
        }
    }

    /** A new tensor with the same dtype, shape and contents. PyTorch equivalent: {@code tensor.clone()}. */
    public Tensor clone() {
        checkOpen();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            Tensor copy = allocate(dtype, shape, false);
            memory.copyTo(0, copy.memory, 0, numel * dtype.itemSize());
            return copy;
        } finally {
            guard.exit();
        }
    }

    // ---- gradients -----------------------------------------------------------------------------------------

    /** PyTorch equivalent: {@code tensor.requires_grad}. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * PyTorch equivalent: {@code tensor.requires_grad_(flag)}: operators record a backward function on outputs
     * computed from this tensor.
     *
     * @throws IllegalArgumentException if {@code flag} is true and the dtype is not floating point
     */
    public Tensor requiresGrad_(boolean flag) {
        if (flag && !dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("only Tensors of floating point dtype can require gradients, got "
                    + dtype);
        }
        requiresGrad = flag;
        return this;
    }

    /** PyTorch equivalent: {@code tensor.grad_fn}; {@code null} for leaves and for outputs that need no gradient. */
    public GradFn gradFn() {
        return gradFn;
    }

    /**
     * Back-propagates {@code gradient} (the gradient of a loss with respect to this tensor, same shape and dtype)
     * into the leaves this tensor was computed from, accumulating into their {@link #grad()}.
     *
     * <p>PyTorch equivalent: {@code tensor.backward(gradient)}. Calling it again accumulates again, as autograd
     * does with {@code retain_graph=True}.
     *
     * @throws IllegalStateException if this tensor has no backward function
     */
    public void backward(Tensor gradient) {
        checkOpen();
        if (gradFn == null) {
            throw new IllegalStateException("element 0 of tensors does not require grad and does not have a grad_fn");
        }
        if (gradient == null || !Arrays.equals(shape, gradient.shape) || gradient.dtype != dtype) {
            throw new IllegalArgumentException("the gradient must have this tensor's shape " + Shapes.toString(shape)
                    + " and dtype " + dtype + ", got " + (gradient == null ? "null"
                    : Shapes.toString(gradient.shape) + " of " + gradient.dtype));
        }
        gradient.checkOpen();
        gradFn.apply(gradient);
    }

    /**
     * The accumulated dense gradient, or {@code null} when none has been accumulated since the last
     * {@link #zeroGrad()}. PyTorch equivalent: {@code tensor.grad}. The tensor returned is reused by backward passes
     * after {@code zeroGrad()}: clone it to keep it.
     *
     * @throws IllegalStateException if the gradient is sparse (read it with {@link #sparseGrad()})
     */
    public synchronized Tensor grad() {
        return gradients == null ? null : gradients.dense();
    }

    /** The accumulated sparse gradient, or {@code null}. PyTorch equivalent: {@code tensor.grad} when it is sparse. */
    public synchronized SparseTensor sparseGrad() {
        return gradients == null ? null : gradients.sparse();
    }

    /**
     * Forgets the accumulated gradient, as PyTorch's {@code zero_grad()} (which sets it to {@code None}). The dense
     * buffer is kept, and only the rows written since it was last cleared are zeroed before it is used again.
     */
    public synchronized void zeroGrad() {
        if (gradients != null) {
            gradients.clear();
        }
    }

    private synchronized Gradients gradients() {
        if (gradients == null) {
            gradients = new Gradients();
        }
        return gradients;
    }

    Memory memory() {
        return memory;
    }

    // ---- life cycle ----------------------------------------------------------------------------------------

    /** @throws IllegalStateException if this tensor has been closed */
    void checkOpen() {
        memory.checkOpen();
    }

    /**
     * @throws IllegalStateException if this tensor has been closed
     * @throws UnsupportedOperationException if it is read-only (a memory map of a file), naming the file
     */
    void checkWritable() {
        memory.checkOpen();
        memory.checkWritable();
    }

    /** True after {@link #close()}. */
    public boolean isClosed() {
        return memory.isClosed();
    }

    /**
     * Frees this tensor's memory, and its gradient's, now; later calls do nothing, later use throws
     * {@link IllegalStateException}.
     */
    @Override
    public void close() {
        memory.close();
        Gradients held;
        synchronized (this) {
            held = gradients;
            gradients = null;
        }
        if (held != null) {
            held.close();
        }
    }

    /** PyTorch's {@code repr(tensor)}, e.g. {@code tensor([[1., 2.], [3., 4.]])} with its line breaks. */
    @Override
    public String toString() {
        if (isClosed()) {
            return "tensor(<closed>, dtype=" + dtype + ")";
        }
        String text;
        MemoryGuard guard;
        try {
            guard = MemoryGuard.enter(memory);
        } catch (IllegalStateException closedMeanwhile) {
            return "tensor(<closed>, dtype=" + dtype + ")";
        }
        try {
            text = TensorFormatter.format(this);
        } finally {
            guard.exit();
        }
        if (gradFn != null) {
            return text.substring(0, text.length() - 1) + ", grad_fn=<" + gradFn.name() + ">)";
        }
        return requiresGrad ? text.substring(0, text.length() - 1) + ", requires_grad=True)" : text;
    }
}
