package io.jembed.concurrency;

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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Forwards from many threads on one shared module give the single-thread results. */
class ConcurrentForwardTest {
    private static final int THREADS = 8;
    private static final int CALLS_PER_THREAD = 200;

    @Test
    void concurrentForwardsOnASharedTableMatchTheSingleThreadResult() throws Exception {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(5000, 64).generator(new Generator(1)))) {
            List<Tensor> inputs = new ArrayList<>();
            List<Tensor> expected = new ArrayList<>();
            Generator g = new Generator(2);
            for (int t = 0; t < THREADS; t++) {
                long[] idx = new long[256];
                for (int i = 0; i < idx.length; i++) {
                    idx[i] = (long) (g.nextDouble() * 5000);
                }
                Tensor input = Torch.tensor(idx);
                inputs.add(input);
                expected.add(embedding.forward(input));
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    results.add(pool.submit(() -> {
                        int mismatches = 0;
                        try (Tensor out = Torch.empty(DType.FLOAT32, 256, 64)) {
                            for (int c = 0; c < CALLS_PER_THREAD; c++) {
                                Tensor input = inputs.get((thread + c) % THREADS);
                                embedding.forward(input, out);
                                if (!Torch.equal(out, expected.get((thread + c) % THREADS))) {
                                    mismatches++;
                                }
                            }
                        }
                        return mismatches;
                    }));
                }
                for (Future<Integer> result : results) {
                    assertEquals(0, result.get());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * With max_norm the forward writes the weight; the module serialises those forwards, so 400 forwards from 8
     * threads leave the table exactly as 400 forwards from one thread do (every forward is the same operation).
     */
    @Test
    void concurrentMaxNormForwardsRenormEachRowOnce() throws Exception {
        try (Tensor weight = Torch.randn(new Generator(3), DType.FLOAT32, 100, 16);
             Tensor single = weight.clone()) {
            weight.copy_(single);
            Embedding shared = Embedding.fromPretrained(weight,
                    new io.jembed.nn.EmbeddingFromPretrainedOptions().maxNorm(1.0));
            Embedding reference = Embedding.fromPretrained(single,
                    new io.jembed.nn.EmbeddingFromPretrainedOptions().maxNorm(1.0));
            Tensor all = Torch.arange(100, DType.INT64);
            for (int c = 0; c < THREADS * 50; c++) {
                reference.forward(all).close();
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    done.add(pool.submit(() -> {
                        for (int c = 0; c < 50; c++) {
                            shared.forward(all).close();
                        }
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(Torch.equal(single, weight));
        }
    }
}
