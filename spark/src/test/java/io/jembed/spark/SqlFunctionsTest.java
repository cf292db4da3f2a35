package io.jembed.spark;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.safetensors.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The SQL functions as a SQL or PySpark user calls them (registered by spark.sql.extensions), on a table whose
 * results are worked out by hand; the table shipped with SparkContext.addFile and named by its file name; the
 * mapping opened once per JVM whatever the number of tasks and queries.
 */
class SqlFunctionsTest {
    /** Rows [1, 2], [3, 4], [5, -6], [0.5, 8]. */
    private static Path handTable(String name) throws IOException {
        Path file = LocalSpark.tables().resolve(name);
        try (Tensor weight = Torch.tensor(new float[] {1, 2, 3, 4, 5, -6, 0.5f, 8}, 4, 2)) {
            Safetensors.saveFile(Map.of("weight", weight), file);
        }
        return file;
    }

    private static List<Object> row(SparkSession spark, String sql) {
        List<Row> rows = spark.sql(sql).collectAsList();
        assertEquals(1, rows.size());
        return rows.get(0).getList(0);
    }

    @Test
    void theSqlFunctionsGiveTheRowsAndBagsWorkedOutByHand() throws IOException {
        SparkSession spark = LocalSpark.session();
        String t = handTable("hand.safetensors").toString();
        assertEquals(List.of(5f, -6f), row(spark, "SELECT jembed_embedding(2, '" + t + "')"));
        List<Object> rows = row(spark, "SELECT jembed_embedding(array(3, 0), '" + t + "')");
        assertEquals(List.of(List.of(0.5f, 8f), List.of(1f, 2f)), rows.stream()
                .map(r -> scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<?>) r)).toList());
        assertEquals(List.of(9f, 0f), row(spark, "SELECT jembed_embedding_bag(array(0, 1, 2), '" + t + "', 'sum')"));
        assertEquals(List.of(3f, 0f), row(spark, "SELECT jembed_embedding_bag(array(0, 1, 2), '" + t + "', 'mean')"));
        assertEquals(List.of(3f, 0f), row(spark, "SELECT jembed_embedding_bag(array(0, 1, 2), '" + t + "')"),
                "mean is the default, as in PyTorch");
        assertEquals(List.of(5f, 4f), row(spark, "SELECT jembed_embedding_bag(array(0, 1, 2), '" + t + "', 'max')"));
        // padding_idx 1 leaves row 1 out: mean of rows 0 and 2 = [3, -2]; max = [5, 2].
        assertEquals(List.of(3f, -2f), row(spark, "SELECT jembed_embedding_bag(array(0, 1, 2, 1), '" + t
                + "', 'mean', 1)"));
        assertEquals(List.of(5f, 2f), row(spark, "SELECT jembed_embedding_bag(array(0, 1, 2, 1), '" + t
                + "', 'max', -3)"), "a negative padding_idx counts from the end, as in PyTorch");
        // per_sample_weights: 2 * [1, 2] - 1 * [0.5, 8] = [1.5, -4].
        assertEquals(List.of(1.5f, -4f), row(spark, "SELECT jembed_embedding_bag(array(0L, 3L), '" + t
                + "', 'sum', array(2.0D, -1.0D))"));
        assertEquals(List.of(0f, 0f), row(spark, "SELECT jembed_embedding_bag(CAST(array() AS ARRAY<INT>), '" + t
                + "', 'max')"), "an empty bag gives zeros");
        assertEquals(List.of(0f, 0f), row(spark, "SELECT jembed_embedding_bag(array(1, 1), '" + t
                + "', 'mean', 1)"), "an all-padding bag gives zeros");
        assertNull(spark.sql("SELECT jembed_embedding_bag(CAST(NULL AS ARRAY<INT>), '" + t + "', 'sum')")
                .collectAsList().get(0).get(0), "null ids give null");
    }

    @Test
    void wrongArgumentsFailWhenTheQueryIsAnalysed() throws IOException {
        SparkSession spark = LocalSpark.session();
        String t = handTable("hand-arguments.safetensors").toString();
        String[][] cases = {
            {"jembed_embedding_bag(array(1), '" + t + "', 'median')", "mode must be 'sum', 'mean' or 'max', got "
                    + "'median'"},
            {"jembed_embedding_bag(array(1), '" + t + "', 'mean', array(CAST(1.0 AS FLOAT)))", "per_sample_weights is only "
                    + "supported for mode='sum' (got mode='mean')"},
            {"jembed_embedding_bag(array(1), '" + t + "', 'sum', 4)", "padding_idx must be within the number of "
                    + "embeddings, in [-4, 4), got 4"},
            {"jembed_embedding_bag(array('a'), '" + t + "', 'sum')", "takes ids as array<int> or array<bigint>"},
            {"jembed_embedding_bag(array(1), CAST(rand() AS STRING), 'sum')", "table must be a string literal"},
        };
        for (String[] c : cases) {
            Exception e = assertThrows(Exception.class, () -> spark.sql("SELECT " + c[0]).collectAsList(), c[0]);
            String messages = "";
            for (Throwable x = e; x != null; x = x.getCause()) {
                messages += x.getMessage() + " | ";
            }
            assertTrue(messages.contains(c[1]), c[0] + " -> " + messages);
        }
    }

    @Test
    void aTableShippedWithAddFileIsFoundByItsNameAndMappedOncePerJvm() throws IOException {
        SparkSession spark = LocalSpark.session();
        Path file = LocalSpark.writeTable("shipped-table.safetensors", 3000, 8, 41);
        spark.sparkContext().addFile(file.toString());
        long before = ExecutorTables.opens();
        Dataset<Row> input = spark.range(0, 200_000, 1, 16).selectExpr("id",
                "transform(sequence(0, 4), i -> CAST(pmod(xxhash64(id, i), 3000) AS INT)) AS ids");
        input.createOrReplaceTempView("shipped_input");
        long viaSql = spark.sql("SELECT jembed_embedding_bag(ids, 'shipped-table.safetensors', 'sum') AS e "
                + "FROM shipped_input").where("size(e) = 8").count();
        long viaColumns = input.select(JembedSpark.embeddingBag(col("ids"), "shipped-table.safetensors", "max")
                .as("e")).where("size(e) = 8").count();
        assertEquals(200_000, viaSql);
        assertEquals(200_000, viaColumns);
        assertEquals(1, ExecutorTables.opens() - before,
                "32 tasks of two queries on one executor JVM: the file mapped once");
        ExecutorTables.MappedTable mapped = ExecutorTables.get("shipped-table.safetensors");
        assertSame(mapped, ExecutorTables.get("shipped-table.safetensors"), "one mapping, shared");
        assertTrue(mapped.file().startsWith(Path.of(org.apache.spark.SparkFiles.getRootDirectory())),
                "resolved among the shipped files: " + mapped.file());
        assertEquals(1, ExecutorTables.opens() - before);
    }
}
