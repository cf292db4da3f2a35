package io.jembed.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code scripts/bench --quantized [--forks N]}: {@link QuantizedBenchmark} in one run, and issue 11's goals for the
 * row-wise quantized formats computed from it into {@code docs/bench/quantized/report.md}: rows per second relative
 * to float32 on the same rows (jembed on one thread both), beside each format's line-count ceiling, and against
 * libtorch on the same table and format (one thread both), with the bytes per row.
 */
final class QuantizedBenchMain {
    private QuantizedBenchMain() {}

    static final String[] FORMATS = {"float32", "quint8", "quint4x2"};
    static final int[] DIMS = {64, 128, 256};
    static final String[] OPS = {"lookup", "bag"};

    static void run(Path out, int forks) throws RunnerException, IOException {
        Files.createDirectories(out);
        MachineInfo before = MachineInfo.now();
        Options options = new OptionsBuilder()
                .include(QuantizedBenchmark.class.getSimpleName())
                .param("format", FORMATS)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx3g")
                .forks(forks).warmupIterations(2).warmupTime(TimeValue.milliseconds(500))
                .measurementIterations(3).measurementTime(TimeValue.milliseconds(500))
                .resultFormat(ResultFormatType.JSON).result(out.resolve("results.json").toString())
                .build();
        Collection<RunResult> results = new Runner(options).run();
        MachineInfo after = MachineInfo.now();
        String command = "scripts/bench --quantized" + (forks != 1 ? " --forks " + forks : "");
        Files.writeString(out.resolve("report.md"), report(new ArrayList<>(results), command, forks, before, after));
        System.out.printf(Locale.ROOT, "report written to %s%n", out.resolve("report.md"));
    }

    /**
     * The 64-byte lines a row of {@code bytes} touches on average in a contiguous table starting on a line: rows start
     * at {@code r * bytes}, so their offsets within a line repeat with period 64.
     */
    static double linesPerRow(long bytes) {
        double lines = 0;
        for (int r = 0; r < 64; r++) {
            long offset = (r * bytes) % 64;
            lines += (offset + bytes + 63) / 64;
        }
        return lines / 64;
    }

    private static double score(List<RunResult> results, String impl, String format, int dim, String op) {
        for (RunResult r : results) {
            if (impl.equals(r.getParams().getParam("impl")) && format.equals(r.getParams().getParam("format"))
                    && String.valueOf(dim).equals(r.getParams().getParam("dim"))
                    && op.equals(r.getParams().getParam("op"))) {
                return r.getPrimaryResult().getScore();
            }
        }
        return Double.NaN;
    }

    static String report(List<RunResult> results, String command, int forks, MachineInfo before, MachineInfo after) {
        StringBuilder md = new StringBuilder();
        md.append("# Row-wise quantized tables: lookups per second\n\n");
        md.append("Command: `").append(command).append("` (JMH, ").append(forks).append(forks == 1 ? " fork" : " forks")
                .append(", 2 x 0.5 s warm-up and 3 x 0.5 s measurement; all figures from one run). A table of "
                        + "512 MB as float32 (the same rows stored as float32 or as PyTorch's quantized rows); "
                        + "`lookup`: 4096 fresh random rows; `bag`: 4096 bags of 20 fresh random rows, summed. jembed "
                        + "and libtorch 2.10 (FBGEMM) on one thread each.\n\n");
        md.append("| machine | |\n|---|---|\n");
        md.append("| started | ").append(before.when).append(" |\n");
        md.append("| JDK | ").append(before.jdk).append(" |\n");
        md.append("| CPU | ").append(before.cpu).append(" |\n");
        md.append("| hardware threads | ").append(before.threads).append(" |\n");
        md.append("| load average before / after | ").append(before.load).append(" / ").append(after.load)
                .append(" |\n");
        md.append("| jembed backend | ").append(before.backend).append(" |\n\n");
        md.append("A random row costs about one DRAM access per 64-byte line it touches, so a format's ceiling (the "
                + "most it can gain over float32) is float32's lines per row over its own.\n\n");
        md.append("## Goals\n\n| op | dim | format | bytes/row | lines/row | ceiling | jembed ns/row | Mrows/s "
                + "| vs float32 | goal | met | libtorch ns/row | vs libtorch (goal >= 1.3) | libtorch THP ns/row "
                + "| vs libtorch THP |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (String op : OPS) {
            long rowsPerOp = (long) QuantizedBenchmark.BATCH * (op.equals("bag") ? QuantizedBenchmark.PER_BAG : 1);
            for (int dim : DIMS) {
                double floatNs = score(results, "jembed-1t", "float32", dim, op) / rowsPerOp;
                double floatLines = linesPerRow(QuantizedBenchmark.rowBytes("float32", dim));
                for (String format : FORMATS) {
                    long bytes = QuantizedBenchmark.rowBytes(format, dim);
                    double lines = linesPerRow(bytes);
                    double ceiling = floatLines / lines;
                    double ns = score(results, "jembed-1t", format, dim, op) / rowsPerOp;
                    double libtorchNs = score(results, "libtorch-1t", format, dim, op) / rowsPerOp;
                    double libtorchThpNs = score(results, "libtorch-1t-thp", format, dim, op) / rowsPerOp;
                    double ratio = floatNs / ns;
                    String goal;
                    boolean met;
                    if (format.equals("float32")) {
                        goal = "(reference)";
                        met = true;
                    } else if (dim == 64) {
                        goal = String.format(Locale.ROOT, ">= %.2f (0.8 x ceiling)", 0.8 * ceiling);
                        met = ratio >= 0.8 * ceiling;
                    } else {
                        double target = format.equals("quint8") ? 2.2 : 3.0;
                        goal = String.format(Locale.ROOT, ">= %.1f", target);
                        met = ratio >= target;
                    }
                    double vsLibtorch = libtorchNs / ns;
                    md.append(String.format(Locale.ROOT, "| %s | %d | %s | %d | %.2f | %.2f | %.2f | %.1f | %.2f | %s "
                                    + "| %s | %.2f | %.2f%s | %.2f | %.2f |%n", op, dim, format, bytes, lines, ceiling,
                            ns, 1e3 / ns, ratio, goal, format.equals("float32") ? "" : met ? "yes" : "no", libtorchNs,
                            vsLibtorch, vsLibtorch >= 1.3 ? "" : " (missed)", libtorchThpNs, libtorchThpNs / ns));
                }
            }
        }
        md.append("\n`vs float32` is jembed's float32 time per row over the format's, on the same rows in the same "
                + "run; `vs libtorch` is libtorch's time per row over jembed's, same table and format. libtorch's "
                + "quantized lookup is `quantized::embedding_bag_byte_rowwise_offsets` (or `_4bit_`) with bags of one "
                + "(what `quantized::embedding_byte` runs).\n\n");
        md.append("Pages: jembed's tables sit on 2 MiB pages (`madvise(MADV_HUGEPAGE)`; transparent huge pages are "
                + "`madvise` on the benchmark machine); libtorch's `torch.empty` gives 4 KiB pages unless "
                + "`THP_MEM_ALLOC_ENABLE=1` is set, so each of its random rows is also a TLB miss. `libtorch` (the "
                + "goal's column) is libtorch as a user runs it by default; `libtorch THP` is libtorch reading "
                + "jembed's own table memory (`torch::from_blob`, the same bytes on the same 2 MiB pages), which "
                + "shows how much of the margin is the page size.\n\n");
        md.append("## Scores\n\n| impl | format | dim | op | ns/op | error (99.9%) |\n|---|---|---|---|---|---|\n");
        for (RunResult r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.0f | %.0f |%n",
                    r.getParams().getParam("impl"), r.getParams().getParam("format"), r.getParams().getParam("dim"),
                    r.getParams().getParam("op"), r.getPrimaryResult().getScore(),
                    r.getPrimaryResult().getScoreError()));
        }
        return md.toString();
    }
}
