package io.jembed.spark;

import io.jembed.nn.EmbeddingBagMode;

/**
 * A bag lookup's options: PyTorch's {@code mode} ({@code "mean"} by default, as in {@code F.embedding_bag}),
 * {@code padding_idx} and the column of {@code per_sample_weights} (with {@code "sum"} only, PyTorch's rule).
 *
 * <p>PyTorch equivalent: the keyword arguments of {@code F.embedding_bag(input, weight, offsets, mode=...,
 * per_sample_weights=..., padding_idx=...)}.
 *
 * <p>Mutable builder; not thread-safe.
 */
public final class BagOptions {
    private EmbeddingBagMode mode = EmbeddingBagMode.MEAN;
    private Long paddingIdx;
    private String perSampleWeights;

    /** {@code "sum"}, {@code "mean"} or {@code "max"}. */
    public BagOptions mode(String mode) {
        this.mode = EmbeddingBagMode.fromPythonName(mode);
        return this;
    }

    /** Ids equal to it are left out of their bag ({@code mean} divides by the rest); in {@code [-rows, rows)}. */
    public BagOptions paddingIdx(long paddingIdx) {
        this.paddingIdx = paddingIdx;
        return this;
    }

    /** The column of per-sample weights ({@code array<float>} or {@code array<double>}, as long as the ids). */
    public BagOptions perSampleWeights(String column) {
        this.perSampleWeights = column;
        return this;
    }

    public EmbeddingBagMode mode() {
        return mode;
    }

    public Long paddingIdx() {
        return paddingIdx;
    }

    public String perSampleWeights() {
        return perSampleWeights;
    }
}
