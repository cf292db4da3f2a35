package io.jembed.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.EmbeddingBagFuncOptions;
import io.jembed.nn.functional.F;
import org.junit.jupiter.api.Test;

/**
 * EmbeddingBag's behaviour on PyTorch's own test vectors ({@code test/nn/test_embedding.py}), with the expected
 * numbers worked out by hand: modes, empty bags, padding, per-sample weights and their gradient, include_last_offset,
 * 2-D input, the repr, and the constructor's checks.
 */
class EmbeddingBagSemanticsTest {
    /** {@code arange(1, 11).view(5, 2)} in {@code dtype}: rows [1,2], [3,4], [5,6], [7,8], [9,10]. */
    private static Tensor castTo(DType dtype) {
        Tensor t = Torch.empty(dtype, 5, 2);
        try (Tensor source = Torch.tensor(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5, 2)) {
            return t.copy_(source);
        }
    }

    private static double[] values(Tensor t) {
        return t.toDoubleArray();
    }

    /**
     * PyTorch's {@code _test_EmbeddingBag} known example: input [3, 1, 1, 1, 4, 0], offsets [0, 0, 3, 3, 6], so the
     * bags are [], [3, 1, 1], [], [1, 4, 0], []; upstream [[99, 99], [1, 2], [99, 99], [3, 4], [99, 99]].
     */
    @Test
    void pytorchsKnownExampleInEveryMode() {
        double[] upstream = {99, 99, 1, 2, 99, 99, 3, 4, 99, 99};
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (DType indexType : new DType[] {DType.INT64, DType.INT32}) {
                check(dtype, indexType, EmbeddingBagMode.SUM, upstream,
                        new double[] {0, 0, 13, 16, 0, 0, 13, 16, 0, 0},
                        new double[] {3, 4, 5, 8, 0, 0, 1, 2, 3, 4});
                check(dtype, indexType, EmbeddingBagMode.MEAN, upstream,
                        new double[] {0, 0, 13.0 / 3, 16.0 / 3, 0, 0, 13.0 / 3, 16.0 / 3, 0, 0},
                        new double[] {1, 4.0 / 3, 5.0 / 3, 8.0 / 3, 0, 0, 1.0 / 3, 2.0 / 3, 1, 4.0 / 3});
                check(dtype, indexType, EmbeddingBagMode.MAX, upstream,
                        new double[] {0, 0, 7, 8, 0, 0, 9, 10, 0, 0},
                        new double[] {0, 0, 0, 0, 0, 0, 1, 2, 3, 4});
            }
        }
    }

    private static void check(DType dtype, DType indexType, EmbeddingBagMode mode, double[] upstream,
                              double[] expectedOut, double[] expectedGrad) {
        String what = mode + " " + dtype + " " + indexType;
        try (Tensor weight = castTo(dtype).requiresGrad_(true);
             Tensor input = Torch.empty(indexType, 6).copy_(Torch.tensor(new long[] {3, 1, 1, 1, 4, 0}));
             Tensor offsets = Torch.empty(indexType, 5).copy_(Torch.tensor(new long[] {0, 0, 3, 3, 6}));
             Tensor out = F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().offsets(offsets).mode(mode));
             Tensor up = Torch.empty(dtype, 5, 2).copy_(Torch.tensor(upstream, 5, 2))) {
            assertArrayEquals(new long[] {5, 2}, out.shape(), what);
            assertArrayEquals(rounded(expectedOut, dtype), values(out), what + ": output");
            out.backward(up);
            assertArrayEquals(rounded(expectedGrad, dtype), values(weight.grad()), 1e-6, what + ": gradient");
        }
        // The same data as 2-D (2, 3) input, upstream [[1, 2], [3, 4]].
        try (Tensor weight = castTo(dtype).requiresGrad_(true);
             Tensor input = Torch.empty(indexType, 2, 3).copy_(Torch.tensor(new long[][] {{3, 1, 1}, {1, 4, 0}}));
             Tensor out = F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().mode(mode));
             Tensor up = Torch.empty(dtype, 2, 2).copy_(Torch.tensor(new double[] {1, 2, 3, 4}, 2, 2))) {
            assertArrayEquals(new long[] {2, 2}, out.shape(), what + " 2-D");
            double[] want = {expectedOut[2], expectedOut[3], expectedOut[6], expectedOut[7]};
            assertArrayEquals(rounded(want, dtype), values(out), what + ": 2-D output");
            out.backward(up);
            assertArrayEquals(rounded(expectedGrad, dtype), values(weight.grad()), 1e-6, what + ": 2-D gradient");
        }
    }

    private static double[] rounded(double[] values, DType dtype) {
        double[] out = values.clone();
        if (dtype == DType.FLOAT32) {
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) out[i];
            }
        }
        return out;
    }

    /**
     * W = [[1, 2], [3, 4], [5, 6]], input [0, 1, 0], offsets [0, 2], per_sample_weights [2, 3, 4], sum, upstream
     * [[1, 1], [2, 2]]: out [[2*1 + 3*3, 2*2 + 3*4], [4*1, 4*2]] = [[11, 16], [4, 8]]; grad_psw[i] = upstream[bag] .
     * W[idx] = [3, 7, 6]; grad_W[0] = 2*[1,1] + 4*[2,2] = [10, 10], grad_W[1] = 3*[1,1] = [3, 3].
     */
    @Test
    void perSampleWeightsScaleTheirRowsAndGetTheDotProductAsGradient() {
        try (Tensor weight = Torch.tensor(new double[][] {{1, 2}, {3, 4}, {5, 6}}).requiresGrad_(true);
             Tensor input = Torch.tensor(new long[] {0, 1, 0});
             Tensor offsets = Torch.tensor(new long[] {0, 2});
             Tensor psw = Torch.tensor(new double[] {2, 3, 4}).requiresGrad_(true);
             Tensor out = F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().offsets(offsets)
                     .mode(EmbeddingBagMode.SUM).perSampleWeights(psw));
             Tensor up = Torch.tensor(new double[][] {{1, 1}, {2, 2}})) {
            assertArrayEquals(new double[] {11, 16, 4, 8}, values(out));
            out.backward(up);
            assertArrayEquals(new double[] {3, 7, 6}, values(psw.grad()));
            assertArrayEquals(new double[] {10, 10, 3, 3, 0, 0}, values(weight.grad()));
        }
    }

    /**
     * include_last_offset: input [0, 1, 2], offsets [0, 2, 3] are two bags, [0, 1] and [2]; psw [2, 3, 4], upstream
     * [[1, 1], [10, 10]]: out [[11, 16], [20, 24]], grad_W [[2, 2], [3, 3], [40, 40]], grad_psw [3, 7, 110].
     */
    @Test
    void includeLastOffsetEndsTheLastBagAtTheLastOffset() {
        try (Tensor weight = Torch.tensor(new double[][] {{1, 2}, {3, 4}, {5, 6}}).requiresGrad_(true);
             Tensor input = Torch.tensor(new long[] {0, 1, 2});
             Tensor offsets = Torch.tensor(new long[] {0, 2, 3});
             Tensor psw = Torch.tensor(new double[] {2, 3, 4}).requiresGrad_(true);
             Tensor out = F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().offsets(offsets)
                     .mode("sum").perSampleWeights(psw).includeLastOffset(true));
             Tensor up = Torch.tensor(new double[][] {{1, 1}, {10, 10}})) {
            assertArrayEquals(new long[] {2, 2}, out.shape());
            assertArrayEquals(new double[] {11, 16, 20, 24}, values(out));
            out.backward(up);
            assertArrayEquals(new double[] {2, 2, 3, 3, 40, 40}, values(weight.grad()));
            assertArrayEquals(new double[] {3, 7, 110}, values(psw.grad()));
        }
    }

    /**
     * PyTorch's test_embedding_bag_empty_input: {@code EmbeddingBag(4, 3)} on an empty input with offsets [0] gives
     * zeros (1, 3), with [0, 0] zeros (2, 3); every int32/int64 combination.
     */
    @Test
    void emptyInputGivesZeroRowsForEveryOffsetDtype() {
        for (DType inputType : new DType[] {DType.INT64, DType.INT32}) {
            for (DType offsetType : new DType[] {DType.INT64, DType.INT32}) {
                for (int bags = 1; bags <= 2; bags++) {
                    try (EmbeddingBag bag = new EmbeddingBag(4, 3);
                         Tensor input = Torch.empty(inputType, 0);
                         Tensor offsets = Torch.zeros(offsetType, bags);
                         Tensor out = bag.forward(input, offsets)) {
                        assertArrayEquals(new long[] {bags, 3}, out.shape());
                        assertArrayEquals(new double[bags * 3], values(out));
                    }
                }
            }
        }
    }

    /**
     * padding_idx: entries equal to it leave their bag, MEAN divides by the rest, a bag of padding only is zeros, and
     * the padding row gets no gradient. {@code padding_idx=1} on the table above; input [1, 2, 1, 1, 3], offsets
     * [0, 3]: bag 0 = [1, 2, 1] -> only row 2 = [5, 6]; bag 1 = [1, 3] -> row 3 = [7, 8].
     */
    @Test
    void paddingEntriesLeaveTheirBag() {
        try (Tensor weight = castTo(DType.FLOAT64).requiresGrad_(true);
             Tensor input = Torch.tensor(new long[] {1, 2, 1, 1, 3});
             Tensor offsets = Torch.tensor(new long[] {0, 3});
             Tensor out = F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().offsets(offsets)
                     .paddingIdx(1));
             Tensor up = Torch.ones(DType.FLOAT64, 2, 2)) {
            assertArrayEquals(new double[] {5, 6, 7, 8}, values(out));
            out.backward(up);
            assertArrayEquals(new double[] {0, 0, 0, 0, 1, 1, 1, 1, 0, 0}, values(weight.grad()));
        }
        for (EmbeddingBagMode mode : EmbeddingBagMode.values()) {
            try (Tensor weight = castTo(DType.FLOAT32);
                 Tensor input = Torch.tensor(new long[][] {{4, 4}, {2, 4}});
                 Tensor out = F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().mode(mode)
                         .paddingIdx(-1))) {
                assertArrayEquals(new double[] {0, 0, 5, 6}, values(out), mode + ": all-padding bag is zeros");
            }
        }
    }

    /** PyTorch's test_embeddingbag_from_pretrained: input [[0, 1]] over [[1, 2, 3], [4, 5, 6]] is the mean. */
    @Test
    void fromPretrainedIsFrozenSharedAndMeanByDefault() {
        try (Tensor a = Torch.tensor(new float[][] {{1, 2, 3}, {4, 5, 6}});
             EmbeddingBag bag = EmbeddingBag.fromPretrained(a);
             Tensor out = bag.forward(Torch.tensor(new long[][] {{0, 1}}))) {
            assertSame(a, bag.weight());
            assertFalse(bag.requiresGrad());
            assertNull(out.gradFn());
            assertArrayEquals(new double[] {2.5, 3.5, 4.5}, values(out));
            assertEquals("EmbeddingBag(2, 3, mode='mean')", bag.toString());
        }
    }

    @Test
    void reprMatchesPytorchs() {
        try (EmbeddingBag a = new EmbeddingBag(new EmbeddingBagOptions(10, 3).mode("sum"));
             EmbeddingBag b = new EmbeddingBag(new EmbeddingBagOptions(10, 3).mode("sum").paddingIdx(-8));
             EmbeddingBag c = new EmbeddingBag(new EmbeddingBagOptions(10, 3).maxNorm(1).normType(1)
                     .scaleGradByFreq(true).mode(EmbeddingBagMode.MEAN).sparse(true).includeLastOffset(true));
             EmbeddingBag d = new EmbeddingBag(new EmbeddingBagOptions(4, 2).mode(EmbeddingBagMode.MAX))) {
            assertEquals("EmbeddingBag(10, 3, mode='sum')", a.toString());
            assertEquals("EmbeddingBag(10, 3, mode='sum', padding_idx=2)", b.toString());
            assertEquals("EmbeddingBag(10, 3, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, mode='mean')",
                    c.toString());
            assertEquals("EmbeddingBag(4, 2, mode='max')", d.toString());
        }
    }

    /** A new module: N(0, 1) with the padding row zeroed; the module's padding_idx message has a lower-case p. */
    @Test
    void constructorZeroesThePaddingRowAndChecksItsRange() {
        try (EmbeddingBag bag = new EmbeddingBag(new EmbeddingBagOptions(5, 4).paddingIdx(-2))) {
            assertEquals(3L, bag.paddingIdx());
            for (int j = 0; j < 4; j++) {
                assertEquals(0.0, bag.weight().getDouble(3, j));
            }
            assertTrue(bag.requiresGrad());
        }
        for (long bad : new long[] {5, 6, -6}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new EmbeddingBag(new EmbeddingBagOptions(5, 4).paddingIdx(bad)));
            assertTrue(e.getMessage().startsWith("padding_idx must be within num_embeddings"), e.getMessage());
            assertTrue(e.getMessage().contains(String.valueOf(bad)), e.getMessage());
        }
    }

    /** F.embedding_bag's padding_idx range is [-V, V) with ATen's message (test_embedding_bag_padding_idx_error). */
    @Test
    void functionalPaddingIdxRangeIsMinusVToV() {
        try (Tensor weight = Torch.zeros(DType.FLOAT32, 4, 3); Tensor input = Torch.tensor(new long[][] {{0, 1}})) {
            for (long p = -6; p < 6; p++) {
                long padding = p;
                if (p >= -4 && p <= 3) {
                    F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().paddingIdx(padding)).close();
                } else {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().paddingIdx(padding)));
                    assertEquals("padding_idx must be within the number of embeddings, -4 through 3, but got " + p,
                            e.getMessage());
                }
            }
        }
    }

    /** max_norm renormalises the looked-up rows in place before pooling (test_embeddingbag_from_pretrained_options). */
    @Test
    void maxNormRenormalisesTheCallersTableBeforeMax() {
        try (Tensor a = Torch.tensor(new double[][] {{1, 2, 3}, {4, 5, 6}});
             EmbeddingBag bag = EmbeddingBag.fromPretrained(a, new EmbeddingBagFromPretrainedOptions()
                     .maxNorm(2).normType(0.5).mode("max"));
             Tensor out = bag.forward(Torch.tensor(new long[][] {{0, 1}}))) {
            // Rows scaled by 2 / (0.5-norm + 1e-7) (values in pytorch-semantics.md §3, computed by hand).
            assertEquals(0.1163365, a.getDouble(0, 0), 1e-7);
            assertEquals(0.1789842, a.getDouble(1, 0), 1e-7);
            for (int j = 0; j < 3; j++) {
                assertEquals(Math.max(a.getDouble(0, j), a.getDouble(1, j)), out.getDouble(0, j));
            }
        }
    }
}
