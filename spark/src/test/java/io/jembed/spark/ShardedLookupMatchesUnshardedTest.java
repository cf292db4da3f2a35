package io.jembed.spark;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.Tensor;
import io.jembed.mapped.MappedTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * A table split into 4 shard files, looked up through the sharded path (routed to one partition per shard, pooled
 * back per row), must give the unsharded column function's results bit for bit in every mode.
 */
class ShardedLookupMatchesUnshardedTest {
    static final int TABLE_ROWS = 1003;
    static final int DIM = 12;

    @Test
    void theShardFilesHoldTheTablesRowsByRange() throws IOException {
        Path table = LocalSpark.writeTable("to-split.safetensors", TABLE_ROWS, DIM, 21);
        List<Path> shards = TableShards.split(table, 4, LocalSpark.tables().resolve("split-shards"));
        assertEquals(4, shards.size());
        TableShards.Layout layout = TableShards.layout(shards.stream().map(Path::toString).toList());
        assertArrayEquals(new long[] {0, 250, 501, 752}, layout.starts(), "k * 1003 / 4");
        assertEquals(TABLE_ROWS, layout.rows());
        try (Tensor whole = MappedTensors.safeOpen(table).getTensor("weight")) {
            float[] all = whole.toFloatArray();
            int row = 0;
            for (Path shard : shards) {
                try (Tensor part = MappedTensors.safeOpen(shard).getTensor("weight")) {
                    float[] values = part.toFloatArray();
                    assertArrayEquals(java.util.Arrays.copyOfRange(all, row * DIM, row * DIM + values.length), values,
                            shard + " holds its rows byte for byte");
                    row += (int) part.size(0);
                }
            }
            assertEquals(TABLE_ROWS, row);
        }
        assertThrows(IllegalArgumentException.class, () -> TableShards.split(table, TABLE_ROWS + 1,
                LocalSpark.tables().resolve("too-many")));
        JembedTableException incomplete = assertThrows(JembedTableException.class,
                () -> TableShards.layout(List.of(shards.get(0).toString(), shards.get(1).toString())));
        assertTrue(incomplete.getMessage().contains("is shard 0 of 4, but 2 files were given"),
                incomplete.getMessage());
    }

    @Test
    void fourShardsGiveTheUnshardedResultsBitForBit() throws IOException {
        SparkSession spark = LocalSpark.session();
        Path table = LocalSpark.writeTable("sharded.safetensors", TABLE_ROWS, DIM, 22);
        List<String> shards = TableShards.split(table, 4, LocalSpark.tables().resolve("shards")).stream()
                .map(Path::toString).toList();
        Dataset<Row> input = spark.range(0, 10_000, 1, 3).selectExpr("id AS k",
                        "slice(transform(sequence(0, 24), i -> pmod(xxhash64(id, i), " + TABLE_ROWS + ")), 1, "
                                + "CAST(pmod(xxhash64(id, -1), 25) AS INT)) AS ids")
                .selectExpr("k", "IF(k % 1000 = 5, NULL, transform(ids, x -> IF(x % 5 = 0, 7, x))) AS ids",
                        "transform(ids, (x, i) -> CAST((pmod(xxhash64(k, i), 2001) - 1000) / 999.0 AS DOUBLE)) AS w")
                .cache();
        String[][] configs = {{"sum", null, null}, {"mean", null, null}, {"max", null, null}, {"sum", null, "w"},
            {"sum", "7", null}, {"mean", "7", null}, {"max", "7", null}, {"sum", "-996", "w"}};
        long opensBefore = ExecutorTables.opens();
        for (String[] config : configs) {
            BagOptions options = new BagOptions().mode(config[0]);
            if (config[1] != null) {
                options.paddingIdx(Long.parseLong(config[1]));
            }
            if (config[2] != null) {
                options.perSampleWeights(config[2]);
            }
            Dataset<Row> sharded = ShardedLookup.embeddingBag(input, "ids", shards, options, "e");
            Dataset<Row> whole = input.select(col("k"),
                    JembedSpark.embeddingBag(col("ids"), table.toString(), options).as("e"));
            Map<Long, float[]> expected = new HashMap<>();
            for (Row row : whole.collectAsList()) {
                expected.put(row.getLong(0), row.isNullAt(1) ? null : floats(row.getList(1)));
            }
            List<Row> got = sharded.select("k", "e").collectAsList();
            assertEquals(expected.size(), got.size(), "every input row comes back once");
            int nulls = 0;
            for (Row row : got) {
                float[] want = expected.get(row.getLong(0));
                if (want == null) {
                    assertTrue(row.isNullAt(1), "a null ids array gives null");
                    nulls++;
                    continue;
                }
                float[] have = floats(row.getList(1));
                assertEquals(want.length, have.length);
                for (int i = 0; i < want.length; i++) {
                    if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(have[i])) {
                        throw new AssertionError(String.join(",", config) + ": row k=" + row.getLong(0)
                                + " element " + i + ": sharded " + have[i] + ", unsharded " + want[i]);
                    }
                }
            }
            assertEquals(10, nulls);
        }
        // The four shards and the whole table, each mapped once in this JVM however many tasks and queries used them.
        assertEquals(5, ExecutorTables.opens() - opensBefore);
        input.unpersist();
    }

    @Test
    void fourShardsGiveThePlainLookupsRowsBitForBit() throws IOException {
        SparkSession spark = LocalSpark.session();
        Path table = LocalSpark.writeTable("sharded-plain.safetensors", TABLE_ROWS, DIM, 23);
        List<String> shards = TableShards.split(table, 4, LocalSpark.tables().resolve("plain-shards")).stream()
                .map(Path::toString).toList();
        Dataset<Row> input = spark.range(0, 5_000, 1, 3).selectExpr("id AS k",
                        "IF(k % 1000 = 5, NULL, slice(transform(sequence(0, 9), i -> pmod(xxhash64(id, i), "
                                + TABLE_ROWS + ")), 1, CAST(pmod(xxhash64(id, -1), 10) AS INT))) AS ids")
                .selectExpr("k", "ids", "CAST(pmod(k * 7919, " + TABLE_ROWS + ") AS INT) AS id");
        for (String column : new String[] {"ids", "id"}) {
            Dataset<Row> sharded = ShardedLookup.embedding(input, column, shards, "e");
            assertEquals(input.select(JembedSpark.embedding(col(column), table.toString())).schema().fields()[0]
                    .dataType(), sharded.schema().apply("e").dataType(), "the column function's type");
            Map<Long, List<Object>> expected = new HashMap<>();
            for (Row row : input.select(col("k"), JembedSpark.embedding(col(column), table.toString()).as("e"))
                    .collectAsList()) {
                expected.put(row.getLong(0), row.isNullAt(1) ? null
                        : TableDTypesMatchCoreTest.flatten(row.get(1)));
            }
            List<Row> got = sharded.select("k", "e").collectAsList();
            assertEquals(5_000, got.size(), "every input row comes back once");
            for (Row row : got) {
                List<Object> want = expected.get(row.getLong(0));
                if (want == null) {
                    assertTrue(row.isNullAt(1), "a null ids array gives null");
                    continue;
                }
                List<Object> have = TableDTypesMatchCoreTest.flatten(row.get(1));
                assertEquals(want.size(), have.size());
                for (int i = 0; i < want.size(); i++) {
                    assertEquals(Float.floatToRawIntBits((Float) want.get(i)),
                            Float.floatToRawIntBits((Float) have.get(i)), column + ": row k=" + row.getLong(0)
                            + " element " + i);
                }
            }
        }
    }

    private static float[] floats(List<Object> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Float) values.get(i);
        }
        return out;
    }
}
