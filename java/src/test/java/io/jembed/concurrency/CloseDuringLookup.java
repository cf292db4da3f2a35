package io.jembed.concurrency;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.F;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The crash of issue 13, section 2, as a program for a child JVM: one thread looks rows up in a loop with
 * {@code F.embedding(idx, w, null, null, 2.0, out)} on a 200,000 x 64 table, another allocates a new table of the
 * same size, puts it in the old one's place and closes the old one, again and again. Without a guard the lookup
 * reads freed (unmapped) memory and the JVM
 * dies with SIGSEGV. Prints the counts and exits 0 if every lookup either gave the table's rows or failed with
 * {@link IllegalStateException}; exits 1 on any other outcome.
 *
 * <p>Arguments: seconds to run at least (default 3; longer until 5 reloads and 20 lookups, at most 60).
 */
public final class CloseDuringLookup {
    static final int ROWS = 200_000;
    static final int DIM = 64;
    static final int BATCH = 4096;

    private CloseDuringLookup() {}

    public static void main(String[] args) throws InterruptedException {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 3;
        AtomicReference<Tensor> table = new AtomicReference<>(newTable(0));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong lookups = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong reloads = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            SplittableRandom random = new SplittableRandom(1);
            long[] request = new long[BATCH];
            try (Tensor idx = Torch.empty(DType.INT64, BATCH); Tensor out = Torch.empty(DType.FLOAT32, BATCH, DIM)) {
                while (!stop.get()) {
                    for (int i = 0; i < BATCH; i++) {
                        request[i] = random.nextInt(ROWS);
                    }
                    idx.copyFrom(request);
                    Tensor w = table.get();
                    try {
                        F.embedding(idx, w, null, null, 2.0, out);
                        lookups.incrementAndGet();
                        // Each table's every element is its generation number, so a good lookup is all one value.
                        float first = out.getDouble(0, 0) == out.getDouble(BATCH - 1, DIM - 1)
                                ? (float) out.getDouble(0, 0) : Float.NaN;
                        if (Float.isNaN(first)) {
                            throw new AssertionError("a lookup mixed rows of two tables (or of freed memory)");
                        }
                    } catch (IllegalStateException closed) {
                        refused.incrementAndGet();
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "reader");
        Thread reloader = new Thread(() -> {
            try {
                for (int generation = 1; !stop.get(); generation++) {
                    // A reload as a server does it: the new table replaces the old one, which is closed at once,
                    // while the reader may still be copying rows out of it.
                    Tensor old = table.getAndSet(newTable(generation));
                    old.close();
                    reloads.incrementAndGet();
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "reloader");
        reader.start();
        reloader.start();
        // At least `seconds`, and on until the reader and the reloader have met often enough (a loaded machine can
        // starve either), but never more than a minute.
        long start = System.nanoTime();
        while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)
                || (reloads.get() < 5 || lookups.get() < 20)
                        && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60)) {
            Thread.sleep(50);
        }
        stop.set(true);
        reader.join();
        reloader.join();
        table.get().close();
        System.out.println("lookups " + lookups.get() + " refused " + refused.get() + " reloads " + reloads.get());
        if (failure.get() != null) {
            failure.get().printStackTrace(System.out);
            System.exit(1);
        }
        System.exit(lookups.get() > 0 && reloads.get() > 0 ? 0 : 1);
    }

    private static final float[] VALUES = new float[ROWS * DIM];

    private static Tensor newTable(int generation) {
        java.util.Arrays.fill(VALUES, generation);
        return Torch.tensor(VALUES, ROWS, DIM);
    }
}
