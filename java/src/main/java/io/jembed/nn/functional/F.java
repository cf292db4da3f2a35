package io.jembed.nn.functional;

import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backend;
import io.jembed.backend.Backends;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.nn.EmbeddingBagMode;
import java.util.Arrays;

/**
 * Functional forms of jembed's modules.
 *
 * <p>PyTorch equivalent: {@code torch.nn.functional} (imported as {@code F}).
 *
 * <p>Thread-safe as far as the tensors allow: concurrent lookups in one weight are safe; with {@code maxNorm} the
 * weight is written, so such calls on a shared weight must be serialised by the caller (the {@code Embedding}
 * module does this itself). Any tensor may be closed by another thread at any time: a call that is using it
 * finishes before its memory is freed, and a call that starts after the close throws {@link IllegalStateException}.
 */
public final class F {
    private F() {}

    /**
     * Looks up rows of {@code weight} for every index in {@code input}.
     *
     * <p>PyTorch equivalent: {@code F.embedding(input, weight)}.
     *
     * @param input int64 or int32 indices of any shape (0-d and empty included)
     * @param weight the table, shape {@code (V, H)}, any dtype
     * @return a new tensor of shape {@code input.shape + (H,)} and the weight's dtype
     * @throws IndexOutOfBoundsException if an index is negative or {@code >= V}
     * @throws IllegalArgumentException if a dtype or shape is wrong
     * @throws IllegalStateException if a tensor has been closed
     */
    public static Tensor embedding(Tensor input, Tensor weight) {
        return embedding(input, weight, null, null, 2.0, false, false);
    }

    /** PyTorch equivalent: {@code F.embedding(input, weight, padding_idx=..., max_norm=..., ...)}. */
    public static Tensor embedding(Tensor input, Tensor weight, EmbeddingFuncOptions options) {
        return embedding(input, weight, options.paddingIdx(), options.maxNorm(), options.normType(),
                options.scaleGradByFreq(), options.sparse());
    }

    /**
     * PyTorch equivalent:
     * {@code F.embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)}.
     *
     * <p>With {@code maxNorm}, the looked-up rows of {@code weight} whose {@code normType}-norm exceeds it are scaled
     * in place to that norm before the lookup, as in PyTorch. Unlike PyTorch, every index is validated first, so a
     * call that fails leaves the weight unchanged.
     *
     * @param paddingIdx {@code null} for none; must lie in {@code [-V, V)}
     * @param maxNorm {@code null} for none; otherwise {@code >= 0}
     * @param scaleGradByFreq affects only the gradient
     * @param sparse affects only the gradient
     */
    public static Tensor embedding(Tensor input, Tensor weight, Long paddingIdx, Double maxNorm, double normType,
                                   boolean scaleGradByFreq, boolean sparse) {
        EmbeddingChecks.checkWeight(weight);
        EmbeddingChecks.checkOpen(input, "input");
        if (weight.requiresGrad()) {
            EmbeddingChecks.checkNotReducedPrecision(weight, "the gradient of embedding (the weight requires grad)");
        }
        Tensor out = Torch.empty(weight.dtype(), outputShape(input, weight));
        try {
            embedding(input, weight, paddingIdx, maxNorm, normType, out);
            if (weight.requiresGrad()) {
                TensorInternals.setGradFn(out, new EmbeddingBackward(weight, input,
                        EmbeddingChecks.normalizePaddingIdx(paddingIdx, weight.size(0)), scaleGradByFreq, sparse));
            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    /**
     * The same lookup into a caller-provided output, allocating nothing: the hot path for inference. It records no
     * backward function (use the allocating form to train). {@code out} must have the
     * weight's dtype and shape {@code input.shape + (H,)}, and must not share memory with {@code input} or
     * {@code weight}. A call that throws leaves {@code out} and {@code weight} unchanged.
     */
    public static void embedding(Tensor input, Tensor weight, Long paddingIdx, Double maxNorm, double normType,
                                 Tensor out) {
        EmbeddingChecks.checkWeight(weight);
        long numRows = weight.size(0);
        EmbeddingChecks.normalizePaddingIdx(paddingIdx, numRows);
        EmbeddingChecks.checkRenormOptions(maxNorm, normType);
        if (maxNorm != null && !weight.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("max_norm needs a floating-point weight, got " + weight.dtype());
        }
        if (maxNorm != null) {
            EmbeddingChecks.checkNotReducedPrecision(weight, "max_norm");
            // max_norm rescales rows of the weight in place, which a read-only (memory-mapped) table cannot take.
            TensorInternals.memory(weight).checkWritable();
        }
        EmbeddingChecks.checkIndexType(input, "embedding");
        checkOutput(input, weight, out);
        Backend backend = Backends.current();
        if (maxNorm != null) {
            // The renorm writes the weight, so its indices are validated before it; a plain lookup validates its
            // own in the pass that uses them, before it writes anything.
            EmbeddingChecks.checkIndices(input, numRows, "embedding");
            backend.embeddingRenorm(weight, input, maxNorm, normType);
        }
        backend.embedding(weight, input, out);
    }

    // ---- embedding_bag ---------------------------------------------------------------------------------------

    /**
     * The mean of each bag of rows: {@code input} is 1-D with {@code offsets} (bag {@code b} starts at
     * {@code offsets[b]}), or 2-D {@code (B, N)} with {@code offsets == null} (B bags of N).
     *
     * <p>PyTorch equivalent: {@code F.embedding_bag(input, weight, offsets)}.
     */
    public static Tensor embeddingBag(Tensor input, Tensor weight, Tensor offsets) {
        return embeddingBag(input, weight, offsets, null, 2.0, false, EmbeddingBagMode.MEAN, false, null, false,
                null);
    }

    /** PyTorch equivalent: {@code F.embedding_bag(input, weight, offsets=..., mode=..., ...)}. */
    public static Tensor embeddingBag(Tensor input, Tensor weight, EmbeddingBagFuncOptions options) {
        return embeddingBag(input, weight, options.offsets(), options.maxNorm(), options.normType(),
                options.scaleGradByFreq(), options.mode(), options.sparse(), options.perSampleWeights(),
                options.includeLastOffset(), options.paddingIdx());
    }

    /**
     * Reduces bags of rows of {@code weight} to one row each (sum, mean or max).
     *
     * <p>PyTorch equivalent: {@code F.embedding_bag(input, weight, offsets, max_norm, norm_type,
     * scale_grad_by_freq, mode, sparse, per_sample_weights, include_last_offset, padding_idx)}.
     *
     * <p>Checks run in PyTorch's order and throw Java exceptions of the same meaning ({@code ValueError} and
     * {@code RuntimeError}: {@link IllegalArgumentException}; {@code IndexError}: {@link IndexOutOfBoundsException};
     * {@code NotImplementedError}: {@link UnsupportedOperationException}). Two deliberate differences: the offsets are
     * validated in full (first 0, non-decreasing, last at most the input's length, and with
     * {@code includeLastOffset} the last equal to it), where libtorch reads out of bounds; and every check runs before
     * the {@code maxNorm} renorm, so a call that throws leaves the weight unchanged.
     *
     * @param input int32 or int64 indices, 1-D (with offsets) or 2-D {@code (B, N)} (without)
     * @param weight the table {@code (V, H)}, float32 or float64
     * @param offsets int32 or int64, 1-D, for 1-D input; {@code null} for 2-D input. Mixed index and offset dtypes
     *     are promoted to int64, as in PyTorch
     * @param maxNorm {@code null} for none; rows of the input with a larger norm are rescaled in place first
     * @param mode {@link EmbeddingBagMode#SUM}, {@code MEAN} (PyTorch's default) or {@code MAX}
     * @param sparse the weight's gradient is sparse (COO); not with MAX
     * @param perSampleWeights {@code null}, or one weight per index (the input's shape, the weight's dtype); SUM only
     * @param includeLastOffset offsets hold B + 1 entries, the last being the input's length
     * @param paddingIdx {@code null} for none; entries equal to it are left out of their bag; in {@code [-V, V)}
     * @return a new {@code (B, H)} tensor in the weight's dtype (an empty bag gives zeros), with a backward function
     *     when the weight or the per-sample weights require a gradient
     */
    public static Tensor embeddingBag(Tensor input, Tensor weight, Tensor offsets, Double maxNorm, double normType,
                                      boolean scaleGradByFreq, EmbeddingBagMode mode, boolean sparse,
                                      Tensor perSampleWeights, boolean includeLastOffset, Long paddingIdx) {
        try (EmbeddingBagArguments args = EmbeddingBagArguments.validate(input, weight, offsets, maxNorm, normType,
                scaleGradByFreq, mode, sparse, perSampleWeights, includeLastOffset, paddingIdx)) {
            boolean weightNeedsGrad = weight.requiresGrad();
            boolean weightsNeedGrad = perSampleWeights != null && perSampleWeights.requiresGrad();
            boolean recordGrad = weightNeedsGrad || weightsNeedGrad;
            if (recordGrad) {
                EmbeddingChecks.checkNotReducedPrecision(weight, "the gradient of embedding_bag (an input requires "
                        + "grad)");
            }
            Tensor out = Torch.empty(weight.dtype(), args.numBags, weight.size(1));
            Tensor maxIndices = null;
            try {
                if (mode == EmbeddingBagMode.MAX && recordGrad) {
                    maxIndices = Torch.empty(DType.INT64, args.numBags, weight.size(1));
                }
                Backend backend = Backends.current();
                if (maxNorm != null) {
                    backend.embeddingRenorm(weight, input, maxNorm, normType);
                }
                backend.embeddingBag(weight, args.indices, args.offsets, args.bagSize, mode, perSampleWeights,
                        args.paddingIdx, out, maxIndices);
                if (recordGrad) {
                    TensorInternals.setGradFn(out, new EmbeddingBagBackward(weight, weightNeedsGrad, args,
                            weightsNeedGrad ? perSampleWeights : null, scaleGradByFreq, sparse, maxIndices));
                }
            } catch (RuntimeException | Error e) {
                out.close();
                if (maxIndices != null) {
                    maxIndices.close();
                }
                throw e;
            }
            return out;
        }
    }

    /**
     * The same reduction into a caller-provided {@code (B, H)} output in the weight's dtype, allocating nothing
     * (unless the index and offset dtypes differ and must be promoted): the hot path for inference. It records no
     * backward function. {@code out} must not share memory with the other tensors. A call that throws leaves
     * {@code out} and {@code weight} unchanged.
     */
    public static void embeddingBag(Tensor input, Tensor weight, Tensor offsets, Double maxNorm, double normType,
                                    EmbeddingBagMode mode, Tensor perSampleWeights, boolean includeLastOffset,
                                    Long paddingIdx, Tensor out) {
        EmbeddingBagArguments.check(input, weight, offsets, maxNorm, normType, false, mode, false, perSampleWeights,
                includeLastOffset, paddingIdx);
        long numBags = EmbeddingBagArguments.numBags(input, offsets, includeLastOffset);
        EmbeddingChecks.checkOpen(out, "out");
        if (out.dtype() != weight.dtype()) {
            throw new IllegalArgumentException("'out' must have the weight's dtype " + weight.dtype() + ", got "
                    + out.dtype());
        }
        if (out.dim() != 2 || out.size(0) != numBags || out.size(1) != weight.size(1)) {
            throw new IllegalArgumentException("'out' must have shape [" + numBags + ", " + weight.size(1)
                    + "] (bags, embedding_dim), got " + Arrays.toString(out.shape()));
        }
        Memory target = TensorInternals.memory(out);
        target.checkWritable();
        if (target == TensorInternals.memory(weight) || target == TensorInternals.memory(input)
                || offsets != null && target == TensorInternals.memory(offsets)
                || perSampleWeights != null && target == TensorInternals.memory(perSampleWeights)) {
            throw new IllegalArgumentException("'out' must not be the weight, input, offsets or "
                    + "per_sample_weights tensor");
        }
        Backend backend = Backends.current();
        if (maxNorm != null) {
            backend.embeddingRenorm(weight, input, maxNorm, normType);
        }
        long padding = EmbeddingBagArguments.paddingRow(paddingIdx, weight.size(0));
        if (offsets == null || offsets.dtype() == input.dtype()) {
            // The hot path allocates nothing: the backend reads the caller's tensors and checks their contents.
            backend.embeddingBag(weight, input, offsets, EmbeddingBagArguments.bagSize(input), mode,
                    perSampleWeights, padding, out, null);
            return;
        }
        try (EmbeddingBagArguments args = EmbeddingBagArguments.promote(input, offsets, numBags, padding, mode,
                perSampleWeights)) {
            backend.embeddingBag(weight, args.indices, args.offsets, args.bagSize, mode, perSampleWeights,
                    args.paddingIdx, out, null);
        }
    }

    /**
     * The lookup for a request that arrives as a Java array, into a caller-provided output, allocating nothing: what
     * an inference server calls with each request's ids. {@code out} must have the weight's dtype and shape
     * {@code (indices.length, H)}, and must not be the weight. Every index is checked before anything is written.
     *
     * <p>PyTorch equivalent: {@code torch.embedding(weight, torch.tensor(indices), out=out)}, i.e.
     * {@code F.embedding(torch.tensor(indices), weight)} written into {@code out}.
     *
     * @throws IndexOutOfBoundsException naming the first index outside {@code [0, V)} and its position; {@code out}
     *     is unchanged
     * @throws IllegalArgumentException if a shape or dtype is wrong
     * @throws IllegalStateException if a tensor has been closed
     */
    public static void embedding(long[] indices, Tensor weight, Tensor out) {
        checkArrayLookup(indices == null ? -1 : indices.length, weight, out);
        Backends.current().embedding(weight, indices, out);
    }

    /**
     * As {@link #embedding(long[], Tensor, Tensor)}, for int32 indices ({@code torch.tensor(indices, dtype=int32)}).
     */
    public static void embedding(int[] indices, Tensor weight, Tensor out) {
        checkArrayLookup(indices == null ? -1 : indices.length, weight, out);
        Backends.current().embedding(weight, indices, out);
    }

    private static void checkArrayLookup(int n, Tensor weight, Tensor out) {
        if (n < 0) {
            throw new IllegalArgumentException("'input' must not be null");
        }
        EmbeddingChecks.checkWeight(weight);
        EmbeddingChecks.checkOpen(out, "out");
        if (out.dtype() != weight.dtype()) {
            throw new IllegalArgumentException("'out' must have the weight's dtype " + weight.dtype() + ", got "
                    + out.dtype());
        }
        if (out.dim() != 2 || out.size(0) != n || out.size(1) != weight.size(1)) {
            throw new IllegalArgumentException("'out' must have shape [" + n + ", " + weight.size(1)
                    + "] (input.length, embedding_dim), got " + Arrays.toString(out.shape()));
        }
        TensorInternals.memory(out).checkWritable();
        if (TensorInternals.memory(out) == TensorInternals.memory(weight)) {
            throw new IllegalArgumentException("'out' must not be the weight");
        }
    }

    /**
     * The gradient of {@code embedding} with respect to its weight, as a new dense tensor of shape
     * {@code (numWeights, H)}: row {@code r} is the sum of the rows of {@code gradOutput} whose index is {@code r}
     * (divided by that index's count in {@code indices} with {@code scaleGradByFreq}); the padding row stays zero.
     *
     * <p>PyTorch equivalent: {@code torch.ops.aten.embedding_dense_backward(grad_output, indices, num_weights,
     * padding_idx, scale_grad_by_freq)} ({@code embedding_backward(..., sparse=False)}).
     *
     * @param gradOutput shape {@code indices.shape + (H,)}, floating point
     * @param paddingIdx {@code null} for none; negative counts from the end
     */
    public static Tensor embeddingDenseBackward(Tensor gradOutput, Tensor indices, long numWeights, Long paddingIdx,
                                                boolean scaleGradByFreq) {
        long padding = checkBackward(gradOutput, indices, numWeights, paddingIdx);
        Tensor gradWeight = Torch.zeros(gradOutput.dtype(), numWeights, gradOutput.size(-1));
        Backends.current().embeddingDenseBackward(gradOutput, indices, gradWeight, padding, scaleGradByFreq);
        return gradWeight;
    }

    /**
     * The same gradient as an uncoalesced sparse COO tensor, as PyTorch builds it: the input's indices in input
     * order with padding entries removed, duplicates kept, and the matching rows of {@code gradOutput}.
     *
     * <p>PyTorch equivalent: {@code torch.ops.aten.embedding_sparse_backward(...)}
     * ({@code embedding_backward(..., sparse=True)}).
     *
     * @throws UnsupportedOperationException with {@code scaleGradByFreq}, as PyTorch does
     */
    public static SparseTensor embeddingSparseBackward(Tensor gradOutput, Tensor indices, long numWeights,
                                                       Long paddingIdx, boolean scaleGradByFreq) {
        long padding = checkBackward(gradOutput, indices, numWeights, paddingIdx);
        if (scaleGradByFreq) {
            throw new UnsupportedOperationException(
                    "embedding_backward: scale_grad_by_freq not supported with sparse gradients");
        }
        long[] rows = indices.toLongArray();
        int kept = 0;
        for (long r : rows) {
            kept += r == padding ? 0 : 1;
        }
        long dim = gradOutput.size(-1);
        Tensor sparseIndices = Torch.empty(DType.INT64, 1, kept);
        Tensor values = Torch.empty(gradOutput.dtype(), kept, dim);
        Memory from = TensorInternals.memory(gradOutput);
        Memory to = TensorInternals.memory(values);
        long rowBytes = dim * gradOutput.dtype().itemSize();
        int k = 0;
        MemoryGuard guard = TensorInternals.guard(gradOutput, values);
        try {
            for (int i = 0; i < rows.length; i++) {
                if (rows[i] != padding) {
                    sparseIndices.set(rows[i], 0, k);
                    from.copyTo(i * rowBytes, to, k * rowBytes, rowBytes);
                    k++;
                }
            }
        } finally {
            guard.exit();
        }
        return new SparseTensor(sparseIndices, values, new long[] {numWeights, dim});
    }

    private static long checkBackward(Tensor gradOutput, Tensor indices, long numWeights, Long paddingIdx) {
        EmbeddingChecks.checkOpen(gradOutput, "grad_output");
        if (numWeights < 0) {
            throw new IllegalArgumentException("num_weights must be >= 0, got " + numWeights);
        }
        EmbeddingChecks.checkIndices(indices, numWeights, "embedding_backward");
        if (!gradOutput.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("grad_output must be floating point, got " + gradOutput.dtype());
        }
        EmbeddingChecks.checkNotReducedPrecision(gradOutput, "embedding_backward");
        boolean shapeMatches = gradOutput.dim() == indices.dim() + 1;
        for (int d = 0; shapeMatches && d < indices.dim(); d++) {
            shapeMatches = gradOutput.size(d) == indices.size(d);
        }
        if (!shapeMatches) {
            throw new IllegalArgumentException("grad_output must have shape indices.shape + (H,) = "
                    + Arrays.toString(indices.shape()) + " + (H,), got " + Arrays.toString(gradOutput.shape()));
        }
        Long padding = EmbeddingChecks.normalizePaddingIdx(paddingIdx, numWeights);
        return padding == null ? -1 : padding;
    }

    private static long[] outputShape(Tensor input, Tensor weight) {
        long[] shape = Arrays.copyOf(input.shape(), input.dim() + 1);
        shape[input.dim()] = weight.size(1);
        return shape;
    }

    private static void checkOutput(Tensor input, Tensor weight, Tensor out) {
        EmbeddingChecks.checkOpen(out, "out");
        if (out.dtype() != weight.dtype()) {
            throw new IllegalArgumentException("'out' must have the weight's dtype " + weight.dtype() + ", got "
                    + out.dtype());
        }
        // Checked without allocating: out.shape must equal input.shape + (H,). A 1-D input's one size is its numel,
        // read without its shape array (a server's request tensors are cold: one object fewer to miss on).
        boolean shapeMatches = out.dim() == input.dim() + 1 && out.size(-1) == weight.size(1);
        if (input.dim() == 1) {
            shapeMatches &= out.size(0) == input.numel();
        } else {
            for (int d = 0; shapeMatches && d < input.dim(); d++) {
                shapeMatches = out.size(d) == input.size(d);
            }
        }
        if (!shapeMatches) {
            throw new IllegalArgumentException("'out' must have shape " + Arrays.toString(outputShape(input, weight))
                    + " (input.shape + (embedding_dim,)), got " + Arrays.toString(out.shape()));
        }
        TensorInternals.memory(out).checkWritable();
        if (TensorInternals.memory(out) == TensorInternals.memory(weight)
                || TensorInternals.memory(out) == TensorInternals.memory(input)) {
            throw new IllegalArgumentException("'out' must not be the weight or the input tensor");
        }
    }

    /**
     * The {@code k} rows of {@code weight} most similar to {@code query} by cosine similarity, best first: one scan of
     * the table (a memory-mapped table is read straight from the page cache), split between cores on large tables.
     *
     * <p>PyTorch equivalent: {@code torch.topk(F.cosine_similarity(weight, query[None, :], dim=1, eps=1e-8), k)}.
     * Similarity is {@code dot(row, query) / (max(|row|, eps) * max(|query|, eps))}; the sums are float32 in another
     * order than PyTorch's, so values agree to about 1e-6 and rows whose similarities are that close may swap. NaN
     * similarities (rows holding NaN) rank first, as in {@code torch.topk}; equal values rank the lower row first.
     *
     * @param weight a float32 table of shape {@code (V, H)}
     * @param query a float32 vector of shape {@code (H)}
     * @param k how many rows, {@code 0 <= k <= V}
     * @return values (float32, {@code (k)}) and row indices (int64, {@code (k)}), owned by the caller
     * @throws IllegalArgumentException if a dtype or shape is wrong, or {@code k} is outside {@code [0, V]}
     * @throws IllegalStateException if a tensor has been closed
     */
    public static io.jembed.TopK cosineTopK(Tensor weight, Tensor query, int k) {
        return cosineTopK(weight, query, k, 1e-8);
    }

    /** As {@link #cosineTopK(Tensor, Tensor, int)}, with PyTorch's {@code eps} ({@code >= 0}; 1e-8 by default). */
    public static io.jembed.TopK cosineTopK(Tensor weight, Tensor query, int k, double eps) {
        EmbeddingChecks.checkWeight(weight);
        EmbeddingChecks.checkOpen(query, "query");
        if (weight.dtype() != DType.FLOAT32 || query.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("cosineTopK needs a float32 weight and query, got " + weight.dtype()
                    + " and " + query.dtype());
        }
        if (query.dim() != 1 || query.size(0) != weight.size(1)) {
            throw new IllegalArgumentException("the query must have shape [" + weight.size(1)
                    + "] (the weight's embedding dim), got " + Arrays.toString(query.shape()));
        }
        if (k < 0 || k > weight.size(0)) {
            throw new IllegalArgumentException("selected index k out of range: k = " + k + ", valid values are 0 to "
                    + weight.size(0) + " (the number of rows)");
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be a finite number >= 0, got " + eps);
        }
        Tensor values = Torch.empty(DType.FLOAT32, k);
        Tensor indices = Torch.empty(DType.INT64, k);
        try {
            Backends.current().cosineTopK(weight, query, eps, values, indices);
        } catch (RuntimeException | Error e) {
            values.close();
            indices.close();
            throw e;
        }
        return new io.jembed.TopK(values, indices);
    }
}
