package io.jembed.nn.functional;

import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.autograd.GradFn;
import io.jembed.backend.Backends;
import io.jembed.internal.TensorInternals;

/**
 * The backward function that {@link F#embedding} records on its output when the weight requires a gradient.
 * It keeps its own copy of the indices, so the caller may reuse or close the input after the forward.
 *
 * <p>PyTorch equivalent: {@code EmbeddingBackward0}. Backward passes into one weight are serialised on it.
 */
final class EmbeddingBackward implements GradFn {
    private final Tensor weight;
    private final Tensor savedIndices;
    private final long paddingIdx;
    private final boolean scaleGradByFreq;
    private final boolean sparse;

    EmbeddingBackward(Tensor weight, Tensor indices, Long paddingIdx, boolean scaleGradByFreq, boolean sparse) {
        this.weight = weight;
        this.savedIndices = indices.clone();
        this.paddingIdx = paddingIdx == null ? -1 : paddingIdx;
        this.scaleGradByFreq = scaleGradByFreq;
        this.sparse = sparse;
    }

    @Override
    public String name() {
        return "EmbeddingBackward0";
    }

    @Override
    public void apply(Tensor gradOutput) {
        Long padding = paddingIdx < 0 ? null : paddingIdx;
        synchronized (weight) {
            if (weight.isClosed()) {
                throw new IllegalStateException("the weight this output came from has been closed");
            }
            if (sparse) {
                SparseTensor gradient = F.embeddingSparseBackward(gradOutput, savedIndices, weight.size(0), padding,
                        scaleGradByFreq);
                TensorInternals.accumulateSparseGrad(weight, gradient);
            } else {
                Tensor gradWeight = TensorInternals.denseGradForRows(weight, savedIndices);
                Backends.current().embeddingDenseBackward(gradOutput, savedIndices, gradWeight, paddingIdx,
                        scaleGradByFreq);
            }
        }
    }
}
