package io.jembed.bench;

import io.jembed.backend.NativeBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the whole suite in one JMH run (so that ratios compare figures measured side by side) and writes
 * {@code report.md}, {@code chart.svg} and JMH's {@code results.json} into the output folder.
 *
 * <p>Usage: {@code BenchMain --quick|--full [--out DIR]}. Quick: the main shapes, one fork, short iterations (a few
 * minutes). Full: every shape (dims 16 to 512, batches 1 to 4096, tables in L2, L3 and DRAM), one fork, 1 s
 * iterations (about 35 minutes on 2 cores). Both then run the serving path (ServingBenchmark: small lookups from
 * cached tables, three forks each, every goal shape with --full: about 20 more minutes; the corners without).
 */
public final class BenchMain {
    private BenchMain() {}

    /**
     * ServingBenchmark's grid: every table, dim and batch of issue 13's goals with --full, the corners without. JMH's
     * {@code param} adds values to a parameter's list, so a narrower grid starts from {@link #servingRun} instead.
     */
    static ChainedOptionsBuilder serving(boolean full) {
        if (full) {
            return servingRun().param("impl", ServingBenchmark.IMPLS).param("table", "L1", "L2", "L3")
                    .param("dim", "16", "32", "128").param("batch", "1", "8", "64", "512");
        }
        return servingRun().param("impl", ServingBenchmark.IMPLS).param("table", "L1", "L3")
                .param("dim", "16", "128").param("batch", "1", "8", "64");
    }

    /** ServingBenchmark's forks and iterations, with no parameter values yet. */
    static ChainedOptionsBuilder servingRun() {
        return new OptionsBuilder()
                .include(ServingBenchmark.class.getSimpleName())
                .addProfiler(GCProfiler.class)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx3g")
                .forks(3).warmupIterations(2).warmupTime(TimeValue.milliseconds(300))
                .measurementIterations(3).measurementTime(TimeValue.milliseconds(300));
    }

    public static void main(String[] args) throws RunnerException, IOException {
        boolean full = false;
        boolean bagsOnly = false;
        boolean precision = false;
        boolean resume = false;
        int forks = 0;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick": full = false; break;
                case "--full": full = true; break;
                case "--mapped":
                    MappedBenchMain.run(Paths.get("docs", "bench", "mapped"), 3);
                    return;
                case "--bags": bagsOnly = true; break;
                case "--precision":
                    precision = true;
                    break;
                case "--quantized": {
                    int quantizedForks = 1;
                    if (i + 2 < args.length && args[i + 1].equals("--forks")) {
                        quantizedForks = Integer.parseInt(args[i + 2]);
                    }
                    QuantizedBenchMain.run(Paths.get("docs", "bench", "quantized"), quantizedForks);
                    return;
                }
                case "--forks": forks = Integer.parseInt(args[++i]); break;
                case "--resume": resume = true; break;
                case "--out": out = Paths.get(args[++i]); break;
                default: throw new IllegalArgumentException(
                        "usage: BenchMain --quick|--full|--bags|--mapped|--precision|--quantized [--forks N] "
                                + "[--out DIR] [--resume]");
            }
        }
        if (precision) {
            // float16/bfloat16 tables against float32 and libtorch (issue 11), by default on one fork.
            PrecisionBenchMain.run(out != null ? out : Paths.get("docs", "bench", "precision"), Math.max(1, forks));
            return;
        }
        if (out == null) {
            out = Paths.get("docs", "bench", bagsOnly ? "bags" : full ? "full" : "quick");
        }
        Files.createDirectories(out);
        MachineInfo before = MachineInfo.now();
        if (bagsOnly) {
            // The EmbeddingBag suite alone, by default on 3 forks (the machine is shared: compare within one run).
            int bagForks = forks > 0 ? forks : 3;
            Parts parts = new Parts(out, resume);
            runBags(true, bagForks, parts);
            String command = "scripts/bench --bags" + (forks > 0 ? " --forks " + forks : "")
                    + (resume ? " --resume" : "");
            Report report = new Report(parts.rows, command, before, MachineInfo.now(), parts.earlier);
            Files.writeString(out.resolve("report.md"), report.markdown());
            System.out.printf(Locale.ROOT, "report written to %s%n", out.resolve("report.md"));
            return;
        }
        List<String> impls = new ArrayList<>(List.of("native", "native-1t", "native-2t", "native-scalar",
                "native-avx2", "native-avx512", "java-backend", "arraycopy", "naive-loop", "libtorch-1t", "libtorch"));
        // Variants this CPU cannot run are left out.
        impls.removeIf(impl -> Workload.kernelVariant(impl) != null
                && !NativeBackend.supportedKernels().contains(Workload.kernelVariant(impl)));
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(ForwardBenchmark.class.getSimpleName())
                .include(CopyBenchmark.class.getSimpleName())
                .include(BackwardBenchmark.class.getSimpleName())
                .include(RenormBenchmark.class.getSimpleName())
                .include(OptimizerStepBenchmark.class.getSimpleName())
                .param("impl", impls.toArray(new String[0]))
                .param("dtype", "float32")
                .addProfiler(GCProfiler.class)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx3g")
                .resultFormat(ResultFormatType.JSON)
                .result(out.resolve("results.json").toString());
        if (full) {
            options.param("dim", "16", "64", "128", "512").param("batch", "1", "64", "4096")
                    .param("table", "L2", "L3", "DRAM")
                    .forks(1).warmupIterations(1).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(3).measurementTime(TimeValue.seconds(1));
        } else {
            options.param("dim", "64").param("batch", "1", "4096").param("table", "L2", "DRAM")
                    .forks(1).warmupIterations(2).warmupTime(TimeValue.milliseconds(500))
                    .measurementIterations(3).measurementTime(TimeValue.milliseconds(500));
        }
        // The backward and renorm shapes are the (100k x 128, batch 4096) whatever the mode.
        Parts parts = new Parts(out, resume);
        parts.run("results.json", () -> new Runner(options.build()).run());
        // float64 lookups: the batches that read many rows, by the implementations that matter for the choice.
        ChainedOptionsBuilder wide = new OptionsBuilder()
                .include(ForwardBenchmark.class.getSimpleName())
                .param("impl", "native", "native-1t", "native-2t", "java-backend", "arraycopy", "libtorch-1t",
                        "libtorch")
                .param("dtype", "float64").param("batch", "4096").param("table", "L2", "DRAM")
                .param("dim", full ? new String[] {"64", "512"} : new String[] {"64"})
                .addProfiler(GCProfiler.class)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx3g")
                .forks(1).warmupIterations(2).warmupTime(TimeValue.milliseconds(full ? 1000 : 500))
                .measurementIterations(3).measurementTime(TimeValue.milliseconds(full ? 1000 : 500))
                .resultFormat(ResultFormatType.JSON).result(out.resolve("results-float64.json").toString());
        parts.run("results-float64.json", () -> new Runner(wide.build()).run());
        // The serving path (issue 13): small lookups from cached tables, three forks each, since its goals are read
        // from the fork minimums; then two threads on one shared table.
        Path servingFile = out.resolve("results-serving.json");
        ChainedOptionsBuilder servingOptions = serving(full);
        parts.run(servingFile.getFileName().toString(), () -> new Runner(servingOptions.threads(1)
                .resultFormat(ResultFormatType.JSON).result(servingFile.toString()).build()).run());
        Path twoThreadsFile = out.resolve("results-serving-2threads.json");
        parts.run(twoThreadsFile.getFileName().toString(), () -> new Runner(servingRun().threads(2)
                .param("impl", "tensor", "long[]", "arraycopy-long[]")
                .param("table", "L1").param("dim", "16").param("batch", "8", "64")
                .resultFormat(ResultFormatType.JSON).result(twoThreadsFile.toString()).build()).run());
        runBags(full, Math.max(1, forks), parts);
        MachineInfo after = MachineInfo.now();
        String command = "scripts/bench " + (full ? "--full" : "--quick") + (resume ? " --resume" : "");
        Report report = new Report(parts.rows, command, before, after, parts.earlier);
        Files.writeString(out.resolve("report.md"), report.markdown());
        Files.writeString(out.resolve("chart.svg"), report.chartSvg());
        System.out.printf(Locale.ROOT, "report written to %s%n", out.resolve("report.md"));
    }

    /**
     * The EmbeddingBag suite (issue 10): one bag of 20 lookups from a table in cache; 4096 bags of 20 from a 512 MB
     * table at each dim (quick: dim 64 only); mean and per-sample weights against sum at dim 64; the backward; and
     * the memcpy of the same bytes. Several JMH runs, each with only the parameters it needs.
     */
    private static void runBags(boolean full, int forks, Parts parts) throws RunnerException, IOException {
        String[] impls = {"native", "native-1t", "native-2t", "java-loop", "libtorch-1t", "libtorch"};
        String[] dims = full ? new String[] {"16", "64", "128", "256"} : new String[] {"64"};
        runBagPart(forks, parts, "bags-small", new OptionsBuilder()
                .include(BagBenchmark.class.getSimpleName()).param("bagImpl", impls).param("dim", "64")
                .param("bags", "1").param("table", "L2").param("mode", "sum"));
        runBagPart(forks, parts, "bags-large", new OptionsBuilder()
                .include(BagBenchmark.class.getSimpleName()).param("bagImpl", impls).param("dim", dims)
                .param("bags", "4096").param("table", "DRAM").param("mode", "sum"));
        runBagPart(forks, parts, "bags-modes", new OptionsBuilder()
                .include(BagBenchmark.class.getSimpleName())
                .param("bagImpl", "native", "native-1t", "libtorch-1t", "libtorch").param("dim", "64")
                .param("bags", "4096").param("table", "DRAM").param("mode", "sum", "mean", "sum-psw"));
        runBagPart(forks, parts, "bags-backward", new OptionsBuilder()
                .include(BagBackwardBenchmark.class.getSimpleName()));
        String[] lookups = {"81920"};
        runBagPart(forks, parts, "bags-memcpy", new OptionsBuilder()
                .include(CopyBenchmark.class.getSimpleName()).param("dim", dims).param("batch", lookups));
    }

    private static void runBagPart(int forks, Parts parts, String name, ChainedOptionsBuilder options)
            throws RunnerException, IOException {
        String file = "results-" + name + ".json";
        parts.run(file, () -> new Runner(options.addProfiler(GCProfiler.class)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx3g")
                .forks(forks).warmupIterations(2).warmupTime(TimeValue.milliseconds(500))
                .measurementIterations(3).measurementTime(TimeValue.milliseconds(500))
                .resultFormat(ResultFormatType.JSON).result(parts.out.resolve(file).toString())
                .build()).run());
    }

    /** One JMH run of the suite. */
    @FunctionalInterface
    private interface JmhRun {
        Collection<RunResult> run() throws RunnerException;
    }

    /**
     * The suite's JMH runs and their rows. With {@code --resume}, a run whose result file an earlier invocation left
     * complete (for example one stopped by a reboot, or by other work starting on a shared machine) is read back
     * instead of measured again, and the report names it.
     */
    private static final class Parts {
        final Path out;
        final boolean resume;
        final List<Report.Row> rows = new ArrayList<>();
        final List<String> earlier = new ArrayList<>();

        Parts(Path out, boolean resume) {
            this.out = out;
            this.resume = resume;
        }

        void run(String file, JmhRun run) throws RunnerException, IOException {
            Path results = out.resolve(file);
            List<Report.Row> measured;
            if (resume && Files.isRegularFile(results) && Files.size(results) > 0) {
                measured = Report.rowsOf(results);
                earlier.add(file);
                System.out.printf(Locale.ROOT, "resume: %s read back, not measured again%n", results);
            } else {
                measured = Report.rowsOf(run.run());
            }
            for (Report.Row row : measured) {
                row.part = file;
            }
            rows.addAll(measured);
        }
    }
}
