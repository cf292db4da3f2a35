package io.jembed.reference;

import io.jembed.Tensor;
import io.jembed.Torch;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorOptional;
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
            return Libtorch.toJembed(torch.embedding_dense_backward(Libtorch.toLibtorch(gradOutput), Libtorch.toLibtorch(indices), numWeights,
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
            return sparseParts(torch.embedding_sparse_backward(Libtorch.toLibtorch(gradOutput), Libtorch.toLibtorch(indices),
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
            org.bytedeco.pytorch.Tensor w = Libtorch.toLibtorch(weight);
            w.requires_grad_(true);
            org.bytedeco.pytorch.Tensor idx = Libtorch.toLibtorch(indices);
            for (Tensor upstream : upstreams) {
                org.bytedeco.pytorch.Tensor out = torch.embedding(w, idx, paddingIdx, scaleGradByFreq, sparse);
                out.backward(Libtorch.toLibtorch(upstream), new BoolOptional(), false, new TensorArrayRefOptional());
            }
            return grad(w);
        }
    }

    /** The gradients libtorch's autograd gives an {@code embedding_bag}: the weight's, and the per-sample weights'. */
    static final class BagGrads implements AutoCloseable {
        final Grad weight;
        final Tensor perSampleWeights;

        BagGrads(Grad weight, Tensor perSampleWeights) {
            this.weight = weight;
            this.perSampleWeights = perSampleWeights;
        }

        @Override
        public void close() {
            weight.close();
            if (perSampleWeights != null) {
                perSampleWeights.close();
            }
        }
    }

    /**
     * Autograd through {@code torch::embedding_bag} (which runs {@code _embedding_bag_backward}): a libtorch copy of
     * {@code weight} with {@code requires_grad_(true)} (and of the per-sample weights, with {@code weightsNeedGrad}),
     * one forward on 1-D input ({@code mode} 0 sum, 1 mean, 2 max; padding_idx {@code null} for none) and
     * {@code output.backward(upstream)}. Returns the two gradients.
     *
     * @throws RuntimeException libtorch's error (e.g. sparse with scale_grad_by_freq)
     */
    static synchronized BagGrads embeddingBagAutograd(Tensor weight, Tensor indices, Tensor offsets,
                                                      boolean scaleGradByFreq, int mode, boolean sparse,
                                                      Tensor perSampleWeights, boolean weightsNeedGrad,
                                                      boolean includeLastOffset, Long paddingIdx, Tensor upstream) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor w = Libtorch.toLibtorch(weight);
            w.requires_grad_(true);
            org.bytedeco.pytorch.Tensor psw = perSampleWeights == null ? null
                    : Libtorch.toLibtorch(perSampleWeights);
            if (psw != null && weightsNeedGrad) {
                psw.requires_grad_(true);
            }
            org.bytedeco.pytorch.Tensor out = torch.embedding_bag(w, Libtorch.toLibtorch(indices),
                    Libtorch.toLibtorch(offsets), scaleGradByFreq, mode, sparse,
                    psw == null ? new TensorOptional() : new TensorOptional(psw), includeLastOffset,
                    paddingIdx == null ? new LongOptional() : new LongOptional(paddingIdx)).get0();
            out.backward(Libtorch.toLibtorch(upstream), new BoolOptional(), false, new TensorArrayRefOptional());
            Tensor pswGrad = psw != null && weightsNeedGrad && psw.grad().defined()
                    ? Libtorch.toJembed(psw.grad()) : null;
            return new BagGrads(grad(w), pswGrad);
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
                    org.bytedeco.pytorch.Tensor out = torch.embedding(weight, Libtorch.toLibtorch(indices), paddingIdx, false,
                            sparse);
                    out.backward(Libtorch.toLibtorch(upstream), new BoolOptional(), false, new TensorArrayRefOptional());
                    optimizer.step();
                }
            }
        }

        /** A copy of the current weight. */
        Tensor weight() {
            synchronized (LibtorchTraining.class) {
                try (PointerScope scope = new PointerScope()) {
                    return Libtorch.toJembed(weight.detach());
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
            org.bytedeco.pytorch.Tensor w = keep(Libtorch.toLibtorch(initial));
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
        return g.is_sparse() ? new Grad(null, sparseParts(g)) : new Grad(Libtorch.toJembed(g), null);
    }

    private static SparseParts sparseParts(org.bytedeco.pytorch.Tensor t) {
        if (!t.is_sparse()) {
            throw new AssertionError("expected a sparse tensor from libtorch");
        }
        long[] shape = new long[Math.toIntExact(t.dim())];
        for (int d = 0; d < shape.length; d++) {
            shape[d] = t.size(d);
        }
        return new SparseParts(Libtorch.toJembed(t._indices()), Libtorch.toJembed(t._values()), shape,
                t.is_coalesced());
    }
}
