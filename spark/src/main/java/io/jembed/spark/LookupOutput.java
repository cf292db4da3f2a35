package io.jembed.spark;

import io.jembed.DType;
import io.jembed.Tensor;
import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.Platform;

/**
 * The Spark type of one looked-up (or pooled) row: what {@code jembed_embedding} and {@code jembed_embedding_bag}
 * give, named by the optional {@code output} argument ({@code 'float'}, {@code 'double'} or {@code 'vector'}).
 *
 * <p>Without one, the output follows the table, as PyTorch's result has the weight's dtype: a float64 table gives
 * {@code array<double>}, a float32 table {@code array<float>}, and a float16 or bfloat16 table {@code array<float>}
 * (Spark has no 16-bit float; the core's 16-bit results widen to float exactly). Asking for another type converts the
 * core's result as PyTorch's {@code result.float()} or {@code result.double()} would: {@code 'float'} of a float64
 * table rounds each value to nearest, {@code 'double'} widens exactly. {@code 'vector'} is a Spark ML dense
 * {@code Vector} ({@code org.apache.spark.ml.linalg.DenseVector}, whose values are doubles: widened exactly), which
 * needs spark-mllib on the class path (every Spark distribution has it).
 *
 * <p>PyTorch equivalent: {@code result.to(dtype)} of the lookup's result ({@code torch.float32}/{@code float64}).
 */
public enum LookupOutput {
    /** {@code array<float>}. */
    FLOAT,
    /** {@code array<double>}. */
    DOUBLE,
    /** A Spark ML dense {@code Vector}. */
    VECTOR;

    /** The name SQL and {@link BagOptions#output(String)} take: {@code float}, {@code double} or {@code vector}. */
    public String sqlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The output of that name.
     *
     * @throws IllegalArgumentException naming the valid names
     */
    public static LookupOutput fromName(String name) {
        for (LookupOutput output : values()) {
            if (output.sqlName().equals(name)) {
                return output;
            }
        }
        throw new IllegalArgumentException("output must be 'float' (array<float>), 'double' (array<double>) or "
                + "'vector' (a Spark ML Vector), got '" + name + "'");
    }

    /** What a table of {@code dtype} gives when no output is asked for: float64 gives double, the rest float. */
    public static LookupOutput forTable(DType dtype) {
        return dtype == DType.FLOAT64 ? DOUBLE : FLOAT;
    }

    /** The Spark type of one row. */
    public DataType rowType() {
        return switch (this) {
            case FLOAT -> DataTypes.createArrayType(DataTypes.FloatType, false);
            case DOUBLE -> DataTypes.createArrayType(DataTypes.DoubleType, false);
            case VECTOR -> MlVectors.type();
        };
    }

    /**
     * Each row of {@code out} (rows x dim, in the table's dtype) as Spark's internal value of this type: an
     * {@link UnsafeArrayData}, or for {@code VECTOR} the vector type's internal row.
     */
    Object[] internalRows(Tensor out) {
        int rows = (int) out.size(0);
        int dim = (int) out.size(1);
        Object[] values = new Object[rows];
        if (this == FLOAT) {
            float[] flat = out.toFloatArray();
            for (int r = 0; r < rows; r++) {
                values[r] = slice(flat, Platform.FLOAT_ARRAY_OFFSET, 4, r * dim, dim);
            }
            return values;
        }
        double[] flat = out.toDoubleArray();
        for (int r = 0; r < rows; r++) {
            values[r] = this == DOUBLE ? slice(flat, Platform.DOUBLE_ARRAY_OFFSET, 8, r * dim, dim)
                    : MlVectors.internal(Arrays.copyOfRange(flat, r * dim, (r + 1) * dim));
        }
        return values;
    }

    /** {@code length} elements of a float[] or double[] from {@code from}, copied once into Spark's array. */
    private static UnsafeArrayData slice(Object array, int arrayOffset, int elementSize, int from, int length) {
        long offset = arrayOffset + (long) elementSize * from;
        if (offset > Integer.MAX_VALUE) {
            // Beyond 2 GB into the array, where Spark's offset (an int) ends: a copy of the slice first.
            return array instanceof float[] f ? UnsafeArrayData.fromPrimitiveArray(Arrays.copyOfRange(f, from,
                    from + length)) : UnsafeArrayData.fromPrimitiveArray(Arrays.copyOfRange((double[]) array, from,
                    from + length));
        }
        return UnsafeArrayData.fromPrimitiveArray(array, (int) offset, length, elementSize);
    }

    /** The one row of a {@code (1, dim)} output as Spark's internal value of this type. */
    Object internalRow(Tensor out) {
        if (this == FLOAT) {
            return UnsafeArrayData.fromPrimitiveArray(out.toFloatArray());
        }
        double[] values = out.toDoubleArray();
        return this == DOUBLE ? UnsafeArrayData.fromPrimitiveArray(values) : MlVectors.internal(values);
    }

    /**
     * One row as a value of a {@link org.apache.spark.sql.Row} ({@code float[]}, {@code double[]} or a
     * {@code DenseVector}), from the row's values in float ({@code doubles == null}) or double.
     */
    Object externalRow(float[] floats, double[] doubles) {
        return switch (this) {
            case FLOAT -> floats != null ? floats : narrow(doubles);
            case DOUBLE -> doubles != null ? doubles : widen(floats);
            case VECTOR -> MlVectors.external(doubles != null ? doubles : widen(floats));
        };
    }

    private static float[] narrow(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    private static double[] widen(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
