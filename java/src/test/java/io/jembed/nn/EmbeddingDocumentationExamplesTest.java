package io.jembed.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.EmbeddingFuncOptions;
import io.jembed.nn.functional.F;
import org.junit.jupiter.api.Test;

/**
 * Every example of PyTorch's {@code nn.Embedding}, {@code nn.Embedding.from_pretrained} and {@code F.embedding}
 * documentation (torch/nn/modules/sparse.py, torch/nn/functional.py), reproduced. Random tables are checked by
 * relation to the weight, since the docs' printed random values come from their own seeds.
 */
class EmbeddingDocumentationExamplesTest {

    /** {@code embedding = nn.Embedding(10, 3); embedding(torch.LongTensor([[1, 2, 4, 5], [4, 3, 2, 9]]))}. */
    @Test
    void batchOfTwoSamplesOfFourIndicesGivesTwoByFourByThree() {
        try (Embedding embedding = new Embedding(10, 3);
             Tensor input = Torch.tensor(new long[][] {{1, 2, 4, 5}, {4, 3, 2, 9}});
             Tensor out = embedding.forward(input)) {
            assertArrayEquals(new long[] {2, 4, 3}, out.shape());
            long[] flat = input.toLongArray();
            for (int i = 0; i < flat.length; i++) {
                for (int j = 0; j < 3; j++) {
                    assertEquals(embedding.weight().getDouble(flat[i], j), out.getDouble(i / 4, i % 4, j));
                }
            }
        }
    }

    /** {@code nn.Embedding(10, 3, padding_idx=0)} on {@code [[0, 2, 0, 5]]}: the padding rows come out as zeros. */
    @Test
    void paddingIdxRowIsZeroAfterConstruction() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(10, 3).paddingIdx(0));
             Tensor input = Torch.tensor(new long[][] {{0, 2, 0, 5}});
             Tensor out = embedding.forward(input)) {
            assertArrayEquals(new long[] {1, 4, 3}, out.shape());
            for (int j = 0; j < 3; j++) {
                assertEquals(0.0, out.getDouble(0, 0, j));
                assertEquals(0.0, out.getDouble(0, 2, j));
                assertEquals(embedding.weight().getDouble(2, j), out.getDouble(0, 1, j));
            }
        }
    }

    /**
     * "Example of changing `pad` vector": {@code nn.Embedding(3, 3, padding_idx=0)} has a zero row 0; after
     * {@code embedding.weight[padding_idx] = torch.ones(3)} the weight's row 0 is ones.
     */
    @Test
    void paddingVectorCanBeChangedInPlace() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(3, 3).paddingIdx(0))) {
            Tensor weight = embedding.weight();
            assertArrayEquals(new float[] {0, 0, 0}, java.util.Arrays.copyOf(weight.toFloatArray(), 3));
            for (int j = 0; j < 3; j++) {
                weight.set(1, 0, j);
            }
            assertArrayEquals(new float[] {1, 1, 1}, java.util.Arrays.copyOf(weight.toFloatArray(), 3));
            try (Tensor out = embedding.forward(Torch.scalarTensor(0))) {
                assertEquals("tensor([1., 1., 1.], grad_fn=<EmbeddingBackward0>)", out.toString());
            }
        }
    }

    /**
     * {@code weight = torch.FloatTensor([[1, 2.3, 3], [4, 5.1, 6.3]]); embedding = nn.Embedding.from_pretrained(weight);
     * embedding(torch.LongTensor([1]))} prints {@code tensor([[4.0000, 5.1000, 6.3000]])}.
     */
    @Test
    void fromPretrainedLooksUpTheGivenVectors() {
        try (Tensor weight = Torch.tensor(new float[][] {{1, 2.3f, 3}, {4, 5.1f, 6.3f}});
             Embedding embedding = Embedding.fromPretrained(weight);
             Tensor out = embedding.forward(Torch.tensor(new long[] {1}))) {
            assertEquals("tensor([[4.0000, 5.1000, 6.3000]])", out.toString());
            assertFalse(embedding.requiresGrad(), "from_pretrained freezes by default");
        }
    }

    /** {@code F.embedding(input, torch.rand(10, 3))} with {@code input = [[1, 2, 4, 5], [4, 3, 2, 9]]}. */
    @Test
    void functionalEmbeddingGathersRowsOfAnyMatrix() {
        try (Tensor input = Torch.tensor(new long[][] {{1, 2, 4, 5}, {4, 3, 2, 9}});
             Tensor matrix = Torch.rand(Torch.defaultGenerator(), DType.FLOAT32, 10, 3);
             Tensor out = F.embedding(input, matrix)) {
            assertArrayEquals(new long[] {2, 4, 3}, out.shape());
            assertEquals(matrix.getDouble(9, 2), out.getDouble(1, 3, 2));
            assertEquals(matrix.getDouble(1, 0), out.getDouble(0, 0, 0));
        }
    }

    /** {@code weights[0, :].zero_(); F.embedding([[0, 2, 0, 5]], weights, padding_idx=0)}: zero rows for index 0. */
    @Test
    void functionalEmbeddingWithPaddingIdxReturnsTheZeroedRow() {
        try (Tensor weights = Torch.rand(Torch.defaultGenerator(), DType.FLOAT32, 10, 3);
             Tensor input = Torch.tensor(new long[][] {{0, 2, 0, 5}})) {
            for (int j = 0; j < 3; j++) {
                weights.set(0, 0, j);
            }
            try (Tensor out = F.embedding(input, weights, new EmbeddingFuncOptions().paddingIdx(0))) {
                assertEquals(0.0, out.getDouble(0, 0, 1));
                assertEquals(0.0, out.getDouble(0, 2, 2));
                assertEquals(weights.getDouble(5, 1), out.getDouble(0, 3, 1));
            }
        }
    }

    /**
     * The max_norm note: {@code embedding = nn.Embedding(3, 5, max_norm=1.0)}; {@code a = embedding.weight.clone()}
     * keeps the old rows while {@code embedding(idx)} with {@code idx = [1, 2]} rescales rows 1 and 2 in place.
     */
    @Test
    void maxNormModifiesTheWeightInPlaceButNotAClone() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(3, 5).maxNorm(1.0));
             Tensor before = embedding.weight().clone();
             Tensor out = embedding.forward(Torch.tensor(new long[] {1, 2}))) {
            for (int row = 1; row <= 2; row++) {
                double oldNorm = rowNorm(before, row);
                double newNorm = rowNorm(embedding.weight(), row);
                if (oldNorm > 1.0) {
                    assertTrue(newNorm <= 1.0 + 1e-6, "row " + row + " renormalised to " + newNorm);
                    assertTrue(newNorm > 1.0 - 1e-5, "row " + row + " scaled to max_norm, not below: " + newNorm);
                } else {
                    assertEquals(oldNorm, newNorm);
                }
                for (int j = 0; j < 5; j++) {
                    assertEquals(embedding.weight().getDouble(row, j), out.getDouble(row - 1, j));
                }
            }
            for (int j = 0; j < 5; j++) {
                assertEquals(before.getDouble(0, j), embedding.weight().getDouble(0, j), "row 0 was not looked up");
            }
        }
    }

    private static double rowNorm(Tensor weight, long row) {
        double sum = 0;
        for (long j = 0; j < weight.size(1); j++) {
            sum += weight.getDouble(row, j) * weight.getDouble(row, j);
        }
        return Math.sqrt(sum);
    }

    /** {@code repr(nn.Embedding(10, 3, padding_idx=0))}. */
    @Test
    void reprMatchesPytorch() {
        try (Embedding plain = new Embedding(10, 3);
             Embedding padded = new Embedding(new EmbeddingOptions(10, 3).paddingIdx(0));
             Embedding all = new Embedding(new EmbeddingOptions(10, 3).paddingIdx(-2).maxNorm(1).normType(1)
                     .scaleGradByFreq(true).sparse(true))) {
            assertEquals("Embedding(10, 3)", plain.toString());
            assertEquals("Embedding(10, 3, padding_idx=0)", padded.toString());
            assertEquals("Embedding(10, 3, padding_idx=8, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, "
                    + "sparse=True)", all.toString());
        }
    }
}
