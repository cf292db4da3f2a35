package io.jembed.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.BoundReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression$;
import org.apache.spark.sql.catalyst.expressions.SortOrder;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.plans.physical.Partitioning;
import org.apache.spark.sql.catalyst.plans.physical.UnknownPartitioning;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.Metadata;
import scala.Function1;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractPartialFunction;

/**
 * The physical node for a projection whose jembed bag lookups ({@code jembed_embedding_bag}, {@link
 * JembedSpark#embeddingBag}) are pooled many rows per core call instead of one ({@link BatchedLookupRows}); planned by
 * {@link BatchedLookupStrategy} in sessions with {@link JembedSparkExtensions}. Its rows, results and errors are
 * those of the projection it replaces ({@code ProjectExec} with the per-row {@link LookupExpression}).
 *
 * <p>PyTorch equivalent: {@code F.embedding_bag(ids, weight, offsets, mode=...)} over batches of rows, where the
 * per-row expression calls it with {@code offsets=[0]} for each row.
 */
public final class BatchedLookupExec extends SparkPlan {
    private static final long serialVersionUID = 1L;

    private final Seq<NamedExpression> projectList;
    private final SparkPlan child;
    private final int batchRows;

    public BatchedLookupExec(Seq<NamedExpression> projectList, SparkPlan child, int batchRows) {
        this.projectList = Objects.requireNonNull(projectList, "projectList");
        this.child = Objects.requireNonNull(child, "child");
        if (batchRows < 1) {
            throw new IllegalArgumentException("batchRows must be at least 1, got " + batchRows);
        }
        this.batchRows = batchRows;
    }

    /**
     * A lookup this node pools: a bag lookup ({@code mode} given) of an array of ids whose inputs are deterministic
     * (the node evaluates them once per row, as the projection does, but ahead of the row's other columns).
     */
    static boolean batchable(Expression e) {
        return e instanceof LookupExpression l && l.spec().mode() != null
                && l.children().head().dataType() instanceof ArrayType && l.deterministic();
    }

    public Seq<NamedExpression> projectList() {
        return projectList;
    }

    public SparkPlan child() {
        return child;
    }

    public int batchRows() {
        return batchRows;
    }

    // ---- Catalyst's contract ---------------------------------------------------------------------------------

    @Override
    public Seq<Attribute> output() {
        List<Attribute> out = new ArrayList<>();
        for (NamedExpression e : CollectionConverters.asJava(projectList)) {
            out.add(e.toAttribute());
        }
        return CollectionConverters.asScala(out).toList();
    }

    /** The child's partitioning, when the columns it names are passed through (as {@code ProjectExec} keeps it). */
    @Override
    public Partitioning outputPartitioning() {
        Partitioning p = child.outputPartitioning();
        if (p instanceof Expression e && !e.references().subsetOf(outputSet())) {
            return new UnknownPartitioning(p.numPartitions());
        }
        return p;
    }

    /** The child's ordering, as far as the columns it names are passed through: rows keep their order. */
    @Override
    public Seq<SortOrder> outputOrdering() {
        List<SortOrder> kept = new ArrayList<>();
        for (SortOrder order : CollectionConverters.asJava(child.outputOrdering())) {
            if (!order.references().subsetOf(outputSet())) {
                break;
            }
            kept.add(order);
        }
        return CollectionConverters.asScala(kept).toList();
    }

    @Override
    public Seq<SparkPlan> children() {
        return CollectionConverters.asScala(List.of(child)).toList();
    }

    @Override
    public SparkPlan withNewChildrenInternal(IndexedSeq<SparkPlan> newChildren) {
        return new BatchedLookupExec(projectList, newChildren.apply(0), batchRows);
    }

    @Override
    public int productArity() {
        return 3;
    }

    @Override
    public Object productElement(int n) {
        return switch (n) {
            case 0 -> projectList;
            case 1 -> child;
            case 2 -> batchRows;
            default -> throw new IndexOutOfBoundsException(n);
        };
    }

    @Override
    public boolean canEqual(Object that) {
        return that instanceof BatchedLookupExec;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchedLookupExec e && batchRows == e.batchRows && projectList.equals(e.projectList)
                && child.equals(e.child);
    }

    @Override
    public int hashCode() {
        return Objects.hash(projectList, child, batchRows);
    }

    // ---- execution -------------------------------------------------------------------------------------------

    @Override
    public RDD<InternalRow> doExecute() {
        List<Attribute> childOutput = new ArrayList<>(CollectionConverters.asJava(child.output()));
        List<Expression> rewritten = new ArrayList<>();
        List<Expression> perRow = new ArrayList<>();
        List<LookupExpression> lookups = new ArrayList<>();
        List<Attribute> inputSchema = new ArrayList<>(childOutput);
        for (NamedExpression e : CollectionConverters.asJava(projectList)) {
            if (e instanceof Alias a && batchable(a.child())) {
                AttributeReference result = new AttributeReference("jembed_bag_" + lookups.size(),
                        a.child().dataType(), true, Metadata.empty(), NamedExpression$.MODULE$.newExprId(),
                        CollectionConverters.asScala(List.<String>of()).toList());
                LookupExpression bound = (LookupExpression) bind(a.child(), childOutput);
                lookups.add(bound);
                inputSchema.add(result);
                rewritten.add(a.withNewChildren(CollectionConverters.asScala(List.<Expression>of(result)).toList()));
                perRow.add(a.withNewChildren(CollectionConverters.asScala(List.<Expression>of(bound)).toList()));
            } else {
                rewritten.add((Expression) e);
                perRow.add((Expression) e);
            }
        }
        Evaluate evaluate = new Evaluate(CollectionConverters.asScala(rewritten).toList(),
                CollectionConverters.asScala(inputSchema).toList(), CollectionConverters.asScala(perRow).toList(),
                child.output(), lookups.toArray(new LookupExpression[0]), batchRows);
        return child.execute().toJavaRDD().mapPartitionsWithIndex(evaluate, false).rdd();
    }

    /** {@code e} with each column it reads replaced by its position in {@code input} (Spark's bound form). */
    static Expression bind(Expression e, List<Attribute> input) {
        return e.transform(new AbstractPartialFunction<Expression, Expression>() {
            @Override
            public boolean isDefinedAt(Expression x) {
                return x instanceof AttributeReference;
            }

            @Override
            public <A1 extends Expression, B1> B1 applyOrElse(A1 x, Function1<A1, B1> otherwise) {
                if (!(x instanceof AttributeReference a)) {
                    return otherwise.apply(x);
                }
                for (int i = 0; i < input.size(); i++) {
                    if (input.get(i).exprId().equals(a.exprId())) {
                        @SuppressWarnings("unchecked")
                        B1 bound = (B1) new BoundReference(i, a.dataType(), input.get(i).nullable());
                        return bound;
                    }
                }
                throw new IllegalStateException("column " + a + " is not in the input " + input);
            }
        });
    }

    /**
     * Per partition: the projections (made on the executor: generated code does not travel) and the batches. Each
     * task deserializes its own copy, so its lookups count their partition's rows from 0.
     */
    static final class Evaluate implements Function2<Integer, Iterator<InternalRow>, Iterator<InternalRow>> {
        private static final long serialVersionUID = 1L;
        /** The projection over the child's row and the pooled results. */
        private final Seq<Expression> projectList;
        private final Seq<Attribute> inputSchema;
        /** The projection as the per-row plan has it, with the same (bound) lookup objects, over the child's row. */
        private final Seq<Expression> perRowList;
        private final Seq<Attribute> childOutput;
        private final LookupExpression[] lookups;
        private final int batchRows;

        Evaluate(Seq<Expression> projectList, Seq<Attribute> inputSchema, Seq<Expression> perRowList,
                 Seq<Attribute> childOutput, LookupExpression[] lookups, int batchRows) {
            this.projectList = projectList;
            this.inputSchema = inputSchema;
            this.perRowList = perRowList;
            this.childOutput = childOutput;
            this.lookups = lookups;
            this.batchRows = batchRows;
        }

        @Override
        public Iterator<InternalRow> call(Integer partition, Iterator<InternalRow> rows) {
            UnsafeProjection projection = UnsafeProjection.create(projectList, inputSchema);
            projection.initialize(partition);
            UnsafeProjection rowProjection = UnsafeProjection.create(perRowList, childOutput);
            rowProjection.initialize(partition);
            return new BatchedLookupRows(rows, lookups, projection, rowProjection, childOutput.size(), batchRows);
        }
    }
}
