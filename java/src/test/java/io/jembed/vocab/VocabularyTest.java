package io.jembed.vocab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.Fixtures;
import io.jembed.io.MalformedFileException;
import io.jembed.io.safetensors.SafeOpen;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.io.wordvectors.Word2Vec;
import io.jembed.io.wordvectors.WordVectors;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingFromPretrainedOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VocabularyTest {
    @TempDir
    Path dir;

    @Test
    void wordsMapToRowsAndUnknownWordsFollowThePolicy() {
        Vocabulary v = Vocabulary.of("<pad>", "<unk>", "the", "cat");
        assertEquals(2, v.indexOf("the"));
        assertEquals("cat", v.word(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.indexOf("dog"));
        assertTrue(e.getMessage().contains("word 'dog' is not in the vocabulary of 4 words"), e.getMessage());
        Vocabulary withUnk = v.withUnknown("<unk>").withPadding("<pad>");
        assertEquals(1, withUnk.indexOf("dog"));
        assertEquals(0L, withUnk.paddingIdx());
        assertNull(v.paddingIdx());
        try (Tensor ids = withUnk.lookupIndices(new String[][] {{"the", "cat"}, {"dog", "<pad>"}})) {
            assertArrayEquals(new long[] {2, 3, 1, 0}, ids.toLongArray());
            assertArrayEquals(new long[] {2, 2}, ids.shape());
        }
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of("a", "b", "a"));
        assertThrows(IllegalArgumentException.class, () -> v.withPadding("<nope>"));
        assertThrows(IndexOutOfBoundsException.class, () -> v.withDefaultIndex(4));
    }

    @Test
    void tokenEmbeddingLooksUpRowsByWord() throws IOException {
        try (WordVectors wv = Word2Vec.loadBinary(Fixtures.path("word2vec.bin"))) {
            Vocabulary vocab = Vocabulary.of(wv.words()).withUnknown("the");
            Embedding emb = Embedding.fromPretrained(wv.vectors());
            TokenEmbedding te = new TokenEmbedding(vocab, emb);
            try (Tensor out = te.forward(List.of("café", "nowhere"));
                 Tensor ids = Torch.tensor(new long[] {3, 0}, 2);
                 Tensor expected = emb.forward(ids)) {
                assertArrayEquals(new long[] {2, 5}, out.shape());
                assertTrue(Torch.equal(expected, out));
            }
            Embedding padded = Embedding.fromPretrained(wv.vectors(), new EmbeddingFromPretrainedOptions().paddingIdx(2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new TokenEmbedding(vocab, padded));
            assertTrue(e.getMessage().contains("padding"), e.getMessage());
        }
    }

    @Test
    void aVocabularyTravelsWithItsTableInSafetensorsMetadataAndAsText() throws IOException {
        Vocabulary v = Vocabulary.of("<pad>", "<unk>", "日本", "a \"quoted\" word").withUnknown("<unk>")
                .withPadding("<pad>");
        Path file = dir.resolve("table.safetensors");
        try (Tensor w = Torch.zeros(io.jembed.DType.FLOAT32, 4, 2)) {
            Safetensors.saveFile(Map.of("weight", w), file, v.toMetadata());
        }
        try (SafeOpen f = Safetensors.safeOpen(file)) {
            Vocabulary back = Vocabulary.fromMetadata(f.metadata(), file.toString());
            assertEquals(v.words(), back.words());
            assertEquals(1, back.defaultIndex());
            assertEquals(0L, back.paddingIdx());
        }
        Path text = dir.resolve("vocab.txt");
        v.save(text);
        assertEquals(v.words(), Vocabulary.load(text).words());
        Files.writeString(text, "a\nb\na\n");
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Vocabulary.load(text));
        assertTrue(e.getMessage().contains("appears twice"), e.getMessage());
        MalformedFileException bad = assertThrows(MalformedFileException.class,
                () -> Vocabulary.fromMetadata(Map.of("jembed.vocabulary.words", "[1, 2]"), "x.safetensors"));
        assertTrue(bad.getMessage().startsWith("x.safetensors: vocabulary:"), bad.getMessage());
    }
}
