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

    /** ServingBenchmark's grid: every table, dim and batch of issue 13's goals with --full, the corners without. */
    static ChainedOptionsBuilder serving(boolean full) {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(ServingBenchmark.class.getSimpleName())
                .param("impl", ServingBenchmark.IMPLS)
                .addProfiler(GCProfiler.class)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx3g")
                .forks(3).warmupIterations(2).warmupTime(TimeValue.milliseconds(300))
                .measurementIterations(3).measurementTime(TimeValue.milliseconds(300));
        if (full) {
            return options.param("table", "L1", "L2", "L3").param("dim", "16", "32", "128")
                    .param("batch", "1", "8", "64", "512");
        }
        return options.param("table", "L1", "L3").param("dim", "16", "128").param("batch", "1", "8", "64");
    }

    public static void main(String[] args) throws RunnerException, IOException {
        boolean full = false;
        boolean bagsOnly = false;
        boolean precision = false;
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
                case "--out": out = Paths.get(args[++i]); break;
                default: throw new IllegalArgumentException(
                        "usage: BenchMain --quick|--full|--bags|--mapped|--precision|--quantized [--forks N] "
                                + "[--out DIR]");
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
            List<RunResult> results = runBags(true, bagForks, out);
            String command = "scripts/bench --bags" + (forks > 0 ? " --forks " + forks : "");
            Report report = new Report(results, command, before, MachineInfo.now());
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
        List<RunResult> results = new ArrayList<>(new Runner(options.build()).run());
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
                .measurementIterations(3).measurementTime(TimeValue.milliseconds(full ? 1000 : 500));
        results.addAll(new Runner(wide.resultFormat(ResultFormatType.JSON)
                .result(out.resolve("results-float64.json").toString()).build()).run());
        // The serving path (issue 13): small lookups from cached tables, three forks each, since its goals are read
        // from the fork minimums; then two threads on one shared table.
        results.addAll(new Runner(serving(full).threads(1).resultFormat(ResultFormatType.JSON)
                .result(out.resolve("results-serving.json").toString()).build()).run());
        results.addAll(new Runner(serving(false).threads(2).param("impl", "tensor", "long[]", "arraycopy-long[]")
                .param("table", "L1").param("dim", "16").param("batch", "8", "64")
                .resultFormat(ResultFormatType.JSON)
                .result(out.resolve("results-serving-2threads.json").toString()).build()).run());
        results.addAll(runBags(full, Math.max(1, forks), out));
        MachineInfo after = MachineInfo.now();
        String command = "scripts/bench " + (full ? "--full" : "--quick");
        Report report = new Report(results, command, before, after);
        Files.writeString(out.resolve("report.md"), report.markdown());
        Files.writeString(out.resolve("chart.svg"), report.chartSvg());
        System.out.printf(Locale.ROOT, "report written to %s%n", out.resolve("report.md"));
    }

    /**
     * The EmbeddingBag suite (issue 10): one bag of 20 lookups from a table in cache; 4096 bags of 20 from a 512 MB
     * table at each dim (quick: dim 64 only); mean and per-sample weights against sum at dim 64; the backward; and
     * the memcpy of the same bytes. Several JMH runs, each with only the parameters it needs.
     */
    private static List<RunResult> runBags(boolean full, int forks, Path out) throws RunnerException {
        String[] impls = {"native", "native-1t", "native-2t", "java-loop", "libtorch-1t", "libtorch"};
        String[] dims = full ? new String[] {"16", "64", "128", "256"} : new String[] {"64"};
        List<RunResult> results = new ArrayList<>();
        results.addAll(runBagPart(forks, out, "bags-small", new OptionsBuilder()
                .include(BagBenchmark.class.getSimpleName()).param("bagImpl", impls).param("dim", "64")
                .param("bags", "1").param("table", "L2").param("mode", "sum")));
        results.addAll(runBagPart(forks, out, "bags-large", new OptionsBuilder()
                .include(BagBenchmark.class.getSimpleName()).param("bagImpl", impls).param("dim", dims)
                .param("bags", "4096").param("table", "DRAM").param("mode", "sum")));
        results.addAll(runBagPart(forks, out, "bags-modes", new OptionsBuilder()
                .include(BagBenchmark.class.getSimpleName())
                .param("bagImpl", "native", "native-1t", "libtorch-1t", "libtorch").param("dim", "64")
                .param("bags", "4096").param("table", "DRAM").param("mode", "sum", "mean", "sum-psw")));
        results.addAll(runBagPart(forks, out, "bags-backward", new OptionsBuilder()
                .include(BagBackwardBenchmark.class.getSimpleName())));
        String[] lookups = {"81920"};
        results.addAll(runBagPart(forks, out, "bags-memcpy", new OptionsBuilder()
                .include(CopyBenchmark.class.getSimpleName()).param("dim", dims).param("batch", lookups)));
        return results;
    }

    private static Collection<RunResult> runBagPart(int forks, Path out, String name, ChainedOptionsBuilder options)
            throws RunnerException {
        return new Runner(options.addProfiler(GCProfiler.class)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx3g")
                .forks(forks).warmupIterations(2).warmupTime(TimeValue.milliseconds(500))
                .measurementIterations(3).measurementTime(TimeValue.milliseconds(500))
                .resultFormat(ResultFormatType.JSON).result(out.resolve("results-" + name + ".json").toString())
                .build()).run();
    }
}
