package io.jembed.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

/**
 * What a Spark user sees when things go wrong: a bad id fails its task with the core's exception wrapped in one that
 * names the column, the row and the id, and the executor (this JVM) goes on running jobs; a missing or corrupt table
 * fails at the first task (or at analysis, when the driver can read it) with a message naming the file; a retried
 * task gives the same result.
 */
class FailuresTest {
    static final int TABLE_ROWS = 5000;
    static final AtomicInteger FLAKY_FAILURES = new AtomicInteger();

    /** 20,000 rows in 4 partitions of 5,000 (spark.range splits evenly); the row with k = 12,000 gets a bad id. */
    private static Dataset<Row> withOneBadId(SparkSession spark, long badId) {
        return spark.range(0, 20_000, 1, 4).selectExpr("id AS k",
                "IF(id = 12000, array(3, " + badId + ", 4), array(CAST(pmod(id, " + TABLE_ROWS + ") AS INT), 1, 2))"
                        + " AS ids");
    }

    @Test
    void aBadIdFailsTheJobNamingTheColumnTheRowAndTheIdAndTheExecutorLivesOn() {
        SparkSession spark = LocalSpark.session();
        String table = LocalSpark.writeTable("failures.safetensors", TABLE_ROWS, 8, 31).toString();
        for (long bad : new long[] {TABLE_ROWS, -1}) {
            Dataset<Row> scored = withOneBadId(spark, bad)
                    .select(JembedSpark.embeddingBag(col("ids"), table, "sum").as("e"));
            Exception failure = assertThrows(Exception.class, () -> scored.write().format("noop").mode("overwrite")
                    .save());
            JembedLookupException lookup = find(failure, JembedLookupException.class);
            assertNotNull(lookup, "the job's failure carries the lookup's exception: " + failure);
            String message = lookup.getMessage();
            assertTrue(message.contains("jembed_embedding_bag: bad id in column ids, row 2000 of partition 2: id "
                    + bad + " is not in [0, 5000)"), message);
            assertTrue(message.contains("(ids [3, " + bad + ", 4]"), message);
            assertEquals("ids", lookup.column());
            assertEquals(2000, lookup.row());
            assertEquals(bad, lookup.id());
            IndexOutOfBoundsException core = find(failure, IndexOutOfBoundsException.class);
            assertNotNull(core, "the core's exception is the cause");
            assertTrue(core.getMessage().startsWith("embedding_bag: Expected idx >= 0 && idx < num_embeddings but "
                    + "found idx to be " + bad + " at position [1]"), core.getMessage());
            assertTrue(failure.getMessage().contains("bad id in column ids, row 2000 of partition 2"),
                    "the job's own message names them too: " + failure.getMessage());
        }
        // The executor survived: the same session runs the lookup on good ids.
        long good = spark.range(0, 1000, 1, 2).selectExpr("array(CAST(id AS INT)) AS ids")
                .select(JembedSpark.embeddingBag(col("ids"), table, "max").as("e")).where("size(e) = 8").count();
        assertEquals(1000, good);
    }

    @Test
    void aBadIdInTheShardedPathNamesTheColumnTheRowAndTheId() throws IOException {
        SparkSession spark = LocalSpark.session();
        Path table = LocalSpark.writeTable("failures-sharded.safetensors", TABLE_ROWS, 8, 32);
        List<String> shards = TableShards.split(table, 4, LocalSpark.tables().resolve("failure-shards")).stream()
                .map(Path::toString).toList();
        Dataset<Row> scored = ShardedLookup.embeddingBag(withOneBadId(spark, TABLE_ROWS), "ids", shards,
                new BagOptions().mode("mean"), "e");
        Exception failure = assertThrows(Exception.class, () -> scored.write().format("noop").mode("overwrite")
                .save());
        JembedLookupException lookup = find(failure, JembedLookupException.class);
        assertNotNull(lookup, failure.toString());
        assertTrue(lookup.getMessage().startsWith("sharded embedding_bag: bad id in column ids, row 2000 of partition "
                + "2: id 5000 is not in [0, 5000) (ids [3, 5000, 4]; 4 shards)"), lookup.getMessage());
        assertEquals("ids", lookup.column());
        assertEquals(2000, lookup.row(), "the row's position in its partition, as the message says");
        assertEquals(5000L, lookup.id());
        assertNotNull(find(failure, IndexOutOfBoundsException.class));

        // The plain lookup over the same shards.
        Dataset<Row> rows = ShardedLookup.embedding(withOneBadId(spark, -1), "ids", shards, "e");
        Exception plain = assertThrows(Exception.class, () -> rows.write().format("noop").mode("overwrite").save());
        JembedLookupException plainLookup = find(plain, JembedLookupException.class);
        assertNotNull(plainLookup, plain.toString());
        assertTrue(plainLookup.getMessage().startsWith("sharded embedding: bad id in column ids, row 2000 of partition "
                + "2: id -1 is not in [0, 5000) (ids [3, -1, 4]; 4 shards)"), plainLookup.getMessage());
        assertEquals(2000, plainLookup.row());
        assertEquals(-1L, plainLookup.id());
    }

    @Test
    void aBadIdInThePlainLookupNamesTheColumnTheRowAndTheId() {
        SparkSession spark = LocalSpark.session();
        String table = LocalSpark.writeTable("failures-plain.safetensors", TABLE_ROWS, 8, 35).toString();
        // An array of ids per row, then one id per row (the row with k = 12,000 holds the bad one).
        Dataset<Row> arrays = withOneBadId(spark, TABLE_ROWS).select(JembedSpark.embedding(col("ids"), table)
                .as("e"));
        Dataset<Row> scalars = withOneBadId(spark, TABLE_ROWS).selectExpr("ids[1] AS id")
                .select(JembedSpark.embedding(col("id"), table).as("e"));
        String[] expected = {"jembed_embedding: bad id in column ids, row 2000 of partition 2: id 5000 is not in [0, "
                + "5000) (ids [3, 5000, 4]; table '" + table + "' of 5000 rows): ", "jembed_embedding: bad id in "
                + "column id, row 2000 of partition 2: id 5000 is not in [0, 5000) (ids 5000; table '" + table
                + "' of 5000 rows): "};
        Dataset<?>[] frames = {arrays, scalars};
        for (int i = 0; i < 2; i++) {
            Dataset<?> frame = frames[i];
            Exception failure = assertThrows(Exception.class, () -> frame.write().format("noop").mode("overwrite")
                    .save());
            JembedLookupException lookup = find(failure, JembedLookupException.class);
            assertNotNull(lookup, failure.toString());
            assertTrue(lookup.getMessage().startsWith(expected[i]), lookup.getMessage());
            assertEquals(i == 0 ? "ids" : "id", lookup.column());
            assertEquals(2000, lookup.row());
            assertEquals(5000L, lookup.id());
            assertTrue(lookup.getCause() instanceof IndexOutOfBoundsException, "the core's exception is the cause");
        }
    }

    @Test
    void aCorruptTableFailsAtAnalysisWhenTheDriverSeesItAndAtTheFirstTaskOtherwise() throws IOException {
        SparkSession spark = LocalSpark.session();
        Path good = LocalSpark.writeTable("will-be-corrupt.safetensors", 100, 4, 33);
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = LocalSpark.tables().resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 10));
        Dataset<Row> ids = spark.range(0, 1000, 1, 4).selectExpr("array(CAST(pmod(id, 100) AS INT)) AS ids");

        // The driver reads the header when the query is analysed.
        Exception atAnalysis = assertThrows(Exception.class,
                () -> ids.select(JembedSpark.embeddingBag(col("ids"), truncated.toString(), "sum")));
        JembedTableException analysed = find(atAnalysis, JembedTableException.class);
        assertNotNull(analysed, atAnalysis.toString());
        assertTrue(analysed.getMessage().contains(truncated.toString()), analysed.getMessage());

        // A table that breaks after analysis (replaced by a truncated file): the first task fails, naming it.
        Dataset<Row> scored = ids.select(JembedSpark.embeddingBag(col("ids"), good.toString(), "sum").as("e"));
        Path replacement = LocalSpark.tables().resolve("replacement.tmp");
        Files.copy(truncated, replacement);
        Files.move(replacement, good, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Exception atTask = assertThrows(Exception.class, () -> scored.write().format("noop").mode("overwrite")
                .save());
        JembedTableException inTask = find(atTask, JembedTableException.class);
        assertNotNull(inTask, atTask.toString());
        assertTrue(inTask.getMessage().startsWith("jembed table '" + good + "': cannot use " + good.toRealPath()),
                inTask.getMessage());
        assertNotNull(find(atTask, io.jembed.io.MalformedFileException.class), "the core's file exception");
        assertTrue(atTask.getMessage().contains("Task") && atTask.getMessage().contains("failed"),
                "a task failure: " + atTask.getMessage());
    }

    @Test
    void aMissingTableFailsAtTheFirstTaskNamingWhereItWasLookedFor() {
        SparkSession spark = LocalSpark.session();
        Dataset<Row> scored = spark.range(0, 100, 1, 2).selectExpr("array(1) AS ids")
                .select(expr("jembed_embedding_bag(ids, 'no-such-table.safetensors', 'sum')").as("e"));
        Exception failure = assertThrows(Exception.class, () -> scored.write().format("noop").mode("overwrite")
                .save());
        JembedTableException missing = find(failure, JembedTableException.class);
        assertNotNull(missing, failure.toString());
        assertTrue(missing.getMessage().startsWith("jembed table 'no-such-table.safetensors': no such file: neither "
                + "at that path nor among the files shipped with --files or SparkContext.addFile"),
                missing.getMessage());
    }

    @Test
    void aRetriedTaskGivesTheSameResult() {
        SparkSession spark = LocalSpark.session();
        String table = LocalSpark.writeTable("retries.safetensors", TABLE_ROWS, 8, 34).toString();
        // Fails the first attempt of partition 1's task, after half its rows went through the lookup.
        UDF1<Long, Long> flaky = k -> {
            TaskContext task = TaskContext.get();
            if (task.partitionId() == 1 && task.attemptNumber() == 0 && k == 3750) {
                FLAKY_FAILURES.incrementAndGet();
                throw new IllegalStateException("the first attempt of this task dies");
            }
            return k;
        };
        spark.udf().register("flaky_identity", flaky, DataTypes.LongType);
        Dataset<Row> input = spark.range(0, 10_000, 1, 4).selectExpr("id AS k",
                "transform(sequence(0, CAST(pmod(id, 9) AS INT)), i -> CAST(pmod(xxhash64(id, i), 5000) AS INT))"
                        + " AS ids");
        Dataset<Row> once = input.select(col("k"), JembedSpark.embeddingBag(col("ids"), table, "mean").as("e"));
        Dataset<Row> retried = input.select(col("k"), col("ids")).selectExpr("flaky_identity(k) AS k", "ids")
                .select(col("k"), JembedSpark.embeddingBag(col("ids"), table, "mean").as("e"));
        MapFunction<Row, String> text = r -> r.getLong(0) + ":" + r.getList(1);
        List<String> expected = new ArrayList<>(once.map(text, Encoders.STRING()).collectAsList());
        int failuresBefore = FLAKY_FAILURES.get();
        List<String> got = new ArrayList<>(retried.map(text, Encoders.STRING()).collectAsList());
        assertEquals(1, FLAKY_FAILURES.get() - failuresBefore, "one task failed once and was retried");
        Collections.sort(expected);
        Collections.sort(got);
        assertEquals(10_000, got.size());
        assertEquals(expected, got);
    }

    private static <T extends Throwable> T find(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
