package io.jembed.spark;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.safetensors.Safetensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * The one Spark session of the test JVM: local mode with 2 task threads (one executor, this JVM), tasks retried once
 * ({@code local[2,2]}: the retry test needs a second attempt), the SQL functions registered by the extension as a
 * SQL or PySpark user would, and tables written to a temporary folder under target/.
 */
final class LocalSpark {
    private static SparkSession spark;
    private static Path tables;

    private LocalSpark() {
    }

    static synchronized SparkSession session() {
        if (spark == null) {
            spark = SparkSession.builder()
                    .master("local[2,2]")
                    .appName("jembed-spark tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.sql.extensions", JembedSparkExtensions.class.getName())
                    .getOrCreate();
        }
        return spark;
    }

    /** A folder for this run's table files. */
    static synchronized Path tables() {
        if (tables == null) {
            try {
                Path target = Path.of("target");
                Files.createDirectories(target);
                tables = Files.createTempDirectory(target.toAbsolutePath(), "tables-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tables;
    }

    /** A (rows, dim) float32 table of N(0, 1) values from {@code seed}, saved as safetensors under {@code name}. */
    static Path writeTable(String name, long rows, long dim, long seed) {
        try (Tensor weight = table(rows, dim, seed, DType.FLOAT32)) {
            return save(name, weight);
        }
    }

    /**
     * A (rows, dim) table of N(0, 1) values from {@code seed} in {@code dtype}: drawn in float64 for a float64 table
     * (values no float holds), else drawn in float32 and rounded to nearest even.
     */
    static Tensor table(long rows, long dim, long seed, DType dtype) {
        if (dtype == DType.FLOAT64 || dtype == DType.FLOAT32) {
            return Torch.randn(new Generator(seed), dtype, rows, dim);
        }
        try (Tensor wide = Torch.randn(new Generator(seed), DType.FLOAT32, rows, dim)) {
            return wide.to(dtype);
        }
    }

    /** {@code weight} saved as safetensors under {@code name} (16-bit tensors as F16/BF16). */
    static Path save(String name, Tensor weight) {
        Path file = tables().resolve(name);
        try {
            Safetensors.saveFile(Map.of("weight", weight), file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
