package io.jembed.io.wordvectors;

import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.nio.file.Path;

/**
 * fastText's {@code .vec} files (the word vectors its {@code skipgram}/{@code cbow} commands and its published
 * models ship beside {@code .bin}): word2vec text, with a trailing space on each line. The {@code .bin} model
 * (subword buckets) is not read.
 *
 * <p>PyTorch equivalent: {@code torchtext.vocab.FastText} / gensim's {@code load_word2vec_format(path)}.
 */
public final class FastText {
    private FastText() {}

    public static WordVectors loadVec(Path file) throws IOException {
        return Word2Vec.loadText(file);
    }

    public static WordVectors loadVec(Path file, ReadOptions options) throws IOException {
        return Word2Vec.loadText(file, options);
    }
}
