package io.jembed.spark;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.Tensor;
import io.jembed.Torch;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.stat.Summarizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

/**
 * The output argument: Spark ML vectors (a column Spark ML reads as it is) and array<double>, through SQL, the Java
 * column API and the sharded path, on a table whose results are worked out by hand; a wrong name fails analysis.
 */
class VectorAndDoubleOutputTest {
    /** Rows [1, 2], [3, 4], [5, -6], [0.5, 8]. */
    private static String handTable(String name) {
        try (Tensor weight = Torch.tensor(new float[] {1, 2, 3, 4, 5, -6, 0.5f, 8}, 4, 2)) {
            return LocalSpark.save(name, weight).toString();
        }
    }

    private static Object one(SparkSession spark, String sql) {
        List<Row> rows = spark.sql(sql).collectAsList();
        assertEquals(1, rows.size());
        return rows.get(0).get(0);
    }

    @Test
    void theVectorOutputGivesSparkMlVectorsOfTheHandWorkedRows() {
        SparkSession spark = LocalSpark.session();
        String t = handTable("hand-vectors.safetensors");
        assertEquals(new DenseVector(new double[] {9, 0}), one(spark, "SELECT jembed_embedding_bag(array(0, 1, 2), '"
                + t + "', 'sum', 'vector')"));
        // padding_idx 1, then the output: mean of rows 0 and 2.
        assertEquals(new DenseVector(new double[] {3, -2}), one(spark, "SELECT jembed_embedding_bag("
                + "array(0, 1, 2, 1), '" + t + "', 'mean', 1, 'vector')"));
        // per_sample_weights, then the output: 2 * [1, 2] - 1 * [0.5, 8].
        assertEquals(new DenseVector(new double[] {1.5, -4}), one(spark, "SELECT jembed_embedding_bag(array(0, 3), '"
                + t + "', 'sum', array(2.0D, -1.0D), 'vector')"));
        assertEquals(new DenseVector(new double[] {5, -6}), one(spark, "SELECT jembed_embedding(2, '" + t
                + "', 'vector')"));
        List<Object> each = spark.sql("SELECT jembed_embedding(array(3, 0), '" + t + "', 'vector')").collectAsList()
                .get(0).getList(0);
        assertEquals(List.of(new DenseVector(new double[] {0.5, 8}), new DenseVector(new double[] {1, 2})), each);

        Dataset<Row> input = spark.range(0, 4, 1, 2).selectExpr("id AS k",
                "array(CAST(id AS INT), CAST(3 - id AS INT)) AS ids");
        Dataset<Row> vectors = input.select(col("k"), JembedSpark.embeddingBag(col("ids"), t,
                new BagOptions().mode("max").output("vector")).as("v"));
        assertEquals(SQLDataTypes.VectorType(), vectors.schema().apply("v").dataType());
        // Rows {0,3}, {1,2}, {2,1}, {3,0}: max [1, 8], [5, 4], [5, 4], [1, 8]; Spark ML's own mean of them: [3, 6].
        Row mean = vectors.select(Summarizer.mean(col("v")).as("m")).collectAsList().get(0);
        assertArrayEquals(new double[] {3, 6}, ((Vector) mean.get(0)).toArray(), 0.0);
        assertEquals(SQLDataTypes.VectorType(), input.select(JembedSpark.embedding(col("k").cast("int"), t, "vector"))
                .schema().fields()[0].dataType());
    }

    @Test
    void theDoubleOutputWidensTheFloatResultsExactly() {
        SparkSession spark = LocalSpark.session();
        String t = handTable("hand-doubles.safetensors");
        // Row 0 weighted by 0.1 (rounded to float, as for any float32 table): [0.1f, 0.2f] computed in float32,
        // then widened exactly (not recomputed in double, which would give [0.1, 0.2]).
        List<Object> weighted = spark.sql("SELECT jembed_embedding_bag(array(0), '" + t + "', 'sum', array(0.1D), "
                + "'double')").collectAsList().get(0).getList(0);
        assertEquals(List.of((double) 0.1f, (double) 0.2f), weighted);
        assertEquals(List.of(2.0, 3.0), spark.sql("SELECT jembed_embedding_bag(array(0, 1), '" + t + "', 'mean', "
                + "'double')").collectAsList().get(0).getList(0));
        assertEquals(DataTypes.createArrayType(DataTypes.DoubleType, false), spark.sql("SELECT jembed_embedding(0, '"
                + t + "', 'double')").schema().fields()[0].dataType());
        assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false), spark.sql("SELECT jembed_embedding(0, '"
                + t + "', 'float')").schema().fields()[0].dataType(), "a float32 table's own type, asked for");
    }

    @Test
    void theShardedPathGivesVectorsToo() throws java.io.IOException {
        SparkSession spark = LocalSpark.session();
        Path table = Path.of(handTable("hand-sharded-vectors.safetensors"));
        List<String> shards = TableShards.split(table, 2, LocalSpark.tables().resolve("hand-vector-shards")).stream()
                .map(Path::toString).toList();
        Dataset<Row> input = spark.range(0, 4, 1, 2).selectExpr("id AS k",
                "array(CAST(id AS INT), CAST(3 - id AS INT)) AS ids");
        List<Row> rows = ShardedLookup.embeddingBag(input, "ids", shards, new BagOptions().mode("sum")
                .output("vector"), "v").orderBy("k").select("v").collectAsList();
        // Sums of rows {0,3}, {1,2}, {2,1}, {3,0}.
        assertEquals(new DenseVector(new double[] {1.5, 10}), rows.get(0).get(0));
        assertEquals(new DenseVector(new double[] {8, -2}), rows.get(1).get(0));
        List<Row> plain = ShardedLookup.embedding(input.selectExpr("k", "CAST(k AS INT) AS id"), "id", shards,
                LookupOutput.VECTOR, "v").orderBy("k").select("v").collectAsList();
        assertEquals(new DenseVector(new double[] {5, -6}), plain.get(2).get(0));
    }

    @Test
    void anUnknownOutputFailsWhenTheQueryIsAnalysedNamingTheChoices() {
        SparkSession spark = LocalSpark.session();
        String t = handTable("hand-output-names.safetensors");
        Exception e = assertThrows(Exception.class, () -> spark.sql("SELECT jembed_embedding_bag(array(1), '" + t
                + "', 'sum', 'matrix')").collectAsList());
        String messages = "";
        for (Throwable x = e; x != null; x = x.getCause()) {
            messages += x.getMessage() + " | ";
        }
        assertTrue(messages.contains("jembed_embedding_bag: output must be 'float' (array<float>), 'double' "
                + "(array<double>) or 'vector' (a Spark ML Vector), got 'matrix'"), messages);
        assertThrows(IllegalArgumentException.class, () -> new BagOptions().output("matrix"));
    }
}
