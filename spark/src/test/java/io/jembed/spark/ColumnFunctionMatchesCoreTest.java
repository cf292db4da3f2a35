package io.jembed.spark;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.F;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.junit.jupiter.api.Test;

/**
 * A million rows of random id arrays (0 to 15 ids each, int32 and int64, with per-sample weights and padding ids)
 * through every lookup the module offers, on local[2]: each row's result must equal, bit for bit, what core jembed
 * computes for the same ids in one batched call in the same JVM (an in-memory copy of the table, not the mapping).
 * The comparison runs inside the executor on Spark's internal rows, so it costs no conversion to Java objects.
 */
class ColumnFunctionMatchesCoreTest {
    static final long ROWS = 1_000_000;
    static final int TABLE_ROWS = 5000;
    static final int DIM = 16;

    @Test
    void aMillionRowsThroughEveryModeEqualTheCoreLibrary() {
        SparkSession spark = LocalSpark.session();
        assertTrue(Backends.current().name().startsWith("native"), "the native library from the platform jar: "
                + Backends.current().name());
        String table = LocalSpark.writeTable("million.safetensors", TABLE_ROWS, DIM, 14).toString();
        Dataset<Row> input = spark.range(0, ROWS, 1, 8).selectExpr("id AS k",
                        "slice(transform(sequence(0, 15), i -> CAST(pmod(xxhash64(id, i), " + TABLE_ROWS
                                + ") AS INT)), 1, CAST(pmod(xxhash64(id, -1), 16) AS INT)) AS ids")
                .selectExpr("k", "ids", "CAST(ids AS ARRAY<BIGINT>) AS ids64",
                        "transform(ids, x -> IF(x % 7 = 0, 0, x)) AS idsPad",
                        "transform(ids, (x, i) -> CAST((pmod(xxhash64(k, i, 7), 2001) - 1000) / 1000.0 AS FLOAT))"
                                + " AS w");
        // Half through the Java column API, half through SQL expressions (the registered functions).
        Dataset<Row> result = input.select(col("k"), col("ids"), col("ids64"), col("idsPad"), col("w"),
                JembedSpark.embeddingBag(col("ids"), table, "sum").as("sum"),
                JembedSpark.embeddingBag(col("ids64"), table, "mean").as("mean"),
                JembedSpark.embeddingBag(col("ids"), table, new BagOptions().mode("max")).as("max"),
                JembedSpark.embeddingBag(col("ids"), table, new BagOptions().mode("sum").perSampleWeights("w"))
                        .as("sumW"),
                org.apache.spark.sql.functions.expr("jembed_embedding_bag(idsPad, '" + table + "', 'mean', 0)")
                        .as("meanPad"),
                org.apache.spark.sql.functions.expr("jembed_embedding_bag(idsPad, '" + table + "', 'max', 0)")
                        .as("maxPad"),
                org.apache.spark.sql.functions.expr("jembed_embedding_bag(idsPad, '" + table + "', 'sum', 0, w)")
                        .as("sumWPad"),
                org.apache.spark.sql.functions.expr("jembed_embedding(ids, '" + table + "')").as("rows"));

        // The test session has the extension, so the bag lookups are pooled by the batched plan.
        String plan = ((org.apache.spark.sql.classic.Dataset<Row>) result).queryExecution().executedPlan().toString();
        assertTrue(plan.contains("BatchedLookup"), plan);
        JavaRDD<InternalRow> internal = ((org.apache.spark.sql.classic.Dataset<Row>) result).queryExecution().toRdd()
                .toJavaRDD();
        List<Tally> tallies = internal.mapPartitions(new CompareWithCore(table)).collect();
        long rows = 0;
        long ids = 0;
        long mismatches = 0;
        String first = null;
        for (Tally t : tallies) {
            rows += t.rows;
            ids += t.ids;
            mismatches += t.mismatches;
            first = first != null ? first : t.firstMismatch;
        }
        assertEquals(ROWS, rows, "every row compared");
        assertTrue(ids > ROWS * 7, "rows hold 7.5 ids on average: " + ids);
        assertEquals(0, mismatches, "rows that differ from the core library; first: " + first);
    }

    record Tally(long rows, long ids, long mismatches, String firstMismatch) implements Serializable {
    }

    /** Batches of rows: the core's batched results against the column functions' per-row ones, bit for bit. */
    static final class CompareWithCore implements org.apache.spark.api.java.function.FlatMapFunction<
            Iterator<InternalRow>, Tally> {
        private static final long serialVersionUID = 1L;
        private static final ConcurrentHashMap<String, Tensor> IN_MEMORY = new ConcurrentHashMap<>();
        private final String table;

        CompareWithCore(String table) {
            this.table = table;
        }

        @Override
        public Iterator<Tally> call(Iterator<InternalRow> rows) {
            Tensor weight = IN_MEMORY.computeIfAbsent(table, t -> {
                try {
                    return Safetensors.loadFile(Path.of(t)).get("weight");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Batch batch = new Batch(weight);
            while (rows.hasNext()) {
                batch.add(rows.next());
                if (batch.size() == 4096) {
                    batch.check();
                }
            }
            batch.check();
            return List.of(new Tally(batch.rows, batch.idsSeen, batch.mismatches, batch.first)).iterator();
        }
    }

    static final class Batch {
        private static final String[] POOLED = {"sum", "mean", "max", "sumW", "meanPad", "maxPad", "sumWPad"};
        private final Tensor weight;
        private final List<long[]> keys = new ArrayList<>();
        private final List<int[]> ids = new ArrayList<>();
        private final List<int[]> idsPad = new ArrayList<>();
        private final List<float[]> w = new ArrayList<>();
        private final List<float[][]> pooled = new ArrayList<>();
        private final List<float[]> looked = new ArrayList<>();
        long rows;
        long mismatches;
        long idsSeen;
        String first;

        Batch(Tensor weight) {
            this.weight = weight;
        }

        int size() {
            return keys.size();
        }

        void add(InternalRow row) {
            keys.add(new long[] {row.getLong(0)});
            ids.add(row.getArray(1).toIntArray());
            idsPad.add(row.getArray(3).toIntArray());
            w.add(row.getArray(4).toFloatArray());
            float[][] outs = new float[POOLED.length][];
            for (int m = 0; m < POOLED.length; m++) {
                outs[m] = row.getArray(5 + m).toFloatArray();
            }
            pooled.add(outs);
            ArrayData each = row.getArray(5 + POOLED.length);
            float[] flat = new float[each.numElements() * DIM];
            for (int i = 0; i < each.numElements(); i++) {
                float[] one = each.getArray(i).toFloatArray();
                System.arraycopy(one, 0, flat, i * DIM, Math.min(one.length, DIM));
            }
            looked.add(flat);
        }

        void check() {
            int b = size();
            if (b == 0) {
                return;
            }
            int[] offsets = new int[b];
            long[] offsets64 = new long[b];
            int total = 0;
            for (int r = 0; r < b; r++) {
                offsets[r] = total;
                offsets64[r] = total;
                total += ids.get(r).length;
            }
            int[] flat = new int[total];
            int[] flatPad = new int[total];
            float[] flatW = new float[total];
            for (int r = 0; r < b; r++) {
                System.arraycopy(ids.get(r), 0, flat, offsets[r], ids.get(r).length);
                System.arraycopy(idsPad.get(r), 0, flatPad, offsets[r], ids.get(r).length);
                System.arraycopy(w.get(r), 0, flatW, offsets[r], ids.get(r).length);
            }
            long[] flat64 = new long[total];
            for (int i = 0; i < total; i++) {
                flat64[i] = flat[i];
            }
            try (Tensor in = Torch.tensor(flat); Tensor in64 = Torch.tensor(flat64); Tensor pad = Torch.tensor(flatPad);
                 Tensor off = Torch.tensor(offsets); Tensor off64 = Torch.tensor(offsets64);
                 Tensor psw = Torch.tensor(flatW)) {
                Tensor[] expected = {
                    F.embeddingBag(in, weight, off, null, 2.0, false, EmbeddingBagMode.SUM, false, null, false, null),
                    F.embeddingBag(in64, weight, off64, null, 2.0, false, EmbeddingBagMode.MEAN, false, null, false,
                            null),
                    F.embeddingBag(in, weight, off, null, 2.0, false, EmbeddingBagMode.MAX, false, null, false, null),
                    F.embeddingBag(in, weight, off, null, 2.0, false, EmbeddingBagMode.SUM, false, psw, false, null),
                    F.embeddingBag(pad, weight, off, null, 2.0, false, EmbeddingBagMode.MEAN, false, null, false, 0L),
                    F.embeddingBag(pad, weight, off, null, 2.0, false, EmbeddingBagMode.MAX, false, null, false, 0L),
                    F.embeddingBag(pad, weight, off, null, 2.0, false, EmbeddingBagMode.SUM, false, psw, false, 0L),
                };
                float[][] want = new float[expected.length][];
                for (int m = 0; m < expected.length; m++) {
                    want[m] = expected[m].toFloatArray();
                    expected[m].close();
                }
                float[] wantRows = new float[total * DIM];
                if (total > 0) {
                    try (Tensor out = Torch.empty(io.jembed.DType.FLOAT32, total, DIM)) {
                        F.embedding(flat, weight, out);
                        wantRows = out.toFloatArray();
                    }
                }
                for (int r = 0; r < b; r++) {
                    for (int m = 0; m < POOLED.length; m++) {
                        compare(r, POOLED[m], pooled.get(r)[m], want[m], r * DIM, DIM);
                    }
                    compare(r, "rows", looked.get(r), wantRows, offsets[r] * DIM, ids.get(r).length * DIM);
                }
            }
            rows += b;
            idsSeen += total;
            keys.clear();
            ids.clear();
            idsPad.clear();
            w.clear();
            pooled.clear();
            looked.clear();
        }

        private void compare(int r, String what, float[] got, float[] want, int from, int length) {
            boolean same = got.length == length;
            for (int i = 0; same && i < length; i++) {
                same = Float.floatToRawIntBits(got[i]) == Float.floatToRawIntBits(want[from + i]);
            }
            if (!same) {
                mismatches++;
                if (first == null) {
                    first = what + " of row k=" + keys.get(r)[0] + " (ids " + java.util.Arrays.toString(ids.get(r))
                            + "): got " + java.util.Arrays.toString(got) + ", core gives "
                            + java.util.Arrays.toString(java.util.Arrays.copyOfRange(want, from, from + length));
                }
            }
        }
    }
}
