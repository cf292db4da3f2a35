package io.jembed.spark;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.F;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Lookups and bag lookups over a row-sharded table ({@link TableShards}): TorchRec's row-wise sharding as Spark
 * shuffles, for a table larger than one executor.
 *
 * <ol>
 *   <li>Each input row gets an id ({@code zipWithUniqueId}); its ids are split by shard (a bag's padding ids dropped,
 *       every id checked against the table's rows), one piece per shard it touches, with each id's position in the
 *       row.</li>
 *   <li>The pieces are shuffled to one partition per shard (an exact partitioner: partition k is shard k), where the
 *       executor maps that shard once ({@link ExecutorTables}) and gathers the rows of its ids.</li>
 *   <li>The gathered rows are shuffled back to their input row ({@code cogroup} with the input) and put back in
 *       position order: that is the plain lookup's result ({@link #embedding}); a bag ({@link #embeddingBag}) is
 *       pooled there by the core's {@code F.embeddingBag} with the row's mode, weights and padding.</li>
 * </ol>
 *
 * <p><b>Results are bit-identical to the unsharded lookup for every mode</b> ({@code sum}, {@code mean} and
 * {@code max}, with or without per-sample weights and {@code padding_idx}): the pooling runs on the same row values,
 * in the same order, on the same kernel path (a padding row that no id uses keeps the unfused multiply-then-add
 * path of a call with {@code padding_idx}). Pooling part-bags on each shard and adding the parts would shuffle
 * less (one row per shard touched instead of one per id), but float addition is not associative: such sums and means
 * differ from the unsharded ones in the last bits (by up to the rounding of each partial sum). This class chooses
 * exactness; the shuffle carries {@code ids × dim × 4} bytes per input row ({@code × 8} for a float64 table). The
 * plain lookup copies rows, so it is bit-identical too. Tables of every dtype the column functions take (float32, float64,
 * float16, bfloat16) work alike, with the same output types ({@link LookupOutput}; the driver reads the shards'
 * headers, so the default output is always the table's).
 *
 * <p>The output has the input's columns plus the looked-up one (null when the ids or weights are null), in an order
 * that is not the input's (it comes out of a shuffle). The input is read twice (for the pieces
 * and for the rows): persist it first if it is expensive to compute. The shard files must be readable on the driver
 * (their headers give the row ranges) and on the executors (by path, or shipped with {@code --files}).
 */
public final class ShardedLookup {
    private ShardedLookup() {
    }

    /**
     * Adds {@code outputColumn}: the sharded table's rows of each row's ids ({@code array<int|bigint>} ids: an array
     * of rows; {@code int}/{@code bigint} ids: one row), each row of the table's type.
     *
     * <p>PyTorch equivalent: {@code F.embedding(ids, weight)} per row, {@code weight} being the shards concatenated.
     *
     * @param shards the shard files (any order), as {@link TableShards#split} wrote them
     * @throws JembedTableException if the shards are missing, malformed, or not one table's complete set
     * @throws IllegalArgumentException if the column is missing or of the wrong type
     */
    public static Dataset<Row> embedding(Dataset<Row> input, String idsColumn, List<String> shards,
                                         String outputColumn) {
        return embedding(input, idsColumn, shards, null, outputColumn);
    }

    /**
     * As {@link #embedding(Dataset, String, List, String)}, each row as {@code output} ({@code null}: the table's
     * type).
     *
     * <p>PyTorch equivalent: {@code F.embedding(ids, weight).to(dtype)} per row.
     */
    public static Dataset<Row> embedding(Dataset<Row> input, String idsColumn, List<String> shards,
                                         LookupOutput output, String outputColumn) {
        return lookup(input, idsColumn, shards, null, output, outputColumn);
    }

    /**
     * Adds {@code outputColumn}: each row's ids pooled over the sharded table, as {@code options.output()} says (by
     * default the table's type).
     *
     * <p>PyTorch equivalent: {@code F.embedding_bag(ids, weight, offsets=[0], mode=..., padding_idx=...,
     * per_sample_weights=...)} per row, {@code weight} being the shards concatenated.
     *
     * @param shards the shard files (any order), as {@link TableShards#split} wrote them
     * @throws JembedTableException if the shards are missing, malformed, or not one table's complete set
     * @throws IllegalArgumentException if a column is missing or of the wrong type, or an option is invalid
     */
    public static Dataset<Row> embeddingBag(Dataset<Row> input, String idsColumn, List<String> shards,
                                            BagOptions options, String outputColumn) {
        return lookup(input, idsColumn, shards, options, options.output(), outputColumn);
    }

    /** The plain lookup ({@code options == null}) or the bag lookup. */
    private static Dataset<Row> lookup(Dataset<Row> input, String idsColumn, List<String> shards, BagOptions options,
                                       LookupOutput asked, String outputColumn) {
        boolean bags = options != null;
        String name = bags ? "sharded embedding_bag" : "sharded embedding";
        StructType schema = input.schema();
        int idsField = schema.fieldIndex(idsColumn);
        DataType idsType = schema.fields()[idsField].dataType();
        boolean scalar = !bags && (idsType == DataTypes.IntegerType || idsType == DataTypes.LongType);
        if (!scalar && !(idsType instanceof ArrayType a && (a.elementType() == DataTypes.IntegerType
                || a.elementType() == DataTypes.LongType))) {
            throw new IllegalArgumentException(name + " takes ids as " + (bags ? "" : "int, bigint, ")
                    + "array<int> or array<bigint>; column " + idsColumn + " is " + idsType.simpleString());
        }
        int weightsField = -1;
        if (bags && options.perSampleWeights() != null) {
            weightsField = schema.fieldIndex(options.perSampleWeights());
            DataType type = schema.fields()[weightsField].dataType();
            if (!(type instanceof ArrayType w && (w.elementType() == DataTypes.FloatType
                    || w.elementType() == DataTypes.DoubleType))) {
                throw new IllegalArgumentException("per_sample_weights must be array<float> or array<double>; column "
                        + options.perSampleWeights() + " is " + type.simpleString());
            }
            if (options.mode() != EmbeddingBagMode.SUM) {
                throw new IllegalArgumentException("per_sample_weights was not None. per_sample_weights is only "
                        + "supported for mode='sum' (got mode='" + options.mode().pythonName() + "'), as in PyTorch");
            }
        }
        TableShards.Layout layout = TableShards.layout(shards);
        LookupSpec spec = new LookupSpec(name, layout.tables().get(0), bags ? options.mode() : null,
                bags ? options.paddingIdx() : null, idsColumn, bags ? options.perSampleWeights() : null);
        Long padding = spec.paddingIdx(layout.rows());
        long paddingRow = padding == null ? -1 : padding < 0 ? padding + layout.rows() : padding;
        LookupOutput output = asked != null ? asked : LookupOutput.forTable(layout.dtype());
        DataType rowType = output.rowType();

        JavaRDD<Row> rows = input.javaRDD();
        Router router = new Router(name, layout, idsField, scalar, weightsField, idsColumn, paddingRow,
                rows.getNumPartitions());
        JavaPairRDD<Long, Row> keyed = rows.zipWithUniqueId().mapToPair(t -> new Tuple2<>(t._2(), t._1()));
        JavaPairRDD<Long, Gathered> gathered = keyed.flatMapToPair(router)
                .partitionBy(new ShardPartitioner(layout.tables().size()))
                .mapPartitionsToPair(new Gather(layout));
        Reassembly reassembly = new Reassembly(idsField, scalar, weightsField, paddingRow,
                bags ? options.mode() : null, layout.dim(), layout.dtype(), padding != null, output);
        JavaRDD<Row> looked = keyed.cogroup(gathered, rows.getNumPartitions()).map(reassembly::apply);
        StructType outSchema = schema.add(outputColumn, bags || scalar ? rowType
                : DataTypes.createArrayType(rowType, false), true);
        return input.sparkSession().createDataFrame(looked, outSchema);
    }

    /** The ids of one input row that fall in one shard: their positions in the row and their rows in the shard. */
    record Piece(long rowId, int[] positions, long[] localRows) implements Serializable {
    }

    /**
     * One piece's gathered rows, {@code positions.length × dim} values: {@code floats} for a float32 or 16-bit table
     * (16-bit values widen exactly), {@code doubles} for a float64 one; the other is null.
     */
    record Gathered(int[] positions, float[] floats, double[] doubles) implements Serializable {
    }

    /** Partition k is shard k. */
    static final class ShardPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int shards;

        ShardPartitioner(int shards) {
            this.shards = shards;
        }

        @Override
        public int numPartitions() {
            return shards;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ShardPartitioner p && p.shards == shards;
        }

        @Override
        public int hashCode() {
            return shards;
        }
    }

    /** Splits a row's ids by shard, checking each. */
    static final class Router implements PairFlatMapFunction<Tuple2<Long, Row>, Integer, Piece> {
        private static final long serialVersionUID = 1L;
        private final String name;
        private final TableShards.Layout layout;
        private final int idsField;
        private final boolean scalar;
        private final int weightsField;
        private final String idsColumn;
        private final long paddingRow;
        private final int inputPartitions;

        Router(String name, TableShards.Layout layout, int idsField, boolean scalar, int weightsField,
               String idsColumn, long paddingRow, int inputPartitions) {
            this.name = name;
            this.layout = layout;
            this.idsField = idsField;
            this.scalar = scalar;
            this.weightsField = weightsField;
            this.idsColumn = idsColumn;
            this.paddingRow = paddingRow;
            this.inputPartitions = inputPartitions;
        }

        @Override
        public Iterator<Tuple2<Integer, Piece>> call(Tuple2<Long, Row> keyedRow) {
            long rowId = keyedRow._1();
            Row row = keyedRow._2();
            if (row.isNullAt(idsField) || weightsField >= 0 && row.isNullAt(weightsField)) {
                return java.util.Collections.emptyIterator();
            }
            List<Object> ids = scalar ? List.of(row.get(idsField)) : row.getList(idsField);
            if (weightsField >= 0) {
                checkWeights(rowId, ids, row.getList(weightsField));
            }
            int shards = layout.tables().size();
            List<List<Integer>> positions = new ArrayList<>(shards);
            for (int s = 0; s < shards; s++) {
                positions.add(new ArrayList<>());
            }
            for (int i = 0; i < ids.size(); i++) {
                Object value = ids.get(i);
                if (value == null) {
                    throw new JembedLookupException(name + ": null id at position " + i + " of "
                            + rowName(rowId) + " in column " + idsColumn + " (ids " + preview(ids) + ")", idsColumn,
                            rowInPartition(rowId), null, null);
                }
                long id = ((Number) value).longValue();
                if (id < 0 || id >= layout.rows()) {
                    IndexOutOfBoundsException cause = EmbeddingChecks.indexOutOfRange(new long[] {ids.size()}, i,
                            id, layout.rows());
                    throw new JembedLookupException(name + ": bad id in column " + idsColumn + ", "
                            + rowName(rowId) + ": id " + id + " is not in [0, " + layout.rows() + ") (ids "
                            + preview(ids) + "; " + layout.tables().size() + " shards): " + cause.getMessage(),
                            idsColumn, rowInPartition(rowId), id, cause);
                }
                if (id != paddingRow) {
                    positions.get(layout.shardOf(id)).add(i);
                }
            }
            List<Tuple2<Integer, Piece>> pieces = new ArrayList<>();
            for (int s = 0; s < shards; s++) {
                List<Integer> at = positions.get(s);
                if (at.isEmpty()) {
                    continue;
                }
                int[] where = new int[at.size()];
                long[] local = new long[at.size()];
                for (int j = 0; j < where.length; j++) {
                    where[j] = at.get(j);
                    local[j] = ((Number) ids.get(where[j])).longValue() - layout.starts()[s];
                }
                pieces.add(new Tuple2<>(s, new Piece(rowId, where, local)));
            }
            return pieces.iterator();
        }

        private void checkWeights(long rowId, List<Object> ids, List<Object> weights) {
            if (weights.size() != ids.size()) {
                throw new JembedLookupException(name + ": " + rowName(rowId) + " has " + ids.size()
                        + " ids in column " + idsColumn + " but " + weights.size() + " per_sample_weights (ids "
                        + preview(ids) + ")", idsColumn, rowInPartition(rowId), null, null);
            }
            for (int i = 0; i < weights.size(); i++) {
                if (weights.get(i) == null) {
                    throw new JembedLookupException(name + ": null per_sample_weight at position " + i
                            + " of " + rowName(rowId), idsColumn, rowInPartition(rowId), null, null);
                }
            }
        }

        /** zipWithUniqueId gives row k of partition p the id {@code k * partitions + p}. */
        private String rowName(long rowId) {
            return "row " + rowInPartition(rowId) + " of partition " + rowId % inputPartitions;
        }

        /** The row's position in its input partition, as the column functions' exceptions give it. */
        private long rowInPartition(long rowId) {
            return rowId / inputPartitions;
        }
    }

    private static String preview(List<Object> ids) {
        List<Object> head = ids.subList(0, Math.min(20, ids.size()));
        String text = head.toString();
        return ids.size() > 20 ? text.substring(0, text.length() - 1) + ", ... (" + ids.size() + " ids)]" : text;
    }

    /** On the executor running shard k's partition: maps shard k once, gathers each piece's rows. */
    static final class Gather implements PairFlatMapFunction<Iterator<Tuple2<Integer, Piece>>, Long, Gathered> {
        private static final long serialVersionUID = 1L;
        private final TableShards.Layout layout;

        Gather(TableShards.Layout layout) {
            this.layout = layout;
        }

        @Override
        public Iterator<Tuple2<Long, Gathered>> call(Iterator<Tuple2<Integer, Piece>> pieces) {
            List<Tuple2<Long, Gathered>> out = new ArrayList<>();
            ExecutorTables.MappedTable shard = null;
            while (pieces.hasNext()) {
                Tuple2<Integer, Piece> next = pieces.next();
                if (shard == null) {
                    shard = ExecutorTables.get(layout.tables().get(next._1()));
                }
                Piece piece = next._2();
                try (Tensor rows = Torch.empty(shard.dtype(), piece.localRows().length, shard.dim())) {
                    F.embedding(piece.localRows(), shard.weight(), rows);
                    boolean wide = shard.dtype() == DType.FLOAT64;
                    out.add(new Tuple2<>(piece.rowId(), new Gathered(piece.positions(),
                            wide ? null : rows.toFloatArray(), wide ? rows.toDoubleArray() : null)));
                }
            }
            return out.iterator();
        }
    }

    /**
     * Puts a row's gathered rows back in position order: the plain lookup's result, or, pooled as the unsharded call
     * would, the bag's.
     */
    record Reassembly(int idsField, boolean scalar, int weightsField, long paddingRow, EmbeddingBagMode mode, int dim,
                      DType dtype, boolean hasPadding, LookupOutput output) implements Serializable {
        Row apply(Tuple2<Long, Tuple2<Iterable<Row>, Iterable<Gathered>>> group) {
            Row row = group._2()._1().iterator().next();
            Object[] values = new Object[row.size() + 1];
            for (int i = 0; i < row.size(); i++) {
                values[i] = row.get(i);
            }
            if (row.isNullAt(idsField) || weightsField >= 0 && row.isNullAt(weightsField)) {
                return RowFactory.create(values);
            }
            values[row.size()] = mode == null ? rows(scalar ? 1 : row.getList(idsField).size(), group._2()._2())
                    : pool(row, group._2()._2());
            return RowFactory.create(values);
        }

        /** The plain lookup: each id's row, in position order (one row for a scalar id). */
        private Object rows(int n, Iterable<Gathered> pieces) {
            Object[] rows = new Object[n];
            for (Gathered piece : pieces) {
                for (int j = 0; j < piece.positions().length; j++) {
                    rows[piece.positions()[j]] = output.externalRow(
                            piece.floats() == null ? null : Arrays.copyOfRange(piece.floats(), j * dim, (j + 1) * dim),
                            piece.doubles() == null ? null
                                    : Arrays.copyOfRange(piece.doubles(), j * dim, (j + 1) * dim));
                }
            }
            return scalar ? rows[0] : rows;
        }

        private Object pool(Row row, Iterable<Gathered> pieces) {
            boolean wide = dtype == DType.FLOAT64;
            List<Object> ids = row.getList(idsField);
            int[] rank = new int[ids.size()];
            int kept = 0;
            for (int i = 0; i < ids.size(); i++) {
                rank[i] = ((Number) ids.get(i)).longValue() == paddingRow ? -1 : kept++;
            }
            if (kept == 0) {
                // An empty or all-padding bag: zeros, as the core gives.
                return output.externalRow(wide ? null : new float[dim], wide ? new double[dim] : null);
            }
            // One row more than the ids: a padding row no id uses, so that a call with padding_idx keeps its path.
            float[] floats = wide ? null : new float[(kept + 1) * dim];
            double[] doubles = wide ? new double[(kept + 1) * dim] : null;
            for (Gathered piece : pieces) {
                for (int j = 0; j < piece.positions().length; j++) {
                    int to = rank[piece.positions()[j]] * dim;
                    if (wide) {
                        System.arraycopy(piece.doubles(), j * dim, doubles, to, dim);
                    } else {
                        System.arraycopy(piece.floats(), j * dim, floats, to, dim);
                    }
                }
            }
            float[] weightFloats = null;
            double[] weightDoubles = null;
            if (weightsField >= 0) {
                // As the column function gives them to the core: exact for float64, else rounded to float (and
                // then to the 16-bit type by the tensor).
                List<Object> all = row.getList(weightsField);
                weightFloats = wide ? null : new float[kept];
                weightDoubles = wide ? new double[kept] : null;
                for (int i = 0; i < all.size(); i++) {
                    if (rank[i] >= 0) {
                        if (wide) {
                            weightDoubles[rank[i]] = ((Number) all.get(i)).doubleValue();
                        } else {
                            weightFloats[rank[i]] = ((Number) all.get(i)).floatValue();
                        }
                    }
                }
            }
            long[] order = new long[kept];
            for (int r = 0; r < kept; r++) {
                order[r] = r;
            }
            long[] shape = {kept + 1, dim};
            try (Tensor weight = wide ? Torch.tensor(doubles, shape) : Torch.tensor(floats, dtype, shape);
                 Tensor input = Torch.tensor(order);
                 Tensor offsets = Torch.tensor(new long[] {0});
                 Tensor perSample = weightsField < 0 ? null
                         : wide ? Torch.tensor(weightDoubles) : Torch.tensor(weightFloats, dtype);
                 Tensor out = F.embeddingBag(input, weight, offsets, null, 2.0, false, mode, false, perSample, false,
                         hasPadding ? Long.valueOf(kept) : null)) {
                return wide ? output.externalRow(null, out.toDoubleArray())
                        : output.externalRow(out.toFloatArray(), null);
            }
        }
    }
}
