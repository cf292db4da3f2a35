package io.jembed.nn;

import io.jembed.nn.functional.EmbeddingBagLookupOptions;

/**
 * The optional arguments of {@link EmbeddingBag#fromPretrained(io.jembed.Tensor, EmbeddingBagFromPretrainedOptions)},
 * with PyTorch's defaults: {@code freeze} is true, the pooling options are those of
 * {@link EmbeddingBagLookupOptions} (mode {@code 'mean'}). The pretrained tensor is shared, not copied, and its
 * padding row is kept as it is.
 *
 * <p>PyTorch equivalent: the keyword arguments of {@code nn.EmbeddingBag.from_pretrained(embeddings, freeze=True,
 * max_norm=None, norm_type=2.0, scale_grad_by_freq=False, mode='mean', sparse=False, include_last_offset=False,
 * padding_idx=None)} (C++: {@code torch::nn::EmbeddingBagFromPretrainedOptions}).
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class EmbeddingBagFromPretrainedOptions
        extends EmbeddingBagLookupOptions<EmbeddingBagFromPretrainedOptions> {
    private boolean freeze = true;

    /** {@code freeze}: the weight takes no gradient. Default true. */
    public EmbeddingBagFromPretrainedOptions freeze(boolean freeze) {
        this.freeze = freeze;
        return this;
    }

    public boolean freeze() {
        return freeze;
    }
}
