package io.jembed.spark;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.functional.F;
import java.io.Serializable;
import java.util.ArrayList;
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
 * Bag lookups over a row-sharded table ({@link TableShards}): TorchRec's row-wise sharding as Spark shuffles, for a
 * table larger than one executor.
 *
 * <ol>
 *   <li>Each input row gets an id ({@code zipWithUniqueId}); its ids are split by shard (padding ids dropped, every
 *       id checked against the table's rows), one piece per shard it touches, with each id's position in the row.</li>
 *   <li>The pieces are shuffled to one partition per shard (an exact partitioner: partition k is shard k), where the
 *       executor maps that shard once ({@link ExecutorTables}) and gathers the rows of its ids.</li>
 *   <li>The gathered rows are shuffled back to their input row ({@code cogroup} with the input), put back in
 *       position order, and pooled there by the core's {@code F.embeddingBag} with the row's mode, weights and
 *       padding.</li>
 * </ol>
 *
 * <p><b>Results are bit-identical to the unsharded lookup for every mode</b> ({@code sum}, {@code mean} and
 * {@code max}, with or without per-sample weights and {@code padding_idx}): the pooling runs on the same row values,
 * in the same order, on the same kernel path (a padding row that no id uses keeps the unfused multiply-then-add
 * path of a call with {@code padding_idx}). Pooling part-bags on each shard and adding the parts would shuffle
 * less (one row per shard touched instead of one per id), but float addition is not associative: such sums and means
 * differ from the unsharded ones in the last bits (by up to the rounding of each partial sum). This class chooses
 * exactness; the shuffle carries {@code ids × dim × 4} bytes per input row.
 *
 * <p>The output has the input's columns plus the pooled one ({@code array<float>}, null when the ids or weights are
 * null), in an order that is not the input's (it comes out of a shuffle). The input is read twice (for the pieces
 * and for the rows): persist it first if it is expensive to compute. The shard files must be readable on the driver
 * (their headers give the row ranges) and on the executors (by path, or shipped with {@code --files}).
 */
public final class ShardedLookup {
    private ShardedLookup() {
    }

    /**
     * Adds {@code outputColumn}: each row's ids pooled over the sharded table.
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
        StructType schema = input.schema();
        int idsField = schema.fieldIndex(idsColumn);
        DataType idsType = schema.fields()[idsField].dataType();
        if (!(idsType instanceof ArrayType a && (a.elementType() == DataTypes.IntegerType
                || a.elementType() == DataTypes.LongType))) {
            throw new IllegalArgumentException("sharded embedding_bag takes ids as array<int> or array<bigint>; column "
                    + idsColumn + " is " + idsType.simpleString());
        }
        int weightsField = -1;
        if (options.perSampleWeights() != null) {
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
        LookupSpec spec = new LookupSpec("sharded embedding_bag", layout.tables().get(0), options.mode(),
                options.paddingIdx(), idsColumn, options.perSampleWeights());
        Long padding = spec.paddingIdx(layout.rows());
        long paddingRow = padding == null ? -1 : padding < 0 ? padding + layout.rows() : padding;

        JavaRDD<Row> rows = input.javaRDD();
        Router router = new Router(layout, idsField, weightsField, idsColumn, paddingRow, rows.getNumPartitions());
        JavaPairRDD<Long, Row> keyed = rows.zipWithUniqueId().mapToPair(t -> new Tuple2<>(t._2(), t._1()));
        JavaPairRDD<Long, Gathered> gathered = keyed.flatMapToPair(router)
                .partitionBy(new ShardPartitioner(layout.tables().size()))
                .mapPartitionsToPair(new Gather(layout));
        Reassembly reassembly = new Reassembly(idsField, weightsField, paddingRow, options.mode(), layout.dim(),
                padding != null);
        JavaRDD<Row> pooled = keyed.cogroup(gathered, rows.getNumPartitions()).map(reassembly::apply);
        StructType outSchema = schema.add(outputColumn, DataTypes.createArrayType(DataTypes.FloatType, false), true);
        return input.sparkSession().createDataFrame(pooled, outSchema);
    }

    /** The ids of one input row that fall in one shard: their positions in the row and their rows in the shard. */
    record Piece(long rowId, int[] positions, long[] localRows) implements Serializable {
    }

    /** One piece's gathered rows, {@code positions.length × dim} floats. */
    record Gathered(int[] positions, float[] rows) implements Serializable {
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
        private final TableShards.Layout layout;
        private final int idsField;
        private final int weightsField;
        private final String idsColumn;
        private final long paddingRow;
        private final int inputPartitions;

        Router(TableShards.Layout layout, int idsField, int weightsField, String idsColumn, long paddingRow,
               int inputPartitions) {
            this.layout = layout;
            this.idsField = idsField;
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
            List<Object> ids = row.getList(idsField);
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
                    throw new JembedLookupException("sharded embedding_bag: null id at position " + i + " of "
                            + rowName(rowId) + " in column " + idsColumn + " (ids " + preview(ids) + ")", idsColumn,
                            rowId, null, null);
                }
                long id = ((Number) value).longValue();
                if (id < 0 || id >= layout.rows()) {
                    IndexOutOfBoundsException cause = EmbeddingChecks.indexOutOfRange(new long[] {ids.size()}, i,
                            id, layout.rows());
                    throw new JembedLookupException("sharded embedding_bag: bad id in column " + idsColumn + ", "
                            + rowName(rowId) + ": id " + id + " is not in [0, " + layout.rows() + ") (ids "
                            + preview(ids) + "; " + layout.tables().size() + " shards): " + cause.getMessage(),
                            idsColumn, rowId, id, cause);
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
                throw new JembedLookupException("sharded embedding_bag: " + rowName(rowId) + " has " + ids.size()
                        + " ids in column " + idsColumn + " but " + weights.size() + " per_sample_weights (ids "
                        + preview(ids) + ")", idsColumn, rowId, null, null);
            }
            for (int i = 0; i < weights.size(); i++) {
                if (weights.get(i) == null) {
                    throw new JembedLookupException("sharded embedding_bag: null per_sample_weight at position " + i
                            + " of " + rowName(rowId), idsColumn, rowId, null, null);
                }
            }
        }

        /** zipWithUniqueId gives row k of partition p the id {@code k * partitions + p}. */
        private String rowName(long rowId) {
            return "row " + rowId / inputPartitions + " of partition " + rowId % inputPartitions;
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
                try (Tensor rows = Torch.empty(DType.FLOAT32, piece.localRows().length, shard.dim())) {
                    F.embedding(piece.localRows(), shard.weight(), rows);
                    out.add(new Tuple2<>(piece.rowId(), new Gathered(piece.positions(), rows.toFloatArray())));
                }
            }
            return out.iterator();
        }
    }

    /** Puts a row's gathered rows back in position order and pools them as the unsharded call would. */
    record Reassembly(int idsField, int weightsField, long paddingRow, EmbeddingBagMode mode, int dim,
                      boolean hasPadding) implements Serializable {
        Row apply(Tuple2<Long, Tuple2<Iterable<Row>, Iterable<Gathered>>> group) {
            Row row = group._2()._1().iterator().next();
            Object[] values = new Object[row.size() + 1];
            for (int i = 0; i < row.size(); i++) {
                values[i] = row.get(i);
            }
            if (row.isNullAt(idsField) || weightsField >= 0 && row.isNullAt(weightsField)) {
                return RowFactory.create(values);
            }
            List<Object> ids = row.getList(idsField);
            int[] rank = new int[ids.size()];
            int kept = 0;
            for (int i = 0; i < ids.size(); i++) {
                rank[i] = ((Number) ids.get(i)).longValue() == paddingRow ? -1 : kept++;
            }
            if (kept == 0) {
                values[row.size()] = new float[dim];   // an empty or all-padding bag: zeros, as the core gives
                return RowFactory.create(values);
            }
            // One row more than the ids: a padding row no id uses, so that a call with padding_idx keeps its path.
            float[] table = new float[(kept + 1) * dim];
            for (Gathered piece : group._2()._2()) {
                for (int j = 0; j < piece.positions().length; j++) {
                    System.arraycopy(piece.rows(), j * dim, table, rank[piece.positions()[j]] * dim, dim);
                }
            }
            float[] weights = null;
            if (weightsField >= 0) {
                List<Object> all = row.getList(weightsField);
                weights = new float[kept];
                for (int i = 0; i < all.size(); i++) {
                    if (rank[i] >= 0) {
                        weights[rank[i]] = ((Number) all.get(i)).floatValue();
                    }
                }
            }
            long[] order = new long[kept];
            for (int r = 0; r < kept; r++) {
                order[r] = r;
            }
            try (Tensor weight = Torch.tensor(table, kept + 1, dim);
                 Tensor input = Torch.tensor(order);
                 Tensor offsets = Torch.tensor(new long[] {0});
                 Tensor perSample = weights == null ? null : Torch.tensor(weights);
                 Tensor out = F.embeddingBag(input, weight, offsets, null, 2.0, false, mode, false, perSample, false,
                         hasPadding ? Long.valueOf(kept) : null)) {
                values[row.size()] = out.toFloatArray();
            }
            return RowFactory.create(values);
        }
    }
}
