package io.jembed.spark;

import io.jembed.nn.EmbeddingBagMode;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.types.UTF8String;
import scala.Function1;
import scala.Tuple3;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * jembed's lookups as Spark SQL column functions, over a safetensors table that each executor JVM maps once
 * ({@link ExecutorTables}):
 * <pre>{@code
 * Dataset<Row> scored = df.withColumn("embedding",
 *         JembedSpark.embeddingBag(col("ids"), "table.safetensors", new BagOptions().mode("mean")));
 * // SQL (after JembedSpark.register(spark), or with spark.sql.extensions=io.jembed.spark.JembedSparkExtensions):
 * // SELECT jembed_embedding_bag(ids, 'table.safetensors', 'sum', weights) FROM t
 * }</pre>
 *
 * <p>SQL functions:
 * <ul>
 *   <li>{@code jembed_embedding(ids, table [, output])}: PyTorch's {@code F.embedding(ids, weight)}; {@code int}/
 *       {@code bigint} ids give one row, {@code array<int|bigint>} ids an array of rows.</li>
 *   <li>{@code jembed_embedding_bag(ids, table [, mode [, padding_idx] [, per_sample_weights] [, output]])}: PyTorch's
 *       {@code F.embedding_bag(ids, weight, offsets=[0], mode=mode, padding_idx=..., per_sample_weights=...)} on
 *       each row's ids as one bag, giving one row; {@code mode} is {@code 'sum'}, {@code 'mean'} (the default) or
 *       {@code 'max'}; after it, an integer (or NULL) is {@code padding_idx}, an {@code array<float|double>} column
 *       is {@code per_sample_weights} ({@code 'sum'} only), and a string is the output.</li>
 * </ul>
 * A row is {@code array<float>} for a float32, float16 or bfloat16 table and {@code array<double>} for a float64 one
 * (the core's result in the table's dtype; 16-bit values widen to float exactly), unless the output argument asks
 * for {@code 'float'}, {@code 'double'} or {@code 'vector'} (a Spark ML dense {@code Vector}; see
 * {@link LookupOutput}). The table is a string literal: a local path every executor can read, or the name of a file
 * shipped with {@code --files} / {@code SparkContext.addFile}. When the driver can read it too, its header is checked
 * (and gives the output type) when the query is analysed; otherwise the first task checks it, and a float64 table
 * read only by the executors needs its output named. A null ids array gives null. Bad ids fail the task with a
 * {@link JembedLookupException} naming the column, the row and the id (its cause is the core's
 * {@link IndexOutOfBoundsException}).
 *
 * <p>In a session with {@link JembedSparkExtensions}, bag lookups that are columns of their own are planned to pool
 * 4096 rows per core call ({@link BatchedLookupStrategy}; same results and errors, faster on large tables);
 * {@link #register} alone leaves every lookup row by row.
 */
public final class JembedSpark {
    private JembedSpark() {
    }

    /** The SQL functions this module registers. */
    public enum Function {
        EMBEDDING("jembed_embedding", "_FUNC_(ids, table [, output]) - the row of a safetensors table for an "
                + "int/bigint id, or the rows for an array of ids (array<float> rows for a float32/16-bit table, "
                + "array<double> for float64; output 'float', 'double' or 'vector' chooses); PyTorch's F.embedding."),
        EMBEDDING_BAG("jembed_embedding_bag", "_FUNC_(ids, table [, mode [, padding_idx] [, per_sample_weights] "
                + "[, output]]) - each row's array of ids reduced to one row of the table by mode 'sum', 'mean' "
                + "(default) or 'max'; PyTorch's F.embedding_bag with one bag per row.");

        private final String sqlName;
        private final String usage;

        Function(String sqlName, String usage) {
            this.sqlName = sqlName;
            this.usage = usage;
        }

        /** The name SQL calls it by. */
        public String sqlName() {
            return sqlName;
        }

        FunctionIdentifier identifier() {
            return new FunctionIdentifier(sqlName);
        }

        ExpressionInfo info() {
            return new ExpressionInfo(LookupExpression.class.getName(), null, sqlName, usage, "");
        }

        Function1<Seq<Expression>, Expression> builder() {
            return this == EMBEDDING ? JembedSpark::buildEmbedding : JembedSpark::buildEmbeddingBag;
        }

        Tuple3<FunctionIdentifier, ExpressionInfo, Function1<Seq<Expression>, Expression>> description() {
            return new Tuple3<>(identifier(), info(), builder());
        }
    }

    /**
     * Registers {@code jembed_embedding} and {@code jembed_embedding_bag} in a session (again, harmlessly). The
     * column functions of this class register them in the active session themselves.
     */
    public static void register(SparkSession spark) {
        FunctionRegistry registry = ((org.apache.spark.sql.classic.SparkSession) spark).sessionState()
                .functionRegistry();
        for (Function function : Function.values()) {
            registry.registerFunction(function.identifier(), function.info(), function.builder());
        }
    }

    private static void registerInActiveSession() {
        SparkSession spark = SparkSession.active();
        FunctionRegistry registry = ((org.apache.spark.sql.classic.SparkSession) spark).sessionState()
                .functionRegistry();
        for (Function function : Function.values()) {
            if (!registry.functionExists(function.identifier())) {
                registry.registerFunction(function.identifier(), function.info(), function.builder());
            }
        }
    }

    // ---- the column API --------------------------------------------------------------------------------------

    /**
     * The table's row of each id ({@code int}/{@code bigint} column: {@code array<float>}, or {@code array<double>}
     * for a float64 table), or rows of each array of ids ({@code array<array<float>>}).
     *
     * <p>PyTorch equivalent: {@code F.embedding(ids, weight)} per row.
     */
    public static Column embedding(Column ids, String table) {
        registerInActiveSession();
        return functions.call_function(Function.EMBEDDING.sqlName(), ids, functions.lit(table));
    }

    /**
     * As {@link #embedding(Column, String)}, each row as {@code output}: {@code "float"}, {@code "double"} or
     * {@code "vector"} (a Spark ML dense {@code Vector}; see {@link LookupOutput}).
     *
     * <p>PyTorch equivalent: {@code F.embedding(ids, weight).to(dtype)} per row.
     */
    public static Column embedding(Column ids, String table, String output) {
        registerInActiveSession();
        LookupOutput.fromName(output);
        return functions.call_function(Function.EMBEDDING.sqlName(), ids, functions.lit(table),
                functions.lit(output));
    }

    /**
     * Each row's ids reduced to one row by {@code mode} ({@code "sum"}, {@code "mean"} or {@code "max"}).
     *
     * <p>PyTorch equivalent: {@code F.embedding_bag(ids, weight, offsets=[0], mode=mode)} per row.
     */
    public static Column embeddingBag(Column ids, String table, String mode) {
        return embeddingBag(ids, table, new BagOptions().mode(mode));
    }

    /**
     * Each row's ids reduced to one row, with {@code padding_idx} and per-sample weights as {@code options} says.
     *
     * <p>PyTorch equivalent: {@code F.embedding_bag(ids, weight, offsets=[0], mode=..., padding_idx=...,
     * per_sample_weights=...)} per row.
     */
    public static Column embeddingBag(Column ids, String table, BagOptions options) {
        registerInActiveSession();
        List<Column> args = new ArrayList<>(List.of(ids, functions.lit(table),
                functions.lit(options.mode().pythonName())));
        if (options.paddingIdx() != null) {
            args.add(functions.lit(options.paddingIdx()));
        }
        if (options.perSampleWeights() != null) {
            args.add(functions.col(options.perSampleWeights()));
        }
        if (options.output() != null) {
            args.add(functions.lit(options.output().sqlName()));
        }
        return functions.call_function(Function.EMBEDDING_BAG.sqlName(), args.toArray(new Column[0]));
    }

    // ---- the SQL functions' builders -------------------------------------------------------------------------

    static Expression buildEmbedding(Seq<Expression> arguments) {
        List<Expression> args = CollectionConverters.asJava(arguments);
        String name = Function.EMBEDDING.sqlName();
        if (args.size() != 2 && args.size() != 3) {
            throw new IllegalArgumentException(name + " takes 2 or 3 arguments (ids, table [, output]), got "
                    + args.size());
        }
        LookupOutput output = args.size() == 3 ? output(name, args.get(2)) : null;
        LookupSpec spec = new LookupSpec(name, stringLiteral(name, "table", args.get(1)), null, null,
                args.get(0).sql(), null);
        return LookupExpression.of(List.of(args.get(0)), checkOnDriver(spec, output));
    }

    static Expression buildEmbeddingBag(Seq<Expression> arguments) {
        List<Expression> args = CollectionConverters.asJava(arguments);
        String name = Function.EMBEDDING_BAG.sqlName();
        if (args.size() < 2 || args.size() > 6) {
            throw new IllegalArgumentException(name + " takes 2 to 6 arguments (ids, table [, mode [, padding_idx]"
                    + " [, per_sample_weights] [, output]]), got " + args.size());
        }
        String table = stringLiteral(name, "table", args.get(1));
        EmbeddingBagMode mode = EmbeddingBagMode.MEAN;
        if (args.size() > 2) {
            String modeName = stringLiteral(name, "mode", args.get(2));
            try {
                mode = EmbeddingBagMode.fromPythonName(modeName);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": mode must be 'sum', 'mean' or 'max', got '" + modeName
                        + "'", e);
            }
        }
        Long paddingIdx = null;
        Expression weights = null;
        LookupOutput output = null;
        boolean paddingGiven = false;
        for (Expression arg : args.subList(Math.min(3, args.size()), args.size())) {
            DataType type = arg.dataType();
            if (type instanceof org.apache.spark.sql.types.StringType && output == null) {
                output = output(name, arg);
            } else if (type instanceof ArrayType && weights == null) {
                weights = arg;
            } else if (!paddingGiven && arg.foldable() && (type == DataTypes.NullType
                    || type == DataTypes.IntegerType || type == DataTypes.LongType || type == DataTypes.ShortType
                    || type == DataTypes.ByteType)) {
                Object value = arg.eval(null);
                paddingIdx = value == null ? null : ((Number) value).longValue();
                paddingGiven = true;
            } else {
                throw new IllegalArgumentException(name + ": after the mode come padding_idx (an integer literal or "
                        + "NULL), per_sample_weights (an array<float> or array<double> column) and the output (a "
                        + "string literal), each at most once; got " + arg.sql() + " of type " + type.simpleString());
            }
        }
        if (weights != null && mode != EmbeddingBagMode.SUM) {
            throw new IllegalArgumentException(name + ": per_sample_weights was not None. per_sample_weights is only "
                    + "supported for mode='sum' (got mode='" + mode.pythonName() + "'), as in PyTorch");
        }
        LookupSpec spec = new LookupSpec(name, table, mode, paddingIdx, args.get(0).sql(),
                weights == null ? null : weights.sql());
        List<Expression> children = weights == null ? List.of(args.get(0)) : List.of(args.get(0), weights);
        return LookupExpression.of(children, checkOnDriver(spec, output));
    }

    /**
     * The spec with its output type fixed: the one asked for, else the table's (when the driver can read its
     * header, which is then checked, padding_idx included), else float (checked by the first task).
     */
    static LookupSpec checkOnDriver(LookupSpec spec, LookupOutput asked) {
        ExecutorTables.TableHeader header = ExecutorTables.headerIfPresent(spec.table());
        if (header != null) {
            spec.paddingIdx(header.rows());
        }
        LookupOutput output = asked != null ? asked : header != null ? LookupOutput.forTable(header.dtype())
                : LookupOutput.FLOAT;
        output.rowType();   // 'vector' without spark-mllib fails here, at analysis
        return spec.withOutput(output, asked != null || header != null);
    }

    private static LookupOutput output(String function, Expression arg) {
        String name = stringLiteral(function, "output", arg);
        try {
            return LookupOutput.fromName(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(function + ": " + e.getMessage(), e);
        }
    }

    private static String stringLiteral(String function, String what, Expression arg) {
        if (!arg.foldable() || !(arg.dataType() instanceof org.apache.spark.sql.types.StringType)) {
            throw new IllegalArgumentException(function + ": " + what + " must be a string literal, got " + arg.sql()
                    + " of type " + arg.dataType().simpleString());
        }
        Object value = arg.eval(null);
        if (value == null) {
            throw new IllegalArgumentException(function + ": " + what + " must not be NULL");
        }
        return ((UTF8String) value).toString();
    }
}
