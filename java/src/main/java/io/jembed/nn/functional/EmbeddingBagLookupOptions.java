package io.jembed.nn.functional;

import io.jembed.nn.EmbeddingBagMode;

/**
 * The options that {@code nn.EmbeddingBag(...)}, {@code nn.EmbeddingBag.from_pretrained(...)} and
 * {@code F.embedding_bag(...)} share, with PyTorch's defaults: {@code max_norm=None, norm_type=2.0,
 * scale_grad_by_freq=False, mode='mean', sparse=False, include_last_offset=False, padding_idx=None}. Setters return
 * the concrete options type, so calls chain.
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 *
 * @param <T> the concrete options type
 */
public abstract class EmbeddingBagLookupOptions<T extends EmbeddingBagLookupOptions<T>> {
    private Double maxNorm;
    private double normType = 2.0;
    private boolean scaleGradByFreq;
    private EmbeddingBagMode mode = EmbeddingBagMode.MEAN;
    private boolean sparse;
    private boolean includeLastOffset;
    private Long paddingIdx;

    protected EmbeddingBagLookupOptions() {}

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    /** {@code max_norm}: looked-up rows with a larger norm are rescaled in place before pooling. Default: none. */
    public T maxNorm(double maxNorm) {
        this.maxNorm = maxNorm;
        return self();
    }

    /** {@code norm_type}: the p of the p-norm used with max_norm. Default 2. */
    public T normType(double normType) {
        this.normType = normType;
        return self();
    }

    /**
     * {@code scale_grad_by_freq}: divide each lookup's gradient by its index's count in the whole input (not with
     * MAX).
     */
    public T scaleGradByFreq(boolean scaleGradByFreq) {
        this.scaleGradByFreq = scaleGradByFreq;
        return self();
    }

    /** {@code mode}: how a bag's rows are reduced. Default {@link EmbeddingBagMode#MEAN}. */
    public T mode(EmbeddingBagMode mode) {
        this.mode = mode;
        return self();
    }

    /** {@code mode} by PyTorch's name: {@code "sum"}, {@code "mean"} or {@code "max"}. */
    public T mode(String mode) {
        this.mode = EmbeddingBagMode.fromPythonName(mode);
        return self();
    }

    /** {@code sparse}: the weight's gradient is a sparse (COO) tensor (not with MAX). Default false. */
    public T sparse(boolean sparse) {
        this.sparse = sparse;
        return self();
    }

    /**
     * {@code include_last_offset}: the offsets hold one entry more than there are bags, the end of the last bag
     * (which jembed requires to be the input's length). Default false.
     */
    public T includeLastOffset(boolean includeLastOffset) {
        this.includeLastOffset = includeLastOffset;
        return self();
    }

    /**
     * {@code padding_idx}: entries equal to it are left out of their bag (and a new module zeroes that row);
     * negative counts from the end. Default: none.
     */
    public T paddingIdx(long paddingIdx) {
        this.paddingIdx = paddingIdx;
        return self();
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

    public EmbeddingBagMode mode() {
        return mode;
    }

    public boolean sparse() {
        return sparse;
    }

    public boolean includeLastOffset() {
        return includeLastOffset;
    }

    /** The padding index as given (not yet normalised), or {@code null}. */
    public Long paddingIdx() {
        return paddingIdx;
    }
}
