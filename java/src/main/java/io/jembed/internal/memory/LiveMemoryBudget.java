package io.jembed.internal.memory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the bytes of off-heap blocks not yet freed, and asks for a garbage collection when they pass a threshold.
 *
 * <p>Blocks dropped without {@code close()} are freed by the Cleaner, but only once a collection finds them, and a
 * program that drops tensors in a loop may not stress the Java heap enough to run one: its off-heap memory would
 * grow until the machine runs out. So an allocation that would pass the threshold asks for a collection first, as the
 * JDK does for direct buffers (whose own limit defaults to the maximum heap size, gigabytes late).
 *
 * <p>The threshold is twice the live bytes after the last collection, and at least
 * {@code -Djembed.memory.gcThresholdBytes} (256 MiB by default): a program that holds a large table is not collected
 * for at every allocation, and as blocks are closed the threshold falls with them, so a large table that was closed
 * does not leave a large threshold behind.
 *
 * <p>Thread-safe.
 */
final class LiveMemoryBudget {
    private static final long THRESHOLD_FLOOR = Long.getLong("jembed.memory.gcThresholdBytes", 256L << 20);

    private final AtomicLong liveBytes = new AtomicLong();
    /** The live bytes after the last collection, lowered whenever fewer are live. */
    private final AtomicLong baselineBytes = new AtomicLong();

    /** Counts {@code bytes} about to be allocated, collecting dropped blocks first if they would pass the threshold. */
    void reserve(long bytes) {
        if (liveBytes.get() + bytes > threshold()) {
            collect(bytes);
        }
        liveBytes.addAndGet(bytes);
    }

    /** Counts {@code bytes} as freed (a block closed or cleaned, or an allocation that failed after reserve). */
    void release(long bytes) {
        long live = liveBytes.addAndGet(-bytes);
        baselineBytes.accumulateAndGet(live, Math::min);
    }

    long liveBytes() {
        return liveBytes.get();
    }

    /** A collection now, whatever the count: after an allocation failed. */
    void collectNow() {
        collect(0);
    }

    private long threshold() {
        return Math.max(THRESHOLD_FLOOR, 2 * baselineBytes.get());
    }

    /** A collection, then a short wait for the Cleaner to free what it found; rare, so it may take milliseconds. */
    private synchronized void collect(long wanted) {
        if (wanted > 0 && liveBytes.get() + wanted <= threshold()) {
            return; // another thread collected while this one waited for the lock
        }
        System.gc();
        long before = liveBytes.get();
        for (int waited = 0; waited < 100; waited++) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = liveBytes.get();
            if (now == before && waited >= 5) {
                break;
            }
            before = now;
        }
        baselineBytes.set(liveBytes.get());
    }
}
