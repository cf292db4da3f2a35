package io.jembed.reference;

import static io.jembed.reference.TensorAssertions.assertBitIdentical;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.F;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code F.embedding(long[] / int[], weight, out)}, the lookup for a request that arrives as a Java array (issue 13,
 * section 1): the same rows as libtorch's {@code embedding} of {@code torch.tensor(indices)}, for batches from 0 to
 * past the size at which lookups split between threads, and the same failures as the tensor form, with nothing
 * written.
 */
class ArrayRequestLookupMatchesLibtorchTest {
    @BeforeAll
    static void loadLibtorch() {
        Libtorch.threads();
    }

    @Test
    void arrayRequestsGiveLibtorchsRowsForEveryBatchDimAndDtype() {
        SplittableRandom random = new SplittableRandom(13);
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int dim : new int[] {1, 3, 16, 100, 128}) {
                int rows = 1 + random.nextInt(3000);
                for (int batch : new int[] {0, 1, 7, 8, 16, 17, 64, 513, 5000}) {
                    long[] wide = new long[batch];
                    int[] narrow = new int[batch];
                    for (int i = 0; i < batch; i++) {
                        wide[i] = random.nextInt(rows);
                        narrow[i] = (int) wide[i];
                    }
                    try (Tensor weight = Torch.randn(new io.jembed.Generator(dim), dtype, rows, dim);
                         Tensor idx = Torch.tensor(wide);
                         Tensor expected = Libtorch.embedding(weight, idx, -1, false, false);
                         Tensor fromLongs = Torch.empty(dtype, batch, dim);
                         Tensor fromInts = Torch.empty(dtype, batch, dim)) {
                        F.embedding(wide, weight, fromLongs);
                        F.embedding(narrow, weight, fromInts);
                        String what = dtype + " dim " + dim + " batch " + batch;
                        assertBitIdentical(expected, fromLongs, () -> what + " from long[]");
                        assertBitIdentical(expected, fromInts, () -> what + " from int[]");
                    }
                }
            }
        }
    }

    @Test
    void aBadIndexInAnArrayIsNamedWithItsPositionAndNothingIsWritten() {
        try (Tensor weight = Torch.tensor(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
             Tensor out = Torch.full(DType.FLOAT32, -9, 20, 2)) {
            for (long bad : new long[] {3, -1, Long.MIN_VALUE, 1L << 40}) {
                long[] request = new long[20];
                request[17] = bad;
                IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                        () -> F.embedding(request, weight, out));
                assertEquals("index out of range in self: index " + bad + " at position [17] of the input; valid "
                        + "indices are 0 to 2", e.getMessage());
                float[] untouched = new float[40];
                java.util.Arrays.fill(untouched, -9);
                assertArrayEquals(untouched, out.toFloatArray(), "a failed lookup writes nothing");
            }
            int[] narrow = {0, 1, 2, 7, -3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> F.embedding(narrow, weight, out));
            assertEquals("index out of range in self: index 7 at position [3] of the input; valid indices are 0 to 2",
                    e.getMessage());
        }
    }

    @Test
    void aBadIndexInATensorIsNamedWithItsPositionAndNothingIsWritten() {
        try (Tensor weight = Torch.tensor(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
             Tensor idx = Torch.zeros(DType.INT64, 4, 10);
             Tensor out = Torch.full(DType.FLOAT32, -9, 4, 10, 2)) {
            idx.set(5, 3, 2);
            idx.set(-1, 3, 7);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> F.embedding(idx, weight, null, null, 2.0, out));
            assertEquals("index out of range in self: index 5 at position [3, 2] of the input; valid indices are 0 to"
                    + " 2", e.getMessage());
            for (float v : out.toFloatArray()) {
                assertEquals(-9f, v, "a failed lookup writes nothing");
            }
        }
    }

    @Test
    void wrongOutputsAndClosedTensorsAreRefused() {
        try (Tensor weight = Torch.zeros(DType.FLOAT32, 3, 2);
             Tensor wrongShape = Torch.empty(DType.FLOAT32, 2, 3);
             Tensor wrongType = Torch.empty(DType.FLOAT64, 2, 2);
             Tensor out = Torch.empty(DType.FLOAT32, 2, 2)) {
            assertThrows(IllegalArgumentException.class, () -> F.embedding(new long[] {0, 1}, weight, wrongShape));
            assertThrows(IllegalArgumentException.class, () -> F.embedding(new int[] {0, 1}, weight, wrongType));
            assertThrows(IllegalArgumentException.class, () -> F.embedding((long[]) null, weight, out));
            Tensor closed = Torch.zeros(DType.FLOAT32, 3, 2);
            closed.close();
            assertThrows(IllegalStateException.class, () -> F.embedding(new long[] {0, 1}, closed, out));
        }
    }
}
