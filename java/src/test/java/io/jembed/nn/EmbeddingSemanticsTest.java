package io.jembed.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.F;
import org.junit.jupiter.api.Test;

/**
 * PyTorch's behaviour as its own tests pin it (test/nn/test_embedding.py; case names in each Javadoc), and the
 * shape rules of {@code F.embedding}.
 */
class EmbeddingSemanticsTest {

    @Test
    void zeroDimensionalInputGivesOneRowOfShapeH() {
        try (Embedding embedding = new Embedding(5, 4);
             Tensor out = embedding.forward(Torch.scalarTensor(3))) {
            assertArrayEquals(new long[] {4}, out.shape());
            for (int j = 0; j < 4; j++) {
                assertEquals(embedding.weight().getDouble(3, j), out.getDouble(j));
            }
        }
    }

    @Test
    void emptyInputGivesEmptyOutputWithTheInputShapeAndH() {
        try (Embedding embedding = new Embedding(5, 4);
             Tensor input = Torch.empty(DType.INT64, 2, 0);
             Tensor out = embedding.forward(input);
             Tensor flatInput = Torch.empty(DType.INT32, 0);
             Tensor flatOut = embedding.forward(flatInput)) {
            assertArrayEquals(new long[] {2, 0, 4}, out.shape());
            assertArrayEquals(new long[] {0, 4}, flatOut.shape());
        }
    }

    /** T5: no bounds check runs on empty input, so even a (0, 0) weight works. */
    @Test
    void emptyInputWorksOnAnEmptyTable() {
        try (Embedding embedding = new Embedding(0, 0);
             Tensor out = embedding.forward(Torch.empty(DType.INT64, 0))) {
            assertArrayEquals(new long[] {0, 0}, out.shape());
        }
    }

    @Test
    void int32AndInt64IndicesGiveTheSameRows() {
        try (Embedding embedding = new Embedding(20, 7);
             Tensor wide = Torch.tensor(new long[] {0, 19, 5, 5, 3}, 5);
             Tensor narrow = Torch.tensor(new int[] {0, 19, 5, 5, 3}, 5);
             Tensor a = embedding.forward(wide);
             Tensor b = embedding.forward(narrow)) {
            assertTrue(Torch.equal(a, b));
        }
    }

    @Test
    void outputHasTheWeightDtype() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(4, 2).dtype(DType.FLOAT64));
             Tensor out = embedding.forward(Torch.tensor(new long[] {1}))) {
            assertEquals(DType.FLOAT64, out.dtype());
        }
    }

    /** T24: {@code padding_idx=-2} with 10 rows is stored as 8, and row 8 is zero. */
    @Test
    void negativePaddingIdxCountsFromTheEnd() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(10, 20).paddingIdx(-2))) {
            assertEquals(8L, embedding.paddingIdx());
            for (int j = 0; j < 20; j++) {
                assertEquals(0.0, embedding.weight().getDouble(8, j));
            }
        }
    }

    /** T24 (3): the forward returns whatever the padding row holds; it never masks it. */
    @Test
    void forwardDoesNotMaskThePaddingRow() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(10, 20).paddingIdx(2).sparse(true))) {
            for (int j = 0; j < 20; j++) {
                embedding.weight().set(1, 2, j);
            }
            try (Tensor out = embedding.forward(Torch.tensor(new long[] {0, 2}))) {
                for (int j = 0; j < 20; j++) {
                    assertEquals(1.0, out.getDouble(1, j));
                }
            }
        }
    }

    @Test
    void resetParametersRedrawsTheWeightAndZeroesThePaddingRowAgain() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(6, 4).paddingIdx(1))) {
            Tensor before = embedding.weight().clone();
            embedding.weight().fill_(5);
            embedding.resetParameters();
            assertNotEquals(before.getDouble(0, 0), embedding.weight().getDouble(0, 0));
            for (int j = 0; j < 4; j++) {
                assertEquals(0.0, embedding.weight().getDouble(1, j));
                assertNotEquals(5.0, embedding.weight().getDouble(3, j));
            }
            before.close();
        }
    }

    @Test
    void sameGeneratorSeedGivesTheSameWeights() {
        try (Embedding a = new Embedding(new EmbeddingOptions(50, 8).generator(new Generator(42)));
             Embedding b = new Embedding(new EmbeddingOptions(50, 8).generator(new Generator(42)));
             Embedding c = new Embedding(new EmbeddingOptions(50, 8).generator(new Generator(43)))) {
            assertTrue(Torch.equal(a.weight(), b.weight()));
            assertTrue(!Torch.equal(a.weight(), c.weight()));
        }
    }

    /** T9: from_pretrained does not zero the padding row. */
    @Test
    void fromPretrainedKeepsThePaddingRow() {
        try (Tensor pretrained = Torch.rand(new Generator(1), DType.FLOAT32, 4, 3)) {
            for (int j = 0; j < 3; j++) {
                pretrained.set(7, 2, j);
            }
            try (Embedding embedding = Embedding.fromPretrained(pretrained,
                    new EmbeddingFromPretrainedOptions().paddingIdx(2))) {
                for (int j = 0; j < 3; j++) {
                    assertEquals(7.0, embedding.weight().getDouble(2, j));
                }
            }
        }
    }

    /** from_pretrained shares the caller's tensor (no copy), and closing the module leaves it open. */
    @Test
    void fromPretrainedSharesTheTensorAndLeavesItOpen() {
        Tensor pretrained = Torch.tensor(new float[][] {{1, 2}, {3, 4}});
        Embedding embedding = Embedding.fromPretrained(pretrained);
        assertSame(pretrained, embedding.weight());
        embedding.close();
        assertEquals(4.0, pretrained.getDouble(1, 1));
        pretrained.close();
    }

    /** T7: any weight dtype can be looked up (the lookup copies bits). */
    @Test
    void integerWeightsCanBeLookedUp() {
        try (Tensor ints = Torch.tensor(new int[][] {{1, 2, 3}, {4, 5, 6}});
             Tensor longs = Torch.tensor(new long[][] {{1, 2, 3}, {4, 5, 6}});
             Tensor idx = Torch.tensor(new long[] {1, 0});
             Tensor a = Embedding.fromPretrained(ints).forward(idx);
             Tensor b = Embedding.fromPretrained(longs).forward(idx)) {
            assertArrayEquals(new int[] {4, 5, 6, 1, 2, 3}, a.toIntArray());
            assertArrayEquals(new long[] {4, 5, 6, 1, 2, 3}, b.toLongArray());
            assertEquals(DType.INT32, a.dtype());
        }
    }

    /** T6: {@code Embedding(22, 5, max_norm=1.0)} on {@code [2, 8, 8, 6]}: duplicates renormalise once. */
    @Test
    void maxNormRenormalisesEachDistinctRowOnce() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(22, 5).maxNorm(1.0));
             Tensor out = embedding.forward(Torch.tensor(new long[] {2, 8, 8, 6}))) {
            for (int j = 0; j < 5; j++) {
                assertEquals(out.getDouble(1, j), out.getDouble(2, j));
            }
            for (int i = 0; i < 4; i++) {
                double sum = 0;
                for (int j = 0; j < 5; j++) {
                    sum += out.getDouble(i, j) * out.getDouble(i, j);
                }
                assertTrue(Math.sqrt(sum) <= 1.0 + 1e-6);
            }
        }
    }

    /**
     * T11: from_pretrained({@code [[1,2,3],[4,5,6]]}, max_norm=2, norm_type=0.5, sparse=True) on {@code [0, 1]}:
     * the caller's tensor is renormalised in place. Expected values worked out by hand from PyTorch's formula
     * (row 0: 0.5-norm 17.1915082, scale 2 / (17.1915082 + 1e-7) = 0.1163365053; row 1: 44.6966820, 0.0447460506).
     */
    @Test
    void maxNormWithFractionalNormTypeRescalesTheCallersTensor() {
        try (Tensor a = Torch.tensor(new double[][] {{1, 2, 3}, {4, 5, 6}});
             Embedding embedding = Embedding.fromPretrained(a, new EmbeddingFromPretrainedOptions().maxNorm(2.0)
                     .normType(0.5).sparse(true));
             Tensor out = embedding.forward(Torch.tensor(new long[] {0, 1}))) {
            double[] expected = {0.1163365, 0.2326730, 0.3490095, 0.1789842, 0.2237303, 0.2684763};
            assertArrayEquals(expected, a.toDoubleArray(), 1e-7);
            assertTrue(Torch.equal(a, out));
            for (int row = 0; row < 2; row++) {
                double root = 0;
                for (int j = 0; j < 3; j++) {
                    root += Math.sqrt(a.getDouble(row, j));
                }
                assertTrue(root * root <= 2.0);
            }
        }
    }

    /** {@code max_norm=0} zeroes every looked-up row with a positive norm, and leaves a zero row alone. */
    @Test
    void maxNormZeroZeroesLookedUpRows() {
        try (Tensor w = Torch.tensor(new float[][] {{3, 4}, {0, 0}, {1, 1}});
             Tensor out = F.embedding(Torch.tensor(new long[] {0, 1}), w, null, 0.0, 2.0, false, false)) {
            assertArrayEquals(new float[] {0, 0, 0, 0, 1, 1}, w.toFloatArray());
            assertArrayEquals(new float[] {0, 0, 0, 0}, out.toFloatArray());
        }
    }

    /** Row [3, 4] with max_norm 1 becomes [3, 4] / (5 + 1e-7), computed in double and applied in float. */
    @Test
    void renormScaleIsMaxNormOverNormPlusEpsilon() {
        try (Tensor w = Torch.tensor(new float[][] {{3, 4}});
             Tensor out = F.embedding(Torch.tensor(new long[] {0}), w, null, 1.0, 2.0, false, false)) {
            float scale = (float) (1.0 / (5.0 + 1e-7));
            assertArrayEquals(new float[] {3 * scale, 4 * scale}, w.toFloatArray());
        }
    }

    @Test
    void normTypeInfinityUsesTheLargestMagnitude() {
        try (Tensor w = Torch.tensor(new double[][] {{-3, 2}, {0.5, -0.25}})) {
            F.embedding(Torch.tensor(new long[] {0, 1}), w, null, 1.0, Double.POSITIVE_INFINITY, false, false).close();
            double scale = 1.0 / (3 + 1e-7);
            assertArrayEquals(new double[] {-3 * scale, 2 * scale, 0.5, -0.25}, w.toDoubleArray(), 0);
        }
    }

    /** T12: F.embedding equals the module, and with padding_idx the forward still returns the padding row. */
    @Test
    void functionalFormEqualsTheModule() {
        try (Tensor w = Torch.rand(new Generator(3), DType.FLOAT32, 4, 3);
             Tensor a = Torch.tensor(new long[][] {{1, 3, 2}, {0, 2, 1}});
             Embedding module = Embedding.fromPretrained(w, new EmbeddingFromPretrainedOptions().paddingIdx(2));
             Tensor fromModule = module.forward(a);
             Tensor fromFunction = F.embedding(a, w, 2L, null, 2.0, false, false)) {
            assertTrue(Torch.equal(fromModule, fromFunction));
            assertEquals(w.getDouble(2, 0), fromFunction.getDouble(0, 2, 0));
        }
    }

    @Test
    void forwardIntoCallerOutputEqualsAllocatingForward() {
        try (Embedding embedding = new Embedding(100, 16);
             Tensor idx = Torch.tensor(new long[] {5, 99, 0, 5});
             Tensor expected = embedding.forward(idx);
             Tensor out = Torch.zeros(DType.FLOAT32, 4, 16)) {
            embedding.forward(idx, out);
            assertTrue(Torch.equal(expected, out));
        }
    }

    @Test
    void paddingIdxIsNullWhenNotGiven() {
        try (Embedding embedding = new Embedding(3, 2)) {
            assertNull(embedding.paddingIdx());
            assertNull(embedding.maxNorm());
            assertEquals(2.0, embedding.normType());
            assertTrue(embedding.requiresGrad());
        }
    }

    @Test
    void setWeightReplacesTheTableWithoutZeroingPadding() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(2, 2).paddingIdx(0));
             Tensor replacement = Torch.tensor(new float[][] {{9, 9}, {1, 2}})) {
            embedding.setWeight(replacement);
            try (Tensor out = embedding.forward(Torch.tensor(new long[] {0}))) {
                assertArrayEquals(new float[] {9, 9}, out.toFloatArray());
            }
        }
    }
}
