package io.jembed.internal;

import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.autograd.GradFn;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;

/**
 * Gives jembed's own packages (backends, functional code) what {@link Tensor} keeps from users: its memory, and
 * tensors made around memory they allocated. Not API.
 *
 * <p>Thread-safe.
 */
public final class TensorInternals {
    /** Implemented by {@link Tensor}, which installs it when its class initialises. */
    public interface Access {
        Memory memory(Tensor tensor);

        Tensor wrap(DType dtype, long[] shape, Memory memory);

        void setGradFn(Tensor tensor, GradFn gradFn);

        Tensor denseGradForRows(Tensor leaf, Tensor rows);

        Tensor denseGradWhole(Tensor leaf);

        void accumulateSparseGrad(Tensor leaf, SparseTensor gradient);
    }

    private static volatile Access access;

    private TensorInternals() {}

    public static void install(Access installed) {
        access = installed;
    }

    private static Access access() {
        Access current = access;
        if (current == null) {
            try {
                Class.forName(Tensor.class.getName(), true, Tensor.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            current = access;
        }
        return current;
    }

    public static Memory memory(Tensor tensor) {
        return Installed.ACCESS.memory(tensor);
    }

    /** The access object as a constant, for the hot path (the volatile field is read once, when this initialises). */
    private static final class Installed {
        static final Access ACCESS = access();
    }

    /**
     * Holds the tensors' memory for the calling thread until {@link MemoryGuard#exit()} (nulls are skipped): every
     * method that reads or writes tensors, in Java or native code, runs between the two, so that a concurrent
     * {@code close()} waits for it instead of freeing memory under it. See {@link MemoryGuard}.
     *
     * @throws IllegalStateException if one of them has been closed
     */
    public static MemoryGuard guard(Tensor a) {
        return MemoryGuard.enter(memoryOf(a));
    }

    /** {@link #guard(Tensor)} for two tensors. */
    public static MemoryGuard guard(Tensor a, Tensor b) {
        return MemoryGuard.enter(memoryOf(a), memoryOf(b));
    }

    /** {@link #guard(Tensor)} for three tensors. */
    public static MemoryGuard guard(Tensor a, Tensor b, Tensor c) {
        return MemoryGuard.enter(memoryOf(a), memoryOf(b), memoryOf(c));
    }

    /** {@link #guard(Tensor)} for up to six tensors (nulls are skipped), without allocating. */
    public static MemoryGuard guard(Tensor a, Tensor b, Tensor c, Tensor d, Tensor e, Tensor f) {
        return MemoryGuard.enter(memoryOf(a), memoryOf(b), memoryOf(c), memoryOf(d), memoryOf(e), memoryOf(f));
    }

    /** {@link #guard(Tensor)} for any number of tensors (allocates an array: prefer the fixed forms). */
    public static MemoryGuard guard(Tensor... tensors) {
        Memory[] blocks = new Memory[tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            blocks[i] = memoryOf(tensors[i]);
        }
        return MemoryGuard.enter(blocks);
    }

    private static Memory memoryOf(Tensor tensor) {
        return tensor == null ? null : Installed.ACCESS.memory(tensor);
    }

    /** Records the backward function of an operator's output. */
    public static void setGradFn(Tensor tensor, GradFn gradFn) {
        access().setGradFn(tensor, gradFn);
    }

    /**
     * The leaf's dense gradient buffer, ready to accumulate into the rows named by {@code rows} (an index tensor):
     * created zeroed on first use, cleared lazily after {@code zeroGrad()}, converted from sparse if needed.
     */
    public static Tensor denseGradForRows(Tensor leaf, Tensor rows) {
        return access().denseGradForRows(leaf, rows);
    }

    /**
     * The leaf's dense gradient buffer, ready to accumulate into any element (for leaves that are not tables, such
     * as per-sample weights): created zeroed on first use, zeroed whole after {@code zeroGrad()}.
     */
    public static Tensor denseGradWhole(Tensor leaf) {
        return access().denseGradWhole(leaf);
    }

    /** Accumulates a sparse gradient into the leaf (concatenating, or adding into a dense gradient). */
    public static void accumulateSparseGrad(Tensor leaf, SparseTensor gradient) {
        access().accumulateSparseGrad(leaf, gradient);
    }

    /** A tensor that owns {@code memory}; the shape must already be validated and fit the memory. */
    public static Tensor wrap(DType dtype, long[] shape, Memory memory) {
        return access().wrap(dtype, shape, memory);
    }
}
