package io.jembed.concurrency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Eight threads for a bounded time ({@code -Djembed.stress.seconds}, 3 by default), each mixing at random:
 * forwards into its own output on a shared inference table (checked row by row against a snapshot), forwards with
 * a bad index (which must throw and change nothing), forward + backward on a shared trainable table, and forwards
 * with max_norm on a shared table that renormalises in place. Afterwards: the inference table is unchanged, the
 * gradient of every row is exactly the number of times any thread looked it up (upstream gradients of ones are
 * exact sums in float64 in any order), and every renormalised row is within max_norm while the others are untouched.
 *
 * <p>Closes and reloads (issue 13): a fourth, served table is replaced now and then by a new one (every element its
 * generation number) while other threads look rows up in it, and the old one is closed at once. Every lookup on it
 * must give rows of one whole table, or fail with {@link IllegalStateException} if it started after the close; none
 * may read freed memory (mixed values) or crash.
 */
class ConcurrencyStressTest {
    private static final int THREADS = 8;
    private static final int ROWS = 2000;
    private static final int DIM = 24;
    private static final double MAX_NORM = 1.0;

    @Test
    void mixedOperationsFromEightThreadsKeepEveryInvariant() throws Exception {
        long seconds = Long.getLong("jembed.stress.seconds", 3);
        try (Embedding inference = new Embedding(new EmbeddingOptions(ROWS, DIM).generator(new Generator(11)));
             Embedding trainable = new Embedding(new EmbeddingOptions(ROWS, DIM).dtype(DType.FLOAT64)
                     .generator(new Generator(12)));
             Embedding renorming = new Embedding(new EmbeddingOptions(ROWS, DIM).maxNorm(MAX_NORM)
                     .generator(new Generator(13)));
             Tensor renormOriginal = renorming.weight().clone()) {
            float[] snapshot = inference.weight().toFloatArray();
            Served served = new Served();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<Worker>> futures = new ArrayList<>();
            try {
                for (int t = 0; t < THREADS; t++) {
                    Worker worker = new Worker(t, inference, trainable, renorming, snapshot, served);
                    futures.add(pool.submit(() -> worker.runUntil(deadline)));
                }
                long[] lookups = new long[ROWS];
                boolean[] renormed = new boolean[ROWS];
                long operations = 0;
                for (Future<Worker> f : futures) {
                    Worker w = f.get();
                    assertEquals(0, w.mismatches, "thread " + w.id + ": forward rows differing from the snapshot");
                    assertEquals(0, w.mixedRows, "thread " + w.id + ": lookups in the served table that did not give"
                            + " the rows of one whole table (freed or reused memory)");
                    for (int r = 0; r < ROWS; r++) {
                        lookups[r] += w.lookups[r];
                        renormed[r] |= w.renormed[r];
                    }
                    operations += w.operations;
                }
                long servedLookups = 0;
                long refused = 0;
                for (Future<Worker> f : futures) {
                    servedLookups += f.get().servedLookups;
                    refused += f.get().refusedAfterClose;
                }
                System.out.printf("stress: %d threads x %d operations in %d s; served table: %d reloads, %d lookups,"
                        + " %d refused after close%n", THREADS, operations / THREADS, seconds,
                        served.generation.get(), servedLookups, refused);
                assertTrue(served.generation.get() > 0 && servedLookups > 0, "the served table was used and reloaded");
                assertTrue(operations > THREADS, "the threads ran");
                assertArrayEquals(snapshot, inference.weight().toFloatArray(), "the inference table never changes");
                checkGradient(trainable.weight().grad(), lookups);
                checkRenormed(renormOriginal, renorming.weight(), renormed);
            } finally {
                pool.shutdownNow();
                served.table.get().close();
            }
        }
    }

    /** The served table that threads reload: generation g has every element equal to g. */
    private static final class Served {
        final AtomicInteger generation = new AtomicInteger();
        final AtomicReference<Tensor> table = new AtomicReference<>(Torch.full(DType.FLOAT32, 0, ROWS, DIM));

        void reload() {
            int g = generation.incrementAndGet();
            table.getAndSet(Torch.full(DType.FLOAT32, g, ROWS, DIM)).close();
        }
    }

    private static void checkGradient(Tensor grad, long[] lookups) {
        double[] g = grad.toDoubleArray();
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < DIM; j++) {
                if (g[r * DIM + j] != lookups[r]) {
                    throw new AssertionError("gradient of row " + r + " is " + g[r * DIM + j] + ", but the row was"
                            + " looked up " + lookups[r] + " times: an accumulation was lost or doubled");
                }
            }
        }
    }

    private static void checkRenormed(Tensor original, Tensor weight, boolean[] lookedUp) {
        double[] before = original.toDoubleArray();
        double[] after = weight.toDoubleArray();
        for (int r = 0; r < ROWS; r++) {
            double norm = 0;
            boolean same = true;
            for (int j = 0; j < DIM; j++) {
                norm += after[r * DIM + j] * after[r * DIM + j];
                same &= before[r * DIM + j] == after[r * DIM + j];
            }
            if (lookedUp[r]) {
                assertTrue(Math.sqrt(norm) <= MAX_NORM * (1 + 1e-5), "row " + r + " norm " + Math.sqrt(norm));
            } else {
                assertTrue(same, "row " + r + " was never looked up but changed");
            }
        }
    }

    private static final class Worker {
        final int id;
        final Embedding inference;
        final Embedding trainable;
        final Embedding renorming;
        final float[] snapshot;
        final Served served;
        final long[] lookups = new long[ROWS];
        final boolean[] renormed = new boolean[ROWS];
        long operations;
        int mismatches;
        int mixedRows;
        long servedLookups;
        long refusedAfterClose;

        Worker(int id, Embedding inference, Embedding trainable, Embedding renorming, float[] snapshot,
               Served served) {
            this.id = id;
            this.served = served;
            this.inference = inference;
            this.trainable = trainable;
            this.renorming = renorming;
            this.snapshot = snapshot;
        }

        Worker runUntil(long deadline) {
            SplittableRandom random = new SplittableRandom(1000 + id);
            long[] idx = new long[64];
            try (Tensor input = Torch.zeros(DType.INT64, idx.length);
                 Tensor out = Torch.empty(DType.FLOAT32, idx.length, DIM)) {
                while (System.nanoTime() < deadline) {
                    for (int i = 0; i < idx.length; i++) {
                        idx[i] = random.nextInt(ROWS);
                    }
                    int action = random.nextInt(12);
                    if (action == 10) {
                        lookUpServed(input, out, idx);
                    } else if (action == 11) {
                        if (random.nextInt(4) == 0) {
                            served.reload();
                        } else {
                            lookUpServed(input, out, idx);
                        }
                    } else if (action < 6) {
                        input.copyFrom(idx);
                        inference.forward(input, out);
                        float[] rows = out.toFloatArray();
                        for (int i = 0; i < idx.length; i++) {
                            for (int j = 0; j < DIM; j++) {
                                if (rows[i * DIM + j] != snapshot[(int) idx[i] * DIM + j]) {
                                    mismatches++;
                                }
                            }
                        }
                    } else if (action == 6) {
                        idx[random.nextInt(idx.length)] = random.nextBoolean() ? -1 : ROWS;
                        input.copyFrom(idx);
                        try {
                            inference.forward(input, out);
                            mismatches++;
                        } catch (IndexOutOfBoundsException expected) {
                            // the bad index must be refused; the table check at the end shows nothing changed
                        }
                    } else if (action < 9) {
                        input.copyFrom(idx);
                        try (Tensor y = trainable.forward(input);
                             Tensor ones = Torch.ones(DType.FLOAT64, idx.length, DIM)) {
                            y.backward(ones);
                        }
                        for (long r : idx) {
                            lookups[(int) r]++;
                        }
                    } else {
                        input.copyFrom(idx);
                        renorming.forward(input).close();
                        for (long r : idx) {
                            renormed[(int) r] = true;
                        }
                    }
                    operations++;
                }
            }
            return this;
        }

        /** A lookup in the served table, which another thread may close meanwhile. */
        private void lookUpServed(Tensor input, Tensor out, long[] idx) {
            input.copyFrom(idx);
            Tensor table = served.table.get();
            try {
                io.jembed.nn.functional.F.embedding(input, table, null, null, 2.0, out);
            } catch (IllegalStateException closed) {
                refusedAfterClose++;
                return;
            }
            servedLookups++;
            float[] rows = out.toFloatArray();
            for (float v : rows) {
                if (v != rows[0]) {
                    mixedRows++;
                    return;
                }
            }
        }
    }
}
