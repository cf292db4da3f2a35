package io.jembed.internal;

import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.autograd.GradFn;
import io.jembed.internal.memory.Memory;

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
        return access().memory(tensor);
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
