package io.jembed.io.wordvectors;

import io.jembed.io.ProgressListener;
import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.nio.file.Path;

/**
 * GloVe's text format: {@code word v1 ... vD} per line, no header (the dimension comes from the first line). Words
 * may contain spaces (Common Crawl's vectors have some): a line's last D fields are its vector.
 *
 * <p>PyTorch equivalent: {@code torchtext.vocab.GloVe} / gensim's
 * {@code KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)}.
 *
 * <p>Thread-safe (no shared state). Loads on {@link ReadOptions#threads()} threads.
 */
public final class Glove {
    private Glove() {}

    public static WordVectors load(Path file) throws IOException {
        return TextVectorParser.load(file, false, ReadOptions.defaults());
    }

    public static WordVectors load(Path file, ReadOptions options) throws IOException {
        return TextVectorParser.load(file, false, options);
    }

    /** PyTorch equivalent: {@code kv.save_word2vec_format(path, binary=False, write_header=False)}. */
    public static void save(WordVectors vectors, Path file) throws IOException {
        VectorWriter.write(vectors, file, VectorWriter.Style.GLOVE, ProgressListener.NONE);
    }

    public static void save(WordVectors vectors, Path file, ProgressListener listener) throws IOException {
        VectorWriter.write(vectors, file, VectorWriter.Style.GLOVE, listener);
    }
}
