package io.jembed.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.backend.NativeBackend;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The zero-allocation bag forward ({@code EmbeddingBag.forward(input, offsets, psw, out)}) allocates nothing per call:
 * the bytes the JVM counts as allocated by the calling thread and by jembed's helper threads
 * ({@code com.sun.management.ThreadMXBean}) do not grow over many calls, on one thread and split between threads, in
 * every mode, with and without per-sample weights, through the module (whichever backend this test pass runs) and
 * through the native backend's explicit thread counts. JMH's GC profiler cannot show this for calls of milliseconds:
 * it divides all of the JVM's allocation during an iteration (its own threads' included) by the few calls.
 *
 * <p>Code the JIT has not compiled yet may allocate what compiled code does not (objects that escape analysis
 * removes), so each shape is warmed up first; each is then measured in rounds, and the least a round allocated must
 * be 0: a per-call allocation shows in every round, while a one-off (a class initialised, a deoptimisation) shows in
 * one.
 */
class EmbeddingBagForwardAllocatesNothingTest {
    private static final int ROWS = 5000;
    private static final int DIM = 64;
    private static final int PER_BAG = 20;
    private static final int ROUNDS = 5;

    private static com.sun.management.ThreadMXBean threads;

    @BeforeAll
    static void allocationCounting() {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "this JVM does not count allocated bytes per thread");
        threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported(), "this JVM does not count allocated bytes per thread");
        threads.setThreadAllocatedMemoryEnabled(true);
    }

    /** One forward of a fixed shape, with all its tensors made beforehand. */
    private interface Call {
        void run();
    }

    /** The bags of one shape: {@code bags} bags of PER_BAG random lookups over a ROWS x DIM float32 table. */
    private static final class Shape implements AutoCloseable {
        final Tensor weight;
        final Tensor indices;
        final Tensor offsets;
        final Tensor weights;
        final Tensor out;

        Shape(int bags, long seed) {
            Generator g = new Generator(seed);
            weight = Torch.randn(g, DType.FLOAT32, ROWS, DIM);
            Random random = new Random(seed);
            long[] lookups = new long[bags * PER_BAG];
            for (int i = 0; i < lookups.length; i++) {
                lookups[i] = random.nextInt(ROWS);
            }
            indices = Torch.tensor(lookups);
            long[] starts = new long[bags];
            for (int b = 0; b < bags; b++) {
                starts[b] = (long) b * PER_BAG;
            }
            offsets = Torch.tensor(starts);
            weights = Torch.randn(g, DType.FLOAT32, (long) bags * PER_BAG);
            out = Torch.empty(DType.FLOAT32, bags, DIM);
        }

        @Override
        public void close() {
            weight.close();
            indices.close();
            offsets.close();
            weights.close();
            out.close();
        }
    }

    /** The ids of the calling thread and of every jembed helper thread alive now. */
    private static long[] countedThreads() {
        List<Long> ids = new ArrayList<>();
        ids.add(Thread.currentThread().getId());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("jembed-worker-")) {
                ids.add(t.getId());
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    /** The bytes the threads {@code ids} have allocated so far (one at a time: the array form allocates). */
    private static long allocated(long[] ids) {
        long sum = 0;
        for (long id : ids) {
            sum += Math.max(threads.getThreadAllocatedBytes(id), 0); // -1 for a thread that has ended
        }
        return sum;
    }

    /** The least any round of {@code calls} calls allocated, after {@code warmUp} calls. */
    private static long leastAllocatedPerRound(Call call, int warmUp, int calls) {
        for (int i = 0; i < warmUp; i++) {
            call.run();
        }
        long[] ids = countedThreads();
        long least = Long.MAX_VALUE;
        for (int round = 0; round < ROUNDS; round++) {
            long before = allocated(ids);
            for (int i = 0; i < calls; i++) {
                call.run();
            }
            least = Math.min(least, allocated(ids) - before);
        }
        return least;
    }

    private static EmbeddingBag module(Shape shape, EmbeddingBagMode mode) {
        return EmbeddingBag.fromPretrained(shape.weight, new EmbeddingBagFromPretrainedOptions().mode(mode));
    }

    @Test
    void countedAllocationSeesTheAllocatingForward() {
        // The instrument itself: the forward that returns a new tensor allocates it on this thread, every call.
        try (Shape shape = new Shape(8, 5)) {
            EmbeddingBag bag = module(shape, EmbeddingBagMode.SUM);
            long bytes = leastAllocatedPerRound(() -> bag.forward(shape.indices, shape.offsets).close(), 2000, 100);
            assertTrue(bytes >= 100 * 16, "bytes allocated per round of 100 allocating forwards: " + bytes);
        }
    }

    @Test
    void moduleForwardIntoOutAllocatesNothingInEveryMode() {
        // 8 bags: a small call; 4096 bags: 21 MB of rows, which the native backend's default dispatch splits.
        for (int bags : new int[] {8, 4096}) {
            // Small calls: enough for the JIT to compile the module's path; large ones (milliseconds each, tens with
            // the Java backend): enough to run the split's code many times.
            int warmUp = bags == 8 ? 20_000 : 100;
            int calls = bags == 8 ? 2000 : 10;
            try (Shape shape = new Shape(bags, 7)) {
                for (EmbeddingBagMode mode : EmbeddingBagMode.values()) {
                    EmbeddingBag bag = module(shape, mode);
                    long bytes = leastAllocatedPerRound(() -> bag.forward(shape.indices, shape.offsets, null,
                            shape.out), warmUp, calls);
                    assertEquals(0, bytes, "bytes allocated per round of forwards, " + bags + " bags, " + mode);
                }
                EmbeddingBag sum = module(shape, EmbeddingBagMode.SUM);
                long bytes = leastAllocatedPerRound(() -> sum.forward(shape.indices, shape.offsets, shape.weights,
                        shape.out), warmUp, calls);
                assertEquals(0, bytes, "bytes allocated per round of weighted forwards, " + bags + " bags");
            }
        }
    }

    @Test
    void nativeBagForwardAllocatesNothingOnOneThreadOrSplit() {
        assumeTrue(Backends.nativeBackend().isPresent(), "native backend unavailable in this pass");
        NativeBackend backend = (NativeBackend) Backends.nativeBackend().get();
        try (Shape shape = new Shape(4096, 11)) {
            for (int threadCount : new int[] {1, 2}) {
                for (boolean weighted : new boolean[] {false, true}) {
                    for (EmbeddingBagMode mode : EmbeddingBagMode.values()) {
                        if (weighted && mode != EmbeddingBagMode.SUM) {
                            continue;
                        }
                        Tensor psw = weighted ? shape.weights : null;
                        long bytes = leastAllocatedPerRound(() -> backend.embeddingBag(shape.weight, shape.indices,
                                shape.offsets, 0, mode, psw, -1, shape.out, null, threadCount), 100, 10);
                        assertEquals(0, bytes, "bytes allocated per round of " + mode + (weighted ? " weighted" : "")
                                + " forwards on " + threadCount + " thread(s)");
                    }
                }
            }
        }
    }
}
