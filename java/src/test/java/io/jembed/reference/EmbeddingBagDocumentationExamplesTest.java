package io.jembed.reference;

import static io.jembed.reference.TensorAssertions.assertBitIdentical;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagFromPretrainedOptions;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.EmbeddingBagOptions;
import io.jembed.nn.functional.EmbeddingBagFuncOptions;
import io.jembed.nn.functional.F;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The examples of PyTorch's {@code nn.EmbeddingBag}, {@code nn.EmbeddingBag.from_pretrained} and
 * {@code F.embedding_bag} documentation, with the numbers libtorch 2.10 gives for the same seed: jembed's generator
 * reproduces PyTorch's, so {@code torch.manual_seed(0); nn.EmbeddingBag(10, 3, mode='sum')} has the same weight in
 * both (libtorch's {@code nn::EmbeddingImpl} and {@code nn::EmbeddingBagImpl} share {@code reset_parameters}: N(0, 1),
 * then the padding row zeroed) to within a few ulps (libtorch draws normals with vectorised {@code log}/{@code cos}:
 * {@code GeneratorMatchesLibtorchTest}; 2 ulps seen here, 4 allowed), and libtorch pools jembed's weight into the same bits jembed does.
 */
class EmbeddingBagDocumentationExamplesTest {
    @BeforeAll
    static void loadLibtorch() {
        assertEquals(1, Libtorch.threads());
    }

    /**
     * {@code embedding_sum = nn.EmbeddingBag(10, 3, mode='sum'); input = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]);
     * offsets = torch.tensor([0, 4]); embedding_sum(input, offsets)}.
     */
    @Test
    void sumOfTwoBagsOfFourMatchesLibtorchForTheSameSeed() {
        for (long seed : new long[] {0, 1, 42}) {
            Torch.manualSeed(seed);
            try (EmbeddingBag bag = new EmbeddingBag(new EmbeddingBagOptions(10, 3).mode("sum"));
                 Tensor libtorchWeight = Libtorch.embeddingModuleWeight(seed, 10, 3, null);
                 Tensor input = Torch.tensor(new long[] {1, 2, 4, 5, 4, 3, 2, 9});
                 Tensor offsets = Torch.tensor(new long[] {0, 4});
                 Tensor out = bag.forward(input, offsets);
                 Libtorch.Bagged expected = Libtorch.embeddingBag(bag.weight(), input, offsets, null, 2.0, false,
                         0, false, null, false, null)) {
                assertEquals("EmbeddingBag(10, 3, mode='sum')", bag.toString());
                assertWithinFourUlps(libtorchWeight, bag.weight(), "the weight after manual_seed(" + seed + ")");
                assertArrayEquals(new long[] {2, 3}, out.shape());
                assertBitIdentical(expected.output, out, () -> "embedding_sum(input, offsets), seed " + seed);
                if (seed == 0) {
                    System.out.println(">>> embedding_sum(input, offsets)  # torch.manual_seed(0)\n" + out);
                }
            }
        }
    }

    private static void assertWithinFourUlps(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        float[] want = expected.toFloatArray();
        float[] got = actual.toFloatArray();
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= 4 * Math.ulp(want[i]), what + ": element " + i + " expected " + want[i]
                    + " got " + got[i]);
        }
    }

    /**
     * {@code embedding_sum = nn.EmbeddingBag(10, 3, mode='sum', padding_idx=2); input = [2, 2, 2, 2, 4, 3, 2, 9];
     * offsets = [0, 4]}: the first bag is all padding, so zeros; the second sums rows 4, 3 and 9.
     */
    @Test
    void paddingIdxExampleMatchesLibtorch() {
        Torch.manualSeed(0);
        try (EmbeddingBag bag = new EmbeddingBag(new EmbeddingBagOptions(10, 3).mode("sum").paddingIdx(2));
             Tensor libtorchWeight = Libtorch.embeddingModuleWeight(0, 10, 3, 2L);
             Tensor input = Torch.tensor(new long[] {2, 2, 2, 2, 4, 3, 2, 9});
             Tensor offsets = Torch.tensor(new long[] {0, 4});
             Tensor out = bag.forward(input, offsets)) {
            try (Libtorch.Bagged expected = Libtorch.embeddingBag(bag.weight(), input, offsets, null, 2.0, false, 0,
                    false, null, false, 2L)) {
                assertWithinFourUlps(libtorchWeight, bag.weight(), "the weight, padding row zeroed");
                assertBitIdentical(expected.output, out, () -> "padding_idx example");
                assertArrayEquals(new float[] {0, 0, 0}, java.util.Arrays.copyOf(out.toFloatArray(), 3));
            }
        }
    }

    /**
     * {@code weight = torch.FloatTensor([[1, 2.3, 3], [4, 5.1, 6.3]]); embeddingbag =
     * nn.EmbeddingBag.from_pretrained(weight); embeddingbag(torch.LongTensor([[1, 0]]))} prints
     * {@code tensor([[2.5000, 3.7000, 4.6500]])}.
     */
    @Test
    void fromPretrainedExampleMatchesLibtorch() {
        try (Tensor weight = Torch.tensor(new float[][] {{1, 2.3f, 3}, {4, 5.1f, 6.3f}});
             EmbeddingBag bag = EmbeddingBag.fromPretrained(weight);
             Tensor out = bag.forward(Torch.tensor(new long[][] {{1, 0}}));
             Libtorch.Bagged expected = Libtorch.embeddingBag(weight, Torch.tensor(new long[] {1, 0}),
                     Torch.tensor(new long[] {0}), null, 2.0, false, 1, false, null, false, null)) {
            assertBitIdentical(expected.output, out, () -> "from_pretrained example");
            assertEquals("tensor([[2.5000, 3.7000, 4.6500]])", out.toString());
        }
        try (Tensor weight = Torch.tensor(new float[][] {{1, 2.3f, 3}, {4, 5.1f, 6.3f}});
             EmbeddingBag bag = EmbeddingBag.fromPretrained(weight,
                     new EmbeddingBagFromPretrainedOptions().mode(EmbeddingBagMode.SUM).paddingIdx(1))) {
            assertEquals("EmbeddingBag(2, 3, mode='sum', padding_idx=1)", bag.toString());
        }
    }

    /**
     * {@code embedding_matrix = torch.rand(10, 3); F.embedding_bag(input, embedding_matrix, offsets)} (mean), and the
     * padding_idx variant with mode sum.
     */
    @Test
    void functionalExamplesMatchLibtorch() {
        Torch.manualSeed(3);
        Libtorch.manualSeed(3);
        try (Tensor matrix = Torch.rand(Torch.defaultGenerator(), DType.FLOAT32, 10, 3);
             Tensor libtorchMatrix = Libtorch.uniform(DType.FLOAT32, 0, 1, 10, 3);
             Tensor input = Torch.tensor(new long[] {1, 2, 4, 5, 4, 3, 2, 9});
             Tensor padded = Torch.tensor(new long[] {2, 2, 2, 2, 4, 3, 2, 9});
             Tensor offsets = Torch.tensor(new long[] {0, 4});
             Tensor mean = F.embeddingBag(input, matrix, offsets);
             Tensor sum = F.embeddingBag(padded, matrix, new EmbeddingBagFuncOptions().offsets(offsets).paddingIdx(2)
                     .mode("sum"));
             Libtorch.Bagged expectedMean = Libtorch.embeddingBag(libtorchMatrix, input, offsets, null, 2.0, false, 1,
                     false, null, false, null);
             Libtorch.Bagged expectedSum = Libtorch.embeddingBag(libtorchMatrix, padded, offsets, null, 2.0, false, 0,
                     false, null, false, 2L)) {
            assertBitIdentical(libtorchMatrix, matrix, () -> "torch.rand(10, 3) after manual_seed(3)");
            assertBitIdentical(expectedMean.output, mean, () -> "F.embedding_bag(input, embedding_matrix, offsets)");
            assertBitIdentical(expectedSum.output, sum, () -> "F.embedding_bag(..., padding_idx=2, mode='sum')");
        }
    }
}
