package io.jembed.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagFromPretrainedOptions;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.EmbeddingBagOptions;
import io.jembed.nn.functional.EmbeddingBagFuncOptions;
import io.jembed.nn.functional.F;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pooled lookup ({@code F.embeddingBag}, its zero-allocation form, {@code EmbeddingBag.forward},
 * {@code EmbeddingBag.fromPretrained(...).forward}) against libtorch 2.10's {@code at::embedding_bag} on hundreds of
 * random cases: every mode; int32 and int64 indices and offsets, mixed as PyTorch promotes them; 1-D input with
 * offsets and 2-D input; include_last_offset; per_sample_weights; padding_idx (none, positive, negative, and bags
 * made only of padding); max_norm (the weight renormalised in place first, compared too); empty bags, bags of one,
 * repeated rows; float32 and float64 weights with NaNs, infinities, signed zeros and subnormals.
 *
 * <p>Every result is bit-identical to libtorch's (a NaN matches any NaN: libtorch's FBGEMM kernels and the JVM do not
 * promise which operand's payload a sum propagates). That holds because libtorch's CPU order of summation is
 * reproducible: each bag sums its rows in position order from +0 (FBGEMM's {@code EmbeddingSpMDM} for float32 without
 * padding_idx, an axpy loop otherwise), per-sample weights are fused ({@code fma(w, row, acc)}), and MEAN divides the
 * sum once by the bag's non-padding count. The base seed is fixed; {@code -Djembed.test.seed=N} replaces it and
 * {@code -Djembed.test.cases=N} changes the number of cases. Every failure names the seed and the case.
 */
class EmbeddingBagMatchesLibtorchTest {
    private static final long FIXED_SEED = 0xBA6_F0D3L;
    private static final int CASES = 300;
    private static final long[] DIMS = {1, 2, 3, 7, 8, 9, 16, 31, 33, 64, 100};

    @BeforeAll
    static void loadLibtorch() {
        assertEquals(1, Libtorch.threads());
    }

    @Test
    void pooledLookupsAreBitIdenticalToLibtorchOnRandomCases() {
        long base = Reproduce.baseSeed(FIXED_SEED);
        int cases = Reproduce.cases(CASES);
        int[] coverage = new int[12];
        for (int c = 0; c < cases; c++) {
            long caseSeed = Reproduce.caseSeed(base, c);
            BagCase k = BagCase.draw(new SplittableRandom(caseSeed));
            String header = Reproduce.header(base, c, caseSeed) + k;
            checkCase(k, header);
            coverage[k.mode.ordinal()]++;
            coverage[3] += k.twoD ? 1 : 0;
            coverage[4] += k.includeLastOffset ? 1 : 0;
            coverage[5] += k.perSampleWeights != null ? 1 : 0;
            coverage[6] += k.paddingIdx != null ? 1 : 0;
            coverage[7] += k.maxNorm != null ? 1 : 0;
            coverage[8] += k.hasEmptyBag() ? 1 : 0;
            coverage[9] += k.indexType != k.offsetType ? 1 : 0;
            coverage[10] += k.hasAllPaddingBag() ? 1 : 0;
            coverage[11] += k.weightType == DType.FLOAT64 ? 1 : 0;
        }
        if (cases >= CASES) {
            for (int i = 0; i < coverage.length; i++) {
                assertTrue(coverage[i] >= 6, "coverage " + i + " too low: " + Arrays.toString(coverage)
                        + " (-D" + Reproduce.SEED_PROPERTY + "=" + base + ")");
            }
        }
    }

    private static void checkCase(BagCase k, String header) {
        try (Tensor original = k.weight();
             Tensor input = k.input();
             Tensor flatInput = k.flatInput();
             Tensor offsets = k.offsets();
             Tensor libtorchOffsets = k.libtorchOffsets();
             Tensor psw = k.perSampleWeights();
             Tensor flatPsw = k.flatPerSampleWeights();
             Libtorch.Bagged expected = Libtorch.embeddingBag(original, flatInput, libtorchOffsets, k.maxNorm,
                     k.normType, k.scaleGradByFreq, k.mode.ordinal(), k.sparse, flatPsw,
                     k.twoD ? false : k.includeLastOffset, k.normalisedPaddingIdx())) {
            assertArrayEquals(new long[] {k.numBags(), k.dim}, expected.output.shape(), header + ": libtorch's shape");
            try (Tensor weight = original.clone();
                 Tensor out = F.embeddingBag(input, weight, offsets, k.maxNorm, k.normType, k.scaleGradByFreq,
                         k.mode, k.sparse, psw, k.includeLastOffset, k.paddingIdx)) {
                assertSame(expected.weight, weight, header + ": the weight after F.embeddingBag");
                assertSame(expected.output, out, header + ": F.embeddingBag");
            }
            try (Tensor weight = original.clone();
                 Tensor out = Torch.full(k.weightType, 777, k.numBags(), k.dim)) {
                F.embeddingBag(input, weight, offsets, k.maxNorm, k.normType, k.mode, psw, k.includeLastOffset,
                        k.paddingIdx, out);
                assertSame(expected.output, out, header + ": F.embeddingBag(..., out)");
                assertSame(expected.weight, weight, header + ": the weight after F.embeddingBag(..., out)");
            }
            try (Tensor weight = original.clone()) {
                EmbeddingBagFuncOptions options = new EmbeddingBagFuncOptions().offsets(offsets).mode(k.mode)
                        .scaleGradByFreq(k.scaleGradByFreq).sparse(k.sparse).perSampleWeights(psw)
                        .includeLastOffset(k.includeLastOffset).normType(k.normType);
                if (k.maxNorm != null) {
                    options.maxNorm(k.maxNorm);
                }
                if (k.paddingIdx != null) {
                    options.paddingIdx(k.paddingIdx);
                }
                try (Tensor out = F.embeddingBag(input, weight, options)) {
                    assertSame(expected.output, out, header + ": F.embeddingBag(input, weight, options)");
                }
            }
            try (Tensor weight = original.clone()) {
                EmbeddingBagOptions options = new EmbeddingBagOptions(k.rows, k.dim).weight(weight).mode(k.mode)
                        .scaleGradByFreq(k.scaleGradByFreq).sparse(k.sparse).includeLastOffset(k.includeLastOffset)
                        .normType(k.normType);
                if (k.maxNorm != null) {
                    options.maxNorm(k.maxNorm);
                }
                if (k.paddingIdx != null) {
                    options.paddingIdx(k.paddingIdx);
                }
                try (EmbeddingBag module = new EmbeddingBag(options);
                     Tensor out = module.forward(input, offsets, psw)) {
                    assertSame(expected.output, out, header + ": new EmbeddingBag(options.weight(w)).forward");
                    assertSame(expected.weight, weight, header + ": the weight after EmbeddingBag.forward");
                }
            }
            try (Tensor weight = original.clone()) {
                EmbeddingBagFromPretrainedOptions options = new EmbeddingBagFromPretrainedOptions().mode(k.mode)
                        .scaleGradByFreq(k.scaleGradByFreq).sparse(k.sparse).includeLastOffset(k.includeLastOffset)
                        .normType(k.normType);
                if (k.maxNorm != null) {
                    options.maxNorm(k.maxNorm);
                }
                if (k.paddingIdx != null) {
                    options.paddingIdx(k.paddingIdx);
                }
                try (EmbeddingBag module = EmbeddingBag.fromPretrained(weight, options);
                     Tensor out = Torch.full(k.weightType, -5, k.numBags(), k.dim)) {
                    module.forward(input, offsets, psw, out);
                    assertSame(expected.output, out, header + ": EmbeddingBag.fromPretrained(w).forward(..., out)");
                }
            }
        }
    }

    /** Bit-identical, except that any NaN matches any NaN. */
    static void assertSame(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what + ": dtype");
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] want = expected.toDoubleArray();
        double[] got = actual.toDoubleArray();
        for (int i = 0; i < want.length; i++) {
            boolean same = Double.isNaN(want[i]) ? Double.isNaN(got[i])
                    : Double.doubleToRawLongBits(want[i]) == Double.doubleToRawLongBits(got[i]);
            if (!same) {
                long h = expected.dim() == 2 ? expected.size(1) : 1;
                fail(what + ": element " + i + " (row " + (h == 0 ? 0 : i / h) + ") expected " + want[i] + " ("
                        + Long.toHexString(Double.doubleToRawLongBits(want[i])) + ") but got " + got[i] + " ("
                        + Long.toHexString(Double.doubleToRawLongBits(got[i])) + ")");
            }
        }
    }
}
