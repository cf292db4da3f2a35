package io.jembed.concurrency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.F;
import java.util.ConcurrentModificationException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A small lookup reads each index twice (validated, then used: the native backend's Java copy for a few rows, and
 * the Java backend). Another thread that rewrites the request between the two reads, from a valid row to one far
 * outside the table, must get it a clean exception or the rows, never a read outside the table (which would crash
 * the JVM running this test, or return foreign bytes).
 */
class IndicesRewrittenDuringLookupTest {
    private static final int ROWS = 64;
    private static final int DIM = 16;
    private static final int CALLS = 200_000;

    @Test
    void anIndexTensorRewrittenDuringSmallLookupsGivesRowsOrAnExceptionNeverAForeignRead() throws Exception {
        float[] values = new float[ROWS * DIM];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        try (Tensor weight = Torch.tensor(values, ROWS, DIM);
             Tensor idx = Torch.tensor(new long[] {3, 5});
             Tensor out = Torch.empty(DType.FLOAT32, 2, DIM)) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = new Thread(() -> {
                for (long k = 0; !stop.get(); k++) {
                    idx.set((k & 1) == 0 ? 5L : 1L << 40, 1);
                }
            });
            writer.start();
            int completed = 0;
            try {
                for (int call = 0; call < CALLS; call++) {
                    try {
                        F.embedding(idx, weight, null, null, 2.0, out);
                    } catch (IndexOutOfBoundsException | ConcurrentModificationException e) {
                        continue;
                    }
                    completed++;
                    float[] got = out.toFloatArray();
                    float[] expected = new float[2 * DIM];
                    for (int c = 0; c < DIM; c++) {
                        expected[c] = 3 * DIM + c;
                        expected[DIM + c] = 5 * DIM + c;
                    }
                    assertArrayEquals(expected, got, "a completed lookup returns the rows of valid indices");
                }
            } finally {
                stop.set(true);
                writer.join();
            }
            assertTrue(completed > 0, "some lookups completed");
        }
    }

    @Test
    void aLongArrayRewrittenDuringSmallLookupsGivesRowsOrAnExceptionNeverAForeignRead() throws Exception {
        float[] values = new float[ROWS * DIM];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        long[] request = {3, 5};
        try (Tensor weight = Torch.tensor(values, ROWS, DIM);
             Tensor out = Torch.empty(DType.FLOAT32, 2, DIM)) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = new Thread(() -> {
                for (long k = 0; !stop.get(); k++) {
                    request[1] = (k & 1) == 0 ? 5L : 1L << 40;
                }
            });
            writer.start();
            int failed = 0;
            try {
                for (int call = 0; call < CALLS; call++) {
                    try {
                        F.embedding(request, weight, out);
                    } catch (IndexOutOfBoundsException | ConcurrentModificationException e) {
                        failed++;
                        continue;
                    }
                    float[] got = out.toFloatArray();
                    for (int c = 0; c < DIM; c++) {
                        assertTrue(got[c] == 3 * DIM + c && got[DIM + c] == 5 * DIM + c,
                                "a completed lookup returns the rows of valid indices");
                    }
                }
            } finally {
                stop.set(true);
                writer.join();
            }
            assertTrue(failed < CALLS, "some lookups completed");
        }
    }
}
