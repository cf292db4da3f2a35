package io.jembed.cli;

import io.jembed.Tensor;
import io.jembed.TopK;
import io.jembed.nn.functional.F;
import io.jembed.vocab.Vocabulary;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jembed nearest FILE WORD [-k 10]}: the words whose vectors are most cosine-similar to WORD's, as gensim's
 * {@code most_similar} lists them (the word itself left out). The scan runs on the native kernel on every core; a
 * safetensors table is searched straight from its memory map.
 */
@Command(name = "nearest", mixinStandardHelpOptions = true,
        description = "The k words most similar to WORD by cosine similarity (gensim's most_similar).")
final class NearestCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE",
            description = "a table with a vocabulary: safetensors written by convert, word2vec, GloVe or .vec")
    Path file;

    @Parameters(index = "1", paramLabel = "WORD")
    String word;

    @Option(names = {"-k", "--top"}, defaultValue = "10", description = "how many neighbours (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--tensor", paramLabel = "NAME", description = "the table, when the file has several")
    String tensor;

    @Option(names = "--vocab", paramLabel = "FILE", description = "a vocabulary file (one word per line), when the "
            + "table file has none")
    Path vocabFile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (k < 1) {
            throw new IllegalArgumentException("-k must be >= 1, got " + k);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (TableFile table = TableFile.open(file, ProgressBar.onTerminal("reading " + file.getFileName()))) {
            Vocabulary vocabulary = vocabFile != null ? Vocabulary.load(vocabFile) : table.vocabulary;
            if (vocabulary == null) {
                throw new IllegalArgumentException(file + " carries no vocabulary; give one with --vocab, or convert "
                        + "word vectors with 'jembed convert' first");
            }
            Tensor weight = table.table(tensor);
            if (!TableFile.isFloat32(weight)) {
                throw new IllegalArgumentException("nearest searches float32 tables; " + file + " holds "
                        + TableFile.describe(weight));
            }
            if (vocabulary.size() != weight.size(0)) {
                throw new IllegalArgumentException("the vocabulary has " + vocabulary.size() + " words but the table "
                        + weight.size(0) + " rows");
            }
            if (!vocabulary.contains(word)) {
                throw new IllegalArgumentException("'" + word + "' is not in the vocabulary of " + file + " ("
                        + vocabulary.size() + " words)");
            }
            long row = vocabulary.indexOf(word);
            int wanted = (int) Math.min((long) k + 1, weight.size(0));
            long started = System.nanoTime();
            try (Tensor query = io.jembed.Torch.tensor(rowOf(weight, row));
                 TopK top = F.cosineTopK(weight, query, wanted)) {
                double seconds = (System.nanoTime() - started) / 1e9;
                long[] rows = top.indices().toLongArray();
                float[] similarities = top.values().toFloatArray();
                int shown = 0;
                for (int i = 0; i < rows.length && shown < k; i++) {
                    if (rows[i] == row) {
                        continue;
                    }
                    shown++;
                    out.printf(Locale.ROOT, "%3d  %-24s %.4f%n", shown, vocabulary.word(rows[i]), similarities[i]);
                }
                out.printf(Locale.ROOT, "(%d rows x %d scanned in %.1f ms)%n", weight.size(0), weight.size(1),
                        seconds * 1e3);
            }
        }
        return 0;
    }

    private static float[] rowOf(Tensor weight, long row) {
        int dim = (int) weight.size(1);
        float[] values = new float[dim];
        for (int j = 0; j < dim; j++) {
            values[j] = (float) weight.getDouble(row, j);
        }
        return values;
    }
}
