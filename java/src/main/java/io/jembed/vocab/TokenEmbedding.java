package io.jembed.vocab;

import io.jembed.Tensor;
import io.jembed.nn.Embedding;
import java.util.List;
import java.util.Objects;

/**
 * An {@link Embedding} looked up by word: tokens go through a {@link Vocabulary} to rows. The vocabulary must match
 * the table: one word per row, and its padding word (if any) at the embedding's {@code padding_idx}.
 *
 * <p>PyTorch equivalent: {@code emb(torch.tensor(vocab(tokens)))}.
 *
 * <p>Thread safety: as {@link Embedding#forward}; the vocabulary is immutable. Does not own the embedding.
 */
public final class TokenEmbedding {
    private final Vocabulary vocabulary;
    private final Embedding embedding;

    /**
     * @throws IllegalArgumentException if the vocabulary's size differs from the table's rows, or its padding index
     *     from the embedding's
     */
    public TokenEmbedding(Vocabulary vocabulary, Embedding embedding) {
        this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
        this.embedding = Objects.requireNonNull(embedding, "embedding");
        if (vocabulary.size() != embedding.numEmbeddings()) {
            throw new IllegalArgumentException("the vocabulary has " + vocabulary.size() + " words but the embedding "
                    + embedding.numEmbeddings() + " rows");
        }
        if (!Objects.equals(vocabulary.paddingIdx(), embedding.paddingIdx())) {
            throw new IllegalArgumentException("the vocabulary's padding index " + vocabulary.paddingIdx()
                    + " differs from the embedding's padding_idx " + embedding.paddingIdx());
        }
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    public Embedding embedding() {
        return embedding;
    }

    /** The rows of {@code tokens}: shape {@code (tokens.size(), dim)}. Unknown words follow the vocabulary's policy. */
    public Tensor forward(List<String> tokens) {
        try (Tensor ids = vocabulary.lookupIndices(tokens)) {
            return embedding.forward(ids);
        }
    }

    public Tensor forward(String... tokens) {
        return forward(List.of(tokens));
    }

    /** Equally long rows of tokens: shape {@code (rows, length, dim)}. */
    public Tensor forward(String[][] rows) {
        try (Tensor ids = vocabulary.lookupIndices(rows)) {
            return embedding.forward(ids);
        }
    }
}
