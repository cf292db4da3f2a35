package io.jembed.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The dense backward gives the same bits on the Java backend, on every native variant, and on any number of
 * threads: every row accumulates in input order with exact operations (add, or one fused multiply-add).
 */
class BackwardAgreementTest {
    private static final long[] DIMS = {1, 3, 7, 8, 9, 33, 128};

    @Test
    void everyVariantAndThreadCountGivesTheJavaBits() {
        Optional<Backend> found = Backends.nativeBackend();
        assumeTrue(found.isPresent(), "native backend unavailable in this pass");
        NativeBackend nativeBackend = (NativeBackend) found.get();
        String before = NativeBackend.activeKernels();
        Generator g = new Generator(99);
        try {
            for (String variant : NativeBackend.supportedKernels()) {
                NativeBackend.selectKernels(variant);
                for (DType type : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                    for (long dim : DIMS) {
                        for (boolean scale : new boolean[] {false, true}) {
                            try (Tensor idx = BackendAgreementTest.randomIndices(g, DType.INT64, 300, 2000);
                                 Tensor upstream = Torch.randn(g, type, 2000, dim);
                                 Tensor expected = Torch.randn(g, type, 300, dim);
                                 Tensor oneThread = expected.clone();
                                 Tensor twoThreads = expected.clone()) {
                                long padding = idx.getLong(0);
                                Backends.java().embeddingDenseBackward(upstream, idx, expected, padding, scale);
                                nativeBackend.embeddingDenseBackward(upstream, idx, oneThread, padding, scale, 1);
                                nativeBackend.embeddingDenseBackward(upstream, idx, twoThreads, padding, scale, 2);
                                String what = variant + " " + type + " dim " + dim + (scale ? " scaled" : "");
                                assertArrayEquals(expected.toDoubleArray(), oneThread.toDoubleArray(), 0, what);
                                assertArrayEquals(oneThread.toDoubleArray(), twoThreads.toDoubleArray(), 0,
                                        what + ": 1 vs 2 threads");
                            }
                        }
                    }
                }
            }
        } finally {
            NativeBackend.selectKernels(before);
        }
    }
}
