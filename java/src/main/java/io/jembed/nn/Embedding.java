package io.jembed.nn;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.nn.functional.F;
import java.util.Arrays;

/**
 * A lookup table of {@code numEmbeddings} vectors of size {@code embeddingDim}: the input holds indices, the output
 * holds the corresponding rows.
 *
 * <p>PyTorch equivalent: {@code torch.nn.Embedding}. Same defaults, shapes, numbers and failures; a new weight is
 * N(0, 1) with the padding row zeroed. One deliberate difference: with {@code max_norm}, PyTorch renormalises rows
 * before it finds a bad index, so a failed call has already changed the weight; jembed validates every index first,
 * so a call that throws changes nothing.
 *
 * <p><b>Ownership.</b> A module owns the weight it created and frees it in {@link #close()}; a weight passed in
 * ({@link EmbeddingOptions#weight(Tensor)}, {@link #fromPretrained}, {@link #setWeight(Tensor)}) stays the caller's.
 *
 * <p><b>Thread safety.</b> {@link #forward} may be called from many threads at once on one module. Without
 * {@code max_norm} it only reads the weight; with {@code max_norm} it writes the weight, so this module serialises
 * those forwards with a lock (other writers of the same weight tensor are the caller's to coordinate).
 * {@link #resetParameters()} and {@link #setWeight(Tensor)} must not run concurrently with forwards.
 * {@link #close()} may: a forward that is running when the weight is closed finishes on it first (the memory is freed
 * after it), and a forward that starts after the close throws {@link IllegalStateException}; the JVM never crashes.
 */
public class Embedding implements AutoCloseable {
    private final long numEmbeddings;
    private final long embeddingDim;
    private final Long paddingIdx;
    private final Double maxNorm;
    private final double normType;
    private final boolean scaleGradByFreq;
    private final boolean sparse;
    private final Generator generator;
    private final Object renormLock = new Object();
    private volatile Tensor weight;
    private boolean ownsWeight;

    /** PyTorch equivalent: {@code nn.Embedding(num_embeddings, embedding_dim)}. */
    public Embedding(long numEmbeddings, long embeddingDim) {
        this(new EmbeddingOptions(numEmbeddings, embeddingDim));
    }

    /** PyTorch equivalent: {@code nn.Embedding(num_embeddings, embedding_dim, padding_idx=..., ...)}. */
    public Embedding(EmbeddingOptions options) {
        if (options.numEmbeddings() < 0 || options.embeddingDim() < 0) {
            throw new IllegalArgumentException("Trying to create tensor with negative dimension: num_embeddings="
                    + options.numEmbeddings() + ", embedding_dim=" + options.embeddingDim()
                    + " (both must be >= 0)");
        }
        this.numEmbeddings = options.numEmbeddings();
        this.embeddingDim = options.embeddingDim();
        this.paddingIdx = EmbeddingChecks.normalizePaddingIdx(options.paddingIdx(), numEmbeddings);
        EmbeddingChecks.checkRenormOptions(options.maxNorm(), options.normType());
        this.maxNorm = options.maxNorm();
        this.normType = options.normType();
        this.scaleGradByFreq = options.scaleGradByFreq();
        this.sparse = options.sparse();
        this.generator = options.generator();
        Tensor given = options.weight();
        if (given == null) {
            if (!options.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("an Embedding's dtype must be floating point (float32, float64, "
                        + "float16 or bfloat16), got " + options.dtype());
            }
            this.weight = Torch.empty(options.dtype(), numEmbeddings, embeddingDim);
            this.ownsWeight = true;
            try {
                // Fails, as in PyTorch (IndexError), for padding_idx 0 of a table with no rows, which PyTorch's
                // padding_idx check lets through.
                resetParameters();
            } catch (RuntimeException e) {
                weight.close();
                throw e;
            }
            weight.requiresGrad_(!options.freeze());
        } else {
            checkGivenWeight(given, "Shape of weight does not match num_embeddings and embedding_dim");
            given.requiresGrad_(!options.freeze());
            this.weight = given;
        }
    }

    /**
     * A module around pretrained vectors, shared with the caller (not copied), frozen.
     *
     * <p>PyTorch equivalent: {@code nn.Embedding.from_pretrained(embeddings)}.
     */
    public static Embedding fromPretrained(Tensor embeddings) {
        return fromPretrained(embeddings, new EmbeddingFromPretrainedOptions());
    }

    /**
     * PyTorch equivalent: {@code nn.Embedding.from_pretrained(embeddings, freeze=..., padding_idx=..., max_norm=...,
     * norm_type=..., scale_grad_by_freq=..., sparse=...)}. The padding row is not zeroed; with {@code max_norm} the
     * caller's tensor is renormalised in place by forwards, as in PyTorch.
     *
     * @throws IllegalArgumentException if {@code embeddings} is not 2-D
     */
    public static Embedding fromPretrained(Tensor embeddings, EmbeddingFromPretrainedOptions options) {
        EmbeddingChecks.checkOpen(embeddings, "embeddings");
        if (embeddings.dim() != 2) {
            throw new IllegalArgumentException("Embeddings parameter is expected to be 2-dimensional, got shape "
                    + Arrays.toString(embeddings.shape()));
        }
        EmbeddingOptions moduleOptions = new EmbeddingOptions(embeddings.size(0), embeddings.size(1))
                .weight(embeddings)
                .freeze(options.freeze())
                .normType(options.normType())
                .scaleGradByFreq(options.scaleGradByFreq())
                .sparse(options.sparse());
        if (options.paddingIdx() != null) {
            moduleOptions.paddingIdx(options.paddingIdx());
        }
        if (options.maxNorm() != null) {
            moduleOptions.maxNorm(options.maxNorm());
        }
        return new Embedding(moduleOptions);
    }

    private void checkGivenWeight(Tensor given, String mismatch) {
        EmbeddingChecks.checkOpen(given, "weight");
        if (given.dim() != 2 || given.size(0) != numEmbeddings || given.size(1) != embeddingDim) {
            throw new IllegalArgumentException(mismatch + ": expected [" + numEmbeddings + ", " + embeddingDim
                    + "], got " + Arrays.toString(given.shape()));
        }
        if (maxNorm != null && !given.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("max_norm needs a floating-point weight, got " + given.dtype());
        }
    }

    /**
     * Looks up the rows named by {@code input}.
     *
     * <p>PyTorch equivalent: {@code embedding(input)}.
     *
     * @param input int64 or int32 indices of any shape (0-d and empty included), each in {@code [0, numEmbeddings)}
     * @return a new tensor of shape {@code input.shape + (embeddingDim,)}, owned by the caller
     * @throws IndexOutOfBoundsException naming the first index outside {@code [0, numEmbeddings)}; nothing changes
     */
    public Tensor forward(Tensor input) {
        if (maxNorm == null) {
            return F.embedding(input, weight(), paddingIdx, null, normType, scaleGradByFreq, sparse);
        }
        synchronized (renormLock) {
            return F.embedding(input, weight(), paddingIdx, maxNorm, normType, scaleGradByFreq, sparse);
        }
    }

    /**
     * The same lookup into {@code out} (the weight's dtype, shape {@code input.shape + (embeddingDim,)}), allocating
     * nothing: the hot path for inference loops that reuse their buffers.
     */
    public void forward(Tensor input, Tensor out) {
        if (maxNorm == null) {
            F.embedding(input, weight(), paddingIdx, null, normType, out);
            return;
        }
        synchronized (renormLock) {
            F.embedding(input, weight(), paddingIdx, maxNorm, normType, out);
        }
    }

    /**
     * Redraws the weight from N(0, 1) with this module's generator and zeroes the padding row.
     *
     * <p>PyTorch equivalent: {@code embedding.reset_parameters()}.
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

    /** PyTorch equivalent: {@code embedding.weight} (the live tensor, not a copy). */
    public Tensor weight() {
        Tensor w = weight;
        if (w.isClosed()) {
            throw new IllegalStateException("this Embedding's weight has been closed");
        }
        return w;
    }

    /**
     * Replaces the weight with {@code newWeight} (shared, owned by the caller) of shape
     * {@code (numEmbeddings, embeddingDim)}. The padding row is not re-zeroed, as in PyTorch. A weight this module
     * created is closed.
     *
     * <p>PyTorch equivalent: {@code embedding.weight = nn.Parameter(new_weight)}.
     */
    public void setWeight(Tensor newWeight) {
        checkGivenWeight(newWeight, "the new weight's shape does not match num_embeddings and embedding_dim");
        Tensor old = weight;
        weight = newWeight;
        if (ownsWeight && old != newWeight) {
            old.close();
        }
        ownsWeight = false;
    }

    /** The number of rows. PyTorch equivalent: {@code emb.num_embeddings}. */
    public long numEmbeddings() {
        return numEmbeddings;
    }

    /** The size of each row. PyTorch equivalent: {@code emb.embedding_dim}. */
    public long embeddingDim() {
        return embeddingDim;
    }

    /** The normalised padding index (a negative option counts from the end), or {@code null}. */
    public Long paddingIdx() {
        return paddingIdx;
    }

    /** The renorm bound, or {@code null} for none. PyTorch equivalent: {@code emb.max_norm}. */
    public Double maxNorm() {
        return maxNorm;
    }

    /** The p of the p-norm for {@code maxNorm}. PyTorch equivalent: {@code emb.norm_type}. */
    public double normType() {
        return normType;
    }

    /**
     * Whether gradients are divided by each index's count in the batch. PyTorch equivalent: {@code
     * emb.scale_grad_by_freq}.
     */
    public boolean scaleGradByFreq() {
        return scaleGradByFreq;
    }

    /** Whether the weight's gradient is sparse (COO). PyTorch equivalent: {@code emb.sparse}. */
    public boolean sparse() {
        return sparse;
    }

    /** PyTorch equivalent: {@code embedding.weight.requires_grad}; false when frozen. */
    public boolean requiresGrad() {
        return weight().requiresGrad();
    }

    /** The trainable tensors, for an optimizer. PyTorch equivalent: {@code list(embedding.parameters())}. */
    public java.util.List<Tensor> parameters() {
        return java.util.List.of(weight());
    }

    /** PyTorch equivalent: {@code embedding.zero_grad()}: forgets the weight's accumulated gradient. */
    public void zeroGrad() {
        weight().zeroGrad();
    }

    /** The weight's dtype. */
    public DType dtype() {
        return weight().dtype();
    }

    /** PyTorch's {@code repr}, e.g. {@code Embedding(10, 3, padding_idx=0)}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("Embedding(").append(numEmbeddings).append(", ").append(embeddingDim);
        if (paddingIdx != null) {
            s.append(", padding_idx=").append(paddingIdx);
        }
        if (maxNorm != null) {
            s.append(", max_norm=").append(PythonFloat.repr(maxNorm));
        }
        if (normType != 2) {
            s.append(", norm_type=").append(PythonFloat.repr(normType));
        }
        if (scaleGradByFreq) {
            s.append(", scale_grad_by_freq=True");
        }
        if (sparse) {
            s.append(", sparse=True");
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
