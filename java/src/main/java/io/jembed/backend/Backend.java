package io.jembed.backend;

import io.jembed.SparseTensor;
import io.jembed.Tensor;

/**
 * The kernels behind jembed's operators. Two implementations give the same results: {@link JavaBackend}, the
 * readable reference that runs everywhere, and {@link NativeBackend}, the C++ kernels. {@link Backends#current()}
 * picks one once per JVM.
 *
 * <p>Callers ({@code io.jembed.nn.functional.F}) have validated every argument: shapes agree, dtypes are supported,
 * every index is within the table, tensors are open and the output does not alias an input. Backends do not repeat
 * those checks, except that native kernels bounds-check each index they load, so that memory stays safe even if
 * another thread rewrites the index tensor after validation.
 *
 * <p>Implementations are thread-safe: concurrent calls that write different tensors may run at once.
 */
public interface Backend {
    /** A short name for logs and reports, e.g. {@code java} or {@code native(avx2)}. */
    String name();

    /**
     * Row gather: for every flat position {@code i} of {@code indices}, row {@code indices[i]} of {@code weight}
     * (shape {@code (V, H)}) is copied to row {@code i} of {@code out} (viewed as {@code (numel(indices), H)}).
     * Any weight dtype; the copy is bitwise.
     */
    void embedding(Tensor weight, Tensor indices, Tensor out);

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
}
