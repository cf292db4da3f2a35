package io.jembed.bench;

import io.jembed.internal.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/** Turns one JMH run into a Markdown report and an SVG chart. */
final class Report {
    final List<Row> rows = new ArrayList<>();
    private final String command;
    private final MachineInfo before;
    private final MachineInfo after;
    private final List<String> earlierParts;

    /** One measured configuration. */
    static final class Row {
        String benchmark;
        String impl;
        Map<String, String> params = new LinkedHashMap<>();
        double nsPerOp;
        /**
         * The lowest of the forks' means (each fork's mean over its measured iterations): on a shared, noisy machine
         * the closest to what the code costs, since a fork that other work disturbed is slower, never faster. Every
         * goal and every derived column (ns/row, rows/s, of memcpy) is computed from it.
         */
        double forkMinNs;
        /** The part of the suite (JMH run, named by its result file) that measured this row; goals pair rows of one. */
        String part;
        int forks;
        double error;
        double allocBytesPerOp = Double.NaN;
        long lookups;
    }

    Report(Collection<RunResult> results, String command, MachineInfo before, MachineInfo after) {
        this(rowsOf(results), command, before, after, List.of());
    }

    /**
     * A report over rows of several JMH runs; {@code earlierParts} names the parts read back from an earlier
     * invocation's result files (scripts/bench --full --resume), which the report says.
     */
    Report(List<Row> rows, String command, MachineInfo before, MachineInfo after, List<String> earlierParts) {
        this.command = command;
        this.before = before;
        this.after = after;
        this.earlierParts = List.copyOf(earlierParts);
        this.rows.addAll(rows);
    }

    static List<Row> rowsOf(Collection<RunResult> results) {
        List<Row> rows = new ArrayList<>();
        for (RunResult result : results) {
            BenchmarkParams params = result.getParams();
            Row row = new Row();
            for (String key : params.getParamsKeys()) {
                row.params.put(key, params.getParam(key));
            }
            row.nsPerOp = result.getPrimaryResult().getScore();
            row.forkMinNs = Double.POSITIVE_INFINITY;
            for (org.openjdk.jmh.results.BenchmarkResult fork : result.getBenchmarkResults()) {
                row.forkMinNs = Math.min(row.forkMinNs, fork.getPrimaryResult().getScore());
                row.forks++;
            }
            row.error = result.getPrimaryResult().getScoreError();
            Result<?> alloc = result.getSecondaryResults().get("\u00b7gc.alloc.rate.norm");
            if (alloc == null) {
                alloc = result.getSecondaryResults().get("gc.alloc.rate.norm");
            }
            if (alloc != null) {
                row.allocBytesPerOp = alloc.getScore();
            }
            rows.add(complete(row, params.getBenchmark(), params.getThreads()));
        }
        return rows;
    }

    /**
     * The rows of a JMH result file ({@code -rf json}), as {@link #rowsOf} makes them from the run: a fork's score is
     * the mean of its measured iterations, as JMH computes it.
     */
    static List<Row> rowsOf(Path resultFile) throws IOException {
        Object parsed;
        try {
            parsed = Json.parse(Files.readString(resultFile));
        } catch (Json.JsonException e) {
            throw new IOException(resultFile + ": " + e.getMessage(), e);
        }
        List<Row> rows = new ArrayList<>();
        for (Object entry : (List<?>) parsed) {
            Map<?, ?> run = (Map<?, ?>) entry;
            Row row = new Row();
            Map<?, ?> params = (Map<?, ?>) run.get("params");
            if (params != null) {
                params.forEach((k, v) -> row.params.put((String) k, (String) v));
            }
            Map<?, ?> primary = (Map<?, ?>) run.get("primaryMetric");
            row.nsPerOp = number(primary.get("score"));
            row.error = number(primary.get("scoreError"));
            row.forkMinNs = Double.POSITIVE_INFINITY;
            for (Object fork : (List<?>) primary.get("rawData")) {
                double sum = 0;
                List<?> iterations = (List<?>) fork;
                for (Object iteration : iterations) {
                    sum += number(iteration);
                }
                row.forkMinNs = Math.min(row.forkMinNs, sum / iterations.size());
                row.forks++;
            }
            Map<?, ?> secondary = (Map<?, ?>) run.get("secondaryMetrics");
            Object alloc = secondary == null ? null : secondary.get("\u00b7gc.alloc.rate.norm");
            if (alloc == null && secondary != null) {
                alloc = secondary.get("gc.alloc.rate.norm");
            }
            if (alloc != null) {
                row.allocBytesPerOp = number(((Map<?, ?>) alloc).get("score"));
            }
            rows.add(complete(row, (String) run.get("benchmark"), (int) number(run.get("threads"))));
        }
        return rows;
    }

    /** JMH writes NaN and infinities as strings. */
    private static double number(Object value) {
        return value instanceof Number n ? n.doubleValue() : Double.parseDouble((String) value);
    }

    /** Fills what a row derives from its benchmark and parameters. */
    private static Row complete(Row row, String benchmark, int threads) {
        row.benchmark = benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1);
        row.impl = row.benchmark.startsWith("CopyBenchmark") ? "memcpy"
                : firstOf(row.params, "impl", "backwardImpl", "renormImpl", "stepImpl", "bagImpl",
                        "bagBackwardImpl");
        if (row.benchmark.startsWith("ServingBenchmark")) {
            row.params.put("threads", String.valueOf(threads));
        }
        if (row.params.containsKey("perBag")) {
            row.lookups = Long.parseLong(row.params.get("bags")) * Long.parseLong(row.params.get("perBag"));
        } else if (row.params.containsKey("bagLookups")) {
            row.lookups = Long.parseLong(row.params.get("bagCount")) * Long.parseLong(row.params.get("bagLookups"));
        } else {
            row.lookups = Long.parseLong(firstOf(row.params, "batch", "gradBatch", "renormBatch", "stepBatch"));
        }
        return row;
    }

    private static String firstOf(Map<String, String> params, String... keys) {
        for (String key : keys) {
            if (params.containsKey(key)) {
                return params.get(key);
            }
        }
        return "1";
    }

    /** The same-run memcpy of {@code batch} rows of {@code dim} floats: its fork minimum, as every goal uses. */
    double memcpyNs(String dim, String batch) {
        for (Row row : rows) {
            if (row.benchmark.startsWith("CopyBenchmark") && row.params.get("dim").equals(dim)
                    && row.params.get("batch").equals(batch)) {
                return row.forkMinNs;
            }
        }
        return Double.NaN;
    }

    String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# jembed benchmark report\n\n");
        md.append("Command: `").append(command).append("` (one JMH run; every figure below comes from it, so ratios "
                + "compare measurements taken side by side).\n\n");
        if (!earlierParts.isEmpty()) {
            md.append("Resumed: the parts ").append(String.join(", ", earlierParts)).append(" were read back from the "
                    + "result files of an earlier invocation (their times are in those files); the rest ran in this "
                    + "one. Every goal compares rows of one part.\n\n");
        }
        md.append("| machine | |\n|---|---|\n");
        md.append("| started | ").append(before.when).append(" |\n");
        md.append("| JDK | ").append(before.jdk).append(" |\n");
        md.append("| CPU | ").append(before.cpu).append(" |\n");
        md.append("| hardware threads | ").append(before.threads).append(" |\n");
        md.append("| load average before / after | ").append(before.load).append(" / ").append(after.load)
                .append(" |\n");
        md.append("| jembed backend | ").append(before.backend).append(" |\n\n");
        md.append("Times are per call. `fork min` is the lowest of the forks' means (each JMH fork's mean over its "
                + "measured iterations): on this shared, noisy machine a disturbed fork is slower, never faster, so "
                + "every goal below compares fork minima, both sides of each ratio alike, and `ns/row`, `rows/s` and "
                + "`of memcpy` are computed from them. `mean` is JMH's average over all iterations of all forks "
                + "(± its 99.9% error), for reference. `ns/row` divides by the rows looked up or accumulated. "
                + "`of memcpy` is the same-run streaming copy of the same bytes between two buffers larger than the "
                + "L3 (its fork minimum), divided by this time (1.0 = as fast as the memory copies). `B/op` is JMH's "
                + "GC profiler's allocation per call: every thread's allocation during the iteration (the JVM's own "
                + "included) divided by the calls, so it overstates the calls of long-running shapes.\n\n");
        new Goals(this).appendTo(md);
        section(md, "Forward gather (float32)", "ForwardBenchmark", true, "float32");
        section(md, "Forward gather (float64; memcpy column: the float32 copy of half the bytes, so 0.5 = as fast "
                + "as memory)", "ForwardBenchmark", true, "float64");
        serving(md);
        section(md, "Memory reference: native memcpy of the same bytes", "CopyBenchmark", false, null);
        section(md, "Dense backward (float32, accumulate)", "BackwardBenchmark", false, null);
        section(md, "EmbeddingBag forward (float32; rows = lookups; of memcpy: the same-run copy of the rows' bytes)",
                "BagBenchmark", true, null);
        section(md, "EmbeddingBag dense backward (float32, sum; libtorch through autograd, see BagBackwardBenchmark)",
                "BagBackwardBenchmark", false, null);
        section(md, "Renorm (max_norm 1, p = 2)", "RenormBenchmark", false, null);
        section(md, "Sparse optimizer step (float32, coalesced gradient)", "OptimizerStepBenchmark", false, null);
        md.append("![throughput chart](chart.svg)\n");
        return md.toString();
    }

    private void section(StringBuilder md, String title, String benchmark, boolean withMemcpy, String dtype) {
        List<Row> selected = new ArrayList<>();
        for (Row row : rows) {
            if (row.benchmark.startsWith(benchmark) && (dtype == null || dtype.equals(row.params.get("dtype")))) {
                selected.add(row);
            }
        }
        if (selected.isEmpty()) {
            return;
        }
        selected.sort(Comparator.comparing((Row r) -> configuration(r)).thenComparing(r -> r.forkMinNs));
        md.append("## ").append(title).append("\n\n");
        md.append("| configuration | implementation | fork min ns/op | mean ns/op | forks | ns/row (fork min) | "
                + "rows/s (fork min) |").append(withMemcpy ? " of memcpy (fork minima) |" : "").append(" B/op |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|").append(withMemcpy ? "---:|" : "").append("---:|\n");
        for (Row row : selected) {
            double nsPerRow = row.forkMinNs / row.lookups;
            md.append(String.format(Locale.ROOT, "| %s | %s | %,.1f | %,.1f ± %,.1f | %d | %,.2f | %,.0f |",
                    configuration(row), row.impl, row.forkMinNs, row.nsPerOp, row.error, row.forks, nsPerRow,
                    1e9 / nsPerRow));
            if (withMemcpy) {
                double reference = memcpyNs(row.params.get("dim"), String.valueOf(row.lookups));
                md.append(String.format(Locale.ROOT, " %.2f |", reference / row.forkMinNs));
            }
            md.append(Double.isNaN(row.allocBytesPerOp) ? " n/a |"
                    : String.format(Locale.ROOT, " %.0f |", row.allocBytesPerOp)).append('\n');
        }
        md.append('\n');
    }

    /** The serving path: small lookups, with each configuration's fork minimum beside the mean. */
    private void serving(StringBuilder md) {
        List<Row> selected = new ArrayList<>();
        for (Row row : rows) {
            if (row.benchmark.startsWith("ServingBenchmark")) {
                selected.add(row);
            }
        }
        if (selected.isEmpty()) {
            return;
        }
        selected.sort(Comparator.comparing((Row r) -> configuration(r)).thenComparing(r -> r.forkMinNs));
        md.append("## Serving path: small lookups from a cached table (ServingBenchmark; float32)\n\n");
        md.append("`tensor`: from a prepared index tensor; `long[]`/`int[]`: the request as a Java array "
                + "(`F.embedding(long[], w, out)`); `arraycopy-*`: a `System.arraycopy` loop over a `float[]` table. "
                + "L1/L2/L3: a 32 KB / 512 KB / 16 MB table. `threads`: benchmark threads sharing the table.\n\n");
        md.append("| configuration | implementation | fork minimum ns/op | mean ns/op | forks |\n");
        md.append("|---|---|---:|---:|---:|\n");
        for (Row row : selected) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %,.1f | %,.1f ± %,.1f | %d |\n", configuration(row),
                    row.impl, row.forkMinNs, row.nsPerOp, row.error, row.forks));
        }
        md.append('\n');
    }

    private static String configuration(Row row) {
        StringBuilder s = new StringBuilder();
        for (Map.Entry<String, String> e : row.params.entrySet()) {
            if (!e.getKey().toLowerCase(Locale.ROOT).endsWith("impl")) {
                s.append(s.length() == 0 ? "" : ", ").append(e.getKey()).append('=').append(e.getValue());
            }
        }
        return s.toString();
    }

    /** Horizontal bars of rows per second for the forward gathers of 4096 rows, one group per table and dim. */
    String chartSvg() {
        List<Row> bars = new ArrayList<>();
        for (Row row : rows) {
            if (row.benchmark.startsWith("ForwardBenchmark") && "4096".equals(row.params.get("batch"))
                    && "float32".equals(row.params.get("dtype"))) {
                bars.add(row);
            }
        }
        bars.sort(Comparator.comparing((Row r) -> r.params.get("table") + r.params.get("dim"))
                .thenComparing(r -> r.forkMinNs));
        double max = 1;
        for (Row row : bars) {
            max = Math.max(max, 1e9 * row.lookups / row.forkMinNs);
        }
        int barHeight = 18;
        int left = 260;
        int width = 900;
        int height = 60 + bars.size() * (barHeight + 6);
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">\n", width, height));
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.append("<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Forward gather, 4096 random rows "
                + "per call: million rows per second, fork minima (higher is better)</text>\n");
        int y = 44;
        for (Row row : bars) {
            double rate = 1e9 * row.lookups / row.forkMinNs;
            int length = (int) Math.round((width - left - 120) * rate / max);
            String color = row.impl.startsWith("native") ? "#2b6cb0" : row.impl.startsWith("libtorch") ? "#dd6b20"
                    : "#718096";
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s, %s, dim %s</text>\n",
                    left - 8, y + 13, row.impl, row.params.get("table"), row.params.get("dim")));
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n",
                    left, y, Math.max(1, length), barHeight, color));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%.1f M/s</text>\n", left + length + 6,
                    y + 13, rate / 1e6));
            y += barHeight + 6;
        }
        return svg.append("</svg>\n").toString();
    }
}
