package io.jembed.spark;

import org.apache.spark.sql.SparkSessionExtensions;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Registers jembed's SQL functions in every session, for SQL and PySpark users:
 * {@code --conf spark.sql.extensions=io.jembed.spark.JembedSparkExtensions} (with the jars on the class path), then
 * {@code SELECT jembed_embedding_bag(ids, 'table.safetensors', 'mean') FROM t}. Java and Scala code can call
 * {@link JembedSpark#register} instead.
 */
public final class JembedSparkExtensions extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {
    @Override
    public BoxedUnit apply(SparkSessionExtensions extensions) {
        for (JembedSpark.Function function : JembedSpark.Function.values()) {
            extensions.injectFunction(function.description());
        }
        return BoxedUnit.UNIT;
    }
}
