package io.jembed.backend;

import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.internal.memory.Memory;
import io.jembed.nn.EmbeddingBagMode;

/**
 * The kernels behind jembed's operators. Two implementations give the same results: {@link JavaBackend}, the
 * readable reference that runs everywhere, and {@link NativeBackend}, the C++ kernels. {@link Backends#current()}
 * picks one once per JVM.
 *
 * <p>Callers ({@code io.jembed.nn.functional.F}) have validated every argument: shapes agree, dtypes are supported,
 * tensors are open and the output does not alias an input, and every index is within the table, except for the
 * lookups ({@code embedding}), which validate their indices themselves in the same pass that uses them (the
 * small-lookup path pays for its indices once). Native kernels bounds-check each index they load, so that memory
 * stays safe even if another thread rewrites the index tensor after validation.
 *
 * <p>Every method holds the tensors it reads and writes in a {@code MemoryGuard} for its duration
 * ({@code TensorInternals.guard}), so that a concurrent {@code close()} waits for it instead of freeing memory under
 * it, and a closed tensor is refused with {@link IllegalStateException}.
 *
 * <p>Implementations are thread-safe: concurrent calls that write different tensors may run at once.
 */
public interface Backend {
    /** A short name for logs and reports, e.g. {@code java} or {@code native(avx2)}. */
    String name();

    /**
     * Row gather: for every flat position {@code i} of {@code indices}, row {@code indices[i]} of {@code weight}
     * (shape {@code (V, H)}) is copied to row {@code i} of {@code out} (viewed as {@code (numel(indices), H)}).
     * Any weight dtype; the copy is bitwise. Every index is checked before anything is written.
     *
     * @throws IndexOutOfBoundsException naming the first index outside {@code [0, V)} and its position; {@code out}
     *     is unchanged
     */
    void embedding(Tensor weight, Tensor indices, Tensor out);

    /**
     * The row gather for a request in a Java array: row {@code indices[i]} of {@code weight} to row {@code i} of
     * {@code out} (viewed as {@code (indices.length, H)}). Every index is checked before anything is written.
     *
     * @throws IndexOutOfBoundsException naming the first index outside {@code [0, V)} and its position; {@code out}
     *     is unchanged
     */
    void embedding(Tensor weight, long[] indices, Tensor out);

    /** As {@link #embedding(Tensor, long[], Tensor)}, for int32 indices. */
    void embedding(Tensor weight, int[] indices, Tensor out);

    /**
     * PyTorch's {@code embedding_renorm_}: every distinct row named in {@code indices} whose {@code normType}-norm
     * is strictly greater than {@code maxNorm} is scaled in place by {@code maxNorm / (norm + 1e-7)}. Floating-point
     * weights only.
     */
    void embeddingRenorm(Tensor weight, Tensor indices, double maxNorm, double normType);

    /**
     * PyTorch's {@code embedding_dense_backward}, accumulating into an existing gradient: for every flat position
     * {@code i} of {@code indices} in order, with {@code r = indices[i]} not equal to {@code paddingIdx} ({@code -1}
     * for none), row {@code i} of {@code gradOutput} (viewed as {@code (numel(indices), H)}) is added to row
     * {@code r} of {@code gradWeight}; with {@code scaleGradByFreq} it is first scaled by 1 / (occurrences of
     * {@code r} in {@code indices}), in one fused multiply-add. Each row accumulates in input order, so results do not
     * depend on the number of threads.
     */
    void embeddingDenseBackward(Tensor gradOutput, Tensor indices, Tensor gradWeight, long paddingIdx,
                                boolean scaleGradByFreq);

    /**
     * The forward of PyTorch's {@code _embedding_bag} on validated arguments: bag {@code b} (of {@code out.size(0)})
     * reduces the rows of {@code weight} (shape {@code (V, H)}, float32 or float64) named by its positions of the
     * flat index tensor into row {@code b} of {@code out} (shape {@code (B, H)}, the weight's dtype, written fully).
     *
     * <p>Bags: with {@code offsets} (1-D, the indices' dtype), bag {@code b} is positions
     * {@code [offsets[b], offsets[b + 1])}, and a bag with no following offset ends at {@code numel(indices)}
     * (so {@code include_last_offset} needs no flag: its offsets have one entry more than there are bags, the last
     * equal to {@code numel(indices)}). Without offsets ({@code null}: 2-D input read flat), bag {@code b} is
     * positions {@code [b * bagSize, (b + 1) * bagSize)}. Indices are int32 or int64, any shape, read flat.
     *
     * <p>Rounding, which every backend reproduces bit for bit (libtorch 2.10's CPU results, pinned by
     * {@code EmbeddingBagMatchesLibtorchTest}): entries equal to {@code paddingIdx} ({@code -1} for none) are skipped;
     * SUM starts from +0 and adds the bag's rows in position order in the weight's type: {@code acc + row}; with
     * {@code perSampleWeights} (1-D view of {@code numel(indices)} values in the weight's type)
     * {@code fma(w, row, acc)} for a float32 table without padding ({@code paddingIdx == -1}: libtorch's FBGEMM
     * path), else {@code acc + row * w} (two roundings: libtorch's other path); MEAN is that sum divided once by the
     * number of non-padding entries (an empty bag stays zero); MAX starts from the
     * first non-padding row and takes a later value only if it is strictly greater, and writes the winning row into
     * {@code maxIndices} ({@code (B, H)} int64, MAX only; {@code null} when no gradient needs it; {@code -1} for a bag with no non-padding
     * entry, whose output row is zero).
     *
     * <p>The backend checks the contents of the offsets and indices before it writes anything, with PyTorch's
     * messages: {@link IllegalArgumentException} for offsets that do not start at 0, decrease, pass the input's end
     * or break the {@code include_last_offset} rule (which holds when there are {@code B + 1} offsets), and
     * {@link IndexOutOfBoundsException} naming the first index outside {@code [0, V)} and its position.
     */
    void embeddingBag(Tensor weight, Tensor indices, Tensor offsets, long bagSize, EmbeddingBagMode mode,
                      Tensor perSampleWeights, long paddingIdx, Tensor out, Tensor maxIndices);

    /**
     * The dense weight gradient of {@link #embeddingBag}, accumulated into {@code gradWeight} ({@code (V, H)}, the
     * gradient's dtype); arguments as there, {@code gradOutput} of shape {@code (B, H)}.
     *
     * <p>SUM/MEAN: for every position {@code i} in input order whose index {@code r} is not {@code paddingIdx}, in
     * bag {@code b}: {@code scale = psw[i]} (or 1), divided by the count of {@code r} in the whole input with
     * {@code scaleGradByFreq}, divided by the bag's non-padding count for MEAN, all in double; then row {@code b} of
     * {@code gradOutput} times {@code (T) scale} is added to row {@code r} of {@code gradWeight}, an exact add when
     * the scale is 1, else one fused multiply-add. MAX: element {@code (b, j)} of {@code gradOutput} is added to
     * element {@code (maxIndices[b][j], j)}, bags in order, skipping {@code -1}. Each row accumulates in input order,
     * so results do not depend on threads or kernel variants.
     */
    void embeddingBagDenseBackward(Tensor gradOutput, Tensor indices, Tensor offsets, long bagSize,
                                   EmbeddingBagMode mode, Tensor perSampleWeights, long paddingIdx,
                                   boolean scaleGradByFreq, Tensor maxIndices, Tensor gradWeight);

    /**
     * The gradient of {@link #embeddingBag} (SUM) with respect to its per-sample weights, written into
     * {@code gradPerSampleWeights} ({@code numel(indices)} values, the weight's dtype): for position {@code i} of bag
     * {@code b} with index {@code r}, the dot product of row {@code b} of {@code gradOutput} and row {@code r} of
     * {@code weight}, accumulated in double and rounded once; 0 where {@code r} is {@code paddingIdx}.
     */
    void embeddingBagPerSampleWeightsBackward(Tensor gradOutput, Tensor weight, Tensor indices, Tensor offsets,
                                              long bagSize, long paddingIdx, Tensor gradPerSampleWeights);

    /**
     * A sparse SGD step: for every entry {@code k} of {@code gradient} in order, row {@code indices[k]} of
     * {@code param} += {@code alpha * values[k]} (PyTorch's dense {@code add_(sparse, alpha)}), computed in double
     * and stored once in the parameter's type.
     */
    void sparseAdd(Tensor param, SparseTensor gradient, double alpha);

    /** A sparse Adagrad step on the rows of a coalesced {@code gradient} (see {@code io.jembed.optim.Adagrad}). */
    void sparseAdagrad(Tensor param, Tensor stateSum, SparseTensor gradient, double clr, double eps,
                       boolean maximize);

    /** A SparseAdam step on the rows of a coalesced {@code gradient} (see {@code io.jembed.optim.SparseAdam}). */
    void sparseAdam(Tensor param, Tensor expAvg, Tensor expAvgSq, SparseTensor gradient, double beta1, double beta2,
                    double stepSize, double eps, boolean maximize);

    /**
     * Cosine nearest neighbours: the {@code values.numel()} rows of {@code weight} (float32, {@code (V, H)}) most
     * similar to {@code query} (float32, {@code (H)}), best first, with similarity
     * {@code dot(row, query) / (max(|row|, eps) * max(|query|, eps))} into {@code values} (float32) and their row
     * numbers into {@code indices} (int64). NaN similarities rank first, equal ones by lower row. PyTorch's
     * {@code torch.topk(F.cosine_similarity(weight, query[None], dim=1, eps=eps), k)}. The caller has checked
     * {@code k <= V}.
     */
    void cosineTopK(Tensor weight, Tensor query, double eps, Tensor values, Tensor indices);

    /**
     * Lookups in a row-wise quantized table ({@code io.jembed.quantized}) on validated arguments, dequantized on the
     * fly into float32: bag {@code b} (of {@code out.size(0)}, {@code out} float32 {@code (B, dim)}, written fully)
     * reduces the rows of {@code table} named by its positions of the flat index tensor, bags as in
     * {@link #embeddingBag} (a plain lookup is bags of one: {@code offsets} null, {@code bagSize} 1).
     *
     * <p>Layouts (PyTorch's prepacked bytes, {@code rows} rows back to back): {@code bits} 8, per row {@code dim}
     * unsigned codes then scale and bias as float32; {@code bits} 4, {@code dim / 2} bytes holding element {@code c}
     * in the low ({@code c} even) or high nibble of byte {@code c / 2}, then scale and bias as float16.
     *
     * <p>Rounding, which every backend and kernel variant reproduces bit for bit (libtorch's FBGEMM kernels,
     * {@code embedding_bag_{byte,4bit}_rowwise_offsets}): per element in float32, from +0 in position order,
     * {@code acc = fma(w * scale, q, acc + w * bias)} with {@code w} the position's per-sample weight (float32,
     * {@code numel(indices)} values) or 1; MEAN (without weights) then divides once by {@code max(bag length, 1)}.
     * {@code mode} is SUM or MEAN.
     */
    void quantizedEmbeddingBag(Memory table, long rows, long dim, int bits, Tensor indices, Tensor offsets,
                               long bagSize, EmbeddingBagMode mode, Tensor perSampleWeights, Tensor out);
}
