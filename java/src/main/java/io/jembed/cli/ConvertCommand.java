package io.jembed.cli;

import io.jembed.Tensor;
import io.jembed.io.numpy.Npy;
import io.jembed.io.safetensors.Safetensors;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jembed convert IN OUT}: any readable table file to safetensors (every tensor, and the vocabulary in the
 * metadata, where {@code MappedTensors.safeOpen} and {@code Vocabulary.fromMetadata} find them) or to .npy (one
 * table).
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a table file to safetensors (tensors + vocabulary) or .npy (one table).",
                "e.g. jembed convert glove.6B.300d.txt glove.safetensors;  jembed convert model.pt model.safetensors"})
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "safetensors, .npy, .pt, word2vec, GloVe or .vec file")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "OUT.safetensors or OUT.npy")
    Path out;

    @Option(names = "--tensor", paramLabel = "NAME",
            description = "for .npy output: the tensor to write (default: the only 2-D table)")
    String tensor;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "weight",
            description = "for word vectors: the tensor's name in the safetensors file (default: ${DEFAULT-VALUE})")
    String name;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter log = spec.commandLine().getOut();
        String target = out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!target.endsWith(".safetensors") && !target.endsWith(".npy")) {
            throw new IllegalArgumentException("OUT must end in .safetensors or .npy, got " + out);
        }
        long started = System.nanoTime();
        try (TableFile table = TableFile.open(in, ProgressBar.onTerminal("reading " + in.getFileName()))) {
            if (target.endsWith(".npy")) {
                Tensor t = table.table(tensor);
                Npy.save(out, t, ProgressBar.onTerminal("writing " + out.getFileName()));
                log.println("wrote " + out + ": " + TableFile.describe(t));
            } else {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                boolean wordVectors = table.format != TableFile.Format.SAFETENSORS
                        && table.format != TableFile.Format.NPY && table.format != TableFile.Format.TORCH;
                for (Map.Entry<String, Tensor> e : table.tensors.entrySet()) {
                    tensors.put(wordVectors ? name : e.getKey(), e.getValue());
                }
                Map<String, String> metadata = new LinkedHashMap<>(table.metadata);
                if (table.vocabulary != null) {
                    metadata.putAll(table.vocabulary.toMetadata());
                }
                metadata.putIfAbsent("format", "pt");
                Safetensors.saveFile(tensors, out, metadata);
                log.println("wrote " + out + ": " + tensors.size() + " tensor(s)"
                        + (table.vocabulary == null ? "" : ", vocabulary of " + table.vocabulary.size() + " words"));
            }
        }
        log.printf(Locale.ROOT, "in %.2f s%n", (System.nanoTime() - started) / 1e9);
        return 0;
    }
}
