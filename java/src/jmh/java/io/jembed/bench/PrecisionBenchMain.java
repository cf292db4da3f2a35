package io.jembed.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code scripts/bench --precision [--forks N]}: {@link PrecisionBenchmark} in one run, and issue 11's goals for
 * float16 and bfloat16 tables computed from it into {@code docs/bench/precision/report.md}: rows per second against
 * float32 on the same rows (with each format's ceiling, the ratio of 64-byte lines a random row touches), and against
 * libtorch on the same table and format, one thread each.
 */
final class PrecisionBenchMain {
    private static final String[] FORMATS = {"float32", "float16", "bfloat16"};
    private static final int[] DIMS = {64, 128, 256};
    private static final String[] OPS = {"lookup", "bag"};

    private PrecisionBenchMain() {}

    static void run(Path out, int forks) throws RunnerException, IOException {
        Files.createDirectories(out);
        MachineInfo before = MachineInfo.now();
        List<RunResult> results = new ArrayList<>(new Runner(new OptionsBuilder()
                .include(PrecisionBenchmark.class.getSimpleName())
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx3g")
                .forks(forks).warmupIterations(2).warmupTime(TimeValue.milliseconds(500))
                .measurementIterations(3).measurementTime(TimeValue.milliseconds(500))
                .resultFormat(ResultFormatType.JSON).result(out.resolve("results.json").toString())
                .build()).run());
        MachineInfo after = MachineInfo.now();
        Files.writeString(out.resolve("report.md"), report(results, forks, before, after));
        System.out.printf(Locale.ROOT, "report written to %s%n", out.resolve("report.md"));
    }

    static int bytesPerRow(String format, int dim) {
        return format.equals("float32") ? 4 * dim : 2 * dim;
    }

    /** The mean number of 64-byte lines a row of {@code bytes} touches, over the 64 row positions mod 64. */
    static double linesPerRow(int bytes) {
        double total = 0;
        for (int r = 0; r < 64; r++) {
            int start = (int) (((long) r * bytes) % 64);
            total += (start + bytes - 1) / 64 + 1;
        }
        return total / 64;
    }

    private static double nsPerRow(List<RunResult> results, String impl, String format, int dim, String op) {
        for (RunResult r : results) {
            if (impl.equals(r.getParams().getParam("impl")) && format.equals(r.getParams().getParam("format"))
                    && String.valueOf(dim).equals(r.getParams().getParam("dim"))
                    && op.equals(r.getParams().getParam("op"))) {
                return r.getPrimaryResult().getScore() / PrecisionBenchmark.lookups(op);
            }
        }
        return Double.NaN;
    }

    static String report(List<RunResult> results, int forks, MachineInfo before, MachineInfo after) {
        StringBuilder md = new StringBuilder();
        md.append("# float16 and bfloat16 tables (issue 11)\n\n");
        md.append("Command: `scripts/bench --precision").append(forks != 1 ? " --forks " + forks : "")
                .append("` (JMH, ").append(forks).append(forks == 1 ? " fork" : " forks")
                .append(", 2 x 0.5 s warm-up and 3 x 0.5 s measurement; every figure from this one run).\n\n");
        md.append("The rows of a 512 MB float32 table (512 MB / (4 x dim) rows) stored as float32, float16 or "
                + "bfloat16; 4096 lookups, or 4096 bags of 20 summed, of fresh random rows per call. `jembed`: the "
                + "modules' zero-allocation forwards, default dispatch (two threads for batches this large); "
                + "`jembed-1t` and `libtorch-1t`: one thread (libtorch 2.10: `at::embedding`, and FBGEMM's kernels "
                + "for `at::embedding_bag`).\n\n");
        md.append("| machine | |\n|---|---|\n");
        md.append("| started | ").append(before.when).append(" |\n");
        md.append("| JDK | ").append(before.jdk).append(" |\n");
        md.append("| CPU | ").append(before.cpu).append(" |\n");
        md.append("| hardware threads | ").append(before.threads).append(" |\n");
        md.append("| load average before / after | ").append(before.load).append(" / ").append(after.load)
                .append(" |\n");
        md.append("| jembed backend | ").append(before.backend).append(" |\n\n");
        md.append("## Goals\n\nRows per second relative to float32 on the same rows (`jembed`), and against libtorch "
                + "on the same format (`jembed-1t` / `libtorch-1t`). Ceiling: float32's 64-byte lines per row over the "
                + "format's.\n\n");
        md.append("| goal | op | dim | format | measured | target | met |\n|---|---|---|---|---|---|---|\n");
        for (String op : OPS) {
            for (int dim : DIMS) {
                double f32 = nsPerRow(results, "jembed", "float32", dim, op);
                for (String format : new String[] {"float16", "bfloat16"}) {
                    double ns = nsPerRow(results, "jembed", format, dim, op);
                    double ratio = f32 / ns;
                    double ceiling = linesPerRow(bytesPerRow("float32", dim))
                            / linesPerRow(bytesPerRow(format, dim));
                    if (dim == 64) {
                        double share = ratio / ceiling;
                        md.append(String.format(Locale.ROOT, "| vs float32, share of the ceiling | %s | %d | %s | "
                                + "%.2f x = %.2f of %.2f | >= 0.8 of the ceiling | %s |%n", op, dim, format, ratio,
                                share, ceiling, met(share >= 0.8, share, 0.8)));
                    } else {
                        md.append(String.format(Locale.ROOT, "| vs float32 | %s | %d | %s | %.2f x (ceiling %.2f) "
                                + "| >= 1.6 x | %s |%n", op, dim, format, ratio, ceiling, met(ratio >= 1.6, ratio,
                                1.6)));
                    }
                }
            }
        }
        for (String op : OPS) {
            for (int dim : DIMS) {
                for (String format : FORMATS) {
                    double mine = nsPerRow(results, "jembed-1t", format, dim, op);
                    double theirs = nsPerRow(results, "libtorch-1t", format, dim, op);
                    double speedup = theirs / mine;
                    md.append(String.format(Locale.ROOT, "| vs libtorch, one thread each | %s | %d | %s | %.2f x "
                            + "(%.2f / %.2f ns per row) | >= 1.3 x | %s |%n", op, dim, format, speedup, theirs,
                            mine, met(speedup >= 1.3, speedup, 1.3)));
                }
            }
        }
        md.append("\n## ns per row\n\n| op | dim | format | bytes per row | lines per row | jembed | jembed-1t | "
                + "libtorch-1t |\n|---|---|---|---|---|---|---|---|\n");
        for (String op : OPS) {
            for (int dim : DIMS) {
                for (String format : FORMATS) {
                    int bytes = bytesPerRow(format, dim);
                    md.append(String.format(Locale.ROOT, "| %s | %d | %s | %d | %.2f | %.2f | %.2f | %.2f |%n", op,
                            dim, format, bytes, linesPerRow(bytes), nsPerRow(results, "jembed", format, dim, op),
                            nsPerRow(results, "jembed-1t", format, dim, op),
                            nsPerRow(results, "libtorch-1t", format, dim, op)));
                }
            }
        }
        md.append("\n## Scores\n\n| impl | op | dim | format | score | error (99.9%) | unit |\n"
                + "|---|---|---|---|---|---|---|\n");
        for (RunResult r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.1f | %.1f | %s |%n",
                    r.getParams().getParam("impl"), r.getParams().getParam("op"), r.getParams().getParam("dim"),
                    r.getParams().getParam("format"), r.getPrimaryResult().getScore(),
                    r.getPrimaryResult().getScoreError(), r.getPrimaryResult().getScoreUnit()));
        }
        return md.toString();
    }

    private static String met(boolean ok, double measured, double target) {
        if (Double.isNaN(measured)) {
            return "not measured";
        }
        return ok ? "yes" : String.format(Locale.ROOT, "no (%.0f%% short)", 100 * (1 - measured / target));
    }
}
