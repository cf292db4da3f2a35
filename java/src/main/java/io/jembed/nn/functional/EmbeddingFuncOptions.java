package io.jembed.nn.functional;

/**
 * The optional arguments of {@link F#embedding(io.jembed.Tensor, io.jembed.Tensor, EmbeddingFuncOptions)}, with
 * PyTorch's defaults.
 *
 * <p>PyTorch equivalent: the keyword arguments of {@code torch.nn.functional.embedding} (C++:
 * {@code torch::nn::functional::EmbeddingFuncOptions}).
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class EmbeddingFuncOptions {
    private Long paddingIdx;
    private Double maxNorm;
    private double normType = 2.0;
    private boolean scaleGradByFreq;
    private boolean sparse;

    /** {@code padding_idx}: excluded from the gradient; negative counts from the end. Default: none. */
    public EmbeddingFuncOptions paddingIdx(long paddingIdx) {
        this.paddingIdx = paddingIdx;
        return this;
    }

    /** {@code max_norm}: rows looked up with a larger norm are renormalised in place first. Default: none. */
    public EmbeddingFuncOptions maxNorm(double maxNorm) {
        this.maxNorm = maxNorm;
        return this;
    }

    /** {@code norm_type}: the p of the p-norm for max_norm. Default 2. */
    public EmbeddingFuncOptions normType(double normType) {
        this.normType = normType;
        return this;
    }

    /** {@code scale_grad_by_freq}: scales gradients by the inverse frequency of each index. Default false. */
    public EmbeddingFuncOptions scaleGradByFreq(boolean scaleGradByFreq) {
        this.scaleGradByFreq = scaleGradByFreq;
        return this;
    }

    /** {@code sparse}: the weight's gradient is a sparse tensor. Default false. */
    public EmbeddingFuncOptions sparse(boolean sparse) {
        this.sparse = sparse;
        return this;
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
