package io.jembed.reference;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The training side of the reference: libtorch 2.10's embedding backward operators, its autograd, and its C++
 * optimizers ({@code torch::optim::SGD}, {@code Adagrad}, {@code Adam}), behind calls that take and return jembed
 * tensors, as {@link Libtorch} does for the forward.
 *
 * <p>Copies are bitwise in both directions (the same JNI array copies as {@link Libtorch}'s, which keeps its own
 * private). Every call frees the libtorch objects it made ({@link PointerScope}); a {@link Trainer} keeps its weight
 * and optimizer until {@link Trainer#close()}. libtorch runs on one intra-op thread ({@link Libtorch}'s static
 * initialiser sets it, and this class forces that initialiser first).
 *
 * <p>padding_idx arguments are libtorch's: already normalised, {@code -1} for none.
 */
final class LibtorchTraining {
    static {
        if (Libtorch.threads() != 1) {
            throw new AssertionError("libtorch must run on one intra-op thread");
        }
    }

    private LibtorchTraining() {}

    /** Forces the one-time load of libtorch (call it from {@code @BeforeAll}); returns the intra-op thread count. */
    static int load() {
        return Libtorch.threads();
    }

    // ---- the backward operators ----------------------------------------------------------------------------

    /** {@code torch::embedding_dense_backward(grad_output, indices, num_weights, padding_idx, scale_grad_by_freq)}. */
    static synchronized Tensor embeddingDenseBackward(Tensor gradOutput, Tensor indices, long numWeights,
                                                      long paddingIdx, boolean scaleGradByFreq) {
        try (PointerScope scope = new PointerScope()) {
            return toJembed(torch.embedding_dense_backward(toLibtorch(gradOutput), toLibtorch(indices), numWeights,
                    paddingIdx, scaleGradByFreq));
        }
    }

    /**
     * {@code torch::embedding_sparse_backward(...)}: the uncoalesced COO gradient, as its raw parts
     * ({@code _indices()}, {@code _values()}, {@code sizes()}, {@code is_coalesced()}).
     *
     * @throws RuntimeException libtorch's error (e.g. with {@code scaleGradByFreq})
     */
    static synchronized SparseParts embeddingSparseBackward(Tensor gradOutput, Tensor indices, long numWeights,
                                                           long paddingIdx, boolean scaleGradByFreq) {
        try (PointerScope scope = new PointerScope()) {
            return sparseParts(torch.embedding_sparse_backward(toLibtorch(gradOutput), toLibtorch(indices),
                    numWeights, paddingIdx, scaleGradByFreq));
        }
    }

    /**
     * Autograd: a libtorch copy of {@code weight} with {@code requires_grad_(true)}; for each upstream gradient, a
     * fresh {@code torch::embedding(w, indices, padding_idx, scale_grad_by_freq, sparse)} and
     * {@code out.backward(upstream)}, so the gradients accumulate in {@code w.grad()} as PyTorch's
     * {@code AccumulateGrad} does. Returns {@code w.grad()}: {@link Grad#dense} or {@link Grad#sparse} set.
     */
    static synchronized Grad autogradGrad(Tensor weight, Tensor indices, long paddingIdx, boolean scaleGradByFreq,
                                          boolean sparse, List<Tensor> upstreams) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor w = toLibtorch(weight);
            w.requires_grad_(true);
            org.bytedeco.pytorch.Tensor idx = toLibtorch(indices);
            for (Tensor upstream : upstreams) {
                org.bytedeco.pytorch.Tensor out = torch.embedding(w, idx, paddingIdx, scaleGradByFreq, sparse);
                out.backward(toLibtorch(upstream), new BoolOptional(), false, new TensorArrayRefOptional());
            }
            return grad(w);
        }
    }

    /** A gradient read back from libtorch: dense, sparse, or neither (undefined). */
    static final class Grad implements AutoCloseable {
        final Tensor dense;
        final SparseParts sparse;

        Grad(Tensor dense, SparseParts sparse) {
            this.dense = dense;
            this.sparse = sparse;
        }

        @Override
        public void close() {
            if (dense != null) {
                dense.close();
            }
            if (sparse != null) {
                sparse.close();
            }
        }
    }

    /** The raw parts of a libtorch sparse COO tensor, copied into jembed tensors. */
    static final class SparseParts implements AutoCloseable {
        final Tensor indices;
        final Tensor values;
        final long[] shape;
        final boolean coalesced;

        SparseParts(Tensor indices, Tensor values, long[] shape, boolean coalesced) {
            this.indices = indices;
            this.values = values;
            this.shape = shape;
            this.coalesced = coalesced;
        }

        @Override
        public void close() {
            indices.close();
            values.close();
        }
    }

    // ---- the C++ optimizers --------------------------------------------------------------------------------

    /**
     * One embedding weight trained by a libtorch C++ optimizer: each {@link #step} is {@code zero_grad()},
     * {@code torch::embedding(w, indices, padding_idx, false, sparse)}, {@code out.backward(upstream)},
     * {@code optimizer.step()}, as a PyTorch training loop does.
     */
    static final class Trainer implements AutoCloseable {
        private final org.bytedeco.pytorch.Tensor weight;
        private final org.bytedeco.pytorch.Optimizer optimizer;
        private final long paddingIdx;
        private final boolean sparse;

        private Trainer(org.bytedeco.pytorch.Tensor weight, org.bytedeco.pytorch.Optimizer optimizer,
                        long paddingIdx, boolean sparse) {
            this.weight = weight;
            this.optimizer = optimizer;
            this.paddingIdx = paddingIdx;
            this.sparse = sparse;
        }

        /** {@code torch::optim::SGD(SGDOptions(lr).momentum(..).dampening(..).weight_decay(..).nesterov(..))}. */
        static Trainer sgd(Tensor initialWeight, long paddingIdx, boolean sparse, double lr, double momentum,
                           double dampening, double weightDecay, boolean nesterov) {
            synchronized (LibtorchTraining.class) {
                try (PointerScope scope = new PointerScope()) {
                    org.bytedeco.pytorch.Tensor w = leaf(initialWeight);
                    org.bytedeco.pytorch.SGDOptions options = new org.bytedeco.pytorch.SGDOptions(lr);
                    options.momentum().put(momentum);
                    options.dampening().put(dampening);
                    options.weight_decay().put(weightDecay);
                    options.nesterov().put(nesterov);
                    return new Trainer(w, keep(new org.bytedeco.pytorch.SGD(new TensorVector(w), options)),
                            paddingIdx, sparse);
                }
            }
        }

        /** {@code torch::optim::Adagrad(AdagradOptions(lr).lr_decay(..).weight_decay(..)...)}. */
        static Trainer adagrad(Tensor initialWeight, long paddingIdx, boolean sparse, double lr, double lrDecay,
                               double weightDecay, double initialAccumulatorValue, double eps) {
            synchronized (LibtorchTraining.class) {
                try (PointerScope scope = new PointerScope()) {
                    org.bytedeco.pytorch.Tensor w = leaf(initialWeight);
                    org.bytedeco.pytorch.AdagradOptions options = new org.bytedeco.pytorch.AdagradOptions(lr);
                    options.lr_decay().put(lrDecay);
                    options.weight_decay().put(weightDecay);
                    options.initial_accumulator_value().put(initialAccumulatorValue);
                    options.eps().put(eps);
                    return new Trainer(w, keep(new org.bytedeco.pytorch.Adagrad(new TensorVector(w), options)),
                            paddingIdx, sparse);
                }
            }
        }

        /**
         * {@code torch::optim::Adam(AdamOptions(lr).eps(..).weight_decay(..))} with the default betas
         * (0.9, 0.999), which {@link #adamBetas()} reads back.
         */
        static Trainer adam(Tensor initialWeight, long paddingIdx, boolean sparse, double lr, double eps,
                            double weightDecay) {
            synchronized (LibtorchTraining.class) {
                try (PointerScope scope = new PointerScope()) {
                    org.bytedeco.pytorch.Tensor w = leaf(initialWeight);
                    org.bytedeco.pytorch.AdamOptions options = new org.bytedeco.pytorch.AdamOptions(lr);
                    options.eps().put(eps);
                    options.weight_decay().put(weightDecay);
                    return new Trainer(w, keep(new org.bytedeco.pytorch.Adam(new TensorVector(w), options)),
                            paddingIdx, sparse);
                }
            }
        }

        /** The two doubles of a default {@code AdamOptions().betas()} tuple, in memory order. */
        static double[] adamBetas() {
            synchronized (LibtorchTraining.class) {
                try (PointerScope scope = new PointerScope()) {
                    org.bytedeco.pytorch.AdamOptions options = new org.bytedeco.pytorch.AdamOptions(1e-3);
                    return new double[] {options.betas().get(0), options.betas().get(1)};
                }
            }
        }

        /** One training step; {@code upstream} is the gradient of the loss with respect to the lookup's output. */
        void step(Tensor indices, Tensor upstream) {
            synchronized (LibtorchTraining.class) {
                try (PointerScope scope = new PointerScope()) {
                    optimizer.zero_grad();
                    org.bytedeco.pytorch.Tensor out = torch.embedding(weight, toLibtorch(indices), paddingIdx, false,
                            sparse);
                    out.backward(toLibtorch(upstream), new BoolOptional(), false, new TensorArrayRefOptional());
                    optimizer.step();
                }
            }
        }

        /** A copy of the current weight. */
        Tensor weight() {
            synchronized (LibtorchTraining.class) {
                try (PointerScope scope = new PointerScope()) {
                    return toJembed(weight.detach());
                }
            }
        }

        @Override
        public void close() {
            synchronized (LibtorchTraining.class) {
                optimizer.releaseReference();
                weight.releaseReference();
            }
        }

        /** A leaf copy of {@code initial} that requires grad, kept beyond the caller's scope. */
        private static org.bytedeco.pytorch.Tensor leaf(Tensor initial) {
            org.bytedeco.pytorch.Tensor w = keep(toLibtorch(initial));
            w.requires_grad_(true);
            return w;
        }

        /** Keeps {@code p} alive when the enclosing scope closes; {@link #close()} releases it. */
        private static <P extends Pointer> P keep(P p) {
            p.retainReference();
            return p;
        }
    }

    // ---- copies between jembed and libtorch ----------------------------------------------------------------

    private static Grad grad(org.bytedeco.pytorch.Tensor w) {
        org.bytedeco.pytorch.Tensor g = w.grad();
        if (!g.defined()) {
            return new Grad(null, null);
        }
        return g.is_sparse() ? new Grad(null, sparseParts(g)) : new Grad(toJembed(g), null);
    }

    private static SparseParts sparseParts(org.bytedeco.pytorch.Tensor t) {
        if (!t.is_sparse()) {
            throw new AssertionError("expected a sparse tensor from libtorch");
        }
        long[] shape = new long[Math.toIntExact(t.dim())];
        for (int d = 0; d < shape.length; d++) {
            shape[d] = t.size(d);
        }
        return new SparseParts(toJembed(t._indices()), toJembed(t._values()), shape, t.is_coalesced());
    }

    private static org.bytedeco.pytorch.Tensor empty(DType dtype, long... shape) {
        return torch.empty(shape, new TensorOptions(scalarType(dtype)), new MemoryFormatOptional());
    }

    /** A new libtorch tensor with the same dtype, shape and bits. Attached to the caller's PointerScope. */
    static org.bytedeco.pytorch.Tensor toLibtorch(Tensor t) {
        org.bytedeco.pytorch.Tensor copy = empty(t.dtype(), t.shape());
        if (t.numel() == 0) {
            return copy;
        }
        switch (t.dtype()) {
            case FLOAT32: copy.data_ptr_float().put(t.toFloatArray()); break;
            case FLOAT64: copy.data_ptr_double().put(t.toDoubleArray()); break;
            case INT32: copy.data_ptr_int().put(t.toIntArray()); break;
            case INT64: copy.data_ptr_long().put(t.toLongArray()); break;
            default: throw new AssertionError(t.dtype());
        }
        return copy;
    }

    /** A new jembed tensor with the same dtype, shape and bits. */
    static Tensor toJembed(org.bytedeco.pytorch.Tensor t) {
        org.bytedeco.pytorch.Tensor c = t.contiguous();
        DType dtype = dtype(c.scalar_type().intern());
        long[] shape = new long[Math.toIntExact(c.dim())];
        for (int d = 0; d < shape.length; d++) {
            shape[d] = c.size(d);
        }
        int n = Math.toIntExact(c.numel());
        Tensor copy = Torch.empty(dtype, shape);
        if (n == 0) {
            return copy;
        }
        switch (dtype) {
            case FLOAT32: {
                float[] values = new float[n];
                c.data_ptr_float().get(values);
                return copy.copyFrom(values);
            }
            case FLOAT64: {
                double[] values = new double[n];
                c.data_ptr_double().get(values);
                return copy.copyFrom(values);
            }
            case INT32: {
                int[] values = new int[n];
                c.data_ptr_int().get(values);
                return copy.copyFrom(values);
            }
            case INT64: {
                long[] values = new long[n];
                c.data_ptr_long().get(values);
                return copy.copyFrom(values);
            }
            default: throw new AssertionError(dtype);
        }
    }

    private static torch.ScalarType scalarType(DType dtype) {
        switch (dtype) {
            case FLOAT32: return torch.ScalarType.Float;
            case FLOAT64: return torch.ScalarType.Double;
            case INT32: return torch.ScalarType.Int;
            case INT64: return torch.ScalarType.Long;
            default: throw new IllegalArgumentException("no libtorch counterpart for " + dtype);
        }
    }

    private static DType dtype(torch.ScalarType scalarType) {
        switch (scalarType) {
            case Float: return DType.FLOAT32;
            case Double: return DType.FLOAT64;
            case Int: return DType.INT32;
            case Long: return DType.INT64;
            default: throw new IllegalArgumentException("no jembed counterpart for libtorch's " + scalarType);
        }
    }
}
