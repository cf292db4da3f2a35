package io.jembed.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import java.util.ConcurrentModificationException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The native renorm split among threads by row owner gives one thread's bits on every variant, for every norm type,
 * both weight and both index types: a row's norm and scaling depend on that row alone, and each distinct row is
 * renormed exactly once, by its owner.
 */
class RenormThreadsAgreementTest {
    private static final long[] DIMS = {1, 3, 16, 33, 128};
    private static final double[] NORM_TYPES = {2, 1, 3, 0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};

    private static NativeBackend nativeBackend() {
        Optional<Backend> found = Backends.nativeBackend();
        assumeTrue(found.isPresent(), "native backend unavailable in this pass");
        return (NativeBackend) found.get();
    }

    @Test
    void everyThreadCountGivesOneThreadsBits() {
        NativeBackend backend = nativeBackend();
        String before = NativeBackend.activeKernels();
        Generator g = new Generator(31);
        try {
            for (String variant : NativeBackend.supportedKernels()) {
                NativeBackend.selectKernels(variant);
                for (DType weightType : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                    for (DType indexType : new DType[] {DType.INT64, DType.INT32}) {
                        for (double p : NORM_TYPES) {
                            for (long dim : DIMS) {
                                String what = variant + " " + weightType + " " + indexType + " p=" + p + " dim " + dim;
                                check(backend, g, weightType, indexType, p, dim, what);
                            }
                        }
                    }
                }
            }
        } finally {
            NativeBackend.selectKernels(before);
        }
    }

    private static void check(NativeBackend backend, Generator g, DType weightType, DType indexType, double p,
                              long dim, String what) {
        long rows = 300;
        try (Tensor original = Torch.randn(g, weightType, rows, dim);
             Tensor idx = BackendAgreementTest.randomIndices(g, indexType, rows, 500)) {
            // A max_norm near the middle of the rows' norms, so that some rows are rescaled and some are not.
            double maxNorm = p == 0 ? dim / 2.0 : Math.pow(dim, p == Double.POSITIVE_INFINITY ? 0 : 1 / Math.abs(p))
                    * (p == Double.NEGATIVE_INFINITY ? 0.01 : 0.8);
            long[] expected = null;
            for (int threads = 1; threads <= 3; threads++) {
                try (Tensor weight = original.clone()) {
                    backend.embeddingRenorm(weight, idx, maxNorm, p, threads);
                    long[] got = bits(weight);
                    if (expected == null) {
                        expected = got;
                        assertTrue(!java.util.Arrays.equals(expected, bits(original)),
                                what + ": some row was rescaled");
                    } else {
                        assertArrayEquals(expected, got, what + ": " + threads + " threads vs 1");
                    }
                }
            }
        }
    }

    /** The default dispatch splits a large batch (here 2048 x 64 elements); it must still give one thread's bits. */
    @Test
    void theDefaultDispatchOfALargeBatchGivesOneThreadsBits() {
        NativeBackend backend = nativeBackend();
        Generator g = new Generator(32);
        try (Tensor original = Torch.randn(g, DType.FLOAT32, 20_000, 64);
             Tensor idx = BackendAgreementTest.randomIndices(g, DType.INT64, 20_000, 2048);
             Tensor oneThread = original.clone();
             Tensor byDefault = original.clone()) {
            backend.embeddingRenorm(oneThread, idx, 6.0, 2.0, 1);
            backend.embeddingRenorm(byDefault, idx, 6.0, 2.0);
            assertTrue(!java.util.Arrays.equals(bits(original), bits(oneThread)), "some row was rescaled");
            assertArrayEquals(bits(oneThread), bits(byDefault));
        }
    }

    /** A bad index seen by any thread's part is reported by position, and a part that sees it writes no row. */
    @Test
    void aBadIndexChangesNothingOnAnyThreadCount() {
        NativeBackend backend = nativeBackend();
        Generator g = new Generator(33);
        try (Tensor weight = Torch.randn(g, DType.FLOAT32, 100, 8);
             Tensor idx = BackendAgreementTest.randomIndices(g, DType.INT64, 100, 64)) {
            idx.set(100, 40);
            long[] before = bits(weight);
            for (int threads = 1; threads <= 3; threads++) {
                int t = threads;
                ConcurrentModificationException e = assertThrows(ConcurrentModificationException.class,
                        () -> backend.embeddingRenorm(weight, idx, 0.5, 2.0, t));
                assertTrue(e.getMessage().contains("index 100 at flat position 40"), e.getMessage());
                assertArrayEquals(before, bits(weight), threads + " threads");
            }
        }
    }

    private static long[] bits(Tensor t) {
        double[] values = t.toDoubleArray();
        long[] bits = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Double.doubleToRawLongBits(values[i]);
        }
        return bits;
    }
}
