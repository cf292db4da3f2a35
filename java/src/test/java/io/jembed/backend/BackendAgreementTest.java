package io.jembed.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The native kernels, each variant forced in turn, against the Java reference on awkward sizes: gathers must be
 * bit-identical; renorms agree to float rounding (float32: 2e-6 relative, float64: 1e-13 relative; the vector
 * variants sum a row's norm in a different order from the scalar loop).
 */
class BackendAgreementTest {
    private static final long[] DIMS = {1, 3, 7, 8, 9, 16, 31, 33, 64, 128, 1000};
    /**
     * Up to 16 rows (and 2 KB) are copied in Java by the native backend on JDK 17 to 23 (SmallGather), more by the
     * kernels: both sides of that line, and kernel batches with a tail after their unrolled blocks.
     */
    private static final int[] BATCHES = {0, 1, 5, 16, 17, 19, 100};

    private Backend nativeBackend;
    private String variantBefore;

    @BeforeEach
    void requireNative() {
        Optional<Backend> found = Backends.nativeBackend();
        assumeTrue(found.isPresent(), "native backend unavailable in this pass");
        nativeBackend = found.get();
        variantBefore = NativeBackend.activeKernels();
    }

    @AfterEach
    void restoreVariant() {
        if (variantBefore != null) {
            NativeBackend.selectKernels(variantBefore);
        }
    }

    @Test
    void scalarVariantIsAlwaysSupported() {
        List<String> supported = NativeBackend.supportedKernels();
        assertTrue(supported.contains("scalar"), supported.toString());
    }

    @Test
    void everyVariantGathersTheSameBitsAsJava() {
        Generator g = new Generator(2024);
        for (String variant : NativeBackend.supportedKernels()) {
            NativeBackend.selectKernels(variant);
            assertEquals(variant, NativeBackend.activeKernels());
            for (DType weightType : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (DType indexType : new DType[] {DType.INT64, DType.INT32}) {
                    for (long dim : DIMS) {
                        for (int batch : BATCHES) {
                            checkGather(g, variant, weightType, indexType, 37, dim, batch);
                        }
                    }
                }
            }
        }
    }

    private void checkGather(Generator g, String variant, DType weightType, DType indexType, long rows, long dim,
                             int batch) {
        try (Tensor weight = Torch.randn(g, weightType, rows, dim);
             Tensor idx = randomIndices(g, indexType, rows, batch);
             Tensor expected = Torch.empty(weightType, batch, dim);
             Tensor actual = Torch.empty(weightType, batch, dim)) {
            Backends.java().embedding(weight, idx, expected);
            nativeBackend.embedding(weight, idx, actual);
            String what = variant + " " + weightType + " " + indexType + " dim " + dim + " batch " + batch;
            if (weightType == DType.FLOAT32) {
                assertArrayEquals(bits(expected.toFloatArray()), bits(actual.toFloatArray()), what);
            } else {
                assertArrayEquals(bits(expected.toDoubleArray()), bits(actual.toDoubleArray()), what);
            }
        }
    }

    @Test
    void everyVariantRenormsLikeJavaForEveryNormType() {
        Generator g = new Generator(7);
        double[] normTypes = {2, 1, 3, 0.5, 0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (String variant : NativeBackend.supportedKernels()) {
            NativeBackend.selectKernels(variant);
            for (DType weightType : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (double p : normTypes) {
                    for (long dim : DIMS) {
                        checkRenorm(g, variant, weightType, p, dim);
                    }
                }
            }
        }
    }

    private void checkRenorm(Generator g, String variant, DType weightType, double p, long dim) {
        long rows = 23;
        try (Tensor reference = Torch.randn(g, weightType, rows, dim);
             Tensor tested = reference.clone();
             Tensor idx = randomIndices(g, DType.INT64, rows, 40)) {
            // A max_norm near the median norm, so that some rows are rescaled and some are not.
            double maxNorm = p == 0 ? dim / 2.0 : Math.pow(dim, p == Double.POSITIVE_INFINITY ? 0 : 1 / Math.abs(p))
                    * (p == Double.NEGATIVE_INFINITY ? 0.01 : 0.8);
            Backends.java().embeddingRenorm(reference, idx, maxNorm, p);
            nativeBackend.embeddingRenorm(tested, idx, maxNorm, p);
            double rtol = weightType == DType.FLOAT32 ? 2e-6 : 1e-13;
            double[] want = reference.toDoubleArray();
            double[] got = tested.toDoubleArray();
            for (int i = 0; i < want.length; i++) {
                double tolerance = rtol * Math.max(Math.abs(want[i]), 1e-30);
                assertEquals(want[i], got[i], tolerance, variant + " " + weightType + " p=" + p + " dim " + dim
                        + " element " + i);
            }
        }
    }

    /** Large batches are split across threads: the same bits, and a bad index is named by its absolute position. */
    @Test
    void largeGathersSplitAcrossThreadsGiveTheSameBits() {
        Generator g = new Generator(5);
        try (Tensor weight = Torch.randn(g, DType.FLOAT32, 5000, 64);
             Tensor idx = randomIndices(g, DType.INT64, 5000, 20_000);
             Tensor expected = Torch.empty(DType.FLOAT32, 20_000, 64);
             Tensor actual = Torch.empty(DType.FLOAT32, 20_000, 64)) {
            Backends.java().embedding(weight, idx, expected);
            nativeBackend.embedding(weight, idx, actual);
            assertArrayEquals(bits(expected.toFloatArray()), bits(actual.toFloatArray()));
            idx.set(5000, 19_000);
            float[] before = actual.toFloatArray();
            IndexOutOfBoundsException e = org.junit.jupiter.api.Assertions.assertThrows(
                    IndexOutOfBoundsException.class, () -> nativeBackend.embedding(weight, idx, actual));
            assertTrue(e.getMessage().contains("index 5000 at position [19000]"), e.getMessage());
            assertArrayEquals(bits(before), bits(actual.toFloatArray()), "a split lookup that fails writes nothing");
        }
    }

    @Test
    void aBadIndexIsReportedByEachBackendBeforeAnythingIsWritten() {
        for (Backend backend : new Backend[] {Backends.java(), nativeBackend}) {
            try (Tensor weight = Torch.ones(DType.FLOAT32, 4, 8);
                 Tensor idx = Torch.tensor(new long[] {1, 2, 4});
                 Tensor out = Torch.zeros(DType.FLOAT32, 3, 8)) {
                // The lookups validate their own indices (F no longer does it for them): the index is named with
                // its position, and not even the rows before it are written.
                IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                        () -> backend.embedding(weight, idx, out));
                assertTrue(e.getMessage().contains("index 4 at position [2]"), backend.name() + ": " + e.getMessage());
                for (float v : out.toFloatArray()) {
                    assertEquals(0f, v, backend.name() + ": a failed lookup writes nothing");
                }
            }
        }
    }

    @Test
    void anUndersizedOutputIsRefusedBeforeNativeCode() {
        try (Tensor weight = Torch.zeros(DType.FLOAT32, 4, 8);
             Tensor idx = Torch.tensor(new long[] {1, 2, 3});
             Tensor out = Torch.zeros(DType.FLOAT32, 2, 8)) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> nativeBackend.embedding(weight, idx, out));
            assertTrue(e.getMessage().contains("'out' must hold 3 x 8 elements"), e.getMessage());
        }
    }

    /**
     * A gather split among the caller and the helper threads copies the same bits as one thread, on awkward sizes
     * (batches that do not divide evenly, fewer lookups than parts), and on the native backend's bad-index path
     * (an index rewritten after validation) names the first bad position in input order, whichever part found it.
     */
    @Test
    void gatherSplitAmongThreadsGivesTheOneThreadBits() {
        NativeBackend backend = (NativeBackend) nativeBackend;
        Generator g = new Generator(77);
        for (DType weightType : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (long dim : new long[] {1, 7, 33}) {
                for (int batch : new int[] {0, 1, 3, 1001, 4096}) {
                    try (Tensor weight = Torch.randn(g, weightType, 500, dim);
                         Tensor idx = randomIndices(g, DType.INT32, 500, batch);
                         Tensor one = Torch.empty(weightType, batch, dim);
                         Tensor split = Torch.full(weightType, -1, batch, dim)) {
                        backend.embedding(weight, idx, one, 1);
                        backend.embedding(weight, idx, split, 2);
                        assertArrayEquals(one.toDoubleArray(), split.toDoubleArray(), 0,
                                weightType + " dim " + dim + " batch " + batch);
                    }
                }
            }
        }
        try (Tensor weight = Torch.randn(g, DType.FLOAT32, 10, 4);
             Tensor idx = Torch.zeros(DType.INT64, 1000);
             Tensor out = Torch.empty(DType.FLOAT32, 1000, 4)) {
            idx.set(10, 900); // in the second part: the whole-lookup validation finds it before either part writes
            idx.set(-3, 700);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> backend.embedding(weight, idx, out, 2));
            assertTrue(e.getMessage().contains("index -3 at position [700]"), e.getMessage());
            idx.set(12, 300); // now the first part has one too
            e = assertThrows(IndexOutOfBoundsException.class, () -> backend.embedding(weight, idx, out, 2));
            assertTrue(e.getMessage().contains("index 12 at position [300]"), e.getMessage());
        }
    }

    static Tensor randomIndices(Generator g, DType type, long rows, int batch) {
        long[] idx = new long[batch];
        for (int i = 0; i < batch; i++) {
            // Half the draws repeat an earlier index, so duplicates are common.
            idx[i] = i > 0 && g.nextDouble() < 0.5 ? idx[(int) (g.nextDouble() * i)] : (long) (g.nextDouble() * rows);
        }
        if (type == DType.INT64) {
            return Torch.tensor(idx);
        }
        int[] narrow = new int[batch];
        for (int i = 0; i < batch; i++) {
            narrow[i] = (int) idx[i];
        }
        return Torch.tensor(narrow);
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    private static long[] bits(double[] values) {
        long[] bits = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Double.doubleToRawLongBits(values[i]);
        }
        return bits;
    }
}
