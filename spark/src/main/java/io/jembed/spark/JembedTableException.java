package io.jembed.spark;

/**
 * A table file that cannot be used: not found (neither at its path nor among the files shipped with
 * {@code --files}/{@code SparkContext.addFile}), malformed (the cause is the core's
 * {@link io.jembed.io.MalformedFileException}), or not a 2-D float32 table. Thrown by the first task that needs the
 * table, or on the driver when the function is resolved and the driver can read the file.
 */
public class JembedTableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String table;

    public JembedTableException(String table, String message, Throwable cause) {
        super("jembed table '" + table + "': " + message, cause);
        this.table = table;
    }

    /** The table as the function was given it (a path, or the name of a shipped file). */
    public String table() {
        return table;
    }
}
