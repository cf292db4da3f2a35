package io.jembed.io.wordvectors;

import io.jembed.io.ProgressListener;
import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The word2vec formats: binary (the C tool's {@code -binary 1}, gensim's {@code binary=True}) and text (a
 * {@code "V D"} line, then {@code word v1 ... vD} per line; also fastText's {@code .vec}).
 *
 * <p>PyTorch equivalent: gensim's {@code KeyedVectors.load_word2vec_format(path, binary=...)} and
 * {@code save_word2vec_format}.
 *
 * <p>Thread-safe (no shared state). Text files load on {@link ReadOptions#threads()} threads.
 */
public final class Word2Vec {
    private Word2Vec() {}

    /** PyTorch equivalent: {@code KeyedVectors.load_word2vec_format(path, binary=True)}. */
    public static WordVectors loadBinary(Path file) throws IOException {
        return BinaryVectorParser.load(file, ReadOptions.defaults());
    }

    public static WordVectors loadBinary(Path file, ReadOptions options) throws IOException {
        return BinaryVectorParser.load(file, options);
    }

    /** PyTorch equivalent: {@code KeyedVectors.load_word2vec_format(path, binary=False)}. */
    public static WordVectors loadText(Path file) throws IOException {
        return TextVectorParser.load(file, true, ReadOptions.defaults());
    }

    public static WordVectors loadText(Path file, ReadOptions options) throws IOException {
        return TextVectorParser.load(file, true, options);
    }

    /** PyTorch equivalent: {@code kv.save_word2vec_format(path, binary=True)}. */
    public static void saveBinary(WordVectors vectors, Path file) throws IOException {
        VectorWriter.write(vectors, file, VectorWriter.Style.WORD2VEC_BINARY, ProgressListener.NONE);
    }

    /** PyTorch equivalent: {@code kv.save_word2vec_format(path, binary=False)}. */
    public static void saveText(WordVectors vectors, Path file) throws IOException {
        VectorWriter.write(vectors, file, VectorWriter.Style.WORD2VEC_TEXT, ProgressListener.NONE);
    }

    public static void save(WordVectors vectors, Path file, boolean binary, ProgressListener listener)
            throws IOException {
        VectorWriter.write(vectors, file, binary ? VectorWriter.Style.WORD2VEC_BINARY
                : VectorWriter.Style.WORD2VEC_TEXT, listener);
    }
}
