package io.jembed.nn.functional;

import io.jembed.Tensor;

/**
 * The optional arguments of {@link F#embeddingBag(Tensor, Tensor, EmbeddingBagFuncOptions)}, with PyTorch's
 * defaults: no offsets, no per-sample weights, and the options of {@link EmbeddingBagLookupOptions}.
 *
 * <p>PyTorch equivalent: the keyword arguments of {@code torch.nn.functional.embedding_bag} (C++:
 * {@code torch::nn::functional::EmbeddingBagFuncOptions}).
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class EmbeddingBagFuncOptions extends EmbeddingBagLookupOptions<EmbeddingBagFuncOptions> {
    private Tensor offsets;
    private Tensor perSampleWeights;

    /** {@code offsets}: where each bag starts in a 1-D input (int32 or int64, 1-D). Not with 2-D input. */
    public EmbeddingBagFuncOptions offsets(Tensor offsets) {
        this.offsets = offsets;
        return this;
    }

    /** {@code per_sample_weights}: one weight per index, the input's shape and the weight's dtype; SUM only. */
    public EmbeddingBagFuncOptions perSampleWeights(Tensor perSampleWeights) {
        this.perSampleWeights = perSampleWeights;
        return this;
    }

    public Tensor offsets() {
        return offsets;
    }

    public Tensor perSampleWeights() {
        return perSampleWeights;
    }
}
