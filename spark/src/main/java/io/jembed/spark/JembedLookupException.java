package io.jembed.spark;

/**
 * A lookup that failed on one row: a bad id (the cause is the core's {@link IndexOutOfBoundsException}), a null id,
 * or per-sample weights that do not match the ids. The message names the function, the column, the row (its position
 * in the task's partition, and its ids) and the id, so the Spark job's error says which input broke it.
 *
 * <p>The task fails with it, the executor keeps running (every id is checked in Java before native code runs), and a
 * retry of the task fails the same way: the lookup is deterministic.
 */
public class JembedLookupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String column;
    private final long row;
    private final Long id;

    public JembedLookupException(String message, String column, long row, Long id, Throwable cause) {
        super(message, cause);
        this.column = column;
        this.row = row;
        this.id = id;
    }

    /** The column of ids, as Spark prints it. */
    public String column() {
        return column;
    }

    /** The row's position in its partition (0-based, counting the rows the function evaluated), or its row id. */
    public long row() {
        return row;
    }

    /** The bad id, or {@code null} when the failure is not about one id. */
    public Long id() {
        return id;
    }
}
