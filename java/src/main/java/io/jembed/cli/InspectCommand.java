package io.jembed.cli;

import io.jembed.Tensor;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jembed inspect FILE}: format, tensors (dtype, shape), metadata and vocabulary size. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a table file's format, tensors (dtypes, shapes), metadata and vocabulary size.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "safetensors, .npy, .pt, word2vec, GloVe or .vec file")
    Path file;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (TableFile table = TableFile.open(file, ProgressBar.onTerminal("reading " + file.getFileName()))) {
            out.println("file:       " + file + " (" + TableFile.bytes(Files.size(file)) + ")");
            out.println("format:     " + table.format.description);
            out.println("tensors:    " + table.tensors.size() + (table.mapped ? " (memory-mapped)" : ""));
            for (Map.Entry<String, Tensor> e : table.tensors.entrySet()) {
                out.println("  " + e.getKey() + "  " + TableFile.describe(e.getValue()));
            }
            table.metadata.entrySet().stream()
                    .filter(e -> !e.getKey().startsWith("jembed.vocabulary."))
                    .forEach(e -> out.println("metadata:   " + e.getKey() + " = " + e.getValue()));
            out.println("vocabulary: " + (table.vocabulary == null ? "none"
                    : table.vocabulary.size() + " words"));
        }
        return 0;
    }
}
