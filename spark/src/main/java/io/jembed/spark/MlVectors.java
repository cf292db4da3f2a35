package io.jembed.spark;

import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.UserDefinedType;

/**
 * Spark ML's {@code Vector} type, kept in a class of its own: only an output of {@link LookupOutput#VECTOR} loads
 * it, so the module runs without spark-mllib (a {@code provided} dependency) until a query asks for vectors.
 */
final class MlVectors {
    private MlVectors() {
    }

    /** spark-mllib's vector type, or a clear error when it is not on the class path. */
    static DataType type() {
        try {
            return Holder.TYPE;
        } catch (NoClassDefFoundError | ExceptionInInitializerError e) {
            throw new IllegalArgumentException("output 'vector' needs spark-mllib (org.apache.spark:spark-mllib_2.13, "
                    + "part of every Spark distribution) on the class path; it is not: " + e, e);
        }
    }

    /** A dense vector of {@code values} (kept, not copied) as the vector type's internal row. */
    static InternalRow internal(double[] values) {
        return (InternalRow) Holder.TYPE.serialize(new DenseVector(values));
    }

    /** A dense vector of {@code values}, as a {@link org.apache.spark.sql.Row} holds it. */
    static Object external(double[] values) {
        return new DenseVector(values);
    }

    /** Loaded on first use: the vector type ({@code VectorUDT}) through its public Java entry point. */
    private static final class Holder {
        @SuppressWarnings("unchecked")
        static final UserDefinedType<Vector> TYPE = (UserDefinedType<Vector>) SQLDataTypes.VectorType();
    }
}
