package io.jembed.spark.bench;

import static org.apache.spark.sql.functions.col;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.F;
import io.jembed.spark.ExecutorTables;
import io.jembed.spark.JembedSpark;
import io.jembed.spark.JembedSparkExtensions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * Rows per second of bag {@code mean} lookups on Spark local[2], side by side in one run:
 * <ul>
 *   <li><b>jembed</b>: {@code JembedSpark.embeddingBag(ids, table, "mean")} over the mapped safetensors table;</li>
 *   <li><b>udf</b>: a plain Spark UDF over a broadcast {@code float[][]} (the usual hand-written way);</li>
 *   <li><b>join</b>: the ids exploded, joined with the table as a DataFrame (id, e0..e63), averaged per row with
 *       {@code avg} (the SQL way), on {@code --join-rows} rows (it does not fit the full row count in time);</li>
 *   <li><b>ids only</b>: the input alone (generating the id arrays and writing them to Spark's no-op sink), the part
 *       of every variant that is not the lookup;</li>
 *   <li>where the time goes: the same lookups by core jembed without Spark, on 2 threads, one bag per call (as the
 *       column function calls it) and 4096 bags per call.</li>
 * </ul>
 * Every Spark variant writes to the {@code noop} sink, so each row is computed and nothing is stored. Ids are
 * {@code xxhash64} of the row number, uniform over the table. Arguments: {@code --rows 10000000 --ids 20
 * --table-rows 1000000 --dim 64 --join-rows 1000000 --partitions 8 --out FILE}.
 */
public final class SparkLookupBenchmark {
    private SparkLookupBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>(Map.of("rows", "10000000", "ids", "20", "table-rows",
                "1000000", "dim", "64", "join-rows", "1000000", "partitions", "8", "out",
                "target/bench-spark/report.md"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--") || !options.containsKey(args[i].substring(2))) {
                throw new IllegalArgumentException("unknown option " + args[i] + "; options: " + options.keySet());
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        long rows = Long.parseLong(options.get("rows"));
        int ids = Integer.parseInt(options.get("ids"));
        int tableRows = Integer.parseInt(options.get("table-rows"));
        int dim = Integer.parseInt(options.get("dim"));
        long joinRows = Long.parseLong(options.get("join-rows"));
        int partitions = Integer.parseInt(options.get("partitions"));
        Path out = Path.of(options.get("out"));
        Files.createDirectories(out.toAbsolutePath().getParent());

        Path table = out.toAbsolutePath().getParent().resolve("table-" + tableRows + "x" + dim + ".safetensors");
        if (!Files.exists(table)) {
            System.err.println("writing " + table);
            try (Tensor weight = Torch.randn(new Generator(7), DType.FLOAT32, tableRows, dim)) {
                Safetensors.saveFile(Map.of("weight", weight), table);
            }
        }
        float[][] rowsOfTable = readRows(table, tableRows, dim);

        SparkSession spark = SparkSession.builder().master("local[2]").appName("jembed-spark benchmark")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", String.valueOf(partitions))
                .config("spark.sql.extensions", JembedSparkExtensions.class.getName()).getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        String tablePath = table.toString();
        Broadcast<float[][]> broadcast = new JavaSparkContext(spark.sparkContext()).broadcast(rowsOfTable);
        UserDefinedFunction udfMean = functions.udf((UDF1<scala.collection.Seq<Integer>, float[]>) bag -> {
            float[][] t = broadcast.value();
            float[] acc = new float[t[0].length];
            int n = bag.size();
            for (int i = 0; i < n; i++) {
                float[] r = t[bag.apply(i)];
                for (int j = 0; j < acc.length; j++) {
                    acc[j] += r[j];
                }
            }
            for (int j = 0; n > 0 && j < acc.length; j++) {
                acc[j] /= n;
            }
            return acc;
        }, DataTypes.createArrayType(DataTypes.FloatType));
        UserDefinedFunction rowOf = functions.udf((UDF1<Long, float[]>) id -> broadcast.value()[(int) (long) id],
                DataTypes.createArrayType(DataTypes.FloatType));
        List<Column> tableColumns = new ArrayList<>(List.of(col("id")));
        for (int j = 0; j < dim; j++) {
            tableColumns.add(col("v").getItem(j).as("e" + j));
        }
        Dataset<Row> tableFrame = spark.range(0, tableRows, 1, partitions).withColumn("v", rowOf.apply(col("id")))
                .select(tableColumns.toArray(new Column[0])).cache();
        System.err.println("table as a DataFrame: " + tableFrame.count() + " rows cached");
        List<Column> averages = new ArrayList<>();
        for (int j = 0; j < dim; j++) {
            averages.add(functions.avg("e" + j).cast("float"));
        }

        Map<String, java.util.function.LongFunction<Dataset<Row>>> variants = new LinkedHashMap<>();
        variants.put("ids only", n -> input(spark, n, ids, tableRows, partitions).select(col("ids")));
        variants.put("jembed", n -> input(spark, n, ids, tableRows, partitions)
                .select(JembedSpark.embeddingBag(col("ids"), tablePath, "mean").as("e")));
        variants.put("udf", n -> input(spark, n, ids, tableRows, partitions).select(udfMean.apply(col("ids")).as("e")));
        variants.put("join", n -> input(spark, n, ids, tableRows, partitions)
                .selectExpr("k", "posexplode(ids) AS (pos, id)").join(tableFrame, "id").groupBy("k")
                .agg(functions.array(averages.toArray(new Column[0])).as("e")));

        System.err.println("warming up (" + Math.min(rows, 1_000_000) / 10 + " rows each)");
        for (var v : variants.entrySet()) {
            time(v.getValue().apply(Math.min(rows, 1_000_000) / 10));
        }
        long opensBefore = ExecutorTables.opens();
        Map<String, double[]> results = new LinkedHashMap<>();
        for (var v : variants.entrySet()) {
            long n = v.getKey().equals("join") ? Math.min(joinRows, rows) : rows;
            System.err.println("timing " + v.getKey() + " on " + n + " rows");
            double seconds = time(v.getValue().apply(n));
            results.put(v.getKey(), new double[] {n, seconds});
            System.err.printf(Locale.ROOT, "  %.1f s, %.0f rows/s%n", seconds, n / seconds);
        }
        long opensDuring = ExecutorTables.opens() - opensBefore;

        System.err.println("core jembed alone on 2 threads");
        double[] perBag = coreRowsPerSecond(table, Math.min(rows, 4_000_000), ids, 1);
        double[] batched = coreRowsPerSecond(table, Math.min(rows, 4_000_000), ids, 4096);

        String report = report(options, spark.version(), results, perBag, batched, opensDuring);
        Files.writeString(out, report);
        System.out.println(report);
        spark.stop();
    }

    private static Dataset<Row> input(SparkSession spark, long n, int ids, int tableRows, int partitions) {
        return spark.range(0, n, 1, partitions).selectExpr("id AS k", "transform(sequence(0, " + (ids - 1)
                + "), i -> CAST(pmod(xxhash64(id, i), " + tableRows + ") AS INT)) AS ids");
    }

    private static double time(Dataset<Row> frame) {
        long start = System.nanoTime();
        frame.write().format("noop").mode("overwrite").save();
        return (System.nanoTime() - start) / 1e9;
    }

    private static float[][] readRows(Path table, int tableRows, int dim) throws IOException {
        float[] flat;
        try (Tensor weight = Safetensors.loadFile(table).get("weight")) {
            flat = weight.toFloatArray();
        }
        float[][] rows = new float[tableRows][];
        for (int r = 0; r < tableRows; r++) {
            rows[r] = java.util.Arrays.copyOfRange(flat, r * dim, (r + 1) * dim);
        }
        return rows;
    }

    /** {seconds, rows per second} of bag means by core jembed over the mapped table, on 2 threads. */
    private static double[] coreRowsPerSecond(Path table, long rows, int ids, int bagsPerCall) throws Exception {
        ExecutorTables.MappedTable mapped = ExecutorTables.get(table.toString());
        Tensor weight = mapped.weight();
        long perThread = rows / 2 / bagsPerCall * bagsPerCall;
        Thread[] threads = new Thread[2];
        long start = System.nanoTime();
        for (int t = 0; t < 2; t++) {
            final long seed = t;
            threads[t] = new Thread(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                int[] flat = new int[bagsPerCall * ids];
                int[] starts = new int[bagsPerCall];
                for (int b = 0; b < bagsPerCall; b++) {
                    starts[b] = b * ids;
                }
                try (Tensor input = Torch.empty(DType.INT32, (long) bagsPerCall * ids);
                     Tensor offsets = Torch.tensor(starts);
                     Tensor out = Torch.empty(DType.FLOAT32, bagsPerCall, weight.size(1))) {
                    for (long done = 0; done < perThread; done += bagsPerCall) {
                        for (int i = 0; i < flat.length; i++) {
                            flat[i] = random.nextInt((int) mapped.rows());
                        }
                        input.copyFrom(flat);
                        F.embeddingBag(input, weight, offsets, null, 2.0, EmbeddingBagMode.MEAN, null, false, null,
                                out);
                        out.toFloatArray();
                    }
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new double[] {seconds, 2 * perThread / seconds};
    }

    private static String report(Map<String, String> options, String sparkVersion, Map<String, double[]> results,
                                 double[] perBag, double[] batched, long opens) {
        double jembed = rate(results.get("jembed"));
        StringBuilder md = new StringBuilder();
        md.append("# jembed on Spark: bag mean lookups, local[2]\n\n");
        md.append("Command: `scripts/bench-spark");
        options.forEach((k, v) -> {
            if (!k.equals("out")) {
                md.append(" --").append(k).append(' ').append(v);
            }
        });
        md.append("` (").append(Backends.current().name()).append(", Java ")
                .append(Runtime.version().feature()).append(", Spark ").append(sparkVersion).append("; one timed run each after a warm-up, on a shared machine).\n\n");
        md.append("| variant | rows | seconds | rows/s | jembed is |\n|---|---:|---:|---:|---:|\n");
        for (var e : results.entrySet()) {
            double r = rate(e.getValue());
            md.append(String.format(Locale.ROOT, "| %s | %,d | %.1f | %,.0f | %s |%n", e.getKey(),
                    (long) e.getValue()[0], e.getValue()[1], r, e.getKey().equals("jembed") ? "" : e.getKey()
                            .equals("ids only") ? String.format(Locale.ROOT, "%.2fx the rate", jembed / r)
                            : String.format(Locale.ROOT, "**%.1fx faster**", jembed / r)));
        }
        md.append(String.format(Locale.ROOT, "| core jembed alone, 1 bag per call, 2 threads | | %.1f | %,.0f | |%n",
                perBag[0], perBag[1]));
        md.append(String.format(Locale.ROOT, "| core jembed alone, 4096 bags per call, 2 threads | | %.1f | %,.0f | |%n",
                batched[0], batched[1]));
        double idsOnly = rate(results.get("ids only"));
        double perRowNanos = 2e9 / jembed;
        double idsNanos = 2e9 / idsOnly;
        double lookupNanos = 2e9 / perBag[1];
        md.append(String.format(Locale.ROOT, "%nWhere a row's time goes (per task thread, from the rates above): "
                + "%.0f ns per row in all for the jembed column, of which %.0f ns make and write the ids alone "
                + "(Spark's row handling and the input), %.0f ns the core's lookup of one bag per call, and %.0f ns "
                + "the rest (the expression: reading the array, copying it in, the result's array).%n",
                perRowNanos, idsNanos, lookupNanos, perRowNanos - idsNanos - lookupNanos));
        md.append("\nThe table was mapped ").append(opens).append(" time(s) during the timed runs (the warm-up "
                + "mapped it first).\n");
        return md.toString();
    }

    private static double rate(double[] result) {
        return result[0] / result[1];
    }
}
