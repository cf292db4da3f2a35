package io.jembed.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.TopK;
import io.jembed.Torch;
import io.jembed.nn.functional.F;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code F.cosineTopK} against libtorch's {@code torch.topk(F.cosine_similarity(weight, query[None], dim=1), k)} on
 * the backend of the pass (native split across threads, native single thread, Java), on dims around the vector widths
 * and tables large enough to be split; and its argument checks.
 */
class CosineTopKMatchesLibtorchTest {

    @BeforeAll
    static void loadLibtorch() {
        Libtorch.threads();
    }

    private static Tensor randomTable(Random random, int rows, int dim) {
        float[] values = new float[rows * dim];
        for (int k = 0; k < values.length; k++) {
            values[k] = (float) random.nextGaussian();
        }
        return Torch.tensor(values, rows, dim);
    }

    @Test
    void topRowsAndSimilaritiesAreLibtorchs() {
        Random random = new Random(7);
        int[][] cases = {{1, 1, 1}, {10, 3, 10}, {257, 17, 5}, {1000, 300, 10}, {20_000, 33, 25}, {5000, 64, 0}};
        for (int[] c : cases) {
            int rows = c[0];
            int dim = c[1];
            int k = c[2];
            try (Tensor table = randomTable(random, rows, dim);
                 Tensor query = randomTable(random, 1, dim)) {
                float[] q = query.toFloatArray();
                try (Tensor query1d = Torch.tensor(q);
                     TopK got = F.cosineTopK(table, query1d, k)) {
                    Tensor[] expected = Libtorch.cosineTopK(table, query1d, k, 1e-8);
                    try (Tensor values = expected[0]; Tensor indices = expected[1]) {
                        String what = rows + " x " + dim + ", k " + k;
                        assertArrayEquals(new long[] {k}, got.values().shape(), what);
                        assertEquals(DType.INT64, got.indices().dtype(), what);
                        assertArrayEquals(indices.toLongArray(), got.indices().toLongArray(), what);
                        float[] v = got.values().toFloatArray();
                        float[] e = values.toFloatArray();
                        for (int i = 0; i < k; i++) {
                            assertEquals(e[i], v[i], 2e-6, what + " rank " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void zeroRowsAndAZeroQueryFollowPyTorchsEps() {
        try (Tensor table = Torch.tensor(new float[][] {{0, 0}, {3, 4}, {-3, -4}, {1, 0}});
             Tensor query = Torch.tensor(new float[] {0.6f, 0.8f});
             TopK got = F.cosineTopK(table, query, 4)) {
            Tensor[] expected = Libtorch.cosineTopK(table, query, 4, 1e-8);
            try (Tensor values = expected[0]; Tensor indices = expected[1]) {
                assertArrayEquals(indices.toLongArray(), got.indices().toLongArray());
                assertArrayEquals(values.toFloatArray(), got.values().toFloatArray(), 1e-6f);
            }
        }
        try (Tensor table = Torch.tensor(new float[][] {{1, 2}, {3, 4}});
             Tensor zero = Torch.tensor(new float[] {0, 0});
             TopK got = F.cosineTopK(table, zero, 2)) {
            assertArrayEquals(new float[] {0, 0}, got.values().toFloatArray());
            assertArrayEquals(new long[] {0, 1}, got.indices().toLongArray());
        }
    }

    @Test
    void badArgumentsAreRefusedNamingTheValue() {
        try (Tensor table = Torch.zeros(DType.FLOAT32, 5, 3);
             Tensor query = Torch.zeros(DType.FLOAT32, 3);
             Tensor wrongDim = Torch.zeros(DType.FLOAT32, 4);
             Tensor doubles = Torch.zeros(DType.FLOAT64, 5, 3);
             Tensor twoD = Torch.zeros(DType.FLOAT32, 1, 3)) {
            IllegalArgumentException k = assertThrows(IllegalArgumentException.class,
                    () -> F.cosineTopK(table, query, 6));
            assertTrue(k.getMessage().contains("k = 6") && k.getMessage().contains("0 to 5"), k.getMessage());
            assertThrows(IllegalArgumentException.class, () -> F.cosineTopK(table, query, -1));
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> F.cosineTopK(table, wrongDim, 1));
            assertTrue(shape.getMessage().contains("[3]") && shape.getMessage().contains("[4]"), shape.getMessage());
            assertThrows(IllegalArgumentException.class, () -> F.cosineTopK(table, twoD, 1));
            assertThrows(IllegalArgumentException.class, () -> F.cosineTopK(doubles, query, 1));
            assertThrows(IllegalArgumentException.class, () -> F.cosineTopK(table, query, 1, Double.NaN));
            assertThrows(IllegalArgumentException.class, () -> F.cosineTopK(table, query, 1, -1e-8));
            assertThrows(IllegalArgumentException.class, () -> F.cosineTopK(table, null, 1));
            query.close();
            assertThrows(IllegalStateException.class, () -> F.cosineTopK(table, query, 1));
        }
    }
}
