package io.jembed.io.wordvectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.Fixtures;
import io.jembed.io.MalformedFileException;
import io.jembed.io.ReadOptions;
import io.jembed.io.numpy.Npy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordVectorsTest {
    static final List<String> GENSIM_WORDS = List.of("the", "cat", "sat", "café", "日本", "naïve");

    @TempDir
    Path dir;

    /** gensim wrote the same float32 array (also saved by numpy) as word2vec binary, word2vec text and GloVe text. */
    @Test
    void gensimFilesLoadTheArrayGensimWrote() throws IOException {
        try (Tensor expected = Npy.load(Fixtures.path("word2vec_vectors.npy"));
             WordVectors binary = Word2Vec.loadBinary(Fixtures.path("word2vec.bin"));
             WordVectors text = Word2Vec.loadText(Fixtures.path("word2vec.txt"));
             WordVectors glove = Glove.load(Fixtures.path("glove.txt"))) {
            String json = Files.readString(Fixtures.path("word2vec_words.json"));
            for (WordVectors v : List.of(binary, text, glove)) {
                assertEquals(GENSIM_WORDS, v.words());
                assertTrue(json.contains("\"" + v.words().get(4) + "\""));
                assertArrayEquals(new long[] {6, 5}, v.vectors().shape());
                // gensim writes repr(float32): the shortest text that reads back as the same float32.
                assertArrayEquals(expected.toFloatArray(), v.vectors().toFloatArray());
            }
        }
    }

    @Test
    void fastTextVecFromTheFastTextToolLoads() throws IOException {
        List<String> lines = Files.readAllLines(Fixtures.path("fasttext.vec"), StandardCharsets.UTF_8);
        String[] header = lines.get(0).trim().split(" ");
        try (WordVectors v = FastText.loadVec(Fixtures.path("fasttext.vec"))) {
            assertEquals(Integer.parseInt(header[0]), v.size());
            assertEquals(Long.parseLong(header[1]), v.dim());
            assertTrue(v.words().contains("日本") && v.words().contains("café"), v.words().toString());
            String[] first = lines.get(1).trim().split(" ");
            assertEquals(first[0], v.words().get(0));
            assertEquals(Float.parseFloat(first[1]), v.vectors().toFloatArray()[0]);
        }
    }

    @Test
    void parallelAndSingleThreadedLoadsAgreeOnALargerFile() throws IOException {
        Path file = dir.resolve("big.txt");
        StringBuilder sb = new StringBuilder();
        int rows = 20000;
        int dim = 7;
        sb.append(rows).append(' ').append(dim).append('\n');
        java.util.Random random = new java.util.Random(3);
        for (int r = 0; r < rows; r++) {
            sb.append("w").append(r);
            for (int k = 0; k < dim; k++) {
                sb.append(' ').append(random.nextFloat() - 0.5f);
            }
            sb.append(r % 2 == 0 ? " \n" : "\r\n");
        }
        Files.writeString(file, sb);
        try (WordVectors one = Word2Vec.loadText(file, ReadOptions.defaults().threads(1));
             WordVectors two = Word2Vec.loadText(file, ReadOptions.defaults().threads(2))) {
            assertEquals(one.words(), two.words());
            assertEquals("w19999", two.words().get(rows - 1));
            assertTrue(Torch.equal(one.vectors(), two.vectors()));
        }
    }

    /** Tabs, runs of spaces, CRLF, trailing controls, blank lines, a leading space, no final newline: all still load. */
    @Test
    void irregularlySpacedLinesLoadTheValuesTheySpell() throws IOException {
        Path file = dir.resolve("irregular.txt");
        Files.writeString(file, "4 2\na\t1  -2.5 \r\n\n  \t\n b 0.25\t\t3\r\nc 1e3 -0\u000b\nd 7 8");
        try (WordVectors v = Word2Vec.loadText(file)) {
            assertEquals(List.of("a", "b", "c", "d"), v.words());
            assertArrayEquals(new float[] {1f, -2.5f, 0.25f, 3f, 1000f, -0f, 7f, 8f}, v.vectors().toFloatArray());
        }
    }

    /** Lines longer than the 1 MiB read block load, and so do the lines after them. */
    @Test
    void aLineLongerThanTheReadBlockLoads() throws IOException {
        Path file = dir.resolve("long.txt");
        String longWord = "x".repeat(1_500_000);
        Files.writeString(file, "3 2\na 1 2\n" + longWord + " 3 4\nb 5 6\n");
        try (WordVectors v = Word2Vec.loadText(file)) {
            assertEquals(List.of("a", longWord, "b"), v.words());
            assertArrayEquals(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, v.vectors().toFloatArray());
        }
    }

    @Test
    void wordsWithSpacesLoadFromGloveStyleText() throws IOException {
        Path file = dir.resolve("spaces.txt");
        Files.writeString(file, "the 1 2\nnew york 0.5 -1\n. . . 2 3e-1\n");
        try (WordVectors v = Glove.load(file)) {
            assertEquals(List.of("the", "new york", ". . ."), v.words());
            assertArrayEquals(new float[] {1f, 2f, 0.5f, -1f, 2f, 0.3f}, v.vectors().toFloatArray());
        }
    }

    @Test
    void savedFilesLoadBackAndInGensim() throws Exception {
        Path bin = dir.resolve("out.bin");
        Path txt = dir.resolve("out.txt");
        Path glove = dir.resolve("out.glove");
        try (WordVectors v = Word2Vec.loadBinary(Fixtures.path("word2vec.bin"))) {
            Word2Vec.saveBinary(v, bin);
            Word2Vec.saveText(v, txt);
            Glove.save(v, glove);
            for (WordVectors back : List.of(Word2Vec.loadBinary(bin), Word2Vec.loadText(txt), Glove.load(glove))) {
                try (back) {
                    assertEquals(v.words(), back.words());
                    assertTrue(Torch.equal(v.vectors(), back.vectors()));
                }
            }
        }
        assumeTrue(Fixtures.pythonHas("gensim"), "python3-gensim is not installed");
        String out = Fixtures.python("import sys, numpy as np\n"
                + "from gensim.models import KeyedVectors\n"
                + "ref = np.load(sys.argv[4])\n"
                + "a = KeyedVectors.load_word2vec_format(sys.argv[1], binary=True)\n"
                + "b = KeyedVectors.load_word2vec_format(sys.argv[2], binary=False)\n"
                + "c = KeyedVectors.load_word2vec_format(sys.argv[3], binary=False, no_header=True)\n"
                + "print(a.index_to_key == b.index_to_key == c.index_to_key, a.index_to_key[3],"
                + " all((k.vectors == ref).all() for k in (a, b, c)))",
                bin.toString(), txt.toString(), glove.toString(), Fixtures.path("word2vec_vectors.npy").toString());
        assertEquals("True café True", out.trim());
    }

    // ---- hostile files -----------------------------------------------------------------------------------

    private String textProblem(String content, boolean header) throws IOException {
        return textProblem(content.getBytes(StandardCharsets.UTF_8), header);
    }

    private String textProblem(byte[] content, boolean header) throws IOException {
        Path file = dir.resolve("bad.txt");
        Files.write(file, content);
        MalformedFileException e = assertThrows(MalformedFileException.class,
                () -> (header ? Word2Vec.loadText(file) : Glove.load(file)).close());
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        return e.problem();
    }

    private String binaryProblem(byte[] content) throws IOException {
        Path file = dir.resolve("bad.bin");
        Files.write(file, content);
        MalformedFileException e = assertThrows(MalformedFileException.class,
                () -> Word2Vec.loadBinary(file).close());
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        return e.problem();
    }

    private static void assertContains(String expected, String actual) {
        assertTrue(actual.contains(expected), "expected '" + expected + "' in: " + actual);
    }

    @Test
    void hostileTextFilesGiveClearExceptions() throws IOException {
        assertContains("promises 3 vectors but the file has 2 (truncated)", textProblem("3 2\na 1 2\nb 3 4\n", true));
        assertContains("line 3: the file has more than the 1 vectors its header promises",
                textProblem("1 2\na 1 2\nb 3 4\n", true));
        assertContains("line 3 has fewer than 2 values", textProblem("2 2\na 1 2\nb 3\n", true));
        assertContains("line 2 value 2 \"x1\" is not a number", textProblem("1 2\na 1 x1\n", true));
        assertContains("line 4 has fewer than 2 values", textProblem("2 2\na 1 2\n\nb 1\n", true));
        assertContains("line 2 has more than the 2 values the header gives after its word",
                textProblem("1 2\na b 1 2\n", true));
        assertContains("line 2 has no word before its 2 values", textProblem("1 2\n 1 2\n", true));
        assertContains("line 3 value 1 \"1\u00012\" is not a number", textProblem("2 1\na 1\nb 1\u00012\n", true));
        assertContains("line 2 value 1 is NaN", textProblem("1 2\na nan 1\n", true));
        assertContains("line 1 value 2 is -Infinity", textProblem("a 1 -inf\n", false));
        assertContains("duplicate word 'a' (vectors 0 and 2", textProblem("a 1\nb 2\na 3\n", false));
        assertContains("the first line must be", textProblem("hello\n", true));
        assertContains("need at least", textProblem("1 100000000\na 1\n", true));
        byte[] latin1 = "caf\u00e9 1 2\n".getBytes(StandardCharsets.ISO_8859_1);
        assertContains("line 1: the word is not valid UTF-8 (636166e9)", textProblem(latin1, false));
    }

    @Test
    void hostileBinaryFilesGiveClearExceptions() throws IOException {
        byte[] good = Files.readAllBytes(Fixtures.path("word2vec.bin"));
        assertContains("truncated", binaryProblem(java.util.Arrays.copyOf(good, good.length - 3)));
        assertContains("promises 1000000 vectors of dimension 300",
                binaryProblem("1000000 300\nab".getBytes(StandardCharsets.US_ASCII)));
        assertContains("the first line must be", binaryProblem("x y\n".getBytes(StandardCharsets.US_ASCII)));
        byte[] extra = java.util.Arrays.copyOf(good, good.length + 1);
        extra[extra.length - 1] = 'x';
        assertContains("goes on after the 6 vectors", binaryProblem(extra));
        List<Byte> dup = new ArrayList<>();
        for (byte b : "2 1\na ".getBytes(StandardCharsets.US_ASCII)) {
            dup.add(b);
        }
        byte[] one = {0, 0, (byte) 0x80, 0x3f};
        byte[] record = new byte[] {'a', ' '};
        byte[] file = new byte[dup.size() + 4 + 2 + 4];
        for (int i = 0; i < dup.size(); i++) {
            file[i] = dup.get(i);
        }
        System.arraycopy(one, 0, file, dup.size(), 4);
        System.arraycopy(record, 0, file, dup.size() + 4, 2);
        System.arraycopy(one, 0, file, dup.size() + 6, 4);
        assertContains("duplicate word 'a'", binaryProblem(file));
        file[dup.size() + 6 + 3] = (byte) 0x7f;
        file[dup.size() + 6 + 2] = (byte) 0xc0;   // 0x7fc00000: NaN
        file[dup.size() + 4] = 'b';
        assertContains("holds NaN at position 0", binaryProblem(file));
    }
}
