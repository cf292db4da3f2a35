package io.jembed.spark;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.F;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The Catalyst expression behind {@code jembed_embedding} and {@code jembed_embedding_bag}: one row's ids in, its
 * rows (or its pooled row) out, computed by the core library on the table this executor JVM has mapped
 * ({@link ExecutorTables}). It reads Spark's internal arrays directly ({@code ArrayData.toIntArray}, a copy of
 * the row's bytes) and returns an {@link UnsafeArrayData} built from the core's output (or a Spark ML vector's
 * internal row, see {@link LookupOutput}): no boxing, no conversion to Scala collections, which is what a UDF pays
 * for.
 *
 * <p>Children: the ids ({@code array<int>}, {@code array<bigint>}, or for a plain lookup a single {@code int} or
 * {@code bigint}), then for bags optionally the per-sample weights ({@code array<float>} or {@code array<double>}),
 * given to the core in the table's dtype as PyTorch requires: exactly for a float64 table; for a float32 table
 * doubles are rounded to float ({@code tensor.float()}); for a 16-bit table each weight is rounded to float and then
 * to the table's type ({@code tensor.float().half()}). A null ids or weights array gives a null result.
 *
 * <p>Results are those of {@code F.embedding} and {@code F.embeddingBag} for the row alone: a bag's sum runs in
 * position order from +0, so a row's result does not depend on which rows share its task.
 *
 * <p>Each task deserializes its own copy of the plan, so an instance is used by one thread at a time; the counter of
 * evaluated rows (for error messages) is per instance, the scratch tensors per thread.
 */
public final class LookupExpression extends Expression implements CodegenFallback, Serializable {
    private static final long serialVersionUID = 1L;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final Seq<Expression> children;
    private final LookupSpec spec;
    private transient ExecutorTables.MappedTable table;
    private transient Long padding;
    private transient LookupOutput output;
    private transient long rowsSeen;
    /** The ids' element type is bigint, and the array may hold nulls (fixed by the plan; read once per task). */
    private transient boolean idsWide;
    private transient boolean idsMayHoldNull;

    /** The constructor Catalyst's tree copies call ({@code makeCopy}): the children, then the spec. */
    public LookupExpression(Seq<Expression> children, LookupSpec spec) {
        this.children = Objects.requireNonNull(children, "children");
        this.spec = Objects.requireNonNull(spec, "spec");
    }

    /**
     * The expression for resolved children, whose types are checked here (when the function is resolved, so a wrong
     * type fails the query's analysis).
     *
     * @throws IllegalArgumentException naming the column and its type if the ids or weights have the wrong type
     */
    static LookupExpression of(List<Expression> children, LookupSpec spec) {
        DataType idsType = children.get(0).dataType();
        boolean scalar = idsType == DataTypes.IntegerType || idsType == DataTypes.LongType;
        boolean array = idsType instanceof ArrayType a
                && (a.elementType() == DataTypes.IntegerType || a.elementType() == DataTypes.LongType);
        if (!array && !(scalar && spec.mode() == null)) {
            throw new IllegalArgumentException(spec.function() + " takes ids as "
                    + (spec.mode() == null ? "int, bigint, " : "") + "array<int> or array<bigint>; column "
                    + spec.column() + " is " + idsType.simpleString());
        }
        if (children.size() > 1) {
            DataType weightsType = children.get(1).dataType();
            if (!(weightsType instanceof ArrayType w
                    && (w.elementType() == DataTypes.FloatType || w.elementType() == DataTypes.DoubleType))) {
                throw new IllegalArgumentException(spec.function() + " takes per_sample_weights as array<float> or "
                        + "array<double>; column " + spec.weightsColumn() + " is " + weightsType.simpleString());
            }
        }
        return new LookupExpression(CollectionConverters.asScala(children).toList(), spec);
    }

    public LookupSpec spec() {
        return spec;
    }

    private Expression ids() {
        return children.apply(0);
    }

    private Expression weights() {
        return children.size() > 1 ? children.apply(1) : null;
    }

    // ---- Catalyst's contract ---------------------------------------------------------------------------------

    @Override
    public Seq<Expression> children() {
        return children;
    }

    @Override
    public Expression withNewChildrenInternal(IndexedSeq<Expression> newChildren) {
        return new LookupExpression(newChildren.toList(), spec);
    }

    @Override
    public int productArity() {
        return 2;
    }

    @Override
    public Object productElement(int n) {
        return switch (n) {
            case 0 -> children;
            case 1 -> spec;
            default -> throw new IndexOutOfBoundsException(n);
        };
    }

    @Override
    public boolean canEqual(Object that) {
        return that instanceof LookupExpression;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LookupExpression e && spec.equals(e.spec) && children.equals(e.children);
    }

    @Override
    public int hashCode() {
        return 31 * spec.hashCode() + children.hashCode();
    }

    @Override
    public String prettyName() {
        return spec.function();
    }

    @Override
    public boolean nullable() {
        return true;
    }

    @Override
    public DataType dataType() {
        DataType row = (spec.output() == null ? LookupOutput.FLOAT : spec.output()).rowType();
        if (spec.mode() != null || !(ids().dataType() instanceof ArrayType)) {
            return row;
        }
        return DataTypes.createArrayType(row, false);
    }

    @Override
    public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
        return CodegenFallback.super.doGenCode(ctx, ev);
    }

    // ---- evaluation ------------------------------------------------------------------------------------------

    @Override
    public Object eval(InternalRow row) {
        long rowNumber = rowsSeen++;
        Object idsValue = ids().eval(row);
        if (idsValue == null) {
            return null;
        }
        ArrayData weightsValue = null;
        if (weights() != null) {
            weightsValue = (ArrayData) weights().eval(row);
            if (weightsValue == null) {
                return null;
            }
        }
        ExecutorTables.MappedTable t = table();
        if (!(idsValue instanceof ArrayData ids)) {
            return lookupOne(t, ((Number) idsValue).longValue(), rowNumber);
        }
        return spec.mode() == null ? lookupEach(t, ids, rowNumber) : pool(t, ids, weightsValue, rowNumber);
    }

    // ---- what BatchedLookupExec needs to pool many rows in one core call, as eval pools one ---------------

    /**
     * Numbers the next evaluated row {@code rowNumber} of its partition (for the batched node's rows that it does not
     * pool itself, such as those that fail: their errors then name the row as the per-row plan does).
     */
    void numberNextRow(long rowNumber) {
        rowsSeen = rowNumber;
    }

    /** The mapped table, opened (and the padding, output and ids' type fixed) as the first evaluated row does. */
    ExecutorTables.MappedTable openTable() {
        return table();
    }

    /** The ids' child (bound to the input row as this expression is). */
    Expression idsChild() {
        return ids();
    }

    /** The weights' child, or {@code null}. */
    Expression weightsChild() {
        return weights();
    }

    /** After {@link #openTable}: the ids are bigint. */
    boolean idsWide() {
        return idsWide;
    }

    /** After {@link #openTable}: the ids' array may hold nulls. */
    boolean idsMayHoldNull() {
        return idsMayHoldNull;
    }

    /** After {@link #openTable}: the padding row as the core takes it. */
    Long padding() {
        return padding;
    }

    /** After {@link #openTable}: the output type. */
    LookupOutput output() {
        return output;
    }

    /** The weights are array<double> (else array<float>); only with weights. */
    boolean doubleWeights() {
        return elementType(weights()) == DataTypes.DoubleType;
    }

    private ExecutorTables.MappedTable table() {
        ExecutorTables.MappedTable t = table;
        if (t == null) {
            t = ExecutorTables.get(spec.table());
            padding = spec.paddingIdx(t.rows());
            output = spec.output(t.dtype());
            if (ids().dataType() instanceof ArrayType a) {
                idsWide = a.elementType() == DataTypes.LongType;
                idsMayHoldNull = a.containsNull();
            }
            table = t;
        }
        return t;
    }

    private Object lookupOne(ExecutorTables.MappedTable t, long id, long rowNumber) {
        Scratch scratch = SCRATCH.get().startRow();
        Tensor out = scratch.rows(t.dtype(), 1, t.dim());
        try {
            F.embedding(new long[] {id}, t.weight(), out);
            return output.internalRow(out);
        } catch (IndexOutOfBoundsException e) {
            throw badId(t, rowNumber, String.valueOf(id), id, e);
        } finally {
            scratch.release(out);
        }
    }

    private Object lookupEach(ExecutorTables.MappedTable t, ArrayData ids, long rowNumber) {
        int n = ids.numElements();
        checkNoNulls(t, ids, rowNumber);
        if (n == 0) {
            return new GenericArrayData(new Object[0]);
        }
        Scratch scratch = SCRATCH.get().startRow();
        Tensor out = scratch.rows(t.dtype(), n, t.dim());
        try {
            if (!idsWide) {
                F.embedding(ids.toIntArray(), t.weight(), out);
            } else {
                F.embedding(ids.toLongArray(), t.weight(), out);
            }
            return new GenericArrayData(output.internalRows(out));
        } catch (IndexOutOfBoundsException e) {
            throw badId(t, ids, rowNumber, e);
        } finally {
            scratch.release(out);
        }
    }

    private Object pool(ExecutorTables.MappedTable t, ArrayData ids, ArrayData weights, long rowNumber) {
        int n = ids.numElements();
        checkNoNulls(t, ids, rowNumber);
        Scratch scratch = SCRATCH.get().startRow();
        boolean wide = idsWide;
        Tensor input = scratch.indices(wide, n);
        Tensor perSample = null;
        Tensor out = scratch.rows(t.dtype(), 1, t.dim());
        try {
            if (wide) {
                input.copyFrom(ids.toLongArray());
            } else {
                input.copyFrom(ids.toIntArray());
            }
            if (weights != null) {
                if (weights.numElements() != n) {
                    throw new JembedLookupException(spec.function() + ": row " + rowNumber + " of partition "
                            + partition() + " has " + n + " ids in column " + spec.column() + " but "
                            + weights.numElements() + " per_sample_weights in column " + spec.weightsColumn()
                            + " (ids " + preview(ids) + ")", spec.column(), rowNumber, null, null);
                }
                perSample = scratch.weights(t.dtype(), n);
                copyWeights(t, weights, rowNumber, perSample);
            }
            F.embeddingBag(input, t.weight(), scratch.firstOffset(wide), null, 2.0, spec.mode(), perSample,
                    false, padding, out);
            return output.internalRow(out);
        } catch (IndexOutOfBoundsException e) {
            throw badId(t, ids, rowNumber, e);
        } finally {
            scratch.release(input);
            scratch.release(perSample);
            scratch.release(out);
        }
    }

    /** The row's weights into {@code perSample} (the table's dtype), converted as the class comment says. */
    private void copyWeights(ExecutorTables.MappedTable t, ArrayData weights, long rowNumber, Tensor perSample) {
        for (int i = 0; i < weights.numElements(); i++) {
            if (weights.isNullAt(i)) {
                throw new JembedLookupException(spec.function() + ": null per_sample_weight at position " + i
                        + " of row " + rowNumber + " of partition " + partition() + " in column " + spec.weightsColumn()
                        + " (table '" + t.table() + "')", spec.weightsColumn(), rowNumber, null, null);
            }
        }
        boolean doubles = elementType(weights()) == DataTypes.DoubleType;
        if (perSample.dtype() == DType.FLOAT64) {
            perSample.copyFrom(doubles ? weights.toDoubleArray() : widen(weights.toFloatArray()));
            return;
        }
        if (!doubles) {
            perSample.copyFrom(weights.toFloatArray());
            return;
        }
        double[] wide = weights.toDoubleArray();
        float[] narrow = new float[wide.length];
        for (int i = 0; i < wide.length; i++) {
            narrow[i] = (float) wide[i];
        }
        perSample.copyFrom(narrow);
    }

    private static double[] widen(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    private void checkNoNulls(ExecutorTables.MappedTable t, ArrayData ids, long rowNumber) {
        if (!idsMayHoldNull) {
            return;
        }
        for (int i = 0; i < ids.numElements(); i++) {
            if (ids.isNullAt(i)) {
                throw new JembedLookupException(spec.function() + ": null id at position " + i + " of row "
                        + rowNumber + " of partition " + partition() + " in column " + spec.column() + " (ids "
                        + preview(ids) + "; table '" + t.table() + "')", spec.column(), rowNumber, null, null);
            }
        }
    }

    // ---- errors that name the column, the row and the id --------------------------------------------------

    private JembedLookupException badId(ExecutorTables.MappedTable t, ArrayData ids, long rowNumber,
                                        IndexOutOfBoundsException cause) {
        long[] values = elementType(ids()) == DataTypes.IntegerType ? widen(ids.toIntArray()) : ids.toLongArray();
        for (long id : values) {
            if (id < 0 || id >= t.rows()) {
                return badId(t, rowNumber, preview(ids), id, cause);
            }
        }
        return badId(t, rowNumber, preview(ids), null, cause);
    }

    private JembedLookupException badId(ExecutorTables.MappedTable t, long rowNumber, String idsText, Long id,
                                        IndexOutOfBoundsException cause) {
        String column = spec.column();
        return new JembedLookupException(spec.function() + ": bad id in column " + column + ", row " + rowNumber
                + " of partition " + partition() + (id == null ? "" : ": id " + id + " is not in [0, " + t.rows()
                + ")") + " (ids " + idsText + "; table '" + t.table() + "' of " + t.rows() + " rows): "
                + cause.getMessage(), column, rowNumber, id, cause);
    }

    private static String partition() {
        TaskContext task = TaskContext.get();
        return task == null ? "(driver)" : String.valueOf(task.partitionId());
    }

    private String preview(ArrayData ids) {
        int n = ids.numElements();
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < Math.min(n, 20); i++) {
            text.append(i == 0 ? "" : ", ").append(ids.isNullAt(i) ? "null"
                    : elementType(ids()) == DataTypes.IntegerType ? ids.getInt(i) : ids.getLong(i));
        }
        return text.append(n > 20 ? ", ... (" + n + " ids)]" : "]").toString();
    }

    private static DataType elementType(Expression arrayExpression) {
        return ((ArrayType) arrayExpression.dataType()).elementType();
    }

    private static long[] widen(int[] values) {
        long[] out = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    /**
     * Tensors reused from row to row by one thread, so that a row costs no native allocation: index and weight
     * tensors by length (up to {@link #MAX_LENGTH}), outputs by dtype and shape (up to {@link #MAX_CACHED}
     * elements). Larger ones are the row's own, closed after it.
     */
    static final class Scratch {
        static final int MAX_LENGTH = 512;
        static final int MAX_CACHED = 1 << 16;
        /** Past this many kept outputs (many distinct shapes), the output cache starts again. */
        static final int MAX_KEPT = 256;
        private final Tensor[] intInputs = new Tensor[MAX_LENGTH + 1];
        private final Tensor[] longInputs = new Tensor[MAX_LENGTH + 1];
        private final Tensor[][] weightInputs = new Tensor[DType.values().length][];
        private final java.util.HashMap<Long, Tensor> outputs = new java.util.HashMap<>();
        private final List<Tensor> uncached = new ArrayList<>();
        private long lastOutputKey = -1;
        private Tensor lastOutput;
        private Tensor offsetInt;
        private Tensor offsetLong;

        Tensor indices(boolean wide, int n) {
            return byLength(wide ? longInputs : intInputs, wide ? DType.INT64 : DType.INT32, n);
        }

        Tensor weights(DType dtype, int n) {
            Tensor[] cache = weightInputs[dtype.ordinal()];
            if (cache == null) {
                cache = new Tensor[MAX_LENGTH + 1];
                weightInputs[dtype.ordinal()] = cache;
            }
            return byLength(cache, dtype, n);
        }

        /** A {@code (rows, dim)} output of {@code dtype}. */
        Tensor rows(DType dtype, int rows, int dim) {
            if ((long) rows * dim > MAX_CACHED) {
                return own(dtype, rows, dim);
            }
            // Unique for cached shapes: rows and dim are at most MAX_CACHED (2^16) each.
            long key = ((long) dtype.ordinal() << 52) | ((long) dim << 20) | rows;
            if (key == lastOutputKey) {
                return lastOutput;
            }
            Tensor cached = outputs.get(key);
            if (cached == null) {
                cached = io.jembed.Torch.empty(dtype, rows, dim);
                outputs.put(key, cached);
            }
            lastOutputKey = key;
            lastOutput = cached;
            return cached;
        }

        Tensor firstOffset(boolean wide) {
            if (wide) {
                if (offsetLong == null) {
                    offsetLong = io.jembed.Torch.tensor(new long[] {0});
                }
                return offsetLong;
            }
            if (offsetInt == null) {
                offsetInt = io.jembed.Torch.tensor(new int[] {0});
            }
            return offsetInt;
        }

        /** Called before a row takes its tensors: no tensor of a previous row is in use. */
        Scratch startRow() {
            if (outputs.size() > MAX_KEPT) {
                outputs.values().forEach(Tensor::close);
                outputs.clear();
                lastOutputKey = -1;
                lastOutput = null;
            }
            return this;
        }

        private Tensor byLength(Tensor[] cache, DType dtype, int n) {
            if (n > MAX_LENGTH) {
                return own(dtype, n);
            }
            Tensor cached = cache[n];
            if (cached == null) {
                cached = io.jembed.Torch.empty(dtype, n);
                cache[n] = cached;
            }
            return cached;
        }

        private Tensor own(DType dtype, long... shape) {
            Tensor tensor = io.jembed.Torch.empty(dtype, shape);
            uncached.add(tensor);
            return tensor;
        }

        void release(Tensor tensor) {
            if (tensor != null && !uncached.isEmpty() && uncached.remove(tensor)) {
                tensor.close();
            }
        }
    }

    /** For messages and plans: the mode as PyTorch names it. */
    static String modeName(EmbeddingBagMode mode) {
        return mode == null ? "none" : mode.pythonName();
    }
}
