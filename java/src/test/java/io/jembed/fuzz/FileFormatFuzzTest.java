package io.jembed.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jembed.Tensor;
import io.jembed.io.MalformedFileException;
import io.jembed.io.numpy.NpyHeader;
import io.jembed.io.numpy.Npy;
import io.jembed.io.numpy.Npz;
import io.jembed.io.safetensors.SafetensorsHeader;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.io.torch.TorchCheckpoint;
import io.jembed.io.wordvectors.Glove;
import io.jembed.io.wordvectors.Word2Vec;
import io.jembed.io.wordvectors.WordVectors;
import io.jembed.vocab.Vocabulary;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Jazzer feeds every file reader arbitrary bytes. The property: the reader returns a value, or throws
 * {@link MalformedFileException} with a message naming the file; nothing else (no other exception, no over-read, no
 * allocation beyond what the bytes justify, no crash). Committed inputs, replayed by every test pass, live in
 * {@code java/src/test/resources/io/jembed/fuzz/FileFormatFuzzTestInputs/<method>/} (valid files of each format
 * among them); {@code scripts/fuzz-java 1 FileFormatFuzzTest#<method>} fuzzes one with coverage guidance.
 */
class FileFormatFuzzTest {
    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("jembed-file-fuzz");
            DIR.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FunctionalInterface
    interface Reader {
        void read(Path file) throws IOException;
    }

    private static void check(byte[] bytes, String name, Reader reader) {
        Path file = DIR.resolve(name);
        try {
            Files.write(file, bytes);
            reader.read(file);
        } catch (MalformedFileException e) {
            assertTrue(e.getMessage().startsWith(file.toString()) && !e.problem().isEmpty(), e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("an I/O failure that is not a MalformedFileException", e);
        } finally {
            file.toFile().delete();
        }
    }

    private static void closeAll(Map<String, Tensor> tensors) {
        tensors.values().forEach(Tensor::close);
    }

    @FuzzTest(maxDuration = "60s")
    void safetensorsFilesLoadOrAreRefused(byte[] bytes) {
        check(bytes, "f.safetensors", file -> closeAll(Safetensors.loadFile(file)));
        if (bytes.length >= 8) {
            try {
                SafetensorsHeader.parse(ByteBuffer.wrap(bytes), bytes.length, "buffer");
            } catch (MalformedFileException e) {
                assertTrue(e.getMessage().startsWith("buffer: "));
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().contains("header needs"), e.getMessage());   // a header longer than 8+N
            }
        }
    }

    @FuzzTest(maxDuration = "60s")
    void npyAndNpzFilesLoadOrAreRefused(byte[] bytes) {
        check(bytes, "f.npy", file -> Npy.load(file).close());
        check(bytes, "f.npz", file -> closeAll(Npz.load(file)));
        try {
            NpyHeader.parse(ByteBuffer.wrap(bytes), bytes.length, "buffer");
        } catch (MalformedFileException e) {
            assertTrue(e.getMessage().startsWith("buffer: "));
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("header needs"), e.getMessage());
        }
    }

    @FuzzTest(maxDuration = "60s")
    void wordVectorFilesLoadOrAreRefused(byte[] bytes) {
        check(bytes, "f.bin", file -> Word2Vec.loadBinary(file).close());
        check(bytes, "f.txt", file -> Word2Vec.loadText(file).close());
        check(bytes, "f.glove", file -> {
            try (WordVectors v = Glove.load(file)) {
                assertTrue(v.size() == v.vectors().size(0));
            }
        });
        check(bytes, "vocab.txt", file -> Vocabulary.load(file));
    }

    /** The bytes become data.pkl of an otherwise well-formed checkpoint: the restricted unpickler's input. */
    @FuzzTest(maxDuration = "60s")
    void checkpointPicklesLoadOrAreRefused(byte[] bytes) {
        Path file = DIR.resolve("f.pt");
        try {
            try (OutputStream raw = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(raw)) {
                stored(zip, "f/data.pkl", bytes);
                stored(zip, "f/data/0", new byte[16]);
            }
            try (TorchCheckpoint c = TorchCheckpoint.load(file)) {
                assertTrue(c.tensors().size() >= 0);
            }
        } catch (MalformedFileException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            file.toFile().delete();
        }
        check(bytes, "g.pt", file2 -> TorchCheckpoint.load(file2).close());
    }

    private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        CRC32 crc = new CRC32();
        crc.update(bytes);
        e.setSize(bytes.length);
        e.setCompressedSize(bytes.length);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(bytes);
        zip.closeEntry();
    }
}
