package io.jembed.reference;

import static io.jembed.reference.TensorAssertions.assertBitIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jembed.DType;
import io.jembed.HalfTensors;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.HalfFloats;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.F;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * float16 and bfloat16 tables against libtorch 2.10's {@code at::embedding} and {@code at::embedding_bag} with
 * half/bfloat16 weights.
 *
 * <ul>
 *   <li>Lookups copy bits: any 16-bit pattern, NaN payloads included, for every dim, batch and index type.</li>
 *   <li>Bags accumulate in float32 and round once, to nearest even, in jembed. libtorch agrees bit for bit on every
 *   sum except bfloat16 sums on its FBGEMM path (no {@code padding_idx}), which round ties away from zero; its means
 *   round the 16-bit sum and then the quotient. Both are pinned here against a float32 accumulation written out in
 *   the test ({@link #floatSums}), and by name in
 *   {@link #libtorchsBFloat16FastPathRoundsTiesAwayWhereJembedRoundsToEven} and
 *   {@link #libtorchsMeanRoundsTheSumThenTheQuotientWhereJembedRoundsOnce}.</li>
 * </ul>
 */
class HalfTablesMatchLibtorchTest {
    private static final DType[] HALVES = {DType.FLOAT16, DType.BFLOAT16};

    @BeforeAll
    static void loadLibtorch() {
        Libtorch.threads();
    }

    private static Tensor randomBitsTable(SplittableRandom random, DType dtype, int rows, int dim) {
        short[] bits = new short[rows * dim];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = (short) random.nextInt(0x10000);  // every pattern: NaN payloads, infinities, subnormals
        }
        return HalfTensors.fromBits(dtype, bits, rows, dim);
    }

    /** Normal values rounded to the format: no NaN or infinity, so sums compare as numbers. */
    private static Tensor randomTable(SplittableRandom random, DType dtype, int rows, int dim) {
        float[] values = new float[rows * dim];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (gaussian(random) * (random.nextInt(8) == 0 ? 100 : 1));
        }
        return Torch.tensor(values, dtype, new long[] {rows, dim});
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = 1 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    @Test
    void lookupsCopyEveryBitPatternAsLibtorchDoes() {
        SplittableRandom random = new SplittableRandom(1616);
        for (DType dtype : HALVES) {
            for (int dim : new int[] {1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 128, 255, 256}) {
                int rows = 1 + random.nextInt(300);
                for (int batch : new int[] {0, 1, 7, 16, 17, 100, 513}) {
                    long[] wide = new long[batch];
                    int[] narrow = new int[batch];
                    for (int i = 0; i < batch; i++) {
                        wide[i] = random.nextInt(rows);
                        narrow[i] = (int) wide[i];
                    }
                    try (Tensor weight = randomBitsTable(random, dtype, rows, dim);
                         Tensor idx = Torch.tensor(wide);
                         Tensor idx32 = Torch.tensor(narrow);
                         Tensor expected = Libtorch.embedding(weight, idx, -1, false, false);
                         Tensor out = F.embedding(idx, weight);
                         Tensor out32 = F.embedding(idx32, weight);
                         Tensor fromArray = Torch.empty(dtype, batch, dim)) {
                        F.embedding(wide, weight, fromArray);
                        String what = dtype + " dim " + dim + " batch " + batch;
                        assertBitIdentical(expected, out, () -> what);
                        assertBitIdentical(expected, out32, () -> what + " int32 indices");
                        assertBitIdentical(expected, fromArray, () -> what + " from long[]");
                    }
                }
            }
        }
    }

    /** What one bag configuration needs: the bags' positions, and the float32 accumulation of each element. */
    private static final class Case {
        final long[] indices;
        final long[] offsets;
        final float[] weights;
        final long paddingIdx;

        Case(long[] indices, long[] offsets, float[] weights, long paddingIdx) {
            this.indices = indices;
            this.offsets = offsets;
            this.weights = weights;
            this.paddingIdx = paddingIdx;
        }
    }

    private static Case randomCase(SplittableRandom random, int rows, boolean weighted, boolean padded) {
        int bags = 1 + random.nextInt(40);
        long[] offsets = new long[bags];
        int n = 0;
        for (int b = 0; b < bags; b++) {
            offsets[b] = n;
            n += random.nextInt(8) == 0 ? 0 : random.nextInt(30);
        }
        long[] indices = new long[n];
        for (int i = 0; i < n; i++) {
            indices[i] = random.nextInt(rows);
        }
        float[] weights = null;
        if (weighted) {
            weights = new float[n];
            for (int i = 0; i < n; i++) {
                weights[i] = (float) (random.nextDouble() * 2 - 0.5);
            }
        }
        return new Case(indices, offsets, weights, padded ? random.nextInt(rows) : -1);
    }

    /**
     * Each bag's float32 sum (or, for max, nothing here) of widened elements in input order from +0: weights fused
     * ({@code fma}) without padding, multiplied and then added with it; and each bag's count of non-padding entries
     * in {@code counts}.
     */
    private static float[] floatSums(Tensor weight, Case c, float[] weights16, long[] counts) {
        int dim = (int) weight.size(1);
        float[] table = weight.toFloatArray();
        int bags = c.offsets.length;
        float[] sums = new float[bags * dim];
        for (int b = 0; b < bags; b++) {
            int end = b + 1 < bags ? (int) c.offsets[b + 1] : c.indices.length;
            for (int i = (int) c.offsets[b]; i < end; i++) {
                long r = c.indices[i];
                if (r == c.paddingIdx) {
                    continue;
                }
                counts[b]++;
                for (int j = 0; j < dim; j++) {
                    float x = table[(int) r * dim + j];
                    float acc = sums[b * dim + j];
                    if (weights16 == null) {
                        sums[b * dim + j] = acc + x;
                    } else if (c.paddingIdx < 0) {
                        sums[b * dim + j] = Math.fma(weights16[i], x, acc);
                    } else {
                        sums[b * dim + j] = acc + x * weights16[i];
                    }
                }
            }
        }
        return sums;
    }

    private static short round(DType dtype, float x) {
        return dtype == DType.FLOAT16 ? HalfFloats.floatToFloat16(x) : HalfFloats.floatToBFloat16(x);
    }

    private static float value(DType dtype, short bits) {
        return dtype == DType.FLOAT16 ? HalfFloats.float16ToFloat(bits) : HalfFloats.bfloat16ToFloat(bits);
    }

    private static void assertElements(short[] expected, short[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) {
                fail(what + ": element " + i + " expected 0x" + Integer.toHexString(expected[i] & 0xFFFF) + " got 0x"
                        + Integer.toHexString(actual[i] & 0xFFFF));
            }
        }
    }

    @Test
    void bagsRoundTheirFloatSumOnceAndLibtorchAgreesExceptWhereItsPathsRoundOtherwise() {
        SplittableRandom random = new SplittableRandom(2016);
        int ties = 0;
        for (DType dtype : HALVES) {
            for (int dim : new int[] {1, 3, 8, 16, 17, 64, 100, 128}) {
                for (EmbeddingBagMode mode : EmbeddingBagMode.values()) {
                    for (boolean weighted : new boolean[] {false, true}) {
                        if (weighted && mode != EmbeddingBagMode.SUM) {
                            continue;
                        }
                        for (boolean padded : new boolean[] {false, true}) {
                            int rows = 1 + random.nextInt(200);
                            Case c = randomCase(random, rows, weighted, padded);
                            ties += checkBags(random, dtype, rows, dim, mode, c);
                        }
                    }
                }
            }
        }
        System.out.println("HalfTablesMatchLibtorchTest: " + ties + " bfloat16 ties where libtorch's FBGEMM path "
                + "rounds away from zero");
    }

    /** One configuration; returns the number of elements where libtorch's ties-away rounding differed. */
    private static int checkBags(SplittableRandom random, DType dtype, int rows, int dim, EmbeddingBagMode mode,
                                 Case c) {
        String what = dtype + " " + mode + " dim " + dim + (c.weights != null ? " weighted" : "")
                + (c.paddingIdx >= 0 ? " padding_idx " + c.paddingIdx : "");
        try (Tensor weight = randomTable(random, dtype, rows, dim);
             Tensor idx = Torch.tensor(c.indices);
             Tensor offsets = Torch.tensor(c.offsets);
             Tensor psw = c.weights == null ? null : Torch.tensor(c.weights, dtype);
             Libtorch.Bagged expected = Libtorch.embeddingBag(weight, idx, offsets, null, 2.0, false,
                     mode.ordinal(), false, psw, false, c.paddingIdx >= 0 ? c.paddingIdx : null);
             Tensor actual = F.embeddingBag(idx, weight, options(offsets, mode, psw, c.paddingIdx))) {
            assertEquals(EmbeddingBagMode.MAX.ordinal(), 2, "libtorch's mode codes");
            short[] got = HalfTensors.toBits(actual);
            short[] torch = HalfTensors.toBits(expected.output);
            if (mode == EmbeddingBagMode.MAX) {
                assertBitIdentical(expected.output, actual, () -> what);
                return 0;
            }
            float[] weights16 = psw == null ? null : psw.toFloatArray();
            long[] counts = new long[c.offsets.length];
            float[] sums = floatSums(weight, c, weights16, counts);
            short[] jembedRule = new short[sums.length];
            short[] libtorchRule = new short[sums.length];
            for (int k = 0; k < sums.length; k++) {
                long count = counts[k / dim];
                if (mode == EmbeddingBagMode.MEAN) {
                    // jembed: the float sum divided once, rounded once. libtorch (apply_bag_size): the 16-bit sum
                    // divided by max(count, 1) cast to the 16-bit type, rounded again.
                    jembedRule[k] = round(dtype, sums[k] / (float) Math.max(count, 1));
                    boolean fbgemm = c.paddingIdx < 0;
                    float sum16 = value(dtype, dtype == DType.BFLOAT16 && fbgemm
                            ? HalfFloats.floatToBFloat16TiesAway(sums[k]) : round(dtype, sums[k]));
                    libtorchRule[k] = round(dtype, sum16 / value(dtype, round(dtype, Math.max(count, 1))));
                } else {
                    jembedRule[k] = round(dtype, sums[k]);
                    boolean fbgemm = c.paddingIdx < 0;
                    libtorchRule[k] = dtype == DType.BFLOAT16 && fbgemm
                            ? HalfFloats.floatToBFloat16TiesAway(sums[k]) : jembedRule[k];
                }
            }
            assertElements(jembedRule, got, what + ": jembed rounds the float32 result once, to nearest even");
            assertElements(libtorchRule, torch, what + ": libtorch's own rounding");
            int differing = 0;
            for (int k = 0; k < got.length; k++) {
                differing += got[k] != torch[k] ? 1 : 0;
            }
            return mode == EmbeddingBagMode.SUM ? differing : 0;
        }
    }

    private static io.jembed.nn.functional.EmbeddingBagFuncOptions options(Tensor offsets, EmbeddingBagMode mode,
                                                                          Tensor psw, long paddingIdx) {
        io.jembed.nn.functional.EmbeddingBagFuncOptions o = new io.jembed.nn.functional.EmbeddingBagFuncOptions()
                .offsets(offsets).mode(mode).perSampleWeights(psw);
        return paddingIdx >= 0 ? o.paddingIdx(paddingIdx) : o;
    }

    @Test
    void libtorchsBFloat16FastPathRoundsTiesAwayWhereJembedRoundsToEven() {
        // Rows 1.0 and 2^-8: their float sum 1 + 2^-8 is the tie between bfloat16 1.0 (0x3F80) and 1.0078125.
        try (Tensor weight = Torch.tensor(new float[] {1f, 0x1p-8f, 5f}, DType.BFLOAT16, new long[] {3, 1});
             Tensor idx = Torch.tensor(new long[] {0, 1});
             Tensor offsets = Torch.tensor(new long[] {0});
             Libtorch.Bagged fast = Libtorch.embeddingBag(weight, idx, offsets, null, 2.0, false, 0, false, null,
                     false, null);
             Libtorch.Bagged slow = Libtorch.embeddingBag(weight, idx, offsets, null, 2.0, false, 0, false, null,
                     false, 2L);
             Tensor jembed = F.embeddingBag(idx, weight, new io.jembed.nn.functional.EmbeddingBagFuncOptions()
                     .offsets(offsets).mode("sum"));
             Tensor jembedPadded = F.embeddingBag(idx, weight, new io.jembed.nn.functional.EmbeddingBagFuncOptions()
                     .offsets(offsets).mode("sum").paddingIdx(2L))) {
            assertEquals(0x3F81, HalfTensors.toBits(fast.output)[0], "libtorch without padding_idx: FBGEMM, away");
            assertEquals(0x3F80, HalfTensors.toBits(slow.output)[0], "libtorch with padding_idx: c10's cast, even");
            assertEquals(0x3F80, HalfTensors.toBits(jembed)[0], "jembed: to even on every path");
            assertEquals(0x3F80, HalfTensors.toBits(jembedPadded)[0]);
        }
    }

    @Test
    void libtorchsMeanRoundsTheSumThenTheQuotientWhereJembedRoundsOnce() {
        long[] ones = new long[257];
        try (Tensor weight = Torch.tensor(new float[] {1f, 0x1p-8f, 0f}, DType.BFLOAT16, new long[] {3, 1});
             Tensor many = Torch.tensor(ones);
             Tensor three = Torch.tensor(new long[] {0, 1, 2});
             Tensor offsets = Torch.tensor(new long[] {0});
             Libtorch.Bagged torchMany = Libtorch.embeddingBag(weight, many, offsets, null, 2.0, false, 1, false,
                     null, false, null);
             Libtorch.Bagged torchThree = Libtorch.embeddingBag(weight, three, offsets, null, 2.0, false, 1, false,
                     null, false, null);
             Tensor jembedMany = F.embeddingBag(many, weight, offsets);
             Tensor jembedThree = F.embeddingBag(three, weight, offsets)) {
            // 257 ones: the count 257 rounds to 256 in bfloat16, so libtorch's mean is 257/256 = 1.0078125.
            assertEquals(1.0078125, torchMany.output.item(), "libtorch: 16-bit sum / 16-bit count");
            assertEquals(1.0, jembedMany.item(), "jembed: 257 / 257");
            // (1 + 2^-8) / 3: libtorch rounds the sum to 1.0 first (0.3359375 after the division); jembed's single
            // rounding of 0.33463541... gives 0.333984375, the correctly rounded mean.
            assertEquals(0.3359375, torchThree.output.item());
            assertEquals(0.333984375, jembedThree.item());
        }
    }

    @Test
    void randomFillsDrawLibtorchsSixteenBitSamples() {
        for (DType dtype : HALVES) {
            for (long seed : new long[] {0, 42, 1234567}) {
                for (int n : new int[] {1, 5, 15, 16, 17, 33, 100, 1000}) {
                    for (double[] meanStd : new double[][] {{0, 1}, {0.5, 2}, {-3, 0.1}}) {
                        Torch.manualSeed(seed);
                        Libtorch.manualSeed(seed);
                        try (Tensor mine = Torch.empty(dtype, n).normal_(meanStd[0], meanStd[1]);
                             Tensor theirs = Libtorch.normal(dtype, meanStd[0], meanStd[1], n)) {
                            assertBitIdentical(theirs, mine, () -> dtype + " normal_ seed " + seed + " n " + n
                                    + " mean " + meanStd[0] + " std " + meanStd[1]);
                        }
                    }
                    for (double[] range : new double[][] {{0, 1}, {-1, 1}, {-0.3, 7.1}}) {
                        Torch.manualSeed(seed);
                        Libtorch.manualSeed(seed);
                        try (Tensor mine = Torch.empty(dtype, n).uniform_(range[0], range[1]);
                             Tensor theirs = Libtorch.uniform(dtype, range[0], range[1], n)) {
                            assertBitIdentical(theirs, mine, () -> dtype + " uniform_ seed " + seed + " n " + n
                                    + " [" + range[0] + ", " + range[1] + ")");
                        }
                    }
                }
            }
        }
    }

    @Test
    void conversionsToAndFromFloat32AreLibtorchs() {
        SplittableRandom random = new SplittableRandom(32);
        float[] values = new float[5000];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.intBitsToFloat(random.nextInt());
        }
        for (DType dtype : HALVES) {
            try (Tensor wide = Torch.tensor(values);
                 Tensor narrow = wide.to(dtype);
                 Tensor viaFactory = Torch.tensor(values, dtype);
                 Tensor back = narrow.to(DType.FLOAT32);
                 Tensor torchNarrow = Libtorch.convert(wide, dtype);
                 Tensor torchBack = Libtorch.convert(narrow, DType.FLOAT32)) {
                short[] mine = HalfTensors.toBits(narrow);
                short[] theirs = HalfTensors.toBits(torchNarrow);
                for (int i = 0; i < values.length; i++) {
                    boolean nan = Float.isNaN(values[i]);
                    assertTrue(nan ? Float.isNaN(value(dtype, theirs[i])) && Float.isNaN(value(dtype, mine[i]))
                            : mine[i] == theirs[i], dtype + " of " + values[i]);
                }
                assertBitIdentical(narrow, viaFactory, () -> dtype + " Torch.tensor(float[], dtype)");
                assertBitIdentical(torchBack, back, () -> dtype + " widened back");
            }
        }
    }
}
