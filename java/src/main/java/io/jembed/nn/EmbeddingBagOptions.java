package io.jembed.nn;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.EmbeddingBagLookupOptions;

/**
 * The constructor arguments of {@link EmbeddingBag}, with PyTorch's defaults.
 *
 * <p>PyTorch equivalent: the arguments of {@code torch.nn.EmbeddingBag(num_embeddings, embedding_dim, max_norm=None,
 * norm_type=2.0, scale_grad_by_freq=False, mode='mean', sparse=False, _weight=None, include_last_offset=False,
 * padding_idx=None, dtype=None)} (C++: {@code torch::nn::EmbeddingBagOptions}); the pooling options are those of
 * {@link EmbeddingBagLookupOptions}. {@link #generator(Generator)} is jembed's addition: the source of the N(0, 1)
 * initialisation, {@link Torch#defaultGenerator()} unless set.
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class EmbeddingBagOptions extends EmbeddingBagLookupOptions<EmbeddingBagOptions> {
    private final long numEmbeddings;
    private final long embeddingDim;
    private Tensor weight;
    private boolean freeze;
    private DType dtype = DType.FLOAT32;
    private Generator generator;

    /** {@code num_embeddings} rows of {@code embedding_dim} values each. */
    public EmbeddingBagOptions(long numEmbeddings, long embeddingDim) {
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
    }

    /**
     * {@code _weight}: use this tensor, shared and not copied, as the weight instead of a fresh N(0, 1) one. The
     * padding row is not zeroed. The caller keeps ownership: closing the module does not close it.
     */
    public EmbeddingBagOptions weight(Tensor weight) {
        this.weight = weight;
        return this;
    }

    /**
     * The weight takes no gradient ({@code requires_grad=False}), as {@code from_pretrained(freeze=True)} sets it.
     * Default false.
     */
    public EmbeddingBagOptions freeze(boolean freeze) {
        this.freeze = freeze;
        return this;
    }

    /** {@code dtype}: {@link DType#FLOAT32} (default) or {@link DType#FLOAT64}; ignored when a weight is given. */
    public EmbeddingBagOptions dtype(DType dtype) {
        this.dtype = dtype;
        return this;
    }

    /** The generator for the N(0, 1) initialisation and {@link EmbeddingBag#resetParameters()}. */
    public EmbeddingBagOptions generator(Generator generator) {
        this.generator = generator;
        return this;
    }

    public long numEmbeddings() {
        return numEmbeddings;
    }

    public long embeddingDim() {
        return embeddingDim;
    }

    public Tensor weight() {
        return weight;
    }

    public boolean freeze() {
        return freeze;
    }

    public DType dtype() {
        return dtype;
    }

    public Generator generator() {
        return generator == null ? Torch.defaultGenerator() : generator;
    }
}
