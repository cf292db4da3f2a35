package io.jembed.demo;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backend;
import io.jembed.backend.Backends;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingFromPretrainedOptions;
import io.jembed.nn.EmbeddingOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * jembed's main job on built-in data: PyTorch's Embedding documentation examples, then lookups in a 1M-row table
 * with each backend, in rows per second. Run it with {@code scripts/demo}; {@code --rows N --dim D --seconds S}
 * change the table and the time per backend.
 *
 * <p>A program, not API; single-threaded.
 */
public final class Demo {
    private Demo() {}

    /** Runs the demo; arguments: {@code --rows N --dim D --seconds S --require-native}. */
    public static void main(String[] args) {
        long rows = 1_000_000;
        long dim = 64;
        double seconds = 2;
        boolean requireNative = false;
        for (int i = 0; i < args.length; i += 2) {
            if (args[i].equals("--require-native")) {
                requireNative = true;
                i--;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--rows": rows = Long.parseLong(args[i + 1]); break;
                case "--dim": dim = Long.parseLong(args[i + 1]); break;
                case "--seconds": seconds = Double.parseDouble(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --rows N, --dim D, --seconds S, --require-native)");
            }
        }
        System.out.println("jembed demo: backend " + Backends.current().name());
        if (requireNative && Backends.nativeBackend().isEmpty()) {
            System.err.println("jembed demo: the native backend did not load");
            System.exit(1);
        }
        documentationExamples();
        BringYourTable.run(20_000, 50);
        throughput(rows, dim, seconds);
    }

    private static void documentationExamples() {
        Torch.manualSeed(0);
        section(">>> embedding = nn.Embedding(10, 3)\n"
                + ">>> input = torch.LongTensor([[1, 2, 4, 5], [4, 3, 2, 9]])\n>>> embedding(input)");
        try (Embedding embedding = new Embedding(10, 3);
             Tensor input = Torch.tensor(new long[][] {{1, 2, 4, 5}, {4, 3, 2, 9}});
             Tensor out = embedding.forward(input)) {
            System.out.println(out);
        }

        section(">>> embedding = nn.Embedding(10, 3, padding_idx=0)\n"
                + ">>> input = torch.LongTensor([[0, 2, 0, 5]])\n>>> embedding(input)");
        try (Embedding embedding = new Embedding(new EmbeddingOptions(10, 3).paddingIdx(0));
             Tensor input = Torch.tensor(new long[][] {{0, 2, 0, 5}});
             Tensor out = embedding.forward(input)) {
            System.out.println(out);
            System.out.println(">>> embedding\n" + embedding);
        }

        section(">>> weight = torch.FloatTensor([[1, 2.3, 3], [4, 5.1, 6.3]])\n"
                + ">>> embedding = nn.Embedding.from_pretrained(weight)\n"
                + ">>> input = torch.LongTensor([1])\n>>> embedding(input)");
        try (Tensor weight = Torch.tensor(new float[][] {{1, 2.3f, 3}, {4, 5.1f, 6.3f}});
             Embedding embedding = Embedding.fromPretrained(weight);
             Tensor out = embedding.forward(Torch.tensor(new long[] {1}))) {
            System.out.println(out);
        }

        section(">>> weight = torch.FloatTensor([[3, 4], [0.3, 0.4], [6, 8]])\n"
                + ">>> embedding = nn.Embedding.from_pretrained(weight, max_norm=1.0)\n"
                + ">>> embedding(torch.LongTensor([0, 1, 0]))   # rows 0 and 1 looked up; row 0 renormalised in place\n"
                + ">>> weight");
        try (Tensor weight = Torch.tensor(new float[][] {{3, 4}, {0.3f, 0.4f}, {6, 8}});
             Embedding embedding = Embedding.fromPretrained(weight,
                     new EmbeddingFromPretrainedOptions().maxNorm(1.0));
             Tensor out = embedding.forward(Torch.tensor(new long[] {0, 1, 0}))) {
            System.out.println(out);
            System.out.println(weight);
        }
    }

    private static void section(String pytorch) {
        System.out.println();
        System.out.println(pytorch);
    }

    /** Random batches of 4096 rows from the table, rotating through enough batches that rows come from memory. */
    private static void throughput(long rows, long dim, double seconds) {
        int batch = 4096;
        int batches = 64;
        System.out.printf(Locale.ROOT, "%nLookups in a %,d x %d float32 table (%,d MB), batches of %d random rows:%n",
                rows, dim, rows * dim * 4 / 1_000_000, batch);
        List<Backend> backends = new ArrayList<>();
        Optional<Backend> nativeBackend = Backends.nativeBackend();
        nativeBackend.ifPresent(backends::add);
        backends.add(Backends.java());
        if (nativeBackend.isEmpty()) {
            System.out.println("  (native backend unavailable on this JVM: only Java is measured)");
        }
        Generator generator = new Generator(0);
        try (Tensor table = Torch.empty(DType.FLOAT32, rows, dim).uniform_(-1, 1, generator);
             Tensor out = Torch.empty(DType.FLOAT32, batch, dim)) {
            Tensor[] indexSets = new Tensor[batches];
            for (int b = 0; b < batches; b++) {
                long[] idx = new long[batch];
                for (int i = 0; i < batch; i++) {
                    idx[i] = (long) (generator.nextDouble() * rows);
                }
                indexSets[b] = Torch.tensor(idx);
            }
            for (Backend backend : backends) {
                measure(backend, table, indexSets, out, seconds / 4); // warm-up
                double rowsPerSecond = measure(backend, table, indexSets, out, seconds);
                System.out.printf(Locale.ROOT, "  %-14s %,15.0f rows/s  (%6.1f ns/row)%n", backend.name(),
                        rowsPerSecond, 1e9 / rowsPerSecond);
            }
            for (Tensor t : indexSets) {
                t.close();
            }
        }
    }

    private static double measure(Backend backend, Tensor table, Tensor[] indexSets, Tensor out, double seconds) {
        long looked = 0;
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        int b = 0;
        long now;
        do {
            backend.embedding(table, indexSets[b], out);
            looked += indexSets[b].numel();
            b = (b + 1) % indexSets.length;
            now = System.nanoTime();
        } while (now < deadline);
        return looked / ((now - start) / 1e9);
    }
}
