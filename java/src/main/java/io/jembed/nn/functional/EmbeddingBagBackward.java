package io.jembed.nn.functional;

import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.autograd.GradFn;
import io.jembed.backend.Backends;
import io.jembed.internal.Bags;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.nn.EmbeddingBagMode;

/**
 * The backward function that {@link F#embeddingBag} records on its output when the weight or the per-sample weights
 * require a gradient. It keeps its own copies of the indices, offsets and per-sample weights (and, for MAX, the
 * winning rows), so the caller may reuse or close them after the forward. The per-sample weights' gradient reads the
 * weight as it is when the backward runs.
 *
 * <p>PyTorch equivalent: {@code EmbeddingBagBackward0}. Backward passes into one leaf are serialised on it.
 */
final class EmbeddingBagBackward implements GradFn {
    private final Tensor weight;
    private final boolean weightNeedsGrad;
    private final Tensor perSampleWeightsLeaf;
    private final Tensor indices;
    private final Tensor offsets;
    private final long bagSize;
    private final long paddingIdx;
    private final EmbeddingBagMode mode;
    private final Tensor perSampleWeights;
    private final boolean scaleGradByFreq;
    private final boolean sparse;
    private final Tensor maxIndices;

    /** Takes ownership of {@code maxIndices}; copies what it keeps of {@code args}. */
    EmbeddingBagBackward(Tensor weight, boolean weightNeedsGrad, EmbeddingBagArguments args,
                         Tensor perSampleWeightsLeaf, boolean scaleGradByFreq, boolean sparse, Tensor maxIndices) {
        this.weight = weight;
        this.weightNeedsGrad = weightNeedsGrad;
        this.perSampleWeightsLeaf = perSampleWeightsLeaf;
        this.indices = args.indices.clone();
        this.offsets = args.offsets == null ? null : args.offsets.clone();
        this.bagSize = args.bagSize;
        this.paddingIdx = args.paddingIdx;
        this.mode = args.mode;
        this.perSampleWeights = args.perSampleWeights == null ? null : args.perSampleWeights.clone();
        this.scaleGradByFreq = scaleGradByFreq;
        this.sparse = sparse;
        this.maxIndices = maxIndices;
    }

    @Override
    public String name() {
        return "EmbeddingBagBackward0";
    }

    @Override
    public void apply(Tensor gradOutput) {
        if (weightNeedsGrad) {
            synchronized (weight) {
                checkOpen(weight, "weight");
                if (sparse) {
                    TensorInternals.accumulateSparseGrad(weight, sparseGradient(gradOutput));
                } else {
                    Tensor gradWeight = TensorInternals.denseGradForRows(weight, indices);
                    Backends.current().embeddingBagDenseBackward(gradOutput, indices, offsets, bagSize, mode,
                            perSampleWeights, paddingIdx, scaleGradByFreq, maxIndices, gradWeight);
                }
            }
        }
        if (perSampleWeightsLeaf != null) {
            synchronized (perSampleWeightsLeaf) {
                checkOpen(perSampleWeightsLeaf, "per_sample_weights");
                try (Tensor gradient = Torch.empty(perSampleWeightsLeaf.dtype(), perSampleWeightsLeaf.shape())) {
                    synchronized (weight) {
                        checkOpen(weight, "weight");
                        Backends.current().embeddingBagPerSampleWeightsBackward(gradOutput, weight, indices, offsets,
                                bagSize, paddingIdx, gradient);
                    }
                    Tensor buffer = TensorInternals.denseGradWhole(perSampleWeightsLeaf);
                    addInto(buffer, gradient);
                }
            }
        }
    }

    private static void checkOpen(Tensor leaf, String name) {
        if (leaf.isClosed()) {
            throw new IllegalStateException("the " + name + " this output came from has been closed");
        }
    }

    private static void addInto(Tensor target, Tensor addend) {
        MemoryGuard guard = TensorInternals.guard(target, addend);
        try {
            addIntoHeld(target, addend);
        } finally {
            guard.exit();
        }
    }

    private static void addIntoHeld(Tensor target, Tensor addend) {
        Memory to = TensorInternals.memory(target);
        Memory from = TensorInternals.memory(addend);
        boolean single = target.dtype() == DType.FLOAT32;
        for (long i = 0; i < target.numel(); i++) {
            if (single) {
                to.putFloat(4 * i, to.getFloat(4 * i) + from.getFloat(4 * i));
            } else {
                to.putDouble(8 * i, to.getDouble(8 * i) + from.getDouble(8 * i));
            }
        }
    }

    /**
     * libtorch's {@code _embedding_bag_sparse_backward}: for every non-padding position in input order, its bag's
     * row of {@code gradOutput}, times {@code 1 / bag size} (computed in the gradient's type) for MEAN and times the
     * position's per-sample weight; an uncoalesced COO tensor over the weight's rows.
     */
    private SparseTensor sparseGradient(Tensor gradOutput) {
        MemoryGuard guard = TensorInternals.guard(gradOutput, indices, offsets, perSampleWeights, null, null);
        try {
            return sparseGradientHeld(gradOutput);
        } finally {
            guard.exit();
        }
    }

    private SparseTensor sparseGradientHeld(Tensor gradOutput) {
        if (scaleGradByFreq) {
            throw new UnsupportedOperationException(
                    "embedding_backward: scale_grad_by_freq not supported with sparse gradients");
        }
        Memory idx = TensorInternals.memory(indices);
        boolean wide = indices.dtype() == DType.INT64;
        long n = indices.numel();
        int kept = 0;
        for (long i = 0; i < n; i++) {
            kept += Bags.read(idx, wide, i) == paddingIdx ? 0 : 1;
        }
        long dim = gradOutput.size(1);
        boolean single = gradOutput.dtype() == DType.FLOAT32;
        Tensor sparseIndices = Torch.empty(DType.INT64, 1, kept);
        Tensor values = Torch.empty(gradOutput.dtype(), kept, dim);
        Memory grads = TensorInternals.memory(gradOutput);
        Memory rows = TensorInternals.memory(sparseIndices);
        Memory to = TensorInternals.memory(values);
        Memory weights = perSampleWeights == null ? null : TensorInternals.memory(perSampleWeights);
        Bags bags = new Bags(indices, offsets, bagSize, gradOutput.size(0));
        long k = 0;
        for (long b = 0; b < bags.numBags(); b++) {
            long count = 0;
            for (long i = bags.start(b); i < bags.end(b); i++) {
                count += Bags.read(idx, wide, i) == paddingIdx ? 0 : 1;
            }
            for (long i = bags.start(b); i < bags.end(b); i++) {
                long r = Bags.read(idx, wide, i);
                if (r == paddingIdx) {
                    continue;
                }
                rows.putLong(8 * k, r);
                for (long j = 0; j < dim; j++) {
                    if (single) {
                        float v = grads.getFloat(4 * (b * dim + j));
                        if (mode == EmbeddingBagMode.MEAN) {
                            v *= 1f / count;
                        }
                        if (weights != null) {
                            v *= weights.getFloat(4 * i);
                        }
                        to.putFloat(4 * (k * dim + j), v);
                    } else {
                        double v = grads.getDouble(8 * (b * dim + j));
                        if (mode == EmbeddingBagMode.MEAN) {
                            v *= 1.0 / count;
                        }
                        if (weights != null) {
                            v *= weights.getDouble(8 * i);
                        }
                        to.putDouble(8 * (k * dim + j), v);
                    }
                }
                k++;
            }
        }
        return new SparseTensor(sparseIndices, values, new long[] {weight.size(0), dim});
    }
}
