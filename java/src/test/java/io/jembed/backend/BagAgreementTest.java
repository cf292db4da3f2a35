package io.jembed.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBagMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fused EmbeddingBag kernels, each variant forced in turn and split among threads, against the Java reference on
 * awkward sizes (dims 1 to 1000; empty bags, bags of one, a bag of nothing but padding, repeated rows; offsets and
 * fixed-size 2-D bags; int32 and int64; float32 and float64): forward, max indices and dense backward must be
 * bit-identical, since both follow the rounding rules of bag-contract.md.
 */
class BagAgreementTest {
    private static final long[] DIMS = {1, 3, 7, 8, 9, 33, 1000};
    private static final long ROWS = 41;

    private NativeBackend nativeBackend;
    private String variantBefore;

    @BeforeEach
    void requireNative() {
        Optional<Backend> found = Backends.nativeBackend();
        assumeTrue(found.isPresent(), "native backend unavailable in this pass");
        nativeBackend = (NativeBackend) found.get();
        variantBefore = NativeBackend.activeKernels();
    }

    @AfterEach
    void restoreVariant() {
        if (variantBefore != null) {
            NativeBackend.selectKernels(variantBefore);
        }
    }

    /** One bag layout: offsets (null for fixed-size bags of bagSize) over n lookups, with a padding row or -1. */
    private static final class Layout {
        final long[] offsets;
        final long bagSize;
        final long numBags;
        final long[] indices;
        final long paddingIdx;
        final String name;

        Layout(long[] offsets, long bagSize, long numBags, long[] indices, long paddingIdx, String name) {
            this.offsets = offsets;
            this.bagSize = bagSize;
            this.numBags = numBags;
            this.indices = indices;
            this.paddingIdx = paddingIdx;
            this.name = name;
        }
    }

    /** Bags of sizes 0, 1, 3, 0, 5, 1, 12 with repeats, one of them all padding when padded; and 2-D bags of 4. */
    private static List<Layout> layouts(Generator g) {
        List<Layout> layouts = new ArrayList<>();
        long[] sizes = {0, 1, 3, 0, 5, 1, 12};
        for (boolean padded : new boolean[] {false, true}) {
            long[] offsets = new long[sizes.length];
            int n = 0;
            for (int b = 0; b < sizes.length; b++) {
                offsets[b] = n;
                n += (int) sizes[b];
            }
            long[] idx = randomRows(g, n);
            long pad = padded ? idx[1] : -1;
            if (padded) {
                for (int i = (int) offsets[2]; i < offsets[3]; i++) {
                    idx[i] = pad; // bag 2: nothing but padding
                }
            }
            layouts.add(new Layout(offsets, 0, sizes.length, idx, pad, padded ? "offsets, padded" : "offsets"));
            long[] flat = randomRows(g, 6 * 4);
            layouts.add(new Layout(null, 4, 6, flat, padded ? flat[0] : -1, padded ? "2-D, padded" : "2-D"));
        }
        return layouts;
    }

    private static long[] randomRows(Generator g, int n) {
        long[] idx = new long[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i > 0 && g.nextDouble() < 0.4 ? idx[(int) (g.nextDouble() * i)] : (long) (g.nextDouble() * ROWS);
        }
        return idx;
    }

    private static Tensor indexTensor(long[] values, DType type) {
        if (type == DType.INT64) {
            return Torch.tensor(values);
        }
        int[] narrow = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            narrow[i] = (int) values[i];
        }
        return Torch.tensor(narrow);
    }

    @Test
    void everyVariantPoolsTheSameBitsAsJava() {
        Generator g = new Generator(1010);
        for (String variant : NativeBackend.supportedKernels()) {
            NativeBackend.selectKernels(variant);
            for (DType weightType : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (DType indexType : new DType[] {DType.INT64, DType.INT32}) {
                    for (long dim : DIMS) {
                        for (Layout layout : layouts(g)) {
                            for (EmbeddingBagMode mode : EmbeddingBagMode.values()) {
                                checkForward(g, variant, weightType, indexType, dim, layout, mode, false);
                                if (mode == EmbeddingBagMode.SUM) {
                                    checkForward(g, variant, weightType, indexType, dim, layout, mode, true);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private void checkForward(Generator g, String variant, DType weightType, DType indexType, long dim, Layout layout,
                              EmbeddingBagMode mode, boolean weighted) {
        try (Tensor weight = tiedWeight(g, weightType, dim);
             Tensor idx = indexTensor(layout.indices, indexType);
             Tensor offsets = layout.offsets == null ? null : indexTensor(layout.offsets, indexType);
             Tensor psw = weighted ? Torch.randn(g, weightType, layout.indices.length) : null;
             Tensor expected = Torch.full(weightType, 7, layout.numBags, dim);
             Tensor expectedMax = Torch.full(DType.INT64, 7, layout.numBags, dim);
             Tensor actual = Torch.full(weightType, -7, layout.numBags, dim);
             Tensor actualMax = Torch.full(DType.INT64, -7, layout.numBags, dim);
             Tensor split = Torch.full(weightType, -7, layout.numBags, dim)) {
            Tensor maxOut = mode == EmbeddingBagMode.MAX ? expectedMax : null;
            Backends.java().embeddingBag(weight, idx, offsets, layout.bagSize, mode, psw, layout.paddingIdx, expected,
                    maxOut);
            nativeBackend.embeddingBag(weight, idx, offsets, layout.bagSize, mode, psw, layout.paddingIdx, actual,
                    mode == EmbeddingBagMode.MAX ? actualMax : null, 1);
            nativeBackend.embeddingBag(weight, idx, offsets, layout.bagSize, mode, psw, layout.paddingIdx, split,
                    null, 3);
            String what = variant + " " + weightType + " " + indexType + " dim " + dim + " " + layout.name + " "
                    + mode + (weighted ? " psw" : "");
            assertArrayEquals(bits(expected), bits(actual), what);
            assertArrayEquals(bits(expected), bits(split), what + ", bags split among threads");
            if (mode == EmbeddingBagMode.MAX) {
                assertArrayEquals(expectedMax.toLongArray(), actualMax.toLongArray(), what + ": max indices");
            }
        }
    }

    @Test
    void everyVariantAndThreadCountAccumulatesTheJavaGradient() {
        Generator g = new Generator(2020);
        for (String variant : NativeBackend.supportedKernels()) {
            NativeBackend.selectKernels(variant);
            for (DType weightType : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (DType indexType : new DType[] {DType.INT64, DType.INT32}) {
                    for (long dim : DIMS) {
                        for (Layout layout : layouts(g)) {
                            for (EmbeddingBagMode mode : EmbeddingBagMode.values()) {
                                for (int option = 0; option < 3; option++) {
                                    boolean weighted = option == 1 && mode == EmbeddingBagMode.SUM;
                                    boolean scale = option == 2 && mode != EmbeddingBagMode.MAX;
                                    checkBackward(g, variant, weightType, indexType, dim, layout, mode, weighted,
                                            scale);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private void checkBackward(Generator g, String variant, DType weightType, DType indexType, long dim,
                               Layout layout, EmbeddingBagMode mode, boolean weighted, boolean scale) {
        try (Tensor weight = Torch.randn(g, weightType, ROWS, dim);
             Tensor idx = indexTensor(layout.indices, indexType);
             Tensor offsets = layout.offsets == null ? null : indexTensor(layout.offsets, indexType);
             Tensor psw = weighted ? Torch.randn(g, weightType, layout.indices.length) : null;
             Tensor pooled = Torch.empty(weightType, layout.numBags, dim);
             Tensor winners = Torch.empty(DType.INT64, layout.numBags, dim);
             Tensor gradOut = Torch.randn(g, weightType, layout.numBags, dim);
             Tensor expected = Torch.randn(g, weightType, ROWS, dim);
             Tensor one = expected.clone();
             Tensor three = expected.clone()) {
            Tensor maxIndices = mode == EmbeddingBagMode.MAX ? winners : null;
            Backends.java().embeddingBag(weight, idx, offsets, layout.bagSize, mode, psw, layout.paddingIdx, pooled,
                    maxIndices);
            Backends.java().embeddingBagDenseBackward(gradOut, idx, offsets, layout.bagSize, mode, psw,
                    layout.paddingIdx, scale, maxIndices, expected);
            nativeBackend.embeddingBagDenseBackward(gradOut, idx, offsets, layout.bagSize, mode, psw,
                    layout.paddingIdx, scale, maxIndices, one, 1);
            nativeBackend.embeddingBagDenseBackward(gradOut, idx, offsets, layout.bagSize, mode, psw,
                    layout.paddingIdx, scale, maxIndices, three, 3);
            String what = variant + " backward " + weightType + " " + indexType + " dim " + dim + " " + layout.name
                    + " " + mode + (weighted ? " psw" : "") + (scale ? " scale_grad_by_freq" : "");
            assertArrayEquals(bits(expected), bits(one), what);
            assertArrayEquals(bits(expected), bits(three), what + ", 3 row owners");
        }
    }

    /** Many bags split among the crew: the one-thread bits; a bad index named by its position, nothing written. */
    @Test
    void largeBatchesSplitByBagsGiveTheOneThreadBits() {
        Generator g = new Generator(31);
        int bags = 3000;
        long[] offsets = new long[bags];
        long n = 0;
        for (int b = 0; b < bags; b++) {
            offsets[b] = n;
            n += (long) (g.nextDouble() * 40);
        }
        try (Tensor weight = Torch.randn(g, DType.FLOAT32, 5000, 48);
             Tensor idx = BackendAgreementTest.randomIndices(g, DType.INT64, 5000, (int) n);
             Tensor off = Torch.tensor(offsets);
             Tensor one = Torch.empty(DType.FLOAT32, bags, 48);
             Tensor split = Torch.full(DType.FLOAT32, -1, bags, 48);
             Tensor byDefault = Torch.full(DType.FLOAT32, -1, bags, 48)) {
            nativeBackend.embeddingBag(weight, idx, off, 0, EmbeddingBagMode.MEAN, null, -1, one, null, 1);
            nativeBackend.embeddingBag(weight, idx, off, 0, EmbeddingBagMode.MEAN, null, -1, split, null, 2);
            nativeBackend.embeddingBag(weight, idx, off, 0, EmbeddingBagMode.MEAN, null, -1, byDefault, null);
            assertArrayEquals(bits(one), bits(split));
            assertArrayEquals(bits(one), bits(byDefault));
            long late = n - 3;
            idx.set(5000, late); // the backend checks the whole input before any part writes
            long[] before = bits(split);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> nativeBackend.embeddingBag(weight, idx, off, 0, EmbeddingBagMode.SUM, null, -1, split,
                            null, 2));
            assertTrue(e.getMessage().contains("idx to be 5000 at position [" + late + "]"), e.getMessage());
            assertArrayEquals(before, bits(split), "a refused split call wrote its output");
            idx.set(-1, 10);
            e = assertThrows(IndexOutOfBoundsException.class,
                    () -> nativeBackend.embeddingBag(weight, idx, off, 0, EmbeddingBagMode.SUM, null, -1, split,
                            null, 2));
            assertTrue(e.getMessage().contains("idx to be -1 at position [10]"), e.getMessage());
            assertArrayEquals(before, bits(split), "a refused split call wrote its output");
        }
    }

    @Test
    void decreasingOffsetsPassedToTheBackendAreRefusedBeforeAnyWrite() {
        try (Tensor weight = Torch.zeros(DType.FLOAT32, 4, 8);
             Tensor idx = Torch.tensor(new long[] {1, 2, 3, 0});
             Tensor off = Torch.tensor(new long[] {0, 3, 2});
             Tensor out = Torch.full(DType.FLOAT32, 5, 3, 8)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> nativeBackend.embeddingBag(weight, idx, off, 0, EmbeddingBagMode.SUM, null, -1, out, null));
            assertTrue(e.getMessage().contains("offsets must be non-decreasing, but offsets[2] = 2"), e.getMessage());
            for (float v : out.toFloatArray()) {
                assertTrue(v == 5, "a refused call wrote its output");
            }
        }
    }

    /** A random table whose rows 0 and 1 are equal: max must keep the first of a tie between different rows. */
    private static Tensor tiedWeight(Generator g, DType type, long dim) {
        try (Tensor random = Torch.randn(g, type, ROWS, dim)) {
            double[] values = random.toDoubleArray();
            System.arraycopy(values, 0, values, (int) dim, (int) dim);
            if (type == DType.FLOAT64) {
                return Torch.tensor(values, ROWS, dim);
            }
            float[] narrow = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                narrow[i] = (float) values[i];
            }
            return Torch.tensor(narrow, ROWS, dim);
        }
    }

    private static long[] bits(Tensor t) {
        if (t.dtype() == DType.FLOAT32) {
            float[] values = t.toFloatArray();
            long[] bits = new long[values.length];
            for (int i = 0; i < values.length; i++) {
                bits[i] = Float.floatToRawIntBits(values[i]);
            }
            return bits;
        }
        double[] values = t.toDoubleArray();
        long[] bits = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Double.doubleToRawLongBits(values[i]);
        }
        return bits;
    }
}
