package io.jembed.spark;

import io.jembed.nn.EmbeddingBagMode;

/**
 * A bag lookup's options: PyTorch's {@code mode} ({@code "mean"} by default, as in {@code F.embedding_bag}),
 * {@code padding_idx}, the column of {@code per_sample_weights} (with {@code "sum"} only, PyTorch's rule), and the
 * output type ({@link LookupOutput}: by default the table's).
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
    private LookupOutput output;

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

    /**
     * Each pooled row as {@code "float"} ({@code array<float>}), {@code "double"} ({@code array<double>}) or
     * {@code "vector"} (a Spark ML dense {@code Vector}); by default the table's type (see {@link LookupOutput}).
     *
     * @throws IllegalArgumentException naming the valid names
     */
    public BagOptions output(String output) {
        this.output = LookupOutput.fromName(output);
        return this;
    }

    /** The output asked for, or {@code null} for the table's. */
    public LookupOutput output() {
        return output;
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
