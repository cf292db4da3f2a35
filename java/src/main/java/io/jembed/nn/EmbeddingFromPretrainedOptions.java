package io.jembed.nn;

import io.jembed.nn.functional.EmbeddingLookupOptions;

/**
 * The optional arguments of {@link Embedding#fromPretrained(io.jembed.Tensor, EmbeddingFromPretrainedOptions)},
 * with PyTorch's defaults: {@code freeze} is true, the lookup options are those of {@link EmbeddingLookupOptions}.
 * The padding row of the pretrained tensor is kept as it is (not zeroed), and with {@code max_norm} the caller's
 * tensor is rescaled in place by forwards, as in PyTorch.
 *
 * <p>PyTorch equivalent: the keyword arguments of {@code nn.Embedding.from_pretrained(embeddings, freeze=True,
 * padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False)} (C++:
 * {@code torch::nn::EmbeddingFromPretrainedOptions}).
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class EmbeddingFromPretrainedOptions extends EmbeddingLookupOptions<EmbeddingFromPretrainedOptions> {
    private boolean freeze = true;

    /** {@code freeze}: the weight takes no gradient. Default true. */
    public EmbeddingFromPretrainedOptions freeze(boolean freeze) {
        this.freeze = freeze;
        return this;
    }

    /** Whether the weight takes no gradient ({@code true} by default). PyTorch equivalent: {@code freeze}. */
    public boolean freeze() {
        return freeze;
    }
}
