package io.jembed.nn;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.F;
import java.util.Arrays;

/**
 * A lookup table that reduces each bag of looked-up rows to one row (sum, mean or max) without materialising the
 * rows: the pooled lookup of recommendation features and static text-embedding models.
 *
 * <p>PyTorch equivalent: {@code torch.nn.EmbeddingBag}. Same defaults (mode {@code 'mean'}), shapes, numbers and
 * failures; a new weight is N(0, 1) with the padding row zeroed. Deliberate differences (see {@link F#embeddingBag}):
 * offsets are validated in full, and a call that throws changes nothing, the {@code max_norm} renorm included.
 *
 * <p><b>Ownership.</b> A module owns the weight it created and frees it in {@link #close()}; a weight passed in
 * ({@link EmbeddingBagOptions#weight(Tensor)}, {@link #fromPretrained}, {@link #setWeight(Tensor)}) stays the
 * caller's.
 *
 * <p><b>Thread safety.</b> {@link #forward} may be called from many threads at once on one module. Without
 * {@code max_norm} it only reads the weight; with {@code max_norm} it writes the weight, so this module serialises
 * those forwards with a lock. {@link #resetParameters()} and {@link #setWeight(Tensor)} must not run concurrently
 * with forwards.
 */
public class EmbeddingBag implements AutoCloseable {
    private final long numEmbeddings;
    private final long embeddingDim;
    private final Double maxNorm;
    private final double normType;
    private final boolean scaleGradByFreq;
    private final EmbeddingBagMode mode;
    private final boolean sparse;
    private final boolean includeLastOffset;
    private final Long paddingIdx;
    private final Generator generator;
    private final Object renormLock = new Object();
    private volatile Tensor weight;
    private boolean ownsWeight;

    /** PyTorch equivalent: {@code nn.EmbeddingBag(num_embeddings, embedding_dim)} (mode {@code 'mean'}). */
    public EmbeddingBag(long numEmbeddings, long embeddingDim) {
        this(new EmbeddingBagOptions(numEmbeddings, embeddingDim));
    }

    /** PyTorch equivalent: {@code nn.EmbeddingBag(num_embeddings, embedding_dim, mode=..., ...)}. */
    public EmbeddingBag(EmbeddingBagOptions options) {
        if (options.numEmbeddings() < 0 || options.embeddingDim() < 0) {
            throw new IllegalArgumentException("Trying to create tensor with negative dimension: num_embeddings="
                    + options.numEmbeddings() + ", embedding_dim=" + options.embeddingDim()
                    + " (both must be >= 0)");
        }
        this.numEmbeddings = options.numEmbeddings();
        this.embeddingDim = options.embeddingDim();
        this.paddingIdx = normalizePaddingIdx(options.paddingIdx(), numEmbeddings);
        io.jembed.internal.EmbeddingChecks.checkRenormOptions(options.maxNorm(), options.normType());
        this.maxNorm = options.maxNorm();
        this.normType = options.normType();
        this.scaleGradByFreq = options.scaleGradByFreq();
        if (options.mode() == null) {
            throw new IllegalArgumentException("mode has to be one of sum, mean or max, got null");
        }
        this.mode = options.mode();
        this.sparse = options.sparse();
        this.includeLastOffset = options.includeLastOffset();
        this.generator = options.generator();
        Tensor given = options.weight();
        if (given == null) {
            if (!options.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("an EmbeddingBag's dtype must be floating point (float32, "
                        + "float64, float16 or bfloat16), got " + options.dtype());
            }
            this.weight = Torch.empty(options.dtype(), numEmbeddings, embeddingDim);
            this.ownsWeight = true;
            try {
                resetParameters();
                weight.requiresGrad_(!options.freeze());
            } catch (RuntimeException e) {
                weight.close();
                throw e;
            }
        } else {
            checkGivenWeight(given, "Shape of weight does not match num_embeddings and embedding_dim");
            given.requiresGrad_(!options.freeze());
            this.weight = given;
        }
    }

    /** PyTorch's module check, whose message differs from Embedding's only in its lower-case p. */
    private static Long normalizePaddingIdx(Long paddingIdx, long numEmbeddings) {
        if (paddingIdx == null) {
            return null;
        }
        long p = paddingIdx;
        if (p >= numEmbeddings && p > 0 || p < -numEmbeddings) {
            throw new IllegalArgumentException("padding_idx must be within num_embeddings: got " + p
                    + ", expected a value in [" + (-numEmbeddings) + ", " + (numEmbeddings - 1) + "]");
        }
        return p < 0 ? p + numEmbeddings : p;
    }

    /**
     * A module around pretrained vectors, shared with the caller (not copied), frozen, mode {@code 'mean'}.
     *
     * <p>PyTorch equivalent: {@code nn.EmbeddingBag.from_pretrained(embeddings)}.
     */
    public static EmbeddingBag fromPretrained(Tensor embeddings) {
        return fromPretrained(embeddings, new EmbeddingBagFromPretrainedOptions());
    }

    /**
     * PyTorch equivalent: {@code nn.EmbeddingBag.from_pretrained(embeddings, freeze=..., max_norm=..., norm_type=...,
     * scale_grad_by_freq=..., mode=..., sparse=..., include_last_offset=..., padding_idx=...)}. The padding row is
     * not zeroed; with {@code max_norm} the caller's tensor is renormalised in place by forwards, as in PyTorch.
     *
     * @throws IllegalArgumentException if {@code embeddings} is not 2-D
     */
    public static EmbeddingBag fromPretrained(Tensor embeddings, EmbeddingBagFromPretrainedOptions options) {
        if (embeddings == null || embeddings.isClosed()) {
            throw new IllegalArgumentException("embeddings must be an open tensor");
        }
        if (embeddings.dim() != 2) {
            throw new IllegalArgumentException("Embeddings parameter is expected to be 2-dimensional, got shape "
                    + Arrays.toString(embeddings.shape()));
        }
        EmbeddingBagOptions moduleOptions = new EmbeddingBagOptions(embeddings.size(0), embeddings.size(1))
                .weight(embeddings)
                .freeze(options.freeze())
                .normType(options.normType())
                .scaleGradByFreq(options.scaleGradByFreq())
                .mode(options.mode())
                .sparse(options.sparse())
                .includeLastOffset(options.includeLastOffset());
        if (options.paddingIdx() != null) {
            moduleOptions.paddingIdx(options.paddingIdx());
        }
        if (options.maxNorm() != null) {
            moduleOptions.maxNorm(options.maxNorm());
        }
        return new EmbeddingBag(moduleOptions);
    }

    private void checkGivenWeight(Tensor given, String mismatch) {
        if (given.isClosed()) {
            throw new IllegalStateException("'weight' has been closed");
        }
        if (given.dim() != 2 || given.size(0) != numEmbeddings || given.size(1) != embeddingDim) {
            throw new IllegalArgumentException(mismatch + ": expected [" + numEmbeddings + ", " + embeddingDim
                    + "], got " + Arrays.toString(given.shape()));
        }
        if (!given.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("an EmbeddingBag's weight must be float32 or float64, got "
                    + given.dtype());
        }
    }

    /**
     * Pools the bags of a 2-D input {@code (B, N)}: B bags of N indices each.
     *
     * <p>PyTorch equivalent: {@code bag(input)}.
     *
     * @return a new {@code (B, embeddingDim)} tensor, owned by the caller
     */
    public Tensor forward(Tensor input) {
        return forward(input, null, null);
    }

    /** PyTorch equivalent: {@code bag(input, offsets)}: a 1-D input whose bag {@code b} starts at {@code offsets[b]}. */
    public Tensor forward(Tensor input, Tensor offsets) {
        return forward(input, offsets, null);
    }

    /**
     * PyTorch equivalent: {@code bag(input, offsets, per_sample_weights)} (mode {@code 'sum'} only for the weights).
     *
     * @param offsets {@code null} for a 2-D input
     * @param perSampleWeights {@code null}, or one weight per index, the input's shape
     */
    public Tensor forward(Tensor input, Tensor offsets, Tensor perSampleWeights) {
        if (maxNorm == null) {
            return F.embeddingBag(input, weight(), offsets, null, normType, scaleGradByFreq, mode, sparse,
                    perSampleWeights, includeLastOffset, paddingIdx);
        }
        synchronized (renormLock) {
            return F.embeddingBag(input, weight(), offsets, maxNorm, normType, scaleGradByFreq, mode, sparse,
                    perSampleWeights, includeLastOffset, paddingIdx);
        }
    }

    /**
     * The same pooling into {@code out} (the weight's dtype, shape {@code (B, embeddingDim)}), allocating nothing:
     * the hot path for inference loops that reuse their buffers. Records no backward function.
     */
    public void forward(Tensor input, Tensor offsets, Tensor perSampleWeights, Tensor out) {
        if (maxNorm == null) {
            F.embeddingBag(input, weight(), offsets, null, normType, mode, perSampleWeights, includeLastOffset,
                    paddingIdx, out);
            return;
        }
        synchronized (renormLock) {
            F.embeddingBag(input, weight(), offsets, maxNorm, normType, mode, perSampleWeights, includeLastOffset,
                    paddingIdx, out);
        }
    }

    /**
     * Redraws the weight from N(0, 1) with this module's generator and zeroes the padding row.
     *
     * <p>PyTorch equivalent: {@code bag.reset_parameters()}.
     */
    public void resetParameters() {
        Tensor w = weight();
        w.normal_(0, 1, generator);
        if (paddingIdx != null) {
            for (long j = 0; j < embeddingDim; j++) {
                w.set(0, paddingIdx, j);
            }
        }
    }

    /** PyTorch equivalent: {@code bag.weight} (the live tensor, not a copy). */
    public Tensor weight() {
        Tensor w = weight;
        if (w.isClosed()) {
            throw new IllegalStateException("this EmbeddingBag's weight has been closed");
        }
        return w;
    }

    /**
     * Replaces the weight with {@code newWeight} (shared, owned by the caller) of shape
     * {@code (numEmbeddings, embeddingDim)}. The padding row is not re-zeroed, as in PyTorch. A weight this module
     * created is closed.
     *
     * <p>PyTorch equivalent: {@code bag.weight = nn.Parameter(new_weight)}.
     */
    public void setWeight(Tensor newWeight) {
        if (newWeight == null) {
            throw new IllegalArgumentException("'weight' must not be null");
        }
        checkGivenWeight(newWeight, "the new weight's shape does not match num_embeddings and embedding_dim");
        Tensor old = weight;
        weight = newWeight;
        if (ownsWeight && old != newWeight) {
            old.close();
        }
        ownsWeight = false;
    }

    public long numEmbeddings() {
        return numEmbeddings;
    }

    public long embeddingDim() {
        return embeddingDim;
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

    /** The normalised padding index (a negative option counts from the end), or {@code null}. */
    public Long paddingIdx() {
        return paddingIdx;
    }

    /** PyTorch equivalent: {@code bag.weight.requires_grad}; false when frozen. */
    public boolean requiresGrad() {
        return weight().requiresGrad();
    }

    /** The trainable tensors, for an optimizer. PyTorch equivalent: {@code list(bag.parameters())}. */
    public java.util.List<Tensor> parameters() {
        return java.util.List.of(weight());
    }

    /** PyTorch equivalent: {@code bag.zero_grad()}: forgets the weight's accumulated gradient. */
    public void zeroGrad() {
        weight().zeroGrad();
    }

    /** The weight's dtype. */
    public DType dtype() {
        return weight().dtype();
    }

    /**
     * PyTorch's {@code repr}, e.g. {@code EmbeddingBag(10, 3, mode='sum')}: the mode always, max_norm, norm_type,
     * scale_grad_by_freq and padding_idx when set; sparse and include_last_offset never (as PyTorch prints it).
     */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("EmbeddingBag(").append(numEmbeddings).append(", ").append(embeddingDim);
        if (maxNorm != null) {
            s.append(", max_norm=").append(PythonFloat.repr(maxNorm));
        }
        if (normType != 2) {
            s.append(", norm_type=").append(PythonFloat.repr(normType));
        }
        if (scaleGradByFreq) {
            s.append(", scale_grad_by_freq=True");
        }
        s.append(", mode='").append(mode.pythonName()).append('\'');
        if (paddingIdx != null) {
            s.append(", padding_idx=").append(paddingIdx);
        }
        return s.append(')').toString();
    }

    /** Frees the weight if this module created it; a weight passed in is left to its owner. Idempotent. */
    @Override
    public void close() {
        if (ownsWeight) {
            weight.close();
        }
    }
}
