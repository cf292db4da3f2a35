package io.jembed.demo;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.safetensors.SafeOpen;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.io.wordvectors.Word2Vec;
import io.jembed.io.wordvectors.WordVectors;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingFromPretrainedOptions;
import io.jembed.vocab.TokenEmbedding;
import io.jembed.vocab.Vocabulary;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's file step: writes a word2vec binary file of word vectors (as the word2vec C tool writes them), loads it,
 * saves it as safetensors with its vocabulary in the metadata, opens that, and looks words up. A program, not API.
 */
final class BringYourTable {
    private BringYourTable() {}

    static void run(int words, int dim) {
        try {
            Path dir = Files.createTempDirectory("jembed-demo");
            try {
                steps(dir, words, dim);
            } finally {
                try (var files = Files.list(dir)) {
                    for (Path p : (Iterable<Path>) files::iterator) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void steps(Path dir, int words, int dim) throws IOException {
        System.out.println("\n=== Bring your table: word2vec file -> safetensors + vocabulary -> lookups by word ===");
        Path word2vec = dir.resolve("vectors.bin");
        Generator generator = new Generator(42);
        try (Tensor table = Torch.randn(generator, DType.FLOAT32, words, dim);
             OutputStream out = new BufferedOutputStream(Files.newOutputStream(word2vec), 1 << 16)) {
            // The word2vec C tool's binary format: "V D\n", then per word its bytes, a space, D little-endian floats.
            float[] values = table.toFloatArray();
            out.write((words + " " + dim + "\n").getBytes(StandardCharsets.US_ASCII));
            ByteBuffer row = ByteBuffer.allocate(4 * dim).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < words; r++) {
                out.write(((r == 0 ? "<unk>" : r == 1 ? "<pad>" : "w" + r) + " ").getBytes(StandardCharsets.UTF_8));
                row.clear();
                row.asFloatBuffer().put(values, r * dim, dim);
                out.write(row.array());
                out.write('\n');
            }
        }
        System.out.printf(Locale.ROOT, "wrote %s: %d words x %d, %.1f MB of word2vec binary%n", word2vec, words, dim,
                Files.size(word2vec) / 1e6);
        long start = System.nanoTime();
        Path safetensors = dir.resolve("table.safetensors");
        try (WordVectors vectors = Word2Vec.loadBinary(word2vec)) {
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "Word2Vec.loadBinary: %s in %.3f s%n", vectors, seconds);
            Vocabulary vocabulary = Vocabulary.of(vectors.words()).withUnknown("<unk>").withPadding("<pad>");
            Safetensors.saveFile(Map.of("weight", vectors.vectors()), safetensors, vocabulary.toMetadata());
        }
        System.out.printf(Locale.ROOT, "Safetensors.saveFile: %s, %.1f MB with the vocabulary in its metadata%n",
                safetensors.getFileName(), Files.size(safetensors) / 1e6);
        try (SafeOpen file = Safetensors.safeOpen(safetensors);
             Tensor weight = file.getTensor("weight")) {
            Vocabulary vocabulary = Vocabulary.fromMetadata(file.metadata(), safetensors.toString());
            Embedding embedding = Embedding.fromPretrained(weight,
                    new EmbeddingFromPretrainedOptions().paddingIdx(vocabulary.paddingIdx()));
            TokenEmbedding byWord = new TokenEmbedding(vocabulary, embedding);
            List<String> tokens = new ArrayList<>(List.of("w2", "w3", "no-such-word", "<pad>"));
            System.out.println(">>> " + vocabulary + "\n>>> emb(torch.tensor(vocab(" + tokens + ")))[:, :4]");
            try (Tensor rows = byWord.forward(tokens)) {
                float[] v = rows.toFloatArray();
                for (int i = 0; i < tokens.size(); i++) {
                    System.out.printf(Locale.ROOT, "  %-14s -> row %-2d [%8.4f, %8.4f, %8.4f, %8.4f, ...]%n",
                            tokens.get(i), vocabulary.indexOf(tokens.get(i)), v[i * dim], v[i * dim + 1],
                            v[i * dim + 2], v[i * dim + 3]);
                }
            }
        }
    }
}
