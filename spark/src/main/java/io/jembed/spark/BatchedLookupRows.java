package io.jembed.spark;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.unsafe.Platform;

/**
 * One partition of a {@link BatchedLookupExec}: takes up to {@code batchRows} rows from the child (fewer once the
 * rows kept reach {@value #BATCH_BYTES} bytes or a lookup's ids {@value #BATCH_IDS}), gathers each bag lookup's ids
 * ({@link BatchedBags}), pools them in one core call per lookup, then gives each row's projection with its results
 * (the projection's other columns, plain or nested lookups included, are computed row by row as usual).
 * Pooling many bags per call is what makes this faster than the expression's one bag per call: the core prefetches
 * the next bags' table rows while it sums the current ones, hiding the memory latency of random rows of a large
 * table.
 *
 * <p>The child's rows are copied into one byte array per batch (an {@link UnsafeRow} is a pointer into its
 * producer's buffer, which the next row overwrites); the ids are copied straight out of them, with no array per row.
 * Results are the expression's: a row a lookup would fail on (see {@link BatchedBags#add}) ends the batch and is then
 * projected as the per-row plan projects it ({@code rowProjection}: the same lookup objects, told the row's number),
 * so its error is the per-row one, and so is the order of errors between rows and within the row.
 * Output rows are one reused {@link UnsafeRow}, as Spark's own projections give them.
 */
final class BatchedLookupRows implements Iterator<InternalRow> {
    /** Bytes of child rows kept per batch, past which the batch ends early. */
    static final int BATCH_BYTES = 8 << 20;
    /** Ids per lookup and batch, past which the batch ends early. */
    static final int BATCH_IDS = 1 << 22;

    private final Iterator<InternalRow> input;
    private final BatchedBags[] lookups;
    private final UnsafeProjection projection;
    /** The projection as the per-row plan computes it, over the child's row alone. */
    private final UnsafeProjection rowProjection;
    private final int batchRows;
    private final GenericInternalRow results;
    private final JoinedRow joined = new JoinedRow();
    private final UnsafeRow childView;

    private byte[] arena = new byte[1 << 16];
    private int arenaUsed;
    private final int[] rowOffset;
    private final int[] rowSize;
    /** Rows of the batch that are not UnsafeRows, copied; null where the row is in the arena. */
    private final InternalRow[] copies;
    private int size;
    private int next;
    private long nextRowNumber;
    private long firstRowNumber;
    /** When the batch was projected row by row (by {@code rowProjection}): its output rows. */
    private InternalRow[] byRow;
    /** A row that ended the last batch because a lookup could not take it, and its number. */
    private InternalRow pending;
    private long pendingNumber;

    BatchedLookupRows(Iterator<InternalRow> input, LookupExpression[] lookups, UnsafeProjection projection,
                      UnsafeProjection rowProjection, int childFields, int batchRows) {
        this.input = input;
        this.lookups = new BatchedBags[lookups.length];
        for (int j = 0; j < lookups.length; j++) {
            this.lookups[j] = new BatchedBags(lookups[j]);
        }
        this.projection = projection;
        this.rowProjection = rowProjection;
        this.batchRows = batchRows;
        this.results = new GenericInternalRow(lookups.length);
        this.childView = new UnsafeRow(childFields);
        this.rowOffset = new int[batchRows];
        this.rowSize = new int[batchRows];
        this.copies = new InternalRow[batchRows];
    }

    @Override
    public boolean hasNext() {
        while (next >= size) {
            if (pending != null) {
                evaluatePending();
            } else if (input.hasNext()) {
                fill();
            } else {
                return false;
            }
        }
        return true;
    }

    @Override
    public InternalRow next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        int i = next++;
        if (byRow != null) {
            return byRow[i];
        }
        for (int j = 0; j < lookups.length; j++) {
            results.update(j, lookups[j].result(i));
        }
        return projection.apply(joined.apply(row(i), results));
    }

    private InternalRow row(int i) {
        InternalRow copy = copies[i];
        if (copy != null) {
            return copy;
        }
        childView.pointTo(arena, Platform.BYTE_ARRAY_OFFSET + rowOffset[i], rowSize[i]);
        return childView;
    }

    private void fill() {
        size = 0;
        next = 0;
        arenaUsed = 0;
        byRow = null;
        firstRowNumber = nextRowNumber;
        for (BatchedBags bags : lookups) {
            bags.start(batchRows);
        }
        while (size < batchRows && arenaUsed < BATCH_BYTES && !idsFull() && input.hasNext()) {
            InternalRow row = input.next();
            long number = nextRowNumber++;
            for (BatchedBags bags : lookups) {
                bags.mark();
            }
            boolean taken = true;
            for (BatchedBags bags : lookups) {
                if (!bags.add(row, size)) {
                    taken = false;
                    break;
                }
            }
            if (!taken) {
                for (BatchedBags bags : lookups) {
                    bags.undo();
                }
                pending = row.copy();
                pendingNumber = number;
                break;
            }
            keep(row);
            size++;
        }
        try {
            for (BatchedBags bags : lookups) {
                bags.pool();
            }
        } catch (IndexOutOfBoundsException e) {
            // The core refused an id that add() let through: the per-row projection says which, row by row.
            byRow = new InternalRow[size];
            for (int i = 0; i < size; i++) {
                byRow[i] = projectRow(row(i), firstRowNumber + i).copy();
            }
        }
    }

    private boolean idsFull() {
        for (BatchedBags bags : lookups) {
            if (bags.idsInBatch() >= BATCH_IDS) {
                return true;
            }
        }
        return false;
    }

    private void keep(InternalRow row) {
        if (!(row instanceof UnsafeRow u)) {
            copies[size] = row.copy();
            return;
        }
        copies[size] = null;
        int bytes = u.getSizeInBytes();
        if (arena.length - arenaUsed < bytes) {
            arena = Arrays.copyOf(arena, (int) Math.min(Integer.MAX_VALUE - 16,
                    Math.max((long) arenaUsed + bytes, 2L * arena.length)));
        }
        Platform.copyMemory(u.getBaseObject(), u.getBaseOffset(), arena, Platform.BYTE_ARRAY_OFFSET + arenaUsed,
                bytes);
        rowOffset[size] = arenaUsed;
        rowSize[size] = bytes;
        arenaUsed += bytes;
    }

    /** The pending row as a batch of its own, projected row by row (which throws what the per-row plan throws). */
    private void evaluatePending() {
        InternalRow row = pending;
        long number = pendingNumber;
        pending = null;
        byRow = new InternalRow[] {projectRow(row, number)};
        size = 1;
        next = 0;
    }

    private InternalRow projectRow(InternalRow row, long number) {
        for (BatchedBags bags : lookups) {
            bags.lookup().numberNextRow(number);
        }
        return rowProjection.apply(row);
    }
}
