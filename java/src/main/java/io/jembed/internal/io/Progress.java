package io.jembed.internal.io;

import io.jembed.io.ProgressListener;

/** Counts bytes and tells a listener every few megabytes and at the end. Not API; thread-safe (parallel loaders). */
public final class Progress {
    private static final long STEP = 4L << 20;

    private final ProgressListener listener;
    private final long total;
    private long done;
    private long lastReported;

    public Progress(ProgressListener listener, long total) {
        this.listener = listener == null ? ProgressListener.NONE : listener;
        this.total = total;
    }

    public synchronized void add(long bytes) {
        done += bytes;
        if (done - lastReported >= STEP) {
            lastReported = done;
            listener.progress(done, total);
        }
    }

    /** Moves to an absolute position (for readers that skip around). */
    public synchronized void at(long position) {
        add(position - done);
    }

    public synchronized void finish() {
        listener.progress(total < 0 ? done : total, total < 0 ? done : total);
    }
}
