package io.jembed.bench;

import io.jembed.io.ReadOptions;
import io.jembed.io.wordvectors.Word2Vec;
import io.jembed.io.wordvectors.WordVectors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Times {@code Word2Vec.loadText} of one file on 1 and 2 threads (warm-up loads first, then timed loads; the file is
 * in the page cache), printing one line per thread count: best and median seconds, and MB/s of file. Run by
 * {@code scripts/bench-text-vectors}, which times gensim on the same file in the same run.
 *   TextVectorLoadTiming FILE [WARMUP] [RUNS]
 */
public final class TextVectorLoadTiming {
    private TextVectorLoadTiming() {}

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        long bytes = Files.size(file);
        for (int threads : new int[] {1, 2}) {
            ReadOptions options = ReadOptions.defaults().threads(threads);
            double[] seconds = new double[runs];
            double[] cpuSeconds = new double[runs];
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long checksum = 0;
            for (int i = 0; i < warmup + runs; i++) {
                long start = System.nanoTime();
                long cpuStart = mx.getCurrentThreadCpuTime();
                try (WordVectors v = Word2Vec.loadText(file, options)) {
                    double s = (System.nanoTime() - start) / 1e9;
                    if (i >= warmup) {
                        seconds[i - warmup] = s;
                        // With one thread the whole parse runs on this thread: its CPU time is the cost per core,
                        // which a loaded machine does not inflate as it does the wall time.
                        cpuSeconds[i - warmup] = (mx.getCurrentThreadCpuTime() - cpuStart) / 1e9;
                    }
                    checksum += v.size();
                }
            }
            Arrays.sort(seconds);
            Arrays.sort(cpuSeconds);
            double best = seconds[0];
            double median = seconds[runs / 2];
            String cpu = threads == 1 ? String.format(Locale.ROOT, " cpu_best=%.3f s cpu_MBps=%.1f", cpuSeconds[0],
                    bytes / cpuSeconds[0] / 1e6) : "";
            System.out.printf(Locale.ROOT, "jembed threads=%d best=%.3f s median=%.3f s best_MBps=%.1f "
                    + "median_MBps=%.1f%s (checksum %d)%n", threads, best, median, bytes / best / 1e6,
                    bytes / median / 1e6, cpu, checksum);
        }
    }
}
