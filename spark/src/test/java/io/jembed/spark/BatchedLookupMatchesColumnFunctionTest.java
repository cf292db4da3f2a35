package io.jembed.spark;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The batched Dataset transformation (4096 rows per core call) gives the per-row column function's results bit for
 * bit, keeps every row and its columns, and names the column, the row and the id of a bad id.
 */
class BatchedLookupMatchesColumnFunctionTest {
    @Test
    void batchesOfRowsGiveThePerRowResultsBitForBit() {
        SparkSession spark = LocalSpark.session();
        String table = LocalSpark.writeTable("batched.safetensors", 3000, 24, 51).toString();
        Dataset<Row> input = spark.range(0, 30_000, 1, 3).selectExpr("id AS k",
                        "IF(id % 997 = 3, NULL, slice(transform(sequence(0, 11), i -> CAST(pmod(xxhash64(id, i), 3000) "
                                + "AS INT)), 1, CAST(pmod(xxhash64(id, -1), 12) AS INT))) AS ids")
                .selectExpr("k", "ids", "CAST(ids AS ARRAY<BIGINT>) AS ids64",
                        "transform(ids, (x, i) -> CAST((pmod(xxhash64(k, i), 2001) - 1000) / 999.0 AS DOUBLE)) AS w");
        String[][] configs = {{"ids", "sum", null, null}, {"ids64", "mean", null, null}, {"ids", "max", "5", null},
            {"ids", "sum", null, "w"}, {"ids64", "mean", "-7", null}};
        for (String[] c : configs) {
            BagOptions options = new BagOptions().mode(c[1]);
            if (c[2] != null) {
                options.paddingIdx(Long.parseLong(c[2]));
            }
            if (c[3] != null) {
                options.perSampleWeights(c[3]);
            }
            Dataset<Row> batched = BatchedLookup.embeddingBag(input, c[0], table, options, "e");
            Dataset<Row> perRow = input.select(col("k"), JembedSpark.embeddingBag(col(c[0]), table, options)
                    .as("e"));
            long differing = batched.select("k", "e").join(perRow.withColumnRenamed("e", "want"), "k")
                    .where("NOT (e <=> want)").count();
            assertEquals(0, differing, String.join(",", c));
            assertEquals(30_000, batched.count(), "every row, once");
            assertEquals(java.util.List.of("k", "ids", "ids64", "w", "e"), java.util.List.of(batched.columns()));
        }
    }

    @Test
    void float64And16BitTablesAndOutputTypesGiveThePerRowResultsBitForBit() {
        SparkSession spark = LocalSpark.session();
        Dataset<Row> input = spark.range(0, 6_000, 1, 2).selectExpr("id AS k",
                        "slice(transform(sequence(0, 9), i -> CAST(pmod(xxhash64(id, i), 500) AS INT)), 1, "
                                + "CAST(pmod(xxhash64(id, -1), 10) AS INT)) AS ids")
                .selectExpr("k", "ids",
                        "transform(ids, (x, i) -> CAST((pmod(xxhash64(k, i), 2001) - 1000) / 999.0 AS DOUBLE)) AS w");
        for (io.jembed.DType dtype : new io.jembed.DType[] {io.jembed.DType.FLOAT64, io.jembed.DType.FLOAT16}) {
            String table;
            try (io.jembed.Tensor weight = LocalSpark.table(500, 8, 53, dtype)) {
                table = LocalSpark.save("batched-" + dtype + ".safetensors", weight).toString();
            }
            BagOptions[] configs = {new BagOptions().mode("sum").perSampleWeights("w"),
                new BagOptions().mode("mean").paddingIdx(3),
                new BagOptions().mode("max").output(dtype == io.jembed.DType.FLOAT64 ? "float" : "double")};
            for (BagOptions options : configs) {
                Dataset<Row> batched = BatchedLookup.embeddingBag(input, "ids", table, options, "e");
                Dataset<Row> perRow = input.select(col("k"), JembedSpark.embeddingBag(col("ids"), table, options)
                        .as("want"));
                assertEquals(perRow.schema().apply("want").dataType(), batched.schema().apply("e").dataType());
                long differing = batched.select("k", "e").join(perRow, "k").where("NOT (e <=> want)").count();
                assertEquals(0, differing, dtype + " " + options.mode() + " " + options.output());
            }
        }
    }

    @Test
    void aBadIdNamesTheColumnTheRowAndTheId() {
        SparkSession spark = LocalSpark.session();
        String table = LocalSpark.writeTable("batched-bad.safetensors", 300, 4, 52).toString();
        Dataset<Row> input = spark.range(0, 20_000, 1, 4).selectExpr("id AS k",
                "IF(id = 12000, array(3, 300, 4), array(CAST(pmod(id, 300) AS INT), 1)) AS ids");
        Dataset<Row> batched = BatchedLookup.embeddingBag(input, "ids", table, new BagOptions().mode("sum"), "e");
        Exception failure = assertThrows(Exception.class, () -> batched.write().format("noop").mode("overwrite")
                .save());
        JembedLookupException lookup = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            lookup = t instanceof JembedLookupException l ? l : lookup;
        }
        assertNotNull(lookup, failure.toString());
        assertTrue(lookup.getMessage().startsWith("embedding_bag: bad id in column ids, row 2000 of partition 2: id 300 "
                + "is not in [0, 300)"), lookup.getMessage());
        assertEquals("ids", lookup.column());
        assertEquals(2000, lookup.row());
        assertEquals(300L, lookup.id());
        assertTrue(lookup.getCause() instanceof IndexOutOfBoundsException);
    }
}
