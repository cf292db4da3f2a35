package io.jembed.examples.spark;

import static org.apache.spark.sql.functions.col;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.spark.BagOptions;
import io.jembed.spark.JembedSpark;
import io.jembed.spark.ShardedLookup;
import io.jembed.spark.TableShards;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The README's "On Spark" snippet: bag lookups as columns, and the same over a table split into shards. Needs Spark
 * on the class path, so the examples project leaves this package out; the jembed-spark module compiles and runs it
 * (OnSparkExampleTest, in scripts/test-spark).
 */
public final class OnSpark {
    private OnSpark() {}

    public static void main(String[] args) throws Exception {
        // Rows [1, 2], [3, 4], [5, -6]: the mean of rows 0 and 2 is [3, -2]; 1 * [1, 2] + 0.5 * [5, -6] = [3.5, -1].
        try (Tensor table = Torch.tensor(new float[] {1, 2, 3, 4, 5, -6}, 3, 2)) {
            Safetensors.saveFile(Map.of("weight", table), Path.of("table.safetensors"));
        }
        SparkSession spark = SparkSession.builder().master("local[2]").getOrCreate();
        Dataset<Row> events = spark.sql("SELECT array(0, 2) AS ids, array(CAST(1 AS FLOAT), CAST(0.5 AS FLOAT)) AS w");
        // Java: each row's ids pooled into one row of the table, which every executor maps once
        Dataset<Row> pooled = events.select(
                JembedSpark.embeddingBag(col("ids"), "table.safetensors", "mean").as("mean"),
                JembedSpark.embeddingBag(col("ids"), "table.safetensors",
                        new BagOptions().mode("sum").perSampleWeights("w")).as("weighted"),
                // a Spark ML Vector column, for Spark ML stages (spark-mllib, which every Spark distribution has)
                JembedSpark.embeddingBag(col("ids"), "table.safetensors",
                        new BagOptions().mode("mean").output("vector")).as("features"));
        // SQL and PySpark: SELECT jembed_embedding_bag(ids, 'table.safetensors', 'sum', w) FROM events
        Row row = pooled.first();
        check(row.getList(0), List.of(3f, -2f));
        check(row.getList(1), List.of(3.5f, -1f));
        if (!row.get(2).equals(new org.apache.spark.ml.linalg.DenseVector(new double[] {3, -2}))) {
            throw new AssertionError("got " + row.get(2) + ", want the vector [3.0, -2.0]");
        }

        // A table split into shards by row range, looked up shard by shard, pooled back per row: the same bits
        List<String> shards = TableShards.split(Path.of("table.safetensors"), 2, Path.of("shards")).stream()
                .map(Path::toString).toList();
        Dataset<Row> sharded = ShardedLookup.embeddingBag(events, "ids", shards, new BagOptions().mode("mean"),
                "embedding");
        check(sharded.first().getList(2), List.of(3f, -2f));

        Files.delete(Path.of("table.safetensors"));
        try (Stream<Path> files = Files.walk(Path.of("shards"))) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        System.out.println("on Spark: ok");
    }

    private static void check(List<Object> got, List<Float> want) {
        if (!got.equals(want)) {
            throw new AssertionError("got " + got + ", want " + want);
        }
    }
}
