package io.jembed.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.F;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

/**
 * float64, float16 and bfloat16 tables through the column functions and the sharded path: each result equals, bit for
 * bit, what core jembed computes on the same table in memory in one JVM (one batched call per mode, in the table's
 * dtype; 16-bit results widened to float exactly), with the output type following the table (float64: array<double>;
 * 16-bit: array<float>) or converted as asked; 4 shards give the unsharded results bit for bit (float64 and float16:
 * bfloat16 takes the sharded path's 16-bit code as float16 does); a table of another dtype is refused, naming the
 * dtypes taken. Sizes are small (the million-row test covers volume) to keep the module's test time down.
 */
class TableDTypesMatchCoreTest {
    static final int ROWS = 4000;
    static final int TABLE_ROWS = 3000;
    static final int DIM = 16;

    private static Dataset<Row> input(SparkSession spark) {
        return spark.range(0, ROWS, 1, 4).selectExpr("id AS k",
                        "slice(transform(sequence(0, 11), i -> CAST(pmod(xxhash64(id, i), " + TABLE_ROWS + ") AS INT)),"
                                + " 1, CAST(pmod(xxhash64(id, -1), 12) AS INT)) AS ids")
                .selectExpr("k", "ids", "transform(ids, x -> IF(x % 7 = 0, 0, x)) AS idsPad",
                        "transform(ids, (x, i) -> CAST((pmod(xxhash64(k, i, 7), 2001) - 1000) / 999.0 AS DOUBLE))"
                                + " AS w");
    }

    @Test
    void float64TablesGiveDoublesBitForBit() throws IOException {
        everyLookupMatchesTheCore(DType.FLOAT64, 61, true);
    }

    @Test
    void float16TablesGiveTheCoresHalfResultsWidenedBitForBit() throws IOException {
        everyLookupMatchesTheCore(DType.FLOAT16, 62, true);
    }

    @Test
    void bfloat16TablesGiveTheCoresResultsWidenedBitForBit() throws IOException {
        everyLookupMatchesTheCore(DType.BFLOAT16, 63, false);
    }

    private static void everyLookupMatchesTheCore(DType dtype, long seed, boolean sharded) throws IOException {
        SparkSession spark = LocalSpark.session();
        boolean wide = dtype == DType.FLOAT64;
        try (Tensor weight = LocalSpark.table(TABLE_ROWS, DIM, seed, dtype)) {
            Path file = LocalSpark.save("dtype-" + dtype + ".safetensors", weight);
            String t = file.toString();
            Dataset<Row> result = input(spark).select(col("k"), col("ids"), col("idsPad"), col("w"),
                    JembedSpark.embedding(col("ids"), t).as("rows"),
                    JembedSpark.embeddingBag(col("ids"), t, "sum").as("sum"),
                    JembedSpark.embeddingBag(col("ids"), t, "mean").as("mean"),
                    JembedSpark.embeddingBag(col("ids"), t, "max").as("max"),
                    JembedSpark.embeddingBag(col("ids"), t, new BagOptions().mode("sum").perSampleWeights("w"))
                            .as("sumW"),
                    expr("jembed_embedding_bag(idsPad, '" + t + "', 'mean', 0)").as("meanPad"),
                    expr("jembed_embedding_bag(idsPad, '" + t + "', 'max', 0, '" + (wide ? "float" : "double")
                            + "')").as("maxPadConverted"))
                    .orderBy("k");
            DataType element = wide ? DataTypes.DoubleType : DataTypes.FloatType;
            DataType row = DataTypes.createArrayType(element, false);
            assertEquals(DataTypes.createArrayType(row, false), result.schema().apply("rows").dataType());
            for (String pooled : new String[] {"sum", "mean", "max", "sumW", "meanPad"}) {
                assertEquals(row, result.schema().apply(pooled).dataType(), pooled);
            }
            assertEquals(DataTypes.createArrayType(wide ? DataTypes.FloatType : DataTypes.DoubleType, false),
                    result.schema().apply("maxPadConverted").dataType(), "the output asked for");

            List<Row> rows = result.collectAsList();
            assertEquals(ROWS, rows.size());
            int[] offsets = new int[ROWS];
            List<Integer> flat = new ArrayList<>();
            List<Integer> flatPad = new ArrayList<>();
            List<Double> flatW = new ArrayList<>();
            for (int r = 0; r < ROWS; r++) {
                offsets[r] = flat.size();
                for (Object id : rows.get(r).getList(1)) {
                    flat.add((Integer) id);
                }
                for (Object id : rows.get(r).getList(2)) {
                    flatPad.add((Integer) id);
                }
                for (Object w : rows.get(r).getList(3)) {
                    flatW.add((Double) w);
                }
            }
            int[] ids = flat.stream().mapToInt(Integer::intValue).toArray();
            int[] idsPad = flatPad.stream().mapToInt(Integer::intValue).toArray();
            double[] w = flatW.stream().mapToDouble(Double::doubleValue).toArray();
            float[] wFloat = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                wFloat[i] = (float) w[i];
            }
            try (Tensor in = Torch.tensor(ids); Tensor pad = Torch.tensor(idsPad); Tensor off = Torch.tensor(offsets);
                 Tensor psw = wide ? Torch.tensor(w) : Torch.tensor(wFloat, dtype);
                 Tensor looked = Torch.empty(dtype, ids.length, DIM)) {
                F.embedding(ids, weight, looked);
                Tensor[] expected = {
                    F.embeddingBag(in, weight, off, null, 2.0, false, EmbeddingBagMode.SUM, false, null, false, null),
                    F.embeddingBag(in, weight, off, null, 2.0, false, EmbeddingBagMode.MEAN, false, null, false, null),
                    F.embeddingBag(in, weight, off, null, 2.0, false, EmbeddingBagMode.MAX, false, null, false, null),
                    F.embeddingBag(in, weight, off, null, 2.0, false, EmbeddingBagMode.SUM, false, psw, false, null),
                    F.embeddingBag(pad, weight, off, null, 2.0, false, EmbeddingBagMode.MEAN, false, null, false, 0L),
                    F.embeddingBag(pad, weight, off, null, 2.0, false, EmbeddingBagMode.MAX, false, null, false, 0L),
                };
                long[] wantRows = bits(looked, wide);
                long[][] want = new long[expected.length][];
                for (int m = 0; m < expected.length; m++) {
                    // The last column is converted: float64 rounded to float, 16-bit widened to double.
                    want[m] = bits(expected[m], m == expected.length - 1 ? !wide : wide);
                    expected[m].close();
                }
                String[] names = {"sum", "mean", "max", "sumW", "meanPad", "maxPadConverted"};
                for (int r = 0; r < ROWS; r++) {
                    Row got = rows.get(r);
                    int n = got.getList(1).size();
                    assertBits(dtype + " rows of k=" + got.getLong(0), wantRows, offsets[r] * DIM, n * DIM,
                            flatten(got.getList(4)));
                    for (int m = 0; m < names.length; m++) {
                        assertBits(dtype + " " + names[m] + " of k=" + got.getLong(0), want[m], r * DIM, DIM,
                                flatten(got.getList(5 + m)));
                    }
                }
            }

            if (!sharded) {
                return;
            }
            // The same table in 4 shards: the unsharded column results, bit for bit.
            List<String> shards = TableShards.split(file, 4, LocalSpark.tables().resolve("dtype-shards-" + dtype))
                    .stream().map(Path::toString).toList();
            Map<Long, Row> byKey = new HashMap<>();
            for (Row r : rows) {
                byKey.put(r.getLong(0), r);
            }
            // Two jobs per dtype (each a shuffle there and back): weighted sums for both, then the plain lookup for
            // float64 and the padded mean for float16 (the 16-bit pooling's other path).
            Dataset<Row> base = input(spark);
            checkSharded(ShardedLookup.embeddingBag(base, "ids", shards, new BagOptions().mode("sum")
                    .perSampleWeights("w"), "e"), byKey, 8);
            if (wide) {
                checkSharded(ShardedLookup.embedding(base, "ids", shards, "e"), byKey, 4);
            } else {
                checkSharded(ShardedLookup.embeddingBag(base, "idsPad", shards, new BagOptions().mode("mean")
                        .paddingIdx(0), "e"), byKey, 9);
            }
        }
    }

    private static void checkSharded(Dataset<Row> sharded, Map<Long, Row> unsharded, int column) {
        List<Row> got = sharded.select("k", "e").collectAsList();
        assertEquals(ROWS, got.size());
        for (Row row : got) {
            List<Long> want = bitsOf(flatten(unsharded.get(row.getLong(0)).getList(column)));
            assertEquals(want, bitsOf(flatten(row.getList(1))), "sharded " + sharded.schema().apply("e")
                    + " of k=" + row.getLong(0));
        }
    }

    @Test
    void aFloat64TableTheDriverCouldNotReadNeedsItsOutputNamed() throws IOException {
        SparkSession spark = LocalSpark.session();
        Path file = LocalSpark.tables().resolve("late-float64.safetensors");
        Dataset<Row> ids = spark.range(0, 100, 1, 2).selectExpr("array(CAST(pmod(id, 50) AS INT)) AS ids");
        // Analysed before the file exists (as on a driver that cannot read the executors' files): float by default.
        Dataset<Row> defaulted = ids.select(JembedSpark.embeddingBag(col("ids"), file.toString(), "sum").as("e"));
        Dataset<Row> named = ids.select(JembedSpark.embeddingBag(col("ids"), file.toString(),
                new BagOptions().mode("sum").output("double")).as("e"));
        assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false), defaulted.schema().apply("e").dataType());
        try (Tensor weight = LocalSpark.table(50, 4, 64, DType.FLOAT64)) {
            Path written = LocalSpark.save("late-float64.tmp", weight);
            Files.move(written, file);
            Exception failure = assertThrows(Exception.class, () -> defaulted.write().format("noop")
                    .mode("overwrite").save());
            JembedTableException table = find(failure, JembedTableException.class);
            assertNotNull(table, failure.toString());
            assertTrue(table.getMessage().startsWith("jembed table '" + file + "': is float64, so "
                    + "jembed_embedding_bag gives array<double>, but the driver could not read the table when the "
                    + "query was analysed"), table.getMessage());
            assertTrue(table.getMessage().contains("pass the output 'double'"), table.getMessage());
            List<Row> rows = named.collectAsList();
            assertEquals(100, rows.size());
            double[] all = weight.toDoubleArray();
            for (int i = 0; i < 100; i++) {
                List<Object> e = rows.get(i).getList(0);
                for (int j = 0; j < 4; j++) {
                    assertEquals(all[(i % 50) * 4 + j], (Double) e.get(j), 0.0, "row " + i);
                }
            }
        }
    }

    @Test
    void aTableOfIntegersIsRefusedNamingTheDtypesTaken() {
        SparkSession spark = LocalSpark.session();
        Path file;
        try (Tensor ints = Torch.tensor(new int[] {1, 2, 3, 4, 5, 6}, 3, 2)) {
            file = LocalSpark.save("int-table.safetensors", ints);
        }
        Exception failure = assertThrows(Exception.class, () -> spark.range(1).selectExpr("array(1) AS ids")
                .select(JembedSpark.embeddingBag(col("ids"), file.toString(), "sum")));
        JembedTableException table = find(failure, JembedTableException.class);
        assertNotNull(table, failure.toString());
        assertTrue(table.getMessage().endsWith("is I32 of shape [3, 2]; a table must be 2-D (rows, dim) of F32, F64, "
                + "F16 or BF16"), table.getMessage());
        assertThrows(JembedTableException.class, () -> TableShards.split(file, 2, LocalSpark.tables()
                .resolve("int-shards")));
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private static long[] bits(Tensor t, boolean asDouble) {
        if (asDouble) {
            double[] values = t.toDoubleArray();
            long[] out = new long[values.length];
            for (int i = 0; i < values.length; i++) {
                out[i] = Double.doubleToRawLongBits(values[i]);
            }
            return out;
        }
        float[] values = t.toFloatArray();
        long[] out = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }

    /** The numbers of a result, nested arrays flattened in order. */
    static List<Object> flatten(Object value) {
        List<Object> out = new ArrayList<>();
        if (value instanceof scala.collection.Seq<?> seq) {
            value = scala.jdk.javaapi.CollectionConverters.asJava(seq);
        }
        if (value instanceof List<?> list) {
            for (Object element : list) {
                out.addAll(flatten(element));
            }
        } else {
            out.add(value);
        }
        return out;
    }

    private static List<Long> bitsOf(List<Object> numbers) {
        List<Long> out = new ArrayList<>();
        for (Object number : numbers) {
            out.add(number instanceof Double d ? Double.doubleToRawLongBits(d)
                    : (long) Float.floatToRawIntBits((Float) number));
        }
        return out;
    }

    private static void assertBits(String what, long[] want, int from, int length, List<Object> got) {
        List<Long> expected = new ArrayList<>();
        for (int i = 0; i < length; i++) {
            expected.add(want[from + i]);
        }
        assertEquals(expected, bitsOf(got), what);
    }

    static <T extends Throwable> T find(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
