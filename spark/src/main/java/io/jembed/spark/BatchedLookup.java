package io.jembed.spark;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.F;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The bag lookup as a Dataset transformation that pools {@value #BATCH} rows per call of the core (one
 * {@code F.embeddingBag} with offsets), where the column function calls it once per row: the kernel then prefetches
 * across rows, which pays when the lookup itself (random rows of a large table) is the cost. Results are the column
 * function's, bit for bit: each bag is still summed in position order from +0. It reads and writes Spark's internal
 * rows ({@code queryExecution().toRdd()}), so the input's plan runs as it is.
 *
 * <p>In a session with {@link JembedSparkExtensions}, the column function is itself planned this way, and faster
 * (no copy of each row and of its ids into Java arrays; {@link BatchedLookupStrategy}); this transformation is for
 * sessions without the extension.
 */
public final class BatchedLookup {
    /** Rows per core call. */
    public static final int BATCH = 4096;

    private BatchedLookup() {
    }

    /**
     * The input with {@code outputColumn} added: each row's ids pooled into one row of the table (of the column
     * function's type: {@code options.output()}, else the table's; null when the ids or weights are null). Rows keep
     * their order and partitions.
     *
     * <p>PyTorch equivalent: {@code F.embedding_bag(ids, weight, offsets, mode=..., padding_idx=...,
     * per_sample_weights=...)} over batches of rows.
     *
     * @throws IllegalArgumentException if a column is missing or of the wrong type, or an option is invalid
     * @throws JembedTableException if the driver can read the table and it is malformed
     */
    public static Dataset<Row> embeddingBag(Dataset<Row> input, String idsColumn, String table, BagOptions options,
                                            String outputColumn) {
        StructType schema = input.schema();
        int idsField = schema.fieldIndex(idsColumn);
        DataType idsType = schema.fields()[idsField].dataType();
        if (!(idsType instanceof ArrayType a && (a.elementType() == DataTypes.IntegerType
                || a.elementType() == DataTypes.LongType))) {
            throw new IllegalArgumentException("embedding_bag takes ids as array<int> or array<bigint>; column "
                    + idsColumn + " is " + idsType.simpleString());
        }
        boolean wide = ((ArrayType) idsType).elementType() == DataTypes.LongType;
        int weightsField = -1;
        boolean doubleWeights = false;
        if (options.perSampleWeights() != null) {
            weightsField = schema.fieldIndex(options.perSampleWeights());
            DataType type = schema.fields()[weightsField].dataType();
            if (!(type instanceof ArrayType w && (w.elementType() == DataTypes.FloatType
                    || w.elementType() == DataTypes.DoubleType))) {
                throw new IllegalArgumentException("per_sample_weights must be array<float> or array<double>; column "
                        + options.perSampleWeights() + " is " + type.simpleString());
            }
            doubleWeights = ((ArrayType) type).elementType() == DataTypes.DoubleType;
            if (options.mode() != EmbeddingBagMode.SUM) {
                throw new IllegalArgumentException("per_sample_weights was not None. per_sample_weights is only "
                        + "supported for mode='sum' (got mode='" + options.mode().pythonName() + "'), as in PyTorch");
            }
        }
        LookupSpec spec = JembedSpark.checkOnDriver(new LookupSpec("embedding_bag", table, options.mode(),
                options.paddingIdx(), idsColumn, options.perSampleWeights()), options.output());
        JavaRDD<InternalRow> rows = ((org.apache.spark.sql.classic.Dataset<Row>) input).queryExecution().toRdd()
                .toJavaRDD();
        JavaRDD<InternalRow> pooled = rows.mapPartitions(new Pool(spec, idsField, wide, weightsField, doubleWeights));
        StructType outSchema = schema.add(outputColumn, spec.output().rowType(), true);
        return ((org.apache.spark.sql.classic.SparkSession) input.sparkSession())
                .internalCreateDataFrame(pooled.rdd(), outSchema, false);
    }

    /** One partition, {@value #BATCH} rows at a time. */
    static final class Pool implements FlatMapFunction<Iterator<InternalRow>, InternalRow> {
        private static final long serialVersionUID = 1L;
        private final LookupSpec spec;
        private final int idsField;
        private final boolean wide;
        private final int weightsField;
        private final boolean doubleWeights;

        Pool(LookupSpec spec, int idsField, boolean wide, int weightsField, boolean doubleWeights) {
            this.spec = spec;
            this.idsField = idsField;
            this.wide = wide;
            this.weightsField = weightsField;
            this.doubleWeights = doubleWeights;
        }

        @Override
        public Iterator<InternalRow> call(Iterator<InternalRow> input) {
            return new Iterator<>() {
                private final List<InternalRow> ready = new ArrayList<>();
                private int next;
                private long rowNumber;
                private ExecutorTables.MappedTable table;
                private Long padding;
                private LookupOutput output;

                @Override
                public boolean hasNext() {
                    if (next < ready.size()) {
                        return true;
                    }
                    ready.clear();
                    next = 0;
                    if (input.hasNext()) {
                        fill();
                    }
                    return next < ready.size();
                }

                @Override
                public InternalRow next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return ready.get(next++);
                }

                private void fill() {
                    if (table == null) {
                        table = ExecutorTables.get(spec.table());
                        padding = spec.paddingIdx(table.rows());
                        output = spec.output(table.dtype());
                    }
                    List<InternalRow> batch = new ArrayList<>(BATCH);
                    List<Object> idArrays = new ArrayList<>(BATCH);
                    List<double[]> weightArrays = new ArrayList<>(BATCH);
                    long first = rowNumber;
                    int total = 0;
                    while (batch.size() < BATCH && input.hasNext()) {
                        InternalRow row = input.next().copy();
                        long number = rowNumber++;
                        batch.add(row);
                        if (row.isNullAt(idsField) || weightsField >= 0 && row.isNullAt(weightsField)) {
                            idArrays.add(null);
                            weightArrays.add(null);
                            continue;
                        }
                        ArrayData ids = row.getArray(idsField);
                        for (int i = 0; i < ids.numElements(); i++) {
                            if (ids.isNullAt(i)) {
                                throw new JembedLookupException("embedding_bag: null id at position " + i + " of row "
                                        + number + " of partition " + partition() + " in column " + spec.column(),
                                        spec.column(), number, null, null);
                            }
                        }
                        idArrays.add(wide ? ids.toLongArray() : ids.toIntArray());
                        weightArrays.add(weightsField < 0 ? null : weights(row.getArray(weightsField),
                                ids.numElements(), number));
                        total += ids.numElements();
                    }
                    pool(batch, idArrays, weightArrays, total, first);
                }

                /** The row's weights, exactly (float values widen); narrowed for the table in {@link #pool}. */
                private double[] weights(ArrayData w, int n, long number) {
                    if (w.numElements() != n) {
                        throw new JembedLookupException("embedding_bag: row " + number + " of partition "
                                + partition() + " has " + n + " ids in column " + spec.column() + " but "
                                + w.numElements() + " per_sample_weights in column " + spec.weightsColumn(),
                                spec.column(), number, null, null);
                    }
                    for (int i = 0; i < n; i++) {
                        if (w.isNullAt(i)) {
                            throw new JembedLookupException("embedding_bag: null per_sample_weight at position " + i
                                    + " of row " + number + " of partition " + partition(), spec.weightsColumn(),
                                    number, null, null);
                        }
                    }
                    if (doubleWeights) {
                        return w.toDoubleArray();
                    }
                    float[] f = w.toFloatArray();
                    double[] d = new double[n];
                    for (int i = 0; i < n; i++) {
                        d[i] = f[i];
                    }
                    return d;
                }

                private void pool(List<InternalRow> batch, List<Object> idArrays, List<double[]> weightArrays,
                                  int total, long first) {
                    List<Integer> present = new ArrayList<>();
                    for (int b = 0; b < batch.size(); b++) {
                        if (idArrays.get(b) != null) {
                            present.add(b);
                        }
                    }
                    int bags = present.size();
                    Object[] results = new Object[0];
                    int dim = table.dim();
                    DType dtype = table.dtype();
                    if (bags > 0) {
                        long[] offsets = new long[bags];
                        long[] flatLong = wide ? new long[total] : null;
                        int[] flatInt = wide ? null : new int[total];
                        double[] flatWeights = weightsField >= 0 ? new double[total] : null;
                        int at = 0;
                        for (int k = 0; k < bags; k++) {
                            int b = present.get(k);
                            offsets[k] = at;
                            Object ids = idArrays.get(b);
                            int n = wide ? ((long[]) ids).length : ((int[]) ids).length;
                            System.arraycopy(ids, 0, wide ? flatLong : flatInt, at, n);
                            if (flatWeights != null) {
                                System.arraycopy(weightArrays.get(b), 0, flatWeights, at, n);
                            }
                            at += n;
                        }
                        int[] intOffsets = new int[bags];
                        for (int j = 0; j < bags; j++) {
                            intOffsets[j] = (int) offsets[j];
                        }
                        try (Tensor in = wide ? Torch.tensor(flatLong) : Torch.tensor(flatInt);
                             Tensor off = wide ? Torch.tensor(offsets) : Torch.tensor(intOffsets);
                             Tensor psw = flatWeights == null ? null : weightTensor(flatWeights, dtype);
                             Tensor out = Torch.empty(dtype, bags, dim)) {
                            F.embeddingBag(in, table.weight(), off, null, 2.0, spec.mode(), psw, false, padding, out);
                            results = output.internalRows(out);
                        } catch (IndexOutOfBoundsException e) {
                            throw badId(batch, idArrays, first, e);
                        }
                    }
                    int k = 0;
                    for (int b = 0; b < batch.size(); b++) {
                        Object value = null;
                        if (idArrays.get(b) != null) {
                            value = results[k++];
                        }
                        ready.add(new JoinedRow(batch.get(b), new GenericInternalRow(new Object[] {value})));
                    }
                }

                private JembedLookupException badId(List<InternalRow> batch, List<Object> idArrays, long first,
                                                    IndexOutOfBoundsException cause) {
                    for (int b = 0; b < batch.size(); b++) {
                        Object ids = idArrays.get(b);
                        if (ids == null) {
                            continue;
                        }
                        int n = wide ? ((long[]) ids).length : ((int[]) ids).length;
                        for (int i = 0; i < n; i++) {
                            long id = wide ? ((long[]) ids)[i] : ((int[]) ids)[i];
                            if (id < 0 || id >= table.rows()) {
                                return new JembedLookupException("embedding_bag: bad id in column " + spec.column()
                                        + ", row " + (first + b) + " of partition " + partition() + ": id " + id
                                        + " is not in [0, " + table.rows() + ") (table '" + table.table() + "' of "
                                        + table.rows() + " rows): " + cause.getMessage(), spec.column(), first + b,
                                        id, cause);
                            }
                        }
                    }
                    return new JembedLookupException("embedding_bag: bad id in column " + spec.column()
                            + " in rows " + first + " to " + (first + batch.size() - 1) + " of partition "
                            + partition() + ": " + cause.getMessage(), spec.column(), first, null, cause);
                }
            };
        }

        /** Weights in the table's dtype, as the column function gives them to the core. */
        private static Tensor weightTensor(double[] weights, DType dtype) {
            if (dtype == DType.FLOAT64) {
                return Torch.tensor(weights);
            }
            float[] narrow = new float[weights.length];
            for (int i = 0; i < weights.length; i++) {
                narrow[i] = (float) weights[i];
            }
            return Torch.tensor(narrow, dtype);
        }

        private static String partition() {
            TaskContext task = TaskContext.get();
            return task == null ? "(driver)" : String.valueOf(task.partitionId());
        }
    }
}
