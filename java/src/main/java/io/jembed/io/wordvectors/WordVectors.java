package io.jembed.io.wordvectors;

import io.jembed.Tensor;
import java.util.Collections;
import java.util.List;

/**
 * Word vectors as the common formats carry them: the words, in file order, and a float32 table of shape
 * {@code (words().size(), dim())} whose row {@code i} is the vector of word {@code i}. Owns the table: {@link #close()}
 * frees it.
 *
 * <p>PyTorch equivalent: gensim's {@code KeyedVectors} ({@code index_to_key} and {@code vectors}), which users turn
 * into {@code nn.Embedding.from_pretrained(torch.from_numpy(kv.vectors))}.
 *
 * <p>Immutable apart from the table's contents; thread-safe for reads.
 */
public final class WordVectors implements AutoCloseable {
    private final List<String> words;
    private final Tensor vectors;

    WordVectors(List<String> words, Tensor vectors) {
        this.words = Collections.unmodifiableList(words);
        this.vectors = vectors;
    }

    /** The words, row by row. PyTorch equivalent: {@code kv.index_to_key}. */
    public List<String> words() {
        return words;
    }

    /** The (V, D) float32 table. PyTorch equivalent: {@code torch.from_numpy(kv.vectors)}. Owned by this object. */
    public Tensor vectors() {
        return vectors;
    }

    public int size() {
        return words.size();
    }

    public long dim() {
        return vectors.size(1);
    }

    @Override
    public void close() {
        vectors.close();
    }

    @Override
    public String toString() {
        return "WordVectors(" + words.size() + " words, dim " + vectors.size(1) + ")";
    }
}
