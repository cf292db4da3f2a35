package io.jembed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jembed.nn.Embedding;
import org.junit.jupiter.api.Test;

/**
 * A table of more than 2^31 bytes (2.4 GB) lives off-heap and is addressed with 64-bit offsets: rows beyond 2 GiB, and
 * rows that straddle the 1 GiB windows through which Java reads it, come back intact on either backend.
 */
class LargeTensorTest {

    @Test
    void rowsBeyondTwoGibibytesAndAcrossWindowBoundariesAreLookedUp() {
        long dim = 3; // 12-byte rows do not divide 1 GiB, so some rows straddle a window boundary
        long rows = 200_000_000L; // 2.4e9 bytes
        try (Tensor table = Torch.empty(DType.FLOAT32, rows, dim)) {
            long straddling = (1L << 30) / 12; // row 89478485 spans bytes 1073741820 .. 1073741831
            long[] picked = {0, straddling, (2L << 30) / 12, rows - 1};
            for (long row : picked) {
                for (long j = 0; j < dim; j++) {
                    table.set(row * 10 + j + 0.5, row, j);
                }
            }
            try (Embedding embedding = Embedding.fromPretrained(table);
                 Tensor out = embedding.forward(Torch.tensor(picked))) {
                float[] got = out.toFloatArray();
                for (int i = 0; i < picked.length; i++) {
                    for (int j = 0; j < dim; j++) {
                        assertEquals((float) (picked[i] * 10 + j + 0.5), got[(int) (i * dim + j)], "row " + picked[i]);
                    }
                }
            }
            assertEquals(rows * dim, table.numel());
            assertArrayEquals(new long[] {rows, dim}, table.shape());
        }
    }
}
