package io.jembed.spark;

import io.jembed.nn.EmbeddingBagMode;
import java.io.Serializable;
import java.util.Objects;

/**
 * What one call of {@code jembed_embedding} or {@code jembed_embedding_bag} does, apart from its input columns: the
 * table, for bags the mode and {@code padding_idx}, and the output type. Immutable; travels with the query plan to
 * the executors.
 */
public final class LookupSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String function;
    private final String table;
    private final EmbeddingBagMode mode;
    private final Long paddingIdx;
    private final String column;
    private final String weightsColumn;
    private final LookupOutput output;
    private final boolean outputFixed;

    /** As below, with the output following the table ({@link #withOutput} fixes it). */
    public LookupSpec(String function, String table, EmbeddingBagMode mode, Long paddingIdx, String column,
                      String weightsColumn) {
        this(function, table, mode, paddingIdx, column, weightsColumn, null, false);
    }

    /**
     * @param function the SQL function's name, for messages
     * @param table a path, or the name of a file shipped with {@code --files}
     * @param mode the bag's reduction, or {@code null} for a plain lookup
     * @param paddingIdx PyTorch's {@code padding_idx} (bags only; in {@code [-rows, rows)}), or {@code null}
     * @param column the ids' column as the query named it (the optimizer may later inline its expression)
     * @param weightsColumn the per-sample weights' column, or {@code null}
     * @param output the output type, or {@code null} while it is not known
     * @param outputFixed the caller asked for {@code output}, or it was read from the table's header (so a task
     *     need not check that the table still gives it)
     */
    public LookupSpec(String function, String table, EmbeddingBagMode mode, Long paddingIdx, String column,
                      String weightsColumn, LookupOutput output, boolean outputFixed) {
        this.function = Objects.requireNonNull(function, "function");
        this.table = Objects.requireNonNull(table, "table");
        this.mode = mode;
        this.paddingIdx = paddingIdx;
        this.column = Objects.requireNonNull(column, "column");
        this.weightsColumn = weightsColumn;
        this.output = output;
        this.outputFixed = outputFixed;
    }

    /** This spec with its output type fixed: asked for, or known from the table's header. */
    public LookupSpec withOutput(LookupOutput output, boolean fixed) {
        return new LookupSpec(function, table, mode, paddingIdx, column, weightsColumn, output, fixed);
    }

    /** The output type ({@code null} until fixed). */
    public LookupOutput output() {
        return output;
    }

    /**
     * The output the table gives when none was asked for; the default was fixed without seeing the table when the
     * driver could not read it, and a float64 table then fails here, naming the way out.
     *
     * @throws JembedTableException if the output was a default of {@code float} and the table is float64
     */
    LookupOutput output(io.jembed.DType tableDType) {
        LookupOutput chosen = output == null ? LookupOutput.FLOAT : output;
        if (!outputFixed && chosen == LookupOutput.FLOAT && tableDType == io.jembed.DType.FLOAT64) {
            throw new JembedTableException(table, "is float64, so " + function + " gives array<double>, but the "
                    + "driver could not read the table when the query was analysed and fixed the output type as "
                    + "array<float>: pass the output 'double' (or 'float' to round, or 'vector'), or make the table "
                    + "readable on the driver", null);
        }
        return chosen;
    }

    /** The ids' column, for messages. */
    public String column() {
        return column;
    }

    /** The per-sample weights' column, for messages, or {@code null}. */
    public String weightsColumn() {
        return weightsColumn;
    }

    public String function() {
        return function;
    }

    public String table() {
        return table;
    }

    /** {@code null} for a plain lookup. */
    public EmbeddingBagMode mode() {
        return mode;
    }

    public Long paddingIdx() {
        return paddingIdx;
    }

    /**
     * The padding row as the core takes it, once the table's size is known.
     *
     * @throws IllegalArgumentException if it is outside {@code [-rows, rows)} (PyTorch's rule)
     */
    Long paddingIdx(long rows) {
        if (paddingIdx == null) {
            return null;
        }
        if (paddingIdx < -rows || paddingIdx >= rows) {
            throw new IllegalArgumentException(function + ": padding_idx must be within the number of embeddings, "
                    + "in [" + -rows + ", " + rows + "), got " + paddingIdx + " (table '" + table + "')");
        }
        return paddingIdx;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LookupSpec s && function.equals(s.function) && table.equals(s.table) && mode == s.mode
                && Objects.equals(paddingIdx, s.paddingIdx) && column.equals(s.column)
                && Objects.equals(weightsColumn, s.weightsColumn) && output == s.output
                && outputFixed == s.outputFixed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(function, table, mode, paddingIdx, column, weightsColumn, output, outputFixed);
    }

    @Override
    public String toString() {
        return "table=" + table + (mode == null ? "" : ", mode=" + mode.pythonName())
                + (paddingIdx == null ? "" : ", padding_idx=" + paddingIdx)
                + (output == null ? "" : ", output=" + output.sqlName());
    }
}
