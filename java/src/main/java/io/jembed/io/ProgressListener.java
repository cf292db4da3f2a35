package io.jembed.io;

/**
 * Told how far a long load, save or conversion has got: in bytes of the file, except where a method says otherwise
 * (the word-vector writers count words).
 *
 * <p>Called on the thread doing the work, at most every few megabytes and once at the end with {@code done == total};
 * keep it cheap. {@code total} is -1 when the size is not known in advance. An exception thrown by the listener
 * stops the work and reaches the caller.
 *
 * <p>PyTorch has no equivalent; it is what a progress bar (tqdm) would wrap.
 */
@FunctionalInterface
public interface ProgressListener {
    /** A listener that ignores progress. */
    ProgressListener NONE = (done, total) -> { };

    void progress(long done, long total);
}
