package io.jembed.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The batched plan ({@link BatchedLookupStrategy}, installed by the extension the test session is configured with)
 * against the per-row plan ({@value BatchedLookupStrategy#ENABLED} off) on the same queries: the same rows bit for
 * bit in every bag mode, output type and table dtype, the same nulls, and the same errors (message, row and id),
 * with batches of a few hundred rows so that every partition holds several batches and a partial one. Where the
 * batched node does not apply (a lookup inside another expression, a plain lookup alone), the plan is Spark's own.
 * The per-row plan itself is pinned against core jembed by {@link ColumnFunctionMatchesCoreTest}, which runs through
 * the batched node too.
 */
class BatchedPlanMatchesPerRowTest {
    static final int TABLE_ROWS = 3000;
    static final int DIM = 12;
    /** Rows per core call here: 6,000 rows in 3 partitions give 2,000 rows each, 6 batches of 333 and one of 2. */
    static final String BATCH = "333";

    /**
     * 6,000 rows of 0 to 25 ids (empty bags included) in 3 partitions, every 97th a null array, with float and
     * double weights, bigint ids, and ids where 0 is the padding row.
     */
    private static Dataset<Row> input(SparkSession spark) {
        return spark.range(0, 6000, 1, 3).selectExpr("id AS k", "IF(id % 97 = 5, NULL, slice(transform(sequence(0, "
                        + "25), i -> CAST(pmod(xxhash64(id, i), " + TABLE_ROWS + ") AS INT)), 1, CAST(pmod(xxhash64(id,"
                        + " -1), 26) AS INT))) AS ids")
                .selectExpr("k", "ids", "CAST(ids AS ARRAY<BIGINT>) AS ids64",
                        "transform(ids, x -> IF(x % 5 = 0, 0, x)) AS idsPad",
                        "transform(ids, (x, i) -> CAST((pmod(xxhash64(k, i, 3), 2001) - 1000) / 1000.0 AS FLOAT)) AS w",
                        "transform(ids, (x, i) -> (pmod(xxhash64(k, i, 4), 2001) - 1000) / 997.0D) AS wd");
    }

    @Test
    void everyBagModeOutputAndWeightGivesThePerRowResultsBitForBit() {
        SparkSession spark = LocalSpark.session();
        String table = LocalSpark.writeTable("batched.safetensors", TABLE_ROWS, DIM, 41).toString();
        Dataset<Row> in = input(spark);
        List<Column> columns = new ArrayList<>(List.of(col("k"), col("ids"),
                JembedSpark.embeddingBag(col("ids"), table, "sum").as("sum"),
                JembedSpark.embeddingBag(col("ids64"), table, "mean").as("mean64"),
                JembedSpark.embeddingBag(col("ids"), table, "max").as("max"),
                JembedSpark.embeddingBag(col("ids"), table, new BagOptions().mode("sum").perSampleWeights("w"))
                        .as("sumW"),
                JembedSpark.embeddingBag(col("ids64"), table, new BagOptions().mode("sum").perSampleWeights("wd"))
                        .as("sumWd"),
                expr("jembed_embedding_bag(idsPad, '" + table + "', 'mean', 0)").as("meanPad"),
                expr("jembed_embedding_bag(idsPad, '" + table + "', 'max', -" + TABLE_ROWS + ", 'double')")
                        .as("maxPadDouble"),
                JembedSpark.embeddingBag(col("ids"), table, new BagOptions().mode("mean").output("vector"))
                        .as("meanVector"),
                // A plain lookup in the same projection stays a per-row column of the batched node.
                JembedSpark.embedding(col("ids"), table).as("rows")));
        assertSameRows(in.select(columns.toArray(new Column[0])), true);
    }

    @Test
    void float64AndSixteenBitTablesGiveThePerRowResultsBitForBit() {
        SparkSession spark = LocalSpark.session();
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16}) {
            String table;
            try (Tensor weight = LocalSpark.table(TABLE_ROWS, DIM, 43, dtype)) {
                table = LocalSpark.save("batched-" + dtype.name().toLowerCase() + ".safetensors", weight).toString();
            }
            Dataset<Row> scored = input(spark).select(col("k"),
                    JembedSpark.embeddingBag(col("ids"), table, "mean").as("mean"),
                    JembedSpark.embeddingBag(col("ids"), table, new BagOptions().mode("sum").perSampleWeights("w"))
                            .as("sumW"),
                    JembedSpark.embeddingBag(col("ids64"), table, new BagOptions().mode("sum").perSampleWeights("wd")
                            .output("float")).as("sumWdFloat"),
                    JembedSpark.embeddingBag(col("ids"), table, new BagOptions().mode("max").output("double"))
                            .as("maxDouble"));
            assertSameRows(scored, true);
        }
    }

    @Test
    void aLookupInsideAnotherExpressionOrAPlainLookupAloneIsLeftToTheRowByRowPlan() {
        SparkSession spark = LocalSpark.session();
        String table = LocalSpark.writeTable("batched-nested.safetensors", TABLE_ROWS, DIM, 42).toString();
        // Inside IF, the lookup runs only on the rows the condition picks (a bad id elsewhere must not fail).
        Dataset<Row> nested = input(spark).selectExpr("k", "IF(k % 2 = 0, jembed_embedding_bag(ids, '" + table
                + "', 'sum'), NULL) AS e", "size(jembed_embedding_bag(ids, '" + table + "')) AS n");
        assertSameRows(nested, false);
        assertSameRows(input(spark).select(col("k"), JembedSpark.embedding(col("ids"), table).as("rows")), false);
    }

    @Test
    void badIdsNullIdsAndMismatchedWeightsFailAsTheyFailRowByRow() {
        SparkSession spark = LocalSpark.session();
        String table = LocalSpark.writeTable("batched-failures.safetensors", TABLE_ROWS, DIM, 44).toString();
        // Row 1500 of partition 1 (k = 3500) is the bad one, in the middle of its partition's fifth batch.
        String[] badRows = {"array(3, " + TABLE_ROWS + ", 4)", "array(3, -2)", "array(3, NULL)"};
        for (String bad : badRows) {
            Dataset<Row> in = spark.range(0, 6000, 1, 3).selectExpr("id AS k", "IF(id = 3500, " + bad
                    + ", array(CAST(pmod(id, " + TABLE_ROWS + ") AS INT), 1)) AS ids");
            assertSameFailure(in.select(col("k"), JembedSpark.embeddingBag(col("ids"), table, "mean").as("e"),
                    JembedSpark.embedding(col("ids"), table).as("rows")), "row 1500 of partition 1");
        }
        Dataset<Row> weights = spark.range(0, 6000, 1, 3).selectExpr("id AS k", "array(1, 2) AS ids",
                "IF(id = 3500, array(CAST(1 AS FLOAT)), array(CAST(1 AS FLOAT), CAST(2 AS FLOAT))) AS w");
        assertSameFailure(weights.select(JembedSpark.embeddingBag(col("ids"), table,
                new BagOptions().mode("sum").perSampleWeights("w")).as("e")), "row 1500 of partition 1");
    }

    /** The rows of {@code frame} planned with and without the batched node, compared bit for bit. */
    private static void assertSameRows(Dataset<Row> frame, boolean batched) {
        SparkSession spark = frame.sparkSession();
        List<Row> perRow = withBatching(spark, false, () -> {
            Dataset<Row> plain = fresh(frame);
            assertFalse(plan(plain).contains("BatchedLookup"), plan(plain));
            return sorted(plain.collectAsList());
        });
        List<Row> got = withBatching(spark, true, () -> {
            Dataset<Row> planned = fresh(frame);
            assertEquals(batched, plan(planned).contains("BatchedLookup"), plan(planned));
            return sorted(planned.collectAsList());
        });
        assertEquals(perRow.size(), got.size());
        long nulls = 0;
        for (int r = 0; r < got.size(); r++) {
            Row a = perRow.get(r);
            Row b = got.get(r);
            for (int c = 0; c < a.length(); c++) {
                nulls += a.isNullAt(c) ? 1 : 0;
                assertEquals(bits(a.get(c)), bits(b.get(c)), "row k=" + a.get(0) + ", column "
                        + frame.columns()[c]);
            }
        }
        assertTrue(nulls > 0, "the null arrays give null rows");
    }

    private static void assertSameFailure(Dataset<Row> frame, String where) {
        SparkSession spark = frame.sparkSession();
        JembedLookupException expected = withBatching(spark, false, () -> failure(fresh(frame)));
        JembedLookupException got = withBatching(spark, true, () -> {
            assertTrue(plan(fresh(frame)).contains("BatchedLookup"), plan(fresh(frame)));
            return failure(fresh(frame));
        });
        assertTrue(expected.getMessage().contains(where), expected.getMessage());
        assertEquals(expected.getMessage(), got.getMessage());
        assertEquals(expected.column(), got.column());
        assertEquals(expected.row(), got.row());
        assertEquals(expected.id(), got.id());
    }

    private static JembedLookupException failure(Dataset<Row> frame) {
        Exception failure = assertThrows(Exception.class, () -> frame.write().format("noop").mode("overwrite")
                .save());
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof JembedLookupException lookup) {
                return lookup;
            }
        }
        assertNotNull(null, "the failure carries the lookup's exception: " + failure);
        return null;
    }

    private static <T> T withBatching(SparkSession spark, boolean on, Supplier<T> body) {
        spark.conf().set(BatchedLookupStrategy.ENABLED, String.valueOf(on));
        spark.conf().set(BatchedLookupStrategy.BATCH_ROWS, BATCH);
        try {
            return body.get();
        } finally {
            spark.conf().unset(BatchedLookupStrategy.ENABLED);
            spark.conf().unset(BatchedLookupStrategy.BATCH_ROWS);
        }
    }

    /** The query of {@code frame} as a new Dataset, planned afresh under the current settings. */
    private static Dataset<Row> fresh(Dataset<Row> frame) {
        return org.apache.spark.sql.classic.Dataset$.MODULE$.ofRows(
                (org.apache.spark.sql.classic.SparkSession) frame.sparkSession(),
                ((org.apache.spark.sql.classic.Dataset<Row>) frame).logicalPlan());
    }

    private static String plan(Dataset<Row> frame) {
        return ((org.apache.spark.sql.classic.Dataset<Row>) frame).queryExecution().executedPlan().toString();
    }

    private static List<Row> sorted(List<Row> rows) {
        List<Row> out = new ArrayList<>(rows);
        out.sort(Comparator.comparingLong(r -> r.getLong(0)));
        return out;
    }

    /** A value with each float and double as its bits (so -0.0 differs from 0.0, and NaNs compare). */
    private static Object bits(Object value) {
        if (value instanceof Float f) {
            return Float.floatToRawIntBits(f);
        }
        if (value instanceof Double d) {
            return Double.doubleToRawLongBits(d);
        }
        if (value instanceof Vector v) {
            List<Object> out = new ArrayList<>();
            for (double d : v.toArray()) {
                out.add(Double.doubleToRawLongBits(d));
            }
            return out;
        }
        if (value instanceof scala.collection.Seq<?> seq) {
            List<Object> out = new ArrayList<>();
            for (Object element : scala.jdk.javaapi.CollectionConverters.asJava(seq)) {
                out.add(bits(element));
            }
            return out;
        }
        return value;
    }
}
