package io.jembed.examples;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.safetensors.SafeOpen;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.io.numpy.Npy;
import io.jembed.io.torch.TorchCheckpoint;
import io.jembed.io.wordvectors.Glove;
import io.jembed.io.wordvectors.Word2Vec;
import io.jembed.io.wordvectors.WordVectors;
import io.jembed.nn.Embedding;
import io.jembed.vocab.TokenEmbedding;
import io.jembed.vocab.Vocabulary;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The README's "Bring your table" snippet: one table of 4 words, saved in each format by jembed's own writers (and, for
 * model.pt, the state_dict PyTorch saved for the tests), read back in one line each.
 */
public final class BringYourTable {
    private BringYourTable() {}

    private static final List<String> WORDS = List.of("<unk>", "the", "cat", "sat");
    private static final int DIM = 3;
    /** The files the snippet reads, made in the working directory (where its relative paths resolve). */
    private static final List<Path> FILES = List.of(Path.of("table.safetensors"), Path.of("model.pt"),
            Path.of("table.npy"), Path.of("vectors.bin"), Path.of("glove.840B.300d.txt"));
    /** The committed PyTorch fixture: torch.save(model.state_dict()), whose embedding.weight is {@link #data()}. */
    private static final String MODEL_FIXTURE = "java/src/test/resources/io/jembed/io/fixtures/model.pt";

    public static void main(String[] args) throws IOException {
        try {
            writeFiles();

            // Java: the same tables
            Map<String, Tensor> t = Safetensors.loadFile(Path.of("table.safetensors"));     // load_file
            check("load_file: keys", List.copyOf(t.keySet()), List.of("weight"));
            checkTable("load_file: weight", t.get("weight"), data());
            try (SafeOpen f = Safetensors.safeOpen(Path.of("table.safetensors"))) {           // safe_open
                Tensor weight = f.getTensor("weight");
                Vocabulary vocab = Vocabulary.fromMetadata(f.metadata(), "table.safetensors").withUnknown("<unk>");
                TokenEmbedding byWord = new TokenEmbedding(vocab, Embedding.fromPretrained(weight));
                Tensor rows = byWord.forward("the", "cat", "sat");                          // emb(torch.tensor(vocab(tokens)))
                checkTable("safe_open: weight", weight, data());
                check("vocabulary from the metadata", vocab.words(), WORDS);
                check("rows shape", Arrays.toString(rows.shape()), Arrays.toString(new long[] {3, DIM}));
                check("rows of the, cat, sat", floats(rows.toFloatArray()),
                        floats(Arrays.copyOfRange(data(), DIM, 4 * DIM)));
                try (Tensor unknown = byWord.forward("dog")) {
                    check("an unknown word is <unk>'s row", floats(unknown.toFloatArray()),
                            floats(Arrays.copyOfRange(data(), 0, DIM)));
                }
                rows.close();
                weight.close();
            }
            Map<String, Tensor> state = TorchCheckpoint.loadStateDict(Path.of("model.pt"));  // torch.load(weights_only=True)
            check("state_dict keys", List.copyOf(state.keySet()),
                    List.of("embedding.weight", "linear.weight", "linear.bias"));
            checkTable("state_dict embedding.weight", state.get("embedding.weight"), data());
            Tensor table = Npy.load(Path.of("table.npy"));                                   // numpy.load
            checkTable("numpy.load", table, data());
            WordVectors w2v = Word2Vec.loadBinary(Path.of("vectors.bin"));                  // load_word2vec_format(binary=True)
            check("word2vec words", w2v.words(), WORDS);
            checkTable("word2vec vectors", w2v.vectors(), data());
            WordVectors glove = Glove.load(Path.of("glove.840B.300d.txt"));                  // words(), vectors() (V, D) float32
            check("GloVe words", glove.words(), WORDS);
            checkTable("GloVe vectors", glove.vectors(), data());

            t.values().forEach(Tensor::close);
            state.values().forEach(Tensor::close);
            table.close();
            w2v.close();
            glove.close();
            System.out.println("Bring your table: safetensors, model.pt, .npy, word2vec and GloVe read back "
                    + WORDS.size() + " x " + DIM + "; rows of the, cat, sat as saved");
        } finally {
            for (Path file : FILES) {
                Files.deleteIfExists(file);
            }
        }
    }

    /** value(r, c) = (r * 3 + c - 5) / 8: the table of the committed PyTorch fixture, so every file carries it. */
    private static float[] data() {
        float[] out = new float[WORDS.size() * DIM];
        for (int i = 0; i < out.length; i++) {
            out[i] = (i - 5) / 8f;
        }
        return out;
    }

    private static void writeFiles() throws IOException {
        try (Tensor saved = Torch.tensor(data(), WORDS.size(), DIM)) {
            // save_file({"weight": ...}, "table.safetensors", metadata={"jembed.vocabulary.words": json.dumps(itos)})
            Safetensors.saveFile(Map.of("weight", saved), Path.of("table.safetensors"),
                    Vocabulary.of(WORDS).toMetadata());
            Npy.save(Path.of("table.npy"), saved);
        }
        // WordVectors come from a reader: a word2vec text file (in a temporary directory) gives the table its words.
        Path text = Files.createTempFile("jembed-example-", ".txt");
        try {
            StringBuilder s = new StringBuilder().append(WORDS.size()).append(' ').append(DIM).append('\n');
            float[] values = data();
            for (int r = 0; r < WORDS.size(); r++) {
                s.append(WORDS.get(r));
                for (int c = 0; c < DIM; c++) {
                    s.append(' ').append(values[r * DIM + c]);
                }
                s.append('\n');
            }
            Files.writeString(text, s, StandardCharsets.UTF_8);
            try (WordVectors vectors = Word2Vec.loadText(text)) {
                Word2Vec.saveBinary(vectors, Path.of("vectors.bin"));
                Glove.save(vectors, Path.of("glove.840B.300d.txt"));
            }
        } finally {
            Files.deleteIfExists(text);
        }
        // No jembed writer makes torch.save files: copy the fixture PyTorch made, found from the working directory.
        Files.copy(modelFixture(), Path.of("model.pt"), StandardCopyOption.REPLACE_EXISTING);
    }

    private static Path modelFixture() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(MODEL_FIXTURE);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("no " + MODEL_FIXTURE + " in " + Path.of("").toAbsolutePath()
                + " or a parent: run from the jembed checkout (scripts/check-examples does)");
    }

    private static void checkTable(String what, Tensor tensor, float[] expected) {
        check(what + ": shape", Arrays.toString(tensor.shape()), Arrays.toString(new long[] {WORDS.size(), DIM}));
        check(what + ": values", floats(tensor.toFloatArray()), floats(expected));
    }

    private static List<Float> floats(float[] values) {
        List<Float> out = new ArrayList<>(values.length);
        for (float v : values) {
            out.add(v);
        }
        return out;
    }

    private static void check(String what, Object actual, Object expected) {
        if (!actual.equals(expected)) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }
}
