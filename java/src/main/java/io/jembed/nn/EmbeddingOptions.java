package io.jembed.nn;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.EmbeddingLookupOptions;

/**
 * The constructor arguments of {@link Embedding}, with PyTorch's defaults.
 *
 * <p>PyTorch equivalent: the arguments of {@code torch.nn.Embedding(num_embeddings, embedding_dim, padding_idx=None,
 * max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, dtype=None)}
 * (C++: {@code torch::nn::EmbeddingOptions}); the lookup options are those of {@link EmbeddingLookupOptions}.
 * {@link #generator(Generator)} is jembed's addition: the source of the
 * N(0, 1) initialisation, {@link Torch#defaultGenerator()} unless set.
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class EmbeddingOptions extends EmbeddingLookupOptions<EmbeddingOptions> {
    private final long numEmbeddings;
    private final long embeddingDim;
    private Tensor weight;
    private boolean freeze;
    private DType dtype = DType.FLOAT32;
    private Generator generator;

    /** {@code num_embeddings} rows of {@code embedding_dim} values each. */
    public EmbeddingOptions(long numEmbeddings, long embeddingDim) {
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
    }

    /**
     * {@code _weight}: use this tensor, shared and not copied, as the weight instead of a fresh N(0, 1) one. The
     * padding row is not zeroed. The caller keeps ownership: closing the module does not close it.
     */
    public EmbeddingOptions weight(Tensor weight) {
        this.weight = weight;
        return this;
    }

    /** {@code _freeze}: the weight takes no gradient ({@code requires_grad=False}). Default false. */
    public EmbeddingOptions freeze(boolean freeze) {
        this.freeze = freeze;
        return this;
    }

    /** {@code dtype}: {@link DType#FLOAT32} (default) or {@link DType#FLOAT64}; ignored when a weight is given. */
    public EmbeddingOptions dtype(DType dtype) {
        this.dtype = dtype;
        return this;
    }

    /** The generator for the N(0, 1) initialisation and {@link Embedding#resetParameters()}. */
    public EmbeddingOptions generator(Generator generator) {
        this.generator = generator;
        return this;
    }

    /** The number of rows. PyTorch equivalent: {@code num_embeddings}. */
    public long numEmbeddings() {
        return numEmbeddings;
    }

    /** The size of each row. PyTorch equivalent: {@code embedding_dim}. */
    public long embeddingDim() {
        return embeddingDim;
    }

    /** The weight to use instead of a new one, or {@code null}. PyTorch equivalent: {@code _weight}. */
    public Tensor weight() {
        return weight;
    }

    /** Whether the weight takes no gradient. PyTorch equivalent: {@code _freeze}. */
    public boolean freeze() {
        return freeze;
    }

    /** The data type of a new weight. PyTorch equivalent: {@code dtype}. */
    public DType dtype() {
        return dtype;
    }

    /** The generator for the initialisation: the one set, else the default generator. */
    public Generator generator() {
        return generator == null ? Torch.defaultGenerator() : generator;
    }
}
