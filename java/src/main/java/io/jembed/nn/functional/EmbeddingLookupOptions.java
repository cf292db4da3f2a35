package io.jembed.nn.functional;

/**
 * The lookup options that {@code nn.Embedding(...)}, {@code nn.Embedding.from_pretrained(...)} and
 * {@code F.embedding(...)} share, with PyTorch's defaults: {@code padding_idx=None, max_norm=None, norm_type=2.0,
 * scale_grad_by_freq=False, sparse=False}. Setters return the concrete options type, so calls chain.
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 *
 * @param <T> the concrete options type
 */
public abstract class EmbeddingLookupOptions<T extends EmbeddingLookupOptions<T>> {
    private Long paddingIdx;
    private Double maxNorm;
    private double normType = 2.0;
    private boolean scaleGradByFreq;
    private boolean sparse;

    /** For the subclasses; the defaults are PyTorch's. */
    protected EmbeddingLookupOptions() {}

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    /**
     * {@code padding_idx}: this row gets no gradient (and a new module zeroes it); negative counts from the end.
     * Default: none.
     */
    public T paddingIdx(long paddingIdx) {
        this.paddingIdx = paddingIdx;
        return self();
    }

    /** {@code max_norm}: looked-up rows with a larger norm are rescaled in place before the lookup. Default: none. */
    public T maxNorm(double maxNorm) {
        this.maxNorm = maxNorm;
        return self();
    }

    /** {@code norm_type}: the p of the p-norm used with max_norm. Default 2. */
    public T normType(double normType) {
        this.normType = normType;
        return self();
    }

    /** {@code scale_grad_by_freq}: divide each row's gradient by its index's count in the mini-batch. */
    public T scaleGradByFreq(boolean scaleGradByFreq) {
        this.scaleGradByFreq = scaleGradByFreq;
        return self();
    }

    /** {@code sparse}: the weight's gradient is a sparse (COO) tensor. Default false. */
    public T sparse(boolean sparse) {
        this.sparse = sparse;
        return self();
    }

    /** The padding index as given (not yet normalised), or {@code null}. */
    public Long paddingIdx() {
        return paddingIdx;
    }

    /** The renorm bound, or {@code null} for none. PyTorch equivalent: {@code max_norm}. */
    public Double maxNorm() {
        return maxNorm;
    }

    /** The p of the p-norm for {@code maxNorm} (2 by default). PyTorch equivalent: {@code norm_type}. */
    public double normType() {
        return normType;
    }

    /**
     * Whether gradients are divided by each index's count in the batch. PyTorch equivalent: {@code scale_grad_by_freq}.
     */
    public boolean scaleGradByFreq() {
        return scaleGradByFreq;
    }

    /** Whether the weight's gradient is sparse (COO). PyTorch equivalent: {@code sparse}. */
    public boolean sparse() {
        return sparse;
    }
}
