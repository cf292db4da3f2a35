package io.jembed.safety;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.quantized.QuantizedDType;
import io.jembed.quantized.QuantizedEmbeddingBag;
import io.jembed.quantized.QuantizedOps;
import io.jembed.quantized.QuantizedTable;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The quantized tables' rows of {@link BadInputCatalogueTest}: every bad argument of {@code io.jembed.quantized},
 * with the exception type, a fragment of its message, and the check that the table's bytes and the caller's output
 * are unchanged afterwards.
 */
final class QuantizedBadInputs {
    private QuantizedBadInputs() {}

    /** What a row does to the fixture. */
    @FunctionalInterface
    interface Call {
        void run(Fixture f);
    }

    /** A 10 x 4 8-bit table and a caller's output of two bags filled with 5. */
    static final class Fixture implements AutoCloseable {
        final Tensor weight = Torch.tensor(new float[] {
            3, 4, 0, 6, 8, 0, 1, 1, 1, 5, 5, 5, 9, 0, 0, 0, 9, 0, 2, 2, 2, 7, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3,
            4, 5, 6, 7}, 10, 4);
        final QuantizedTable table = QuantizedTable.quantize(weight, QuantizedDType.QUINT8);
        final Tensor out = Torch.full(DType.FLOAT32, 5, 2, 4);

        @Override
        public void close() {
            weight.close();
            table.close();
            out.close();
        }
    }

    static Stream<Arguments> rows() {
        List<Arguments> rows = new ArrayList<>();
        // ---- indices
        add(rows, "quantized lookup: index equal to num_embeddings", IndexOutOfBoundsException.class,
                "index 10 at position [1] of the input; valid indices are 0 to 9",
                f -> QuantizedOps.embedding(f.table, Torch.tensor(new long[] {0, 10})));
        add(rows, "quantized lookup: negative index", IndexOutOfBoundsException.class, "index -1 at position [0, 1]",
                f -> QuantizedOps.embedding(f.table, Torch.tensor(new long[][] {{0, -1}})));
        add(rows, "quantized bag: index out of range into the caller's output", IndexOutOfBoundsException.class,
                "index 99 at position [3]", f -> QuantizedOps.embeddingBag(f.table, bagInput(99),
                        Torch.tensor(new long[] {0, 2}), EmbeddingBagMode.SUM, null, false, f.out));
        add(rows, "quantized bag: int32 index Integer.MIN_VALUE", IndexOutOfBoundsException.class,
                "index " + Integer.MIN_VALUE, f -> QuantizedOps.embeddingBag(f.table,
                        Torch.tensor(new int[] {Integer.MIN_VALUE}), Torch.tensor(new int[] {0})));
        add(rows, "quantized lookup: float indices", IllegalArgumentException.class,
                "Long, Int; but got torch.FloatTensor",
                f -> QuantizedOps.embedding(f.table, Torch.tensor(new float[] {1})));
        add(rows, "quantized lookup: null indices", IllegalArgumentException.class, "'indices' must not be null",
                f -> QuantizedOps.embedding(f.table, null));
        // ---- offsets
        add(rows, "quantized bag: first offset not 0", IllegalArgumentException.class, "offsets[0] has to be 0",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {1, 2})));
        add(rows, "quantized bag: decreasing offsets", IllegalArgumentException.class,
                "offsets must be non-decreasing, but offsets[2] = 1 is less than offsets[1] = 3",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {0, 3, 1})));
        add(rows, "quantized bag: offset past the input", IllegalArgumentException.class,
                "offsets[-1] can not be greater than input's length 4 but got offsets[-1] of 5",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {0, 5})));
        add(rows, "quantized bag: include_last_offset whose last offset is not the length",
                IllegalArgumentException.class, "must be the input's length 4, but got offsets[-1] of 3",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {0, 3}),
                        EmbeddingBagMode.SUM, null, true));
        add(rows, "quantized bag: empty offsets for a non-empty input", IllegalArgumentException.class,
                "offsets is empty", f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[0])));
        add(rows, "quantized bag: 2-D offsets", IllegalArgumentException.class, "offsets has to be a 1D Tensor",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[][] {{0}})));
        add(rows, "quantized bag: 1-D input without offsets", IllegalArgumentException.class,
                "offsets has to be a 1D Tensor but got None",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), null));
        add(rows, "quantized bag: 2-D input with offsets", IllegalArgumentException.class,
                "if input is 2D, then offsets has to be None",
                f -> QuantizedOps.embeddingBag(f.table, Torch.tensor(new long[][] {{1, 2}}),
                        Torch.tensor(new long[] {0})));
        add(rows, "quantized bag: 3-D input", IllegalArgumentException.class,
                "input has to be 1D or 2D Tensor, but got Tensor of dimension 3",
                f -> QuantizedOps.embeddingBag(f.table, Torch.zeros(DType.INT64, 1, 1, 1), null));
        add(rows, "quantized bag: 2-D input with bags of length 0", IllegalArgumentException.class,
                "a 2-D input of shape [3, 0] has bags of length 0, which PyTorch rejects",
                f -> QuantizedOps.embeddingBag(f.table, Torch.zeros(DType.INT64, 3, 0), null));
        // ---- per-sample weights and mode
        add(rows, "quantized bag: per_sample_weights of the wrong length", IllegalArgumentException.class,
                "If per_sample_weights ([3]) is not None, then it must have the same shape as the input ([4])",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {0}),
                        EmbeddingBagMode.SUM, Torch.ones(DType.FLOAT32, 3), false));
        add(rows, "quantized bag: per_sample_weights in float64", IllegalArgumentException.class,
                "per_sample_weights must be float32 for a quantized table, got torch.float64",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {0}),
                        EmbeddingBagMode.SUM, Torch.ones(DType.FLOAT64, 4), false));
        add(rows, "quantized bag: per_sample_weights with mode mean", UnsupportedOperationException.class,
                "per_sample_weights is only supported for mode='sum' (got mode='mean')",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {0}),
                        EmbeddingBagMode.MEAN, Torch.ones(DType.FLOAT32, 4), false));
        add(rows, "quantized bag: mode max", IllegalArgumentException.class,
                "mode has to be sum or mean, got 'max'",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {0}),
                        EmbeddingBagMode.MAX, null, false));
        add(rows, "quantized module: mode max", IllegalArgumentException.class, "got 'max'",
                f -> new QuantizedEmbeddingBag(f.table, EmbeddingBagMode.MAX, false));
        // ---- the caller's output
        add(rows, "quantized bag: output of the wrong shape", IllegalArgumentException.class,
                "'out' must be float32 of shape [2, 4] (bags, embedding_dim), got [4, 2]",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {0, 2}),
                        EmbeddingBagMode.SUM, null, false, Torch.empty(DType.FLOAT32, 4, 2)));
        add(rows, "quantized bag: output in float64", IllegalArgumentException.class, "of torch.float64",
                f -> QuantizedOps.embeddingBag(f.table, bagInput(1), Torch.tensor(new long[] {0, 2}),
                        EmbeddingBagMode.SUM, null, false, Torch.empty(DType.FLOAT64, 2, 4)));
        // ---- tables
        add(rows, "quantized lookup: closed table", IllegalStateException.class, "'table' has been closed", f -> {
            QuantizedTable closed = QuantizedTable.quantize(f.weight, QuantizedDType.QUINT8);
            closed.close();
            QuantizedOps.embedding(closed, Torch.tensor(new long[] {0}));
        });
        add(rows, "quantized lookup: null table", IllegalArgumentException.class, "'table' must not be null",
                f -> QuantizedOps.embedding(null, Torch.tensor(new long[] {0})));
        add(rows, "quantize: 1-D weight", IllegalArgumentException.class,
                "embedding_bag_byte_prepack needs a 2-D float32 weight",
                f -> QuantizedTable.quantize(Torch.tensor(new float[] {1, 2}), QuantizedDType.QUINT8));
        add(rows, "quantize: float64 weight", IllegalArgumentException.class, "got shape [2, 1] of torch.float64",
                f -> QuantizedTable.quantize(Torch.tensor(new double[] {1, 2}, 2, 1), QuantizedDType.QUINT8));
        add(rows, "quantize: a row holding NaN", IllegalArgumentException.class, "row 1 holds NaN at column 0",
                f -> QuantizedTable.quantize(Torch.tensor(new float[] {1, 2, Float.NaN, 4}, 2, 2),
                        QuantizedDType.QUINT8));
        add(rows, "quantize: null dtype", IllegalArgumentException.class, "got null",
                f -> QuantizedTable.quantize(f.weight, null));
        add(rows, "quantize: 4-bit rows of an odd embedding_dim", IllegalArgumentException.class,
                "qembeddingbag_4bit_prepack only works for the number of columns a multiple of 2: embedding_dim is 3",
                f -> QuantizedTable.quantize(Torch.tensor(new float[] {1, 2, 3}, 1, 3), QuantizedDType.QUINT4X2));
        add(rows, "quantize: a 4-bit row whose minimum float16 cannot hold", IllegalArgumentException.class,
                "row 1 has minimum -70000.0, which float16 cannot hold",
                f -> QuantizedTable.quantize(Torch.tensor(new float[] {1, 2, -70000, 4}, 2, 2),
                        QuantizedDType.QUINT4X2));
        add(rows, "fromPrepacked: 4-bit rows too short for the scale and bias", IllegalArgumentException.class,
                "rows of at least 4 bytes",
                f -> QuantizedTable.fromPrepacked(new byte[3], 1, 3, QuantizedDType.QUINT4X2));
        add(rows, "fromPrepacked: bytes that are not whole rows", IllegalArgumentException.class,
                "23 bytes are not 2 rows of 12 bytes",
                f -> QuantizedTable.fromPrepacked(new byte[23], 2, 12, QuantizedDType.QUINT8));
        add(rows, "fromPrepacked: rows too short for the scale and bias", IllegalArgumentException.class,
                "rows of at least 8 bytes",
                f -> QuantizedTable.fromPrepacked(new byte[6], 1, 6, QuantizedDType.QUINT8));
        return rows.stream();
    }

    /** Four indices, the last one {@code last}. */
    private static Tensor bagInput(long last) {
        return Torch.tensor(new long[] {0, 1, 2, last});
    }

    private static void add(List<Arguments> rows, String name, Class<? extends Throwable> type, String fragment,
                            Call call) {
        rows.add(Arguments.of(name, type, fragment, call));
    }

    static void check(String name, Class<? extends Throwable> type, String fragment, Call call) {
        try (Fixture f = new Fixture()) {
            byte[] before = f.table.toByteArray();
            float[] weightBefore = f.weight.toFloatArray();
            Throwable thrown = assertThrows(type, () -> call.run(f), name);
            assertTrue(thrown.getMessage() != null && thrown.getMessage().contains(fragment),
                    () -> name + ": message '" + thrown.getMessage() + "' lacks '" + fragment + "'");
            assertArrayEquals(before, f.table.toByteArray(), name + ": the table changed");
            assertArrayEquals(weightBefore, f.weight.toFloatArray(), name + ": the float weight changed");
            assertArrayEquals(new float[] {5, 5, 5, 5, 5, 5, 5, 5}, f.out.toFloatArray(),
                    name + ": the output changed");
        }
    }
}
