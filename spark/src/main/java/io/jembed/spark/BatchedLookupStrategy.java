package io.jembed.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.SparkStrategy;
import org.apache.spark.sql.internal.SQLConf;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Plans a projection that holds jembed bag lookups as a {@link BatchedLookupExec}, which pools many rows per core
 * call; installed by {@link JembedSparkExtensions}. The node pools the bag lookups of arrays of ids that are columns
 * of their own ({@code SELECT jembed_embedding_bag(...) AS e, ...}, {@code withColumn}; {@link
 * BatchedLookupExec#batchable}); the projection's other columns, plain {@code jembed_embedding} lookups and lookups
 * inside other expressions (which might not be evaluated on every row) included, are computed row by row as before.
 * A projection with no such lookup is left to Spark's planning.
 *
 * <p>Settings (SQL configuration, read when a query is planned):
 * <ul>
 *   <li>{@value #ENABLED} ({@code true}): {@code false} plans every lookup row by row;</li>
 *   <li>{@value #BATCH_ROWS} ({@value #DEFAULT_BATCH_ROWS}): rows per core call (fewer when the rows are large:
 *       a batch keeps at most 8 MB of input rows and 4M ids per lookup).</li>
 * </ul>
 */
public final class BatchedLookupStrategy extends SparkStrategy {
    /** The setting that turns batched lookups off. */
    public static final String ENABLED = "spark.jembed.batchedLookup.enabled";
    /** The setting for rows per core call. */
    public static final String BATCH_ROWS = "spark.jembed.batchedLookup.rows";
    static final int DEFAULT_BATCH_ROWS = 4096;

    @Override
    public Seq<SparkPlan> apply(LogicalPlan plan) {
        if (!(plan instanceof Project project)) {
            return none();
        }
        SQLConf conf = SQLConf.get();
        if (!Boolean.parseBoolean(conf.getConfString(ENABLED, "true").trim())) {
            return none();
        }
        boolean any = false;
        for (NamedExpression e : CollectionConverters.asJava(project.projectList())) {
            if (e instanceof Alias a && BatchedLookupExec.batchable(a.child())) {
                any = true;
            }
        }
        if (!any) {
            return none();
        }
        String rowsSetting = conf.getConfString(BATCH_ROWS, String.valueOf(DEFAULT_BATCH_ROWS)).trim();
        int batchRows;
        try {
            batchRows = Integer.parseInt(rowsSetting);
        } catch (NumberFormatException e) {
            batchRows = 0;
        }
        if (batchRows < 1) {
            throw new IllegalArgumentException(BATCH_ROWS + " must be a whole number of rows, at least 1, got '"
                    + rowsSetting + "'");
        }
        // The child reads only the columns the projection needs (as a scan under a projection would: planned
        // together, a file scan prunes the columns it reads), so each batch keeps no more of each row than that.
        LogicalPlan child = project.child();
        List<NamedExpression> needed = new ArrayList<>();
        for (Attribute a : CollectionConverters.asJava(child.output())) {
            if (project.references().contains(a)) {
                needed.add(a);
            }
        }
        if (needed.size() < child.output().size()) {
            child = new Project(CollectionConverters.asScala(needed).toList(), child);
        }
        SparkPlan exec = new BatchedLookupExec(project.projectList(), planLater(child), batchRows);
        return CollectionConverters.asScala(List.of(exec)).toList();
    }

    private static Seq<SparkPlan> none() {
        return CollectionConverters.asScala(List.<SparkPlan>of()).toList();
    }
}
