package io.jembed.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingFromPretrainedOptions;
import io.jembed.nn.EmbeddingOptions;
import io.jembed.nn.functional.F;
import org.junit.jupiter.api.Test;

/** The weight gradient of an embedding, as PyTorch's autograd and its tests (test/nn/test_embedding.py) pin it. */
class EmbeddingBackwardTest {

    private static Tensor ones(Tensor like) {
        return Torch.ones(like.dtype(), like.shape());
    }

    /** Worked by hand: padding row 0 gets nothing, row 1 gets 1/1, row 2 gets (1 + 1) / 2. */
    @Test
    void scaleGradByFreqDividesByTheCountOverTheWholeInput() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(3, 6).paddingIdx(0).scaleGradByFreq(true));
             Tensor out = embedding.forward(Torch.tensor(new long[][] {{2, 1, 0, 2}}))) {
            out.backward(ones(out));
            float[] grad = embedding.weight().grad().toFloatArray();
            for (int j = 0; j < 6; j++) {
                assertEquals(0f, grad[j]);
                assertEquals(1f, grad[6 + j]);
                assertEquals(1f, grad[12 + j]);
            }
        }
    }

    @Test
    void denseGradientSumsTheUpstreamRowsOfEachIndex() {
        try (Tensor w = Torch.zeros(DType.FLOAT64, 4, 2);
             Embedding embedding = Embedding.fromPretrained(w, new EmbeddingFromPretrainedOptions().freeze(false));
             Tensor out = embedding.forward(Torch.tensor(new long[] {3, 1, 3}));
             Tensor upstream = Torch.tensor(new double[][] {{1, 2}, {10, 20}, {100, 200}})) {
            out.backward(upstream);
            assertArrayEquals(new double[] {0, 0, 10, 20, 0, 0, 101, 202}, w.grad().toDoubleArray());
            out.backward(upstream);
            assertArrayEquals(new double[] {0, 0, 20, 40, 0, 0, 202, 404}, w.grad().toDoubleArray(),
                    "a second backward accumulates");
        }
    }

    /** T21: sparse gradients keep input order and duplicates, and accumulate by concatenation. */
    @Test
    void sparseGradientIsTheUncoalescedInputOrderAndAccumulatesByConcatenation() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(10, 3).sparse(true).dtype(DType.FLOAT64))) {
            Tensor out = embedding.forward(Torch.tensor(new long[] {7, 1, 3}));
            out.backward(ones(out));
            SparseTensor grad = embedding.weight().sparseGrad();
            assertArrayEquals(new long[] {1, 3}, grad.indices().shape());
            assertArrayEquals(new long[] {7, 1, 3}, grad.indices().toLongArray());
            assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, grad.values().toDoubleArray());
            assertArrayEquals(new long[] {10, 3}, grad.shape());
            out.backward(ones(out));
            assertArrayEquals(new long[] {7, 1, 3, 7, 1, 3}, embedding.weight().sparseGrad().indices().toLongArray());
            Tensor other = embedding.forward(Torch.tensor(new long[] {8, 1, 3}));
            embedding.zeroGrad();
            out.backward(ones(out));
            other.backward(ones(other));
            assertArrayEquals(new long[] {7, 1, 3, 8, 1, 3}, embedding.weight().sparseGrad().indices().toLongArray());
            IllegalStateException dense = assertThrows(IllegalStateException.class, () -> embedding.weight().grad());
            assertTrue(dense.getMessage().contains("sparseGrad()"));
        }
    }

    @Test
    void sparseGradientDropsPaddingAndCoalescesToTheDenseGradient() {
        Generator g = new Generator(4);
        try (Tensor w = Torch.randn(g, DType.FLOAT64, 6, 3);
             Tensor idx = Torch.tensor(new long[][] {{0, 2, 5}, {2, 2, 1}});
             Tensor upstream = Torch.randn(g, DType.FLOAT64, 2, 3, 3);
             SparseTensor sparse = F.embeddingSparseBackward(upstream, idx, 6, 5L, false);
             Tensor dense = F.embeddingDenseBackward(upstream, idx, 6, 5L, false);
             SparseTensor coalesced = sparse.coalesce();
             Tensor fromSparse = sparse.toDense()) {
            assertArrayEquals(new long[] {0, 2, 2, 2, 1}, sparse.indices().toLongArray());
            assertArrayEquals(new long[] {0, 1, 2}, coalesced.indices().toLongArray());
            assertTrue(coalesced.isCoalesced());
            assertTrue(Torch.allclose(dense, fromSparse, 1e-15, 0));
        }
    }

    /** T4/T5: empty inputs give empty sparse gradients of the weight's shape. */
    @Test
    void emptyInputGivesAnEmptySparseGradient() {
        try (Tensor upstream = Torch.empty(DType.FLOAT32, 0, 0);
             SparseTensor grad = F.embeddingSparseBackward(upstream, Torch.empty(DType.INT64, 0), 0, null, false)) {
            assertEquals(0, grad.nnz());
            assertArrayEquals(new long[] {0, 0}, grad.shape());
        }
    }

    /** T22: the renorm is invisible to autograd: the gradient is that of the plain lookup. */
    @Test
    void maxNormDoesNotChangeTheGradient() {
        try (Tensor w = Torch.randn(new Generator(0), DType.FLOAT32, 4, 4)) {
            w.copy_(w); // keeps w; rows are scaled below by max_norm in the forward
            for (long i = 0; i < 16; i++) {
                w.set(w.getDouble(i / 4, i % 4) * 2, i / 4, i % 4);
            }
            Embedding embedding = Embedding.fromPretrained(w, new EmbeddingFromPretrainedOptions().freeze(false)
                    .maxNorm(1.0));
            Tensor out = embedding.forward(Torch.tensor(new long[] {0, 1, 2, 2}));
            out.backward(ones(out));
            float[] grad = w.grad().toFloatArray();
            float[] expected = {1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0};
            assertArrayEquals(expected, grad);
        }
    }

    /** T24: the padding row's gradient stays exactly zero however often it occurs. */
    @Test
    void paddingRowGetsNoGradient() {
        for (int n : new int[] {1, 2, 1000}) {
            for (long[] others : new long[][] {{}, {1, 3}, {2}}) {
                try (Embedding embedding = new Embedding(new EmbeddingOptions(5, 2).paddingIdx(0))) {
                    long[] idx = new long[n + others.length];
                    System.arraycopy(others, 0, idx, n, others.length);
                    Tensor out = embedding.forward(Torch.tensor(idx));
                    out.backward(ones(out));
                    float[] grad = embedding.weight().grad().toFloatArray();
                    assertEquals(0f, grad[0]);
                    assertEquals(0f, grad[1]);
                }
            }
        }
    }

    @Test
    void sparseWithScaleGradByFreqFailsAtBackwardTime() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(5, 2).sparse(true).scaleGradByFreq(true))) {
            Tensor out = embedding.forward(Torch.tensor(new long[] {1, 1}));
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> out.backward(ones(out)));
            assertEquals("embedding_backward: scale_grad_by_freq not supported with sparse gradients", e.getMessage());
        }
    }

    @Test
    void frozenWeightTakesNoGradient() {
        try (Tensor w = Torch.zeros(DType.FLOAT32, 3, 2);
             Embedding embedding = Embedding.fromPretrained(w)) {
            Tensor out = embedding.forward(Torch.tensor(new long[] {1}));
            assertNull(out.gradFn());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> out.backward(ones(out)));
            assertTrue(e.getMessage().contains("does not require grad"));
            assertNull(w.grad());
        }
        try (Embedding frozen = new Embedding(new EmbeddingOptions(3, 2).freeze(true))) {
            assertTrue(!frozen.requiresGrad());
        }
    }

    @Test
    void zeroGradForgetsTheGradientAndTheNextBackwardStartsFromZero() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(1000, 4).dtype(DType.FLOAT64))) {
            Tensor a = embedding.forward(Torch.tensor(new long[] {5, 6}));
            a.backward(ones(a));
            embedding.zeroGrad();
            assertNull(embedding.weight().grad());
            Tensor b = embedding.forward(Torch.tensor(new long[] {6, 7}));
            b.backward(ones(b));
            double[] grad = embedding.weight().grad().toDoubleArray();
            assertEquals(0.0, grad[5 * 4], "row 5 was cleared");
            assertEquals(1.0, grad[6 * 4]);
            assertEquals(1.0, grad[7 * 4]);
        }
    }

    @Test
    void outputPrintsItsGradFn() {
        try (Embedding embedding = new Embedding(new EmbeddingOptions(3, 1).generator(new Generator(1)));
             Tensor out = embedding.forward(Torch.scalarTensor(0))) {
            assertTrue(out.toString().endsWith(", grad_fn=<EmbeddingBackward0>)"), out.toString());
        }
    }

    @Test
    void backwardRejectsAGradientOfTheWrongShape() {
        try (Embedding embedding = new Embedding(3, 2)) {
            Tensor out = embedding.forward(Torch.tensor(new long[] {1, 2}));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> out.backward(Torch.ones(DType.FLOAT32, 2, 3)));
            assertTrue(e.getMessage().contains("shape [2, 2]"), e.getMessage());
            assertNull(embedding.weight().grad());
        }
    }
}
