package io.jembed.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.F;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gradients of the pooled lookup against libtorch 2.10's autograd ({@code torch::embedding_bag} on a weight that
 * requires grad, then {@code output.backward(upstream)}, which runs {@code _embedding_bag_backward}) on hundreds of
 * random cases: every mode, dense and sparse, per_sample_weights and their own gradient, padding_idx (bags of
 * padding only included), include_last_offset, 1-D and 2-D input, int32 and int64 indices and offsets.
 *
 * <p>Tolerances, and why:
 * <ul>
 *   <li>Dense weight gradient without scale_grad_by_freq: libtorch sorts the indices ({@code indices.sort()},
 *       unstable: libstdc++'s {@code std::sort}) and, for each row, accumulates {@code grad_out[bag]} times
 *       {@code (T) scale} in the order the sort left that row's lookups (BLAS {@code axpy}, one fused multiply-add
 *       per element; the scale, 1, 1/bag size or the per-sample weight, computed in double and cast once); jembed
 *       does the same fused multiply-adds in input order. Rows looked up once are therefore bit-identical; rows
 *       looked up n times agree within the bound of a reordered sum, {@code 2 (n + 1) u sum|terms|}. MAX is
 *       bit-identical.</li>
 *   <li>Sparse weight gradient: indices, values and shape bit-identical (values are the upstream rows times the cast
 *       scales, as libtorch's {@code _embedding_bag_sparse_backward} multiplies them).</li>
 *   <li>MAX: bit-identical (each element's gradient goes to the row that won it, bags in order).</li>
 *   <li>The per-sample weights' gradient is a dot product, which libtorch hands to BLAS ({@code dot_impl}) in an
 *       order of its own; jembed accumulates in double and rounds once. Bound: the classical one for a reordered sum,
 *       {@code |difference| <= 2 H u sum_j |g_j w_j|} (u the unit roundoff of the type).</li>
 *   <li>scale_grad_by_freq: jembed divides each lookup by the count of its own index in the whole input, as
 *       {@code Embedding} does. libtorch 2.10's CPU kernel divides by the count of another row at times (PyTorch
 *       issue #190063; {@link EmbeddingBagScaleGradByFreqTest} pins both), so these cases are compared with the
 *       intended value computed by libtorch's {@code embedding_dense_backward} (whose division is right) on each
 *       lookup's scaled upstream row, within {@code 4 (n + 1) u sum|terms|}: the two round the scaled terms
 *       differently ({@code scale / count} cast once against a rounded product divided by the count) and add them in
 *       other orders.</li>
 * </ul>
 * The base seed is fixed; {@code -Djembed.test.seed=N} replaces it and {@code -Djembed.test.cases=N} changes the
 * number of cases. Every failure names the seed and the case.
 */
class EmbeddingBagBackwardMatchesLibtorchTest {
    private static final long FIXED_SEED = 0xBA6_BAC4L;
    private static final int CASES = 300;

    @BeforeAll
    static void loadLibtorch() {
        assertEquals(1, LibtorchTraining.load());
    }

    @Test
    void gradientsMatchLibtorchOnRandomCases() {
        long base = Reproduce.baseSeed(FIXED_SEED);
        int cases = Reproduce.cases(CASES);
        int[] coverage = new int[6];
        for (int c = 0; c < cases; c++) {
            long caseSeed = Reproduce.caseSeed(base, c);
            SplittableRandom random = new SplittableRandom(caseSeed);
            BagCase k = BagCase.draw(random, false);
            k.maxNorm = null;
            boolean weightsNeedGrad = k.perSampleWeights != null && random.nextBoolean();
            String header = Reproduce.header(base, c, caseSeed) + k + ", per_sample_weights.requires_grad "
                    + weightsNeedGrad;
            checkCase(k, weightsNeedGrad, random, header);
            coverage[k.mode.ordinal()]++;
            coverage[3] += k.sparse ? 1 : 0;
            coverage[4] += weightsNeedGrad ? 1 : 0;
            coverage[5] += k.scaleGradByFreq && !k.sparse ? 1 : 0;
        }
        if (cases >= CASES) {
            for (int i = 0; i < coverage.length; i++) {
                assertTrue(coverage[i] >= 6, "coverage " + i + " too low: " + Arrays.toString(coverage)
                        + " (-D" + Reproduce.SEED_PROPERTY + "=" + base + ")");
            }
        }
    }

    private static void checkCase(BagCase k, boolean weightsNeedGrad, SplittableRandom random, String header) {
        long numBags = k.numBags();
        double[] up = new double[Math.toIntExact(numBags * k.dim)];
        for (int i = 0; i < up.length; i++) {
            up[i] = random.nextInt(10) == 0 ? 0 : (random.nextDouble() * 2 - 1) * Math.pow(10, random.nextInt(5) - 2);
        }
        try (Tensor weight = k.weight();
             Tensor input = k.input();
             Tensor flatInput = k.flatInput();
             Tensor offsets = k.offsets();
             Tensor libtorchOffsets = k.libtorchOffsets();
             Tensor psw = k.perSampleWeights();
             Tensor flatPsw = k.flatPerSampleWeights();
             Tensor upstream = floats(k.weightType, up, numBags, k.dim)) {
            if (k.sparse && k.scaleGradByFreq) {
                checkSparseWithScaleGradByFreqFailsAtBackward(k, weight, input, offsets, psw, upstream, header);
                return;
            }
            weight.requiresGrad_(true);
            if (psw != null) {
                psw.requiresGrad_(weightsNeedGrad);
            }
            try (Tensor out = F.embeddingBag(input, weight, offsets, null, 2.0, k.scaleGradByFreq, k.mode, k.sparse,
                    psw, k.includeLastOffset, k.paddingIdx)) {
                assertEquals("EmbeddingBagBackward0", out.gradFn().name(), header);
                out.backward(upstream);
            }
            weight.requiresGrad_(false);
            try (LibtorchTraining.BagGrads expected = LibtorchTraining.embeddingBagAutograd(weight, flatInput,
                    libtorchOffsets, k.scaleGradByFreq, k.mode.ordinal(), k.sparse, flatPsw, weightsNeedGrad,
                    !k.twoD && k.includeLastOffset, k.normalisedPaddingIdx(), upstream)) {
                if (k.sparse) {
                    SparseTensor got = weight.sparseGrad();
                    assertNotNull(got, header + ": a sparse gradient");
                    assertNotNull(expected.weight.sparse, header + ": libtorch's sparse gradient");
                    EmbeddingBagMatchesLibtorchTest.assertSame(expected.weight.sparse.indices, got.indices(),
                            header + ": sparse indices");
                    EmbeddingBagMatchesLibtorchTest.assertSame(expected.weight.sparse.values, got.values(),
                            header + ": sparse values");
                    assertArrayEquals(expected.weight.sparse.shape, got.shape(), header + ": sparse shape");
                } else if (k.scaleGradByFreq) {
                    try (Tensor intended = intendedScaledGradient(k, weight, upstream)) {
                        assertNearReorderedSum(intended, weight.grad(), k, upstream, 0, 4, header
                                + ": dense gradient with scale_grad_by_freq vs the intended value");
                    }
                } else {
                    assertDenseGradient(expected.weight.dense, weight.grad(), k, upstream,
                            header + ": dense gradient");
                }
                if (weightsNeedGrad) {
                    assertNotNull(psw.grad(), header + ": per_sample_weights.grad");
                    try (Tensor flatGrad = psw.grad().clone()) {
                        assertDotClose(expected.perSampleWeights, flatGrad, k, weight, upstream, header);
                    }
                } else if (psw != null) {
                    assertNull(psw.grad(), header + ": per_sample_weights took no gradient");
                }
            }
        }
    }

    private static void checkSparseWithScaleGradByFreqFailsAtBackward(BagCase k, Tensor weight, Tensor input,
                                                                     Tensor offsets, Tensor psw, Tensor upstream,
                                                                     String header) {
        weight.requiresGrad_(true);
        try (Tensor out = F.embeddingBag(input, weight, offsets, null, 2.0, true, k.mode, true, psw,
                k.includeLastOffset, k.paddingIdx)) {
            UnsupportedOperationException e = org.junit.jupiter.api.Assertions.assertThrows(
                    UnsupportedOperationException.class, () -> out.backward(upstream), header);
            assertTrue(e.getMessage().contains("scale_grad_by_freq not supported with sparse gradients"), header);
            assertNull(weight.sparseGrad(), header + ": no gradient after the failed backward");
        }
    }

    /**
     * What the gradient with scale_grad_by_freq should be: libtorch's {@code embedding_dense_backward} (which divides
     * each row by its own index's count) of every lookup's upstream row times its scale (per-sample weight, 1 /
     * bag size for MEAN), computed in double and rounded.
     */
    private static Tensor intendedScaledGradient(BagCase k, Tensor weight, Tensor upstream) {
        int n = k.indices.length;
        double[] g = upstream.toDoubleArray();
        double[] rows = new double[Math.toIntExact(n * k.dim)];
        Long pad = k.normalisedPaddingIdx();
        for (int b = 0; b < k.numBags(); b++) {
            long count = 0;
            for (long i = k.starts[b]; i < k.end(b); i++) {
                count += pad != null && k.indices[(int) i] == pad ? 0 : 1;
            }
            for (long i = k.starts[b]; i < k.end(b); i++) {
                double scale = k.perSampleWeights == null ? 1 : k.perSampleWeights[(int) i];
                if (k.weightType == DType.FLOAT32) {
                    scale = (float) scale;
                }
                if (k.mode == EmbeddingBagMode.MEAN && count > 0) {
                    scale /= count;
                }
                for (int j = 0; j < k.dim; j++) {
                    rows[(int) (i * k.dim + j)] = g[(int) (b * k.dim + j)] * scale;
                }
            }
        }
        try (Tensor expanded = floats(k.weightType, rows, n, k.dim); Tensor flat = k.flatInput()) {
            return LibtorchTraining.embeddingDenseBackward(expanded, flat, k.rows, pad == null ? -1 : pad, true);
        }
    }

    /**
     * MAX: bit-identical. SUM and MEAN: bit-identical in every row looked up once, and within
     * {@code 2 (n + 1) u sum|terms|} in rows looked up n > 1 times: libtorch visits a row's lookups in the order its
     * unstable {@code std::sort} of the indices leaves them, jembed in input order, and with fused multiply-adds even
     * two terms give other bits in the other order.
     */
    private static void assertDenseGradient(Tensor expected, Tensor actual, BagCase k, Tensor upstream, String what) {
        if (k.mode == EmbeddingBagMode.MAX) {
            EmbeddingBagMatchesLibtorchTest.assertSame(expected, actual, what);
            return;
        }
        assertNearReorderedSum(expected, actual, k, upstream, 1, 2, what);
    }

    /**
     * Every element within {@code factor (n + 1) u sum|terms|} of the expected one, n the number of lookups of its
     * row; and bit-identical where n is at most {@code exactUpTo}.
     */
    private static void assertNearReorderedSum(Tensor expected, Tensor actual, BagCase k, Tensor upstream,
                                               int exactUpTo, double factor, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what);
        assertArrayEquals(expected.shape(), actual.shape(), what);
        double u = k.weightType == DType.FLOAT32 ? 0x1p-24 : 0x1p-53;
        double[] g = upstream.toDoubleArray();
        long[] lookups = new long[Math.toIntExact(k.rows)];
        double[] magnitude = new double[Math.toIntExact(k.rows * k.dim)];
        Long pad = k.normalisedPaddingIdx();
        long[] occurrences = new long[Math.toIntExact(k.rows)];
        for (long index : k.indices) {
            occurrences[(int) index]++;
        }
        for (int b = 0; b < k.numBags(); b++) {
            long count = 0;
            for (long i = k.starts[b]; i < k.end(b); i++) {
                count += pad != null && k.indices[(int) i] == pad ? 0 : 1;
            }
            for (long i = k.starts[b]; i < k.end(b); i++) {
                int r = (int) k.indices[(int) i];
                if (pad != null && r == pad) {
                    continue;
                }
                lookups[r]++;
                double scale = k.perSampleWeights == null ? 1 : k.perSampleWeights[(int) i];
                scale /= k.mode == EmbeddingBagMode.MEAN ? count : 1;
                scale /= k.scaleGradByFreq ? occurrences[r] : 1;
                for (int j = 0; j < k.dim; j++) {
                    magnitude[(int) (r * k.dim + j)] += Math.abs(scale * g[(int) (b * k.dim + j)]);
                }
            }
        }
        double[] want = expected.toDoubleArray();
        double[] got = actual.toDoubleArray();
        for (int e = 0; e < want.length; e++) {
            long n = lookups[(int) (e / k.dim)];
            boolean same = Double.doubleToRawLongBits(want[e]) == Double.doubleToRawLongBits(got[e]);
            if (n <= exactUpTo && !same) {
                fail(what + ": element " + e + " of a row looked up " + n + " times must be bit-identical: expected "
                        + want[e] + " got " + got[e]);
            }
            double bound = factor * (n + 1) * u * magnitude[e];
            if (!same && !(Math.abs(want[e] - got[e]) <= bound)) {
                fail(what + ": element " + e + " (row looked up " + n + " times) expected " + want[e] + " got "
                        + got[e] + ", beyond the reordered-sum bound " + bound);
            }
        }
    }

    private static void assertDotClose(Tensor expected, Tensor actual, BagCase k, Tensor weight, Tensor upstream,
                                       String header) {
        double u = k.weightType == DType.FLOAT32 ? 0x1p-24 : 0x1p-53;
        double[] want = expected.toDoubleArray();
        double[] got = actual.toDoubleArray();
        assertEquals(want.length, got.length, header + ": per_sample_weights.grad size");
        double[] w = weight.toDoubleArray();
        double[] g = upstream.toDoubleArray();
        for (int b = 0; b < k.numBags(); b++) {
            for (long i = k.starts[b]; i < k.end(b); i++) {
                long r = k.indices[(int) i];
                double magnitude = 0;
                for (int j = 0; j < k.dim; j++) {
                    magnitude += Math.abs(g[(int) (b * k.dim + j)] * w[(int) (r * k.dim + j)]);
                }
                double bound = 2 * (k.dim + 1) * u * magnitude + Double.MIN_NORMAL;
                if (!(Math.abs(want[(int) i] - got[(int) i]) <= bound)) {
                    fail(header + ": per_sample_weights.grad[" + i + "] expected " + want[(int) i] + " got "
                            + got[(int) i] + " (bound " + bound + ")");
                }
            }
        }
    }

    static Tensor floats(DType type, double[] values, long... shape) {
        Tensor t = Torch.empty(type, shape);
        if (type == DType.FLOAT64) {
            return t.copyFrom(values);
        }
        float[] narrow = new float[values.length];
        for (int i = 0; i < narrow.length; i++) {
            narrow[i] = (float) values[i];
        }
        return t.copyFrom(narrow);
    }
}
