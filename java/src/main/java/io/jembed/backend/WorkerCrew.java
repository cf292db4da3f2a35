package io.jembed.backend;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Helper threads that run the parts of one split kernel call, beside the calling thread.
 *
 * <p>Why not the common {@code ForkJoinPool}: waking a parked pool thread costs some 10 to 50 microseconds on this
 * kind of machine, which is as long as a whole 1 MB gather, and submitting a task allocates. Here the helpers spin
 * for a while after each job ({@link #SPIN_NANOS}) before they park, so back-to-back calls find them awake, and a job
 * is a reusable object, so a call allocates nothing.
 *
 * <p>One call uses the crew at a time: {@link #tryAcquire()} fails while another thread holds it, and that caller
 * then does all its parts itself, which is right when the other cores are busy anyway. Thread-safe.
 */
final class WorkerCrew {
    /** The parts of one call, each run exactly once, on the caller or on a helper. */
    interface Job {
        void runPart(int part);
    }

    /** How long an idle helper keeps polling for the next job before it parks. */
    private static final long SPIN_NANOS = 50_000;

    private final Thread[] helpers;
    private final AtomicBoolean inUse = new AtomicBoolean();
    private final AtomicInteger nextPart = new AtomicInteger(Integer.MAX_VALUE);
    private final AtomicInteger finished = new AtomicInteger();
    private volatile Job job;
    private volatile long generation;
    private volatile Throwable failure;

    WorkerCrew(int helperCount) {
        helpers = new Thread[helperCount];
        for (int h = 0; h < helperCount; h++) {
            Thread thread = new Thread(this::helperLoop, "jembed-worker-" + (h + 1));
            thread.setDaemon(true);
            helpers[h] = thread;
            thread.start();
        }
    }

    /** Helpers plus the caller: the parts every call splits into. */
    int parts() {
        return helpers.length + 1;
    }

    /** Takes the crew for one call; false when another thread has it. */
    boolean tryAcquire() {
        return helpers.length > 0 && inUse.compareAndSet(false, true);
    }

    void release() {
        inUse.set(false);
    }

    /**
     * Runs {@code job.runPart(p)} for every {@code p} in {@code [0, parts())} and returns when all are done. Parts
     * are claimed from a shared counter by the caller and by whichever helpers are awake, so a helper that the
     * operating system has not scheduled costs nothing: the caller runs its part too. The caller must hold the crew.
     */
    void run(Job job) {
        int partCount = parts();
        this.job = job;
        this.failure = null;
        finished.set(0);
        nextPart.set(0); // after job: a helper that claims a part reads this job
        generation++;
        for (Thread helper : helpers) {
            LockSupport.unpark(helper);
        }
        runParts(partCount);
        while (finished.get() < partCount) {
            Thread.onSpinWait();
        }
        Throwable failed = failure;
        if (failed instanceof RuntimeException) {
            throw (RuntimeException) failed;
        }
        if (failed instanceof Error) {
            throw (Error) failed;
        }
    }

    /**
     * Claims and runs parts until none is left. The job is read after each claim: a claim on the current counter
     * follows the caller's write of the current job, and while any claimed part runs the caller cannot start another
     * job, so the job read is always the one the part belongs to.
     */
    private void runParts(int partCount) {
        for (int part = nextPart.getAndIncrement(); part < partCount; part = nextPart.getAndIncrement()) {
            try {
                job.runPart(part);
            } catch (RuntimeException | Error e) {
                failure = e;
            } finally {
                finished.incrementAndGet();
            }
        }
    }

    private void helperLoop() {
        long seen = 0;
        int partCount = parts();
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (generation == seen) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = generation;
            // A helper that wakes after the caller has claimed every part finds none left.
            runParts(partCount);
        }
    }
}
