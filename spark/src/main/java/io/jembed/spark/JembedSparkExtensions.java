package io.jembed.spark;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.execution.SparkStrategy;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Registers jembed's SQL functions in every session, for SQL and PySpark users:
 * {@code --conf spark.sql.extensions=io.jembed.spark.JembedSparkExtensions} (with the jars on the class path), then
 * {@code SELECT jembed_embedding_bag(ids, 'table.safetensors', 'mean') FROM t}; and plans bag lookups to pool
 * {@value BatchedLookupStrategy#DEFAULT_BATCH_ROWS} rows per core call ({@link BatchedLookupStrategy}), which is
 * faster than one row per call on large tables. Java and Scala code can call {@link JembedSpark#register} instead,
 * which registers the functions only (lookups then run row by row).
 */
public final class JembedSparkExtensions extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {
    @Override
    public BoxedUnit apply(SparkSessionExtensions extensions) {
        for (JembedSpark.Function function : JembedSpark.Function.values()) {
            extensions.injectFunction(function.description());
        }
        extensions.injectPlannerStrategy(new AbstractFunction1<SparkSession, SparkStrategy>() {
            @Override
            public SparkStrategy apply(SparkSession session) {
                return new BatchedLookupStrategy();
            }
        });
        return BoxedUnit.UNIT;
    }
}
