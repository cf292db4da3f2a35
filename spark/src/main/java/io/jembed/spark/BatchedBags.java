package io.jembed.spark;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.backend.NativeBackend;
import io.jembed.nn.functional.F;
import java.util.Arrays;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.unsafe.Platform;

/**
 * One bag lookup's share of a batch of rows in {@link BatchedLookupRows}: each row's ids (and weights) gathered into
 * one flat buffer with offsets, then pooled by one {@code F.embeddingBag} call, then each row's result read back as
 * Spark's internal value. A row's bag gives what {@link LookupExpression#eval} gives for the row alone, bit for bit:
 * the core sums each bag in position order from +0 whatever bags share the call, and the weights are converted to
 * the table's dtype as the expression converts them.
 *
 * <p>A row the expression would fail on (a null id or weight, weights of another length than the ids, an id outside
 * the table) is not added: {@link #add} says so, and the caller evaluates that row by the expression itself, whose
 * exception is then the per-row one, row number included.
 *
 * <p>Used by one thread (a task's partition).
 */
final class BatchedBags {
    private final LookupExpression lookup;
    private final Expression idsChild;
    private final Expression weightsChild;
    private ExecutorTables.MappedTable table;
    private boolean wide;
    private boolean doubleWeights;
    private boolean float64;

    private int[] ids = new int[0];
    private long[] wideIds = new long[0];
    private float[] floatWeights;
    private double[] doubleWeightValues;
    /** Ids gathered in this batch. */
    private int total;
    /** Bags (rows with non-null ids and weights) in this batch, and where each starts in the ids. */
    private int bags;
    private int[] offsets = new int[0];
    /** Per row of the batch: its bag, or -1 for a null result. */
    private int[] bagOfRow = new int[0];

    private int markTotal;
    private int markBags;

    /** The pooled rows as UnsafeArrayData images, {@code stride} bytes apart ('float' and 'double' outputs). */
    private byte[] results = new byte[0];
    private int stride;
    /** The pooled rows as values, for the 'vector' output. */
    private Object[] values;
    private final UnsafeArrayData view = new UnsafeArrayData();

    BatchedBags(LookupExpression lookup) {
        this.lookup = lookup;
        this.idsChild = lookup.idsChild();
        this.weightsChild = lookup.weightsChild();
    }

    LookupExpression lookup() {
        return lookup;
    }

    /** Starts a batch of at most {@code rows} rows. */
    void start(int rows) {
        total = 0;
        bags = 0;
        if (bagOfRow.length < rows) {
            bagOfRow = new int[rows];
        }
    }

    /** Ids gathered so far in this batch. */
    int idsInBatch() {
        return total;
    }

    /** Remembers the state before a row, for {@link #undo}. */
    void mark() {
        markTotal = total;
        markBags = bags;
    }

    /** Forgets the rows added since {@link #mark} (another lookup of the same row could not take it). */
    void undo() {
        total = markTotal;
        bags = markBags;
    }

    /**
     * Adds {@code row} as row {@code index} of the batch.
     *
     * @return false, adding nothing, if the expression would fail on the row (the table cannot be opened, a
     *     null id or weight, weights of another length, an id outside the table)
     */
    boolean add(InternalRow row, int index) {
        try {
            return tryAdd(row, index);
        } catch (RuntimeException e) {
            // The ids' or weights' expression failed on the row (an ANSI cast, say), or the table cannot be opened
            // (missing, corrupt): the per-row plan fails on this row too, and in its own order, so it says how.
            return false;
        }
    }

    private boolean tryAdd(InternalRow row, int index) {
        Object idsValue = idsChild.eval(row);
        if (idsValue == null) {
            bagOfRow[index] = -1;
            return true;
        }
        ArrayData weights = null;
        if (weightsChild != null) {
            weights = (ArrayData) weightsChild.eval(row);
            if (weights == null) {
                bagOfRow[index] = -1;
                return true;
            }
        }
        if (table == null) {
            open();
        }
        ArrayData array = (ArrayData) idsValue;
        int n = array.numElements();
        if (lookup.idsMayHoldNull()) {
            for (int i = 0; i < n; i++) {
                if (array.isNullAt(i)) {
                    return false;
                }
            }
        }
        if (weights != null) {
            if (weights.numElements() != n) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (weights.isNullAt(i)) {
                    return false;
                }
            }
        }
        if (!gatherIds(array, n)) {
            return false;
        }
        if (weights != null) {
            gatherWeights(weights, n);
        }
        if (bags == offsets.length) {
            offsets = Arrays.copyOf(offsets, Math.max(16, 2 * bags));
        }
        offsets[bags] = total;
        bagOfRow[index] = bags++;
        total += n;
        return true;
    }

    private void open() {
        table = lookup.openTable();
        wide = lookup.idsWide();
        float64 = table.dtype() == DType.FLOAT64;
        doubleWeights = weightsChild != null && lookup.doubleWeights();
        LookupOutput output = lookup.output();
        if (output != LookupOutput.VECTOR) {
            int elementSize = output == LookupOutput.FLOAT ? 4 : 8;
            long bytes = UnsafeArrayData.calculateHeaderPortionInBytes(table.dim())
                    + (long) elementSize * table.dim();
            stride = (int) ((bytes + 7) / 8 * 8);
        }
    }

    /** The row's ids after the batch's, if every one is a row of the table. */
    private boolean gatherIds(ArrayData array, int n) {
        long rows = table.rows();
        int end = total + n;
        if (wide) {
            if (wideIds.length < end) {
                wideIds = Arrays.copyOf(wideIds, Math.max(end, 2 * wideIds.length));
            }
            if (array instanceof UnsafeArrayData u) {
                Platform.copyMemory(u.getBaseObject(), elements(u, n), wideIds,
                        Platform.LONG_ARRAY_OFFSET + 8L * total, 8L * n);
            } else {
                for (int i = 0; i < n; i++) {
                    wideIds[total + i] = array.getLong(i);
                }
            }
            for (int i = total; i < end; i++) {
                long id = wideIds[i];
                if (id < 0 || id >= rows) {
                    return false;
                }
            }
            return true;
        }
        if (ids.length < end) {
            ids = Arrays.copyOf(ids, Math.max(end, 2 * ids.length));
        }
        if (array instanceof UnsafeArrayData u) {
            Platform.copyMemory(u.getBaseObject(), elements(u, n), ids, Platform.INT_ARRAY_OFFSET + 4L * total,
                    4L * n);
        } else {
            for (int i = 0; i < n; i++) {
                ids[total + i] = array.getInt(i);
            }
        }
        for (int i = total; i < end; i++) {
            int id = ids[i];
            if (id < 0 || id >= rows) {
                return false;
            }
        }
        return true;
    }

    private static long elements(UnsafeArrayData array, int n) {
        return array.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(n);
    }

    /**
     * The row's weights after the batch's: exact doubles for a float64 table (floats widen exactly), floats for the
     * others (doubles rounded to float, then to the table's type by the core's copy), as the expression does.
     */
    private void gatherWeights(ArrayData weights, int n) {
        int end = total + n;
        if (float64) {
            if (doubleWeightValues == null || doubleWeightValues.length < end) {
                doubleWeightValues = Arrays.copyOf(doubleWeightValues == null ? new double[0] : doubleWeightValues,
                        Math.max(end, 2 * (doubleWeightValues == null ? 0 : doubleWeightValues.length)));
            }
            for (int i = 0; i < n; i++) {
                doubleWeightValues[total + i] = doubleWeights ? weights.getDouble(i) : weights.getFloat(i);
            }
            return;
        }
        if (floatWeights == null || floatWeights.length < end) {
            floatWeights = Arrays.copyOf(floatWeights == null ? new float[0] : floatWeights,
                    Math.max(end, 2 * (floatWeights == null ? 0 : floatWeights.length)));
        }
        for (int i = 0; i < n; i++) {
            floatWeights[total + i] = doubleWeights ? (float) weights.getDouble(i) : weights.getFloat(i);
        }
    }

    /**
     * Pools the batch's bags in one core call.
     *
     * @throws IndexOutOfBoundsException if the core rejects an id (not expected: {@link #add} checked them); the
     *     caller then evaluates the batch row by row
     */
    void pool() {
        if (bags == 0) {
            return;
        }
        int dim = table.dim();
        DType dtype = table.dtype();
        Tensor psw = null;
        try (Tensor input = wide ? Torch.tensor(Arrays.copyOf(wideIds, total))
                : Torch.tensor(Arrays.copyOf(ids, total));
             Tensor bagStarts = wide ? Torch.tensor(widen(offsets, bags)) : Torch.tensor(Arrays.copyOf(offsets, bags));
             Tensor out = Torch.empty(dtype, bags, dim)) {
            if (weightsChild != null) {
                psw = Torch.empty(dtype, total);
                if (float64) {
                    psw.copyFrom(Arrays.copyOf(doubleWeightValues, total));
                } else {
                    psw.copyFrom(Arrays.copyOf(floatWeights, total));
                }
            }
            if (Backends.current() instanceof NativeBackend nativeBackend) {
                // On this task's thread alone: Spark runs a task per core it was given, so the core's helper
                // threads (which split a large call across the machine's processors) would only compete with the
                // other tasks, and spin while waiting for them. The arguments are F.embeddingBag's, as it passes
                // them on after its checks (1-D ids with offsets of their dtype: bag size 0; padding_idx as a row,
                // -1 for none); the ids were checked in add(), and the backend checks them again.
                Long padding = lookup.padding();
                long paddingRow = padding == null ? -1 : padding < 0 ? padding + table.rows() : padding;
                nativeBackend.embeddingBag(table.weight(), input, bagStarts, 0, lookup.spec().mode(), psw,
                        paddingRow, out, null, 1);
            } else {
                F.embeddingBag(input, table.weight(), bagStarts, null, 2.0, lookup.spec().mode(), psw, false,
                        lookup.padding(), out);
            }
            read(out, dim);
        } finally {
            if (psw != null) {
                psw.close();
            }
        }
    }

    /** The pooled rows, as the expression's output type gives them ({@code out.toFloatArray()} and so on). */
    private void read(Tensor out, int dim) {
        LookupOutput output = lookup.output();
        if (output == LookupOutput.VECTOR) {
            values = output.internalRows(out);
            return;
        }
        long needed = (long) stride * bags;
        if (needed > Integer.MAX_VALUE - 16) {
            // Past what one byte[] holds: the expression's own values, one array per row.
            values = output.internalRows(out);
            return;
        }
        if (results.length < needed) {
            results = new byte[(int) Math.max(needed, Math.min(Integer.MAX_VALUE - 16, 2L * results.length))];
        }
        values = null;
        int header = UnsafeArrayData.calculateHeaderPortionInBytes(dim);
        Object flat;
        long flatOffset;
        long rowBytes;
        if (output == LookupOutput.FLOAT) {
            flat = out.toFloatArray();
            flatOffset = Platform.FLOAT_ARRAY_OFFSET;
            rowBytes = 4L * dim;
        } else {
            flat = out.toDoubleArray();
            flatOffset = Platform.DOUBLE_ARRAY_OFFSET;
            rowBytes = 8L * dim;
        }
        // The image UnsafeArrayData.fromPrimitiveArray writes: element count, a zero null bitmap, the values, and
        // zero padding to a word (bitmap and padding are never written, so they stay as the new array's zeros).
        for (int b = 0; b < bags; b++) {
            long at = Platform.BYTE_ARRAY_OFFSET + (long) b * stride;
            Platform.putLong(results, at, dim);
            Platform.copyMemory(flat, flatOffset + b * rowBytes, results, at + header, rowBytes);
        }
    }

    /**
     * Row {@code index}'s result: null, or its pooled row (an array valid until the next call of this method, or a
     * vector's row).
     */
    Object result(int index) {
        int bag = bagOfRow[index];
        if (bag < 0) {
            return null;
        }
        if (values != null) {
            return values[bag];
        }
        view.pointTo(results, Platform.BYTE_ARRAY_OFFSET + (long) bag * stride, stride);
        return view;
    }

    private static long[] widen(int[] values, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
