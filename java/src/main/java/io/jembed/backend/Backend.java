package io.jembed.backend;

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
}
