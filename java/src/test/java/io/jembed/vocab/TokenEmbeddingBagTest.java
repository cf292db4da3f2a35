package io.jembed.vocab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagFromPretrainedOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenEmbeddingBagTest {
    @Test
    void bagsOfWordsPoolTheRowsOfTheirIndices() {
        Vocabulary vocab = Vocabulary.of("<unk>", "a", "b", "c").withUnknown("<unk>");
        try (Tensor weight = Torch.tensor(new float[] {0, 0, 1, 2, 3, 4, 5, 6}, 4, 2)) {
            EmbeddingBag bag = EmbeddingBag.fromPretrained(weight);   // mode mean
            TokenEmbeddingBag byWord = new TokenEmbeddingBag(vocab, bag);
            try (Tensor out = byWord.forward(List.of(List.of("a", "c"), List.of(), List.of("b", "zzz", "b")));
                 Tensor ids = Torch.tensor(new long[] {1, 3, 2, 0, 2}, 5);
                 Tensor offsets = Torch.tensor(new long[] {0, 2, 2}, 3);
                 Tensor expected = bag.forward(ids, offsets)) {
                assertArrayEquals(new long[] {3, 2}, out.shape());
                assertArrayEquals(expected.toFloatArray(), out.toFloatArray());
                // mean of rows 1 and 3, an empty bag, mean of rows 2, 0, 2 (by hand)
                assertArrayEquals(new float[] {3, 4, 0, 0, 2f, 8f / 3}, out.toFloatArray(), 1e-6f);
            }
            EmbeddingBag padded = EmbeddingBag.fromPretrained(weight,
                    new EmbeddingBagFromPretrainedOptions().paddingIdx(0));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new TokenEmbeddingBag(vocab, padded));
            assertTrue(e.getMessage().contains("padding"), e.getMessage());
        }
    }
}
