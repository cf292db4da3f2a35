package io.jembed.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.EmbeddingBagFuncOptions;
import io.jembed.nn.functional.F;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * jembed's one deliberate numerical difference from libtorch 2.10 in EmbeddingBag: with {@code scale_grad_by_freq},
 * jembed divides each lookup's gradient by the count of its own index in the whole input, as {@code Embedding} (and
 * libtorch's CUDA kernel) does. libtorch 2.10's CPU {@code _embedding_bag_dense_backward} divides by
 * {@code counts[sorted_indices[i]]} with {@code i} the group counter, not the group's index, so a row that occurs once
 * and sorts after a repeated one is divided by the wrong count (PyTorch issue #190063, fixed upstream after 2.10).
 * These tests pin both numbers: if a libtorch upgrade fixes the bug, the libtorch assertion fails and says so.
 */
class EmbeddingBagScaleGradByFreqTest {
    @BeforeAll
    static void loadLibtorch() {
        assertEquals(1, LibtorchTraining.load());
    }

    /**
     * #190063's own example: indices [1, 1, 3] in one bag, sum, upstream 1. Row 1 occurs twice: (1 + 1) / 2 = 1; row 3
     * once: 1 / 1 = 1. libtorch divides row 3 by the count of row 1 (the second group reads counts[sorted[1]] =
     * counts[1] = 2): 0.5.
     */
    @Test
    void eachLookupIsDividedByItsOwnIndexsCountWhereLibtorch210DividesByAnothers() {
        try (Tensor weight = Torch.ones(io.jembed.DType.FLOAT32, 4, 1);
             Tensor input = Torch.tensor(new long[] {1, 1, 3});
             Tensor offsets = Torch.tensor(new long[] {0});
             Tensor upstream = Torch.ones(io.jembed.DType.FLOAT32, 1, 1);
             LibtorchTraining.BagGrads libtorch = LibtorchTraining.embeddingBagAutograd(weight, input, offsets, true,
                     0, false, null, false, false, null, upstream)) {
            assertArrayEquals(new float[] {0, 1, 0, 0.5f}, libtorch.weight.dense.toFloatArray(),
                    "libtorch 2.10's CPU value (bug #190063); if this fails, libtorch fixed it: revisit the README");
            weight.requiresGrad_(true);
            try (Tensor out = F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().offsets(offsets)
                    .mode(EmbeddingBagMode.SUM).scaleGradByFreq(true))) {
                out.backward(upstream);
            }
            assertArrayEquals(new float[] {0, 1, 0, 1}, weight.grad().toFloatArray(), "jembed: the intended value");
        }
    }

    /**
     * W = [[1, 2], [3, 4], [5, 6]], input [0, 1, 0], offsets [0, 2], per_sample_weights [2, 3, 4], upstream
     * [[1, 1], [2, 2]]: row 0 gets (2 * [1, 1] + 4 * [2, 2]) / 2 = [5, 5], row 1 gets 3 * [1, 1] / 1 = [3, 3].
     * libtorch 2.10 divides row 1 by row 0's count: [1.5, 1.5].
     */
    @Test
    void perSampleWeightedLookupsAreDividedByTheirOwnCount() {
        try (Tensor weight = Torch.tensor(new double[][] {{1, 2}, {3, 4}, {5, 6}});
             Tensor input = Torch.tensor(new long[] {0, 1, 0});
             Tensor offsets = Torch.tensor(new long[] {0, 2});
             Tensor psw = Torch.tensor(new double[] {2, 3, 4});
             Tensor upstream = Torch.tensor(new double[][] {{1, 1}, {2, 2}});
             LibtorchTraining.BagGrads libtorch = LibtorchTraining.embeddingBagAutograd(weight, input, offsets, true,
                     0, false, psw, false, false, null, upstream)) {
            assertArrayEquals(new double[] {5, 5, 1.5, 1.5, 0, 0}, libtorch.weight.dense.toDoubleArray(),
                    "libtorch 2.10's CPU value (bug #190063)");
            weight.requiresGrad_(true);
            try (Tensor out = F.embeddingBag(input, weight, new EmbeddingBagFuncOptions().offsets(offsets)
                    .mode(EmbeddingBagMode.SUM).perSampleWeights(psw).scaleGradByFreq(true))) {
                out.backward(upstream);
            }
            assertArrayEquals(new double[] {5, 5, 3, 3, 0, 0}, weight.grad().toDoubleArray(), "jembed");
        }
    }
}
