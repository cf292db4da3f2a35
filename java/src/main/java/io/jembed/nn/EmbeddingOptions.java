package io.jembed.nn;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;

/**
 * The constructor arguments of {@link Embedding}, with PyTorch's defaults.
 *
 * <p>PyTorch equivalent: the arguments of {@code torch.nn.Embedding(num_embeddings, embedding_dim, padding_idx=None,
 * max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, dtype=None)}
 * (C++: {@code torch::nn::EmbeddingOptions}). {@link #generator(Generator)} is jembed's addition: the source of the
 * N(0, 1) initialisation, {@link Torch#defaultGenerator()} unless set.
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class EmbeddingOptions {
    private final long numEmbeddings;
    private final long embeddingDim;
    private Long paddingIdx;
    private Double maxNorm;
    private double normType = 2.0;
    private boolean scaleGradByFreq;
    private boolean sparse;
    private Tensor weight;
    private boolean freeze;
    private DType dtype = DType.FLOAT32;
    private Generator generator;

    /** {@code num_embeddings} rows of {@code embedding_dim} values each. */
    public EmbeddingOptions(long numEmbeddings, long embeddingDim) {
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
    }

    /** {@code padding_idx}: this row is zeroed at initialisation and gets no gradient; negative counts from the end. */
    public EmbeddingOptions paddingIdx(long paddingIdx) {
        this.paddingIdx = paddingIdx;
        return this;
    }

    /** {@code max_norm}: every forward first rescales the looked-up rows whose norm exceeds this, in place. */
    public EmbeddingOptions maxNorm(double maxNorm) {
        this.maxNorm = maxNorm;
        return this;
    }

    /** {@code norm_type}: the p of the p-norm used with max_norm. Default 2. */
    public EmbeddingOptions normType(double normType) {
        this.normType = normType;
        return this;
    }

    /** {@code scale_grad_by_freq}: divide each row's gradient by the index's frequency in the mini-batch. */
    public EmbeddingOptions scaleGradByFreq(boolean scaleGradByFreq) {
        this.scaleGradByFreq = scaleGradByFreq;
        return this;
    }

    /** {@code sparse}: the weight's gradient is a sparse (COO) tensor. */
    public EmbeddingOptions sparse(boolean sparse) {
        this.sparse = sparse;
        return this;
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

    public long numEmbeddings() {
        return numEmbeddings;
    }

    public long embeddingDim() {
        return embeddingDim;
    }

    public Long paddingIdx() {
        return paddingIdx;
    }

    public Double maxNorm() {
        return maxNorm;
    }

    public double normType() {
        return normType;
    }

    public boolean scaleGradByFreq() {
        return scaleGradByFreq;
    }

    public boolean sparse() {
        return sparse;
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
