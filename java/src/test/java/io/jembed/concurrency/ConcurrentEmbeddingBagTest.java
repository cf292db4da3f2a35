package io.jembed.concurrency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagFromPretrainedOptions;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.EmbeddingBagOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * EmbeddingBag from many threads on one shared module: forwards give the single-thread results in every mode,
 * backward passes from all threads accumulate every contribution, and max_norm forwards are serialised.
 */
class ConcurrentEmbeddingBagTest {
    private static final int THREADS = 8;
    private static final int CALLS_PER_THREAD = 100;

    private static <T> List<T> runAll(List<Callable<T>> tasks) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> task : tasks) {
                futures.add(pool.submit(task));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentForwardsInEveryModeMatchTheSingleThreadResult() throws Exception {
        for (EmbeddingBagMode mode : EmbeddingBagMode.values()) {
            try (EmbeddingBag bag = new EmbeddingBag(new EmbeddingBagOptions(3000, 33).mode(mode).paddingIdx(7)
                    .generator(new Generator(11)))) {
                Generator g = new Generator(12);
                List<Tensor[]> inputs = new ArrayList<>();
                List<Tensor> expected = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    long[] idx = new long[200];
                    for (int i = 0; i < idx.length; i++) {
                        idx[i] = i % 13 == 0 ? 7 : (long) (g.nextDouble() * 3000);
                    }
                    long[] offsets = new long[20];
                    for (int b = 0; b < offsets.length; b++) {
                        offsets[b] = b * 10 - (b % 3 == 1 ? 10 : 0);
                    }
                    Tensor[] pair = {Torch.tensor(idx), Torch.tensor(offsets)};
                    inputs.add(pair);
                    expected.add(bag.forward(pair[0], pair[1]));
                }
                List<Callable<Integer>> tasks = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    tasks.add(() -> {
                        int mismatches = 0;
                        try (Tensor out = Torch.empty(DType.FLOAT32, 20, 33)) {
                            for (int c = 0; c < CALLS_PER_THREAD; c++) {
                                Tensor[] pair = inputs.get((thread + c) % THREADS);
                                if (c % 2 == 0) {
                                    bag.forward(pair[0], pair[1], null, out);
                                    mismatches += Torch.equal(out, expected.get((thread + c) % THREADS)) ? 0 : 1;
                                } else {
                                    try (Tensor fresh = bag.forward(pair[0], pair[1])) {
                                        mismatches += Torch.equal(fresh, expected.get((thread + c) % THREADS)) ? 0 : 1;
                                    }
                                }
                            }
                        }
                        return mismatches;
                    });
                }
                for (int mismatches : runAll(tasks)) {
                    assertEquals(0, mismatches, mode + ": concurrent forwards differ from the single-thread result");
                }
            }
        }
    }

    /**
     * Backward passes from 8 threads into one weight, each adding upstream 1 to sum bags: every row's gradient is the
     * number of times it was looked up (integers, exact in any order), so no accumulation may be lost.
     */
    @Test
    void concurrentBackwardPassesLoseNoContribution() throws Exception {
        for (boolean sparse : new boolean[] {false, true}) {
            try (EmbeddingBag bag = new EmbeddingBag(new EmbeddingBagOptions(500, 8).mode("sum").sparse(sparse)
                    .generator(new Generator(5)))) {
                long[] counts = new long[500];
                List<long[]> inputs = new ArrayList<>();
                Generator g = new Generator(6);
                for (int t = 0; t < THREADS; t++) {
                    long[] idx = new long[64];
                    for (int i = 0; i < idx.length; i++) {
                        idx[i] = (long) (g.nextDouble() * 500);
                        counts[(int) idx[i]] += 25;
                    }
                    inputs.add(idx);
                }
                List<Callable<Void>> tasks = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    long[] idx = inputs.get(t);
                    tasks.add(() -> {
                        try (Tensor input = Torch.tensor(idx, 8, 8); Tensor up = Torch.ones(DType.FLOAT32, 8, 8)) {
                            for (int c = 0; c < 25; c++) {
                                try (Tensor out = bag.forward(input)) {
                                    out.backward(up);
                                }
                            }
                        }
                        return null;
                    });
                }
                runAll(tasks);
                try (Tensor grad = sparse ? bag.weight().sparseGrad().toDense() : bag.weight().grad().clone()) {
                    double[] values = grad.toDoubleArray();
                    for (int r = 0; r < 500; r++) {
                        for (int j = 0; j < 8; j++) {
                            assertEquals(counts[r], values[r * 8 + j], "row " + r + (sparse ? " (sparse)" : ""));
                        }
                    }
                }
            }
        }
    }

    /** With max_norm the forward writes the weight; the module serialises it, so 8 threads equal one. */
    @Test
    void concurrentMaxNormForwardsAreSerialised() throws Exception {
        try (Tensor weight = Torch.randn(new Generator(3), DType.FLOAT32, 100, 16);
             Tensor single = weight.clone();
             Tensor all = Torch.arange(100, DType.INT64);
             Tensor offsets = Torch.tensor(new long[] {0, 50})) {
            EmbeddingBagFromPretrainedOptions options = new EmbeddingBagFromPretrainedOptions().maxNorm(1.0).mode("max");
            EmbeddingBag shared = EmbeddingBag.fromPretrained(weight, options);
            EmbeddingBag reference = EmbeddingBag.fromPretrained(single, options);
            for (int c = 0; c < THREADS * 20; c++) {
                reference.forward(all, offsets).close();
            }
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                tasks.add(() -> {
                    for (int c = 0; c < 20; c++) {
                        shared.forward(all, offsets).close();
                    }
                    return null;
                });
            }
            runAll(tasks);
            assertArrayEquals(single.toFloatArray(), weight.toFloatArray());
            assertTrue(Torch.equal(single, weight));
        }
    }
}
