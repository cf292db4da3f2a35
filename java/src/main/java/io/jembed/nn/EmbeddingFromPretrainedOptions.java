package io.jembed.nn;

/**
 * The optional arguments of {@link Embedding#fromPretrained(io.jembed.Tensor, EmbeddingFromPretrainedOptions)},
 * with PyTorch's defaults (note {@code freeze} is true by default).
 *
 * <p>PyTorch equivalent: the keyword arguments of {@code nn.Embedding.from_pretrained(embeddings, freeze=True,
 * padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False)} (C++:
 * {@code torch::nn::EmbeddingFromPretrainedOptions}).
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class EmbeddingFromPretrainedOptions {
    private boolean freeze = true;
    private Long paddingIdx;
    private Double maxNorm;
    private double normType = 2.0;
    private boolean scaleGradByFreq;
    private boolean sparse;

    /** {@code freeze}: the weight takes no gradient. Default true. */
    public EmbeddingFromPretrainedOptions freeze(boolean freeze) {
        this.freeze = freeze;
        return this;
    }

    /** {@code padding_idx}: gets no gradient; the pretrained row is kept as it is (not zeroed). */
    public EmbeddingFromPretrainedOptions paddingIdx(long paddingIdx) {
        this.paddingIdx = paddingIdx;
        return this;
    }

    /** {@code max_norm}: rescales looked-up rows in place; the caller's tensor changes, as in PyTorch. */
    public EmbeddingFromPretrainedOptions maxNorm(double maxNorm) {
        this.maxNorm = maxNorm;
        return this;
    }

    /** {@code norm_type}: the p of the p-norm used with max_norm. Default 2. */
    public EmbeddingFromPretrainedOptions normType(double normType) {
        this.normType = normType;
        return this;
    }

    /** {@code scale_grad_by_freq}. Default false. */
    public EmbeddingFromPretrainedOptions scaleGradByFreq(boolean scaleGradByFreq) {
        this.scaleGradByFreq = scaleGradByFreq;
        return this;
    }

    /** {@code sparse}. Default false. */
    public EmbeddingFromPretrainedOptions sparse(boolean sparse) {
        this.sparse = sparse;
        return this;
    }

    public boolean freeze() {
        return freeze;
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
}
