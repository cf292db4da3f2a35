package io.jembed.vocab;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBag;
import java.util.List;
import java.util.Objects;

/**
 * An {@link EmbeddingBag} fed with words: each bag is a list of tokens, looked up through a {@link Vocabulary} and
 * pooled (sum, mean or max, as the bag is configured). The vocabulary must match the table: one word per row, and its
 * padding word (if any) at the bag's {@code padding_idx}.
 *
 * <p>PyTorch equivalent: {@code bag(torch.tensor(sum(ids, [])), offsets)} with {@code ids = [vocab(b) for b in bags]}.
 *
 * <p>Thread safety: as {@link EmbeddingBag#forward}; the vocabulary is immutable. Does not own the bag.
 */
public final class TokenEmbeddingBag {
    private final Vocabulary vocabulary;
    private final EmbeddingBag bag;

    /**
     * @throws IllegalArgumentException if the vocabulary's size differs from the table's rows, or its padding index
     *     from the bag's
     */
    public TokenEmbeddingBag(Vocabulary vocabulary, EmbeddingBag bag) {
        this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
        this.bag = Objects.requireNonNull(bag, "bag");
        if (vocabulary.size() != bag.numEmbeddings()) {
            throw new IllegalArgumentException("the vocabulary has " + vocabulary.size() + " words but the bag's table "
                    + bag.numEmbeddings() + " rows");
        }
        if (!Objects.equals(vocabulary.paddingIdx(), bag.paddingIdx())) {
            throw new IllegalArgumentException("the vocabulary's padding index " + vocabulary.paddingIdx()
                    + " differs from the bag's padding_idx " + bag.paddingIdx());
        }
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    public EmbeddingBag bag() {
        return bag;
    }

    /**
     * One pooled row per bag of tokens (bags may differ in length; an empty bag pools to zeros): shape
     * {@code (bags.size(), dim)}. Every token is looked up before anything is pooled.
     */
    public Tensor forward(List<List<String>> bags) {
        int total = 0;
        for (List<String> b : bags) {
            total = Math.addExact(total, b.size());
        }
        long[] ids = new long[total];
        boolean last = bag.includeLastOffset();
        long[] offsets = new long[bags.size() + (last ? 1 : 0)];
        int at = 0;
        for (int b = 0; b < bags.size(); b++) {
            offsets[b] = at;
            for (String token : bags.get(b)) {
                ids[at++] = vocabulary.indexOf(token);
            }
        }
        if (last) {
            offsets[bags.size()] = at;
        }
        try (Tensor input = Torch.tensor(ids, ids.length);
             Tensor starts = Torch.tensor(offsets, offsets.length)) {
            return bag.forward(input, starts);
        }
    }
}
