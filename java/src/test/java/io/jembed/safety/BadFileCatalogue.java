package io.jembed.safety;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.Tensor;
import io.jembed.io.MalformedFileException;
import io.jembed.io.numpy.Npy;
import io.jembed.io.numpy.Npz;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.io.torch.TorchCheckpoint;
import io.jembed.io.wordvectors.Glove;
import io.jembed.io.wordvectors.Word2Vec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The bad-file half of the catalogue of rejected input ({@link BadInputCatalogueTest} runs it): one row per kind of
 * hostile file, each refused with a {@link MalformedFileException} whose message starts with the file's path and
 * contains the fragment. The readers' own tests hold more cases per format.
 */
final class BadFileCatalogue {
    private BadFileCatalogue() {}

    @FunctionalInterface
    interface Reader {
        void read(Path file) throws IOException;
    }

    /** A file's bytes and the reader that must refuse them. */
    static final class Case {
        final byte[] bytes;
        final Reader reader;

        Case(byte[] bytes, Reader reader) {
            this.bytes = bytes;
            this.reader = reader;
        }

        @Override
        public String toString() {
            return bytes.length + " bytes";
        }
    }

    private static final Reader SAFETENSORS = f -> Safetensors.loadFile(f).values().forEach(Tensor::close);
    private static final Reader NPY = f -> Npy.load(f).close();
    private static final Reader NPZ = f -> Npz.load(f).values().forEach(Tensor::close);
    private static final Reader W2V_TEXT = f -> Word2Vec.loadText(f).close();
    private static final Reader W2V_BINARY = f -> Word2Vec.loadBinary(f).close();
    private static final Reader GLOVE = f -> Glove.load(f).close();
    private static final Reader TORCH = f -> TorchCheckpoint.load(f).close();

    static Stream<Arguments> rows() throws IOException {
        List<Arguments> rows = new ArrayList<>();
        String f32x2 = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        add(rows, "safetensors: truncated inside the length", "truncated", new byte[3], SAFETENSORS);
        add(rows, "safetensors: header longer than the file", "is longer than the file",
                withLength(safetensors(f32x2, 8), 4096), SAFETENSORS);
        add(rows, "safetensors: offsets past the end", "point past the end", safetensors(f32x2, 4), SAFETENSORS);
        add(rows, "safetensors: overlapping offsets", "overlaps", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":"
                + "[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                SAFETENSORS);
        add(rows, "safetensors: shape product overflows", "overflows", safetensors("{\"a\":{\"dtype\":\"F64\","
                + "\"shape\":[3037000500,3037000500],\"data_offsets\":[0,8]}}", 8), SAFETENSORS);
        add(rows, "safetensors: dtype and byte size disagree", "needs 16 bytes but data_offsets [0, 8) hold 8",
                safetensors("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), SAFETENSORS);
        add(rows, "safetensors: duplicate names", "duplicate key", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":"
                + "[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                SAFETENSORS);
        byte[] nan = safetensors(f32x2, 8);
        ByteBuffer.wrap(nan).order(ByteOrder.LITTLE_ENDIAN).putFloat(nan.length - 4, Float.NaN);
        add(rows, "safetensors: NaN in the table", "holds NaN", nan, SAFETENSORS);
        add(rows, "npy: truncated data", "(truncated)", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
                20), NPY);
        add(rows, "npy: shape product overflows", "overflows", npy("{'descr': '<f8', 'fortran_order': False, "
                + "'shape': (4294967296, 4294967296)}", 0), NPY);
        add(rows, "npy: header that is code, not a literal", "unsupported value", npy("{'descr': '<f4', "
                + "'fortran_order': __import__('os').system('ls'), 'shape': (1,)}", 4), NPY);
        add(rows, "npz: stored entry smaller than its array", "the file has 0", zip("w.npy",
                npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,)}", 0)), NPZ);
        add(rows, "word2vec text: fewer vectors than the header", "(truncated)", utf8("3 2\na 1 2\nb 3 4\n"),
                W2V_TEXT);
        add(rows, "word2vec text: non-UTF-8 word", "not valid UTF-8",
                "1 1\ncaf\u00e9 1\n".getBytes(StandardCharsets.ISO_8859_1), W2V_TEXT);
        add(rows, "word2vec text: Inf value", "is Infinity", utf8("1 2\na 1 inf\n"), W2V_TEXT);
        add(rows, "GloVe: duplicate words", "duplicate word 'a'", utf8("a 1\nb 2\na 3\n"), GLOVE);
        add(rows, "word2vec binary: header promising a huge table", "promises 1000000000 vectors",
                utf8("1000000000 300\nab"), W2V_BINARY);
        add(rows, "torch: pickle naming os.system", "global 'os.system' is forbidden",
                zip("a/data.pkl", "\u0080\u0002cos\nsystem\nX\u0002\u0000\u0000\u0000ls\u0085R."
                        .getBytes(StandardCharsets.ISO_8859_1)), TORCH);
        add(rows, "torch: pickle string longer than the pickle", "runs past the end",
                zip("a/data.pkl", "\u0080\u0002X\u00ff\u00ff\u00ff\u007f.".getBytes(StandardCharsets.ISO_8859_1)),
                TORCH);
        add(rows, "torch: not a zip archive (legacy or garbage)", "not a torch.save zip archive",
                new byte[] {(byte) 0x80, 2, 'K', 1, '.'}, TORCH);
        return rows.stream();
    }

    private static void add(List<Arguments> rows, String name, String fragment, byte[] bytes, Reader reader) {
        rows.add(Arguments.of(name, fragment, new Case(bytes, reader)));
    }

    static void check(String fragment, Case c) throws IOException {
        Path dir = Files.createTempDirectory("jembed-bad-file");
        Path file = dir.resolve("bad");
        try {
            Files.write(file, c.bytes);
            MalformedFileException e = assertThrows(MalformedFileException.class, () -> c.reader.read(file));
            assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
            assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] safetensors(String json, int dataBytes) {
        byte[] header = utf8(json);
        return ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).array();
    }

    private static byte[] withLength(byte[] file, long length) {
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
        return file;
    }

    private static byte[] npy(String dict, int dataBytes) {
        byte[] text = dict.getBytes(StandardCharsets.ISO_8859_1);
        return ByteBuffer.allocate(10 + text.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length)
                .put(text).array();
    }

    private static byte[] zip(String name, byte[] content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            ZipEntry e = new ZipEntry(name);
            e.setMethod(ZipEntry.STORED);
            CRC32 crc = new CRC32();
            crc.update(content);
            e.setSize(content.length);
            e.setCompressedSize(content.length);
            e.setCrc(crc.getValue());
            zip.putNextEntry(e);
            zip.write(content);
            zip.closeEntry();
        }
        return out.toByteArray();
    }

}
