package io.jembed.io;

import java.util.Objects;

/**
 * How a reader loads a table: a {@link ProgressListener}, and whether NaN and infinite values are accepted.
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

    public ProgressListener progress() {
        return progress;
    }

    public boolean allowNonFinite() {
        return allowNonFinite;
    }
}
