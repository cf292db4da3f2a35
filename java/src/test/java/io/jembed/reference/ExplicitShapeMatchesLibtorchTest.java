package io.jembed.reference;

import static io.jembed.reference.TensorAssertions.assertBitIdentical;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.functional.F;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code Torch.tensor(data, shape)} honours the shape as written, 0-d included, as {@code torch.tensor(...)
 * .reshape(shape)} does (issue 13, section 5: an explicit empty shape used to give a 1-D tensor).
 */
class ExplicitShapeMatchesLibtorchTest {
    @BeforeAll
    static void loadLibtorch() {
        Libtorch.threads();
    }

    @Test
    void anExplicitEmptyShapeGivesTheZeroDimensionalTensorOfReshapeToEmpty() {
        try (Tensor flat = Torch.tensor(new long[] {7});
             Tensor expected = Libtorch.reshape(flat, new long[0]);
             Tensor scalar = Torch.tensor(new long[] {7}, new long[0])) {
            assertEquals(0, expected.dim(), "libtorch's dim after reshape(())");
            assertArrayEquals(expected.shape(), scalar.shape());
            assertEquals(expected.dim(), scalar.dim());
            assertEquals(expected.numel(), scalar.numel());
            assertBitIdentical(expected, scalar, () -> "reshape(()) of [7]");
            assertEquals(7, scalar.item());
            assertEquals(7, scalar.getLong());
            // repr(torch.tensor(7)) is 'tensor(7)', not the 1-D 'tensor([7])'.
            assertEquals("tensor(7)", scalar.toString());
        }
    }

    @Test
    void everyArrayTypeHonoursAZeroDimensionalShapeAndPrintsAsPyTorch() {
        try (Tensor f = Torch.tensor(new float[] {2.5f}, new long[0]);
             Tensor d = Torch.tensor(new double[] {-1.25}, new long[0]);
             Tensor i = Torch.tensor(new int[] {3}, new long[0])) {
            for (Tensor t : List.of(f, d, i)) {
                assertEquals(0, t.dim());
                assertEquals(1, t.numel());
            }
            // PyTorch's reprs of torch.tensor(2.5), torch.tensor(-1.25, dtype=torch.float64) and
            // torch.tensor(3, dtype=torch.int32).
            assertEquals("tensor(2.5000)", f.toString());
            assertEquals("tensor(-1.2500, dtype=torch.float64)", d.toString());
            assertEquals("tensor(3, dtype=torch.int32)", i.toString());
        }
    }

    @Test
    void explicitShapesOfEveryRankMatchLibtorchsReshape() {
        long[] data = {4, 8, 15, 16, 23, 42};
        List<long[]> shapes = List.of(new long[] {6}, new long[] {2, 3}, new long[] {3, 1, 2},
                new long[] {1, 1, 6, 1});
        for (long[] shape : shapes) {
            try (Tensor flat = Torch.tensor(data);
                 Tensor expected = Libtorch.reshape(flat, shape);
                 Tensor shaped = Torch.tensor(data, shape)) {
                assertEquals(TensorAssertions.shapeList(expected), TensorAssertions.shapeList(shaped));
                assertBitIdentical(expected, shaped, () -> "shape " + Arrays.toString(shape));
            }
        }
        try (Tensor none = Torch.tensor(new float[0], new long[] {0, 2})) {
            assertArrayEquals(new long[] {0, 2}, none.shape());
        }
    }

    @Test
    void aShapeThatDoesNotHoldTheDataIsRejectedAsLibtorchRejectsIt() {
        try (Tensor flat = Torch.tensor(new long[] {1, 2})) {
            // libtorch: "shape '[]' is invalid for input of size 2".
            RuntimeException libtorch = assertThrows(RuntimeException.class, () -> Libtorch.reshape(flat));
            assertTrue(libtorch.getMessage().contains("is invalid for input of size 2"), libtorch.getMessage());
        }
        IllegalArgumentException ours = assertThrows(IllegalArgumentException.class,
                () -> Torch.tensor(new long[] {1, 2}, new long[0]));
        assertEquals("shape [] is invalid for input of size 2", ours.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Torch.tensor(new long[0], new long[0]));
        assertThrows(IllegalArgumentException.class, () -> Torch.tensor(new int[] {1}, 2, -1));
    }

    @Test
    void aZeroDimensionalIndexLooksUpOneRowAsLibtorchDoes() {
        try (Tensor weight = Torch.tensor(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
             Tensor index = Torch.tensor(new long[] {2}, new long[0]);
             Tensor narrowIndex = Torch.tensor(new int[] {1}, new long[0]);
             Tensor expected = Libtorch.embedding(weight, index, -1, false, false);
             Tensor expectedNarrow = Libtorch.embedding(weight, narrowIndex, -1, false, false);
             Tensor out = F.embedding(index, weight);
             Tensor outNarrow = F.embedding(narrowIndex, weight);
             Embedding module = Embedding.fromPretrained(weight);
             Tensor fromModule = module.forward(index)) {
            assertEquals(List.of(2L), TensorAssertions.shapeList(expected), "libtorch's shape for a 0-d index");
            assertBitIdentical(expected, out, () -> "0-d int64 index");
            assertBitIdentical(expectedNarrow, outNarrow, () -> "0-d int32 index");
            assertBitIdentical(expected, fromModule, () -> "0-d index through the module");
            assertEquals(DType.FLOAT32, out.dtype());
        }
    }

    @Test
    void aZeroDimensionalIndexOutOfRangeNamesItself() {
        try (Tensor weight = Torch.zeros(DType.FLOAT32, 3, 2);
             Tensor index = Torch.tensor(new long[] {3}, new long[0])) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> F.embedding(index, weight));
            assertTrue(e.getMessage().contains("index 3") && e.getMessage().contains("0 to 2"), e.getMessage());
        }
    }
}
