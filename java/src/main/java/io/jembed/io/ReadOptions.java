package io.jembed.io;

import java.util.Objects;

/**
 * How a reader loads a table: a {@link ProgressListener}, whether NaN and infinite values are accepted, and how many
 * threads parse text.
 *
 * <p>Non-finite values are refused by default: in a table of trained weights they are almost always the mark of a
 * broken file or a diverged run, and they would poison every lookup silently. PyTorch loads them without a word;
 * {@link #allowNonFinite(boolean) allowNonFinite(true)} does the same.
 *
 * <p>Not thread-safe while being configured; safe to share once built.
 */
public final class ReadOptions {
    private ProgressListener progress = ProgressListener.NONE;
    private boolean allowNonFinite;
    private boolean keepReducedPrecision;
    private int threads = Runtime.getRuntime().availableProcessors();

    public static ReadOptions defaults() {
        return new ReadOptions();
    }

    public ReadOptions progress(ProgressListener listener) {
        this.progress = Objects.requireNonNull(listener, "listener");
        return this;
    }

    public ReadOptions allowNonFinite(boolean allow) {
        this.allowNonFinite = allow;
        return this;
    }

    /**
     * Threads for the loaders that parse in parallel (text word vectors); default: the available processors.
     *
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public ReadOptions threads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        return this;
    }

    public int threads() {
        return threads;
    }

    public ProgressListener progress() {
        return progress;
    }

    public boolean allowNonFinite() {
        return allowNonFinite;
    }

    /**
     * Whether float16 and bfloat16 data (safetensors {@code F16}/{@code BF16}) is kept as {@code DType.FLOAT16} /
     * {@code DType.BFLOAT16} tensors, bit for bit, as PyTorch's {@code safe_open} keeps it ({@code true}), or widened
     * exactly to float32 ({@code false}, the default, and jembed's behaviour before it had 16-bit tables). Keeping it
     * halves the memory a table takes and serves lookups from the 16-bit kernels.
     */
    public ReadOptions keepReducedPrecision(boolean keep) {
        this.keepReducedPrecision = keep;
        return this;
    }

    public boolean keepReducedPrecision() {
        return keepReducedPrecision;
    }
}
