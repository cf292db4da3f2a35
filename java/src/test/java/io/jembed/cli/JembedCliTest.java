package io.jembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.Tensor;
import io.jembed.io.Fixtures;
import io.jembed.mapped.MappedTensors;
import io.jembed.vocab.Vocabulary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command-line tool, run as users run it (its {@code main} entry point's arguments, its output and exit codes):
 * inspect of the real producers' fixtures, convert of GloVe text to safetensors + vocabulary (read back mapped), a
 * PyTorch checkpoint to safetensors, nearest on the converted file, and clear one-line failures.
 */
class JembedCliTest {
    @TempDir
    Path dir;

    private static final class Run {
        final int code;
        final String out;
        final String err;

        Run(int code, String out, String err) {
            this.code = code;
            this.out = out;
            this.err = err;
        }
    }

    private static Run jembed(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = JembedCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void inspectNamesFormatTensorsAndVocabulary() {
        Run safetensors = jembed("inspect", Fixtures.path("table.safetensors").toString());
        assertEquals(0, safetensors.code, safetensors.err);
        assertTrue(safetensors.out.contains("format:     safetensors"), safetensors.out);
        assertTrue(safetensors.out.contains("embedding.weight  float32 [4, 3]"), safetensors.out);
        assertTrue(safetensors.out.contains("metadata:   note = built from the safetensors specification"),
                safetensors.out);
        Run glove = jembed("inspect", Fixtures.path("glove.txt").toString());
        assertEquals(0, glove.code, glove.err);
        assertTrue(glove.out.contains("format:     GloVe text"), glove.out);
        assertTrue(glove.out.matches("(?s).*vocabulary: \\d+ words.*"), glove.out);
        Run checkpoint = jembed("inspect", Fixtures.path("model.pt").toString());
        assertEquals(0, checkpoint.code, checkpoint.err);
        assertTrue(checkpoint.out.contains("PyTorch checkpoint"), checkpoint.out);
    }

    @Test
    void convertsGloveToSafetensorsWithItsVocabularyAndFindsNeighbours() throws Exception {
        Path out = dir.resolve("glove.safetensors");
        Run convert = jembed("convert", Fixtures.path("glove.txt").toString(), out.toString());
        assertEquals(0, convert.code, convert.err);
        MappedTensors mapped = MappedTensors.safeOpen(out);
        Vocabulary vocabulary = Vocabulary.fromMetadata(mapped.metadata(), out.toString());
        List<String> words = vocabulary.words();
        try (Tensor weight = mapped.getTensor("weight")) {
            assertEquals(words.size(), weight.size(0));
        }
        String word = words.get(0);
        Run nearest = jembed("nearest", out.toString(), word, "-k", "3");
        assertEquals(0, nearest.code, nearest.err);
        String[] lines = nearest.out.split("\n");
        assertTrue(lines[0].trim().startsWith("1 "), nearest.out);
        assertTrue(!lines[0].contains(" " + word + " "), "the word itself is left out: " + nearest.out);
        assertEquals(4, lines.length, nearest.out); // three neighbours and the timing line
        Run fromText = jembed("nearest", Fixtures.path("glove.txt").toString(), word, "-k", "3");
        assertEquals(nearest.out.substring(0, nearest.out.lastIndexOf('(')),
                fromText.out.substring(0, fromText.out.lastIndexOf('(')), "same neighbours from the text file");
    }

    @Test
    void convertsACheckpointToSafetensors() throws Exception {
        Path out = dir.resolve("model.safetensors");
        Run convert = jembed("convert", Fixtures.path("model.pt").toString(), out.toString());
        assertEquals(0, convert.code, convert.err);
        assertTrue(MappedTensors.safeOpen(out).keys().size() >= 1);
        Run inspect = jembed("inspect", out.toString());
        assertEquals(0, inspect.code, inspect.err);
        assertTrue(inspect.out.contains("(memory-mapped)"), inspect.out);
    }

    @Test
    void badFilesAndArgumentsFailWithOneLineNamingTheProblem() throws Exception {
        Path junk = dir.resolve("junk.safetensors");
        Files.write(junk, new byte[] {(byte) 200, 0, 0, 0, 0, 0, 0, 0, '{', 1, 2});
        Run bad = jembed("inspect", junk.toString());
        assertEquals(1, bad.code);
        assertTrue(bad.err.startsWith("jembed: ") && bad.err.contains("junk.safetensors"), bad.err);
        assertEquals(1, bad.err.trim().split("\n").length, bad.err);
        Run missing = jembed("inspect", dir.resolve("nope.bin").toString());
        assertEquals(1, missing.code);
        assertTrue(missing.err.contains("nope.bin"), missing.err);
        Run unknownWord = jembed("nearest", Fixtures.path("glove.txt").toString(), "zzzz-not-a-word");
        assertEquals(1, unknownWord.code);
        assertTrue(unknownWord.err.contains("zzzz-not-a-word"), unknownWord.err);
        Run badOut = jembed("convert", Fixtures.path("glove.txt").toString(), dir.resolve("x.txt").toString());
        assertEquals(1, badOut.code);
        assertTrue(badOut.err.contains(".safetensors or .npy"), badOut.err);
        Run usage = jembed("nearest");
        assertEquals(2, usage.code);
        assertTrue(usage.err.contains("Missing required parameter"), usage.err);
    }

    @Test
    void theProgressBarFillsWithTheBytesRead() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "reading x", true);
        assertEquals("reading x [###############...............]  50%  512 B", bar.render(512, 1024));
        bar.progress(1024, 1024);
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("100%"));
        ByteArrayOutputStream quiet = new ByteArrayOutputStream();
        new ProgressBar(new PrintStream(quiet, true, StandardCharsets.UTF_8), "x", false).progress(1, 2);
        assertEquals(0, quiet.size());
    }
}
