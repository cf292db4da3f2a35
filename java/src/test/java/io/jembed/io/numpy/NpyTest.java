package io.jembed.io.numpy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.Fixtures;
import io.jembed.io.MalformedFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NpyTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"table_f4_le.npy", "table_f4_be.npy", "table_f4_fortran.npy"})
    void numpyFloat32FilesLoadInEitherByteOrderAndLayout(String name) throws IOException {
        try (Tensor t = Npy.load(Fixtures.path(name))) {
            assertEquals(DType.FLOAT32, t.dtype());
            assertArrayEquals(new long[] {4, 3}, t.shape());
            assertArrayEquals(Fixtures.table(4, 3), t.toFloatArray());
        }
    }

    @Test
    void aLittleEndianCOrderFileMapsToTheValuesLoadReads() throws IOException {
        try (Tensor mapped = Npy.map(Fixtures.path("table_f4_le.npy"));
             Tensor loaded = Npy.load(Fixtures.path("table_f4_le.npy"));
             Tensor wide = Npy.map(Fixtures.path("table_f8_le.npy"))) {
            assertEquals(DType.FLOAT32, mapped.dtype());
            assertArrayEquals(new long[] {4, 3}, mapped.shape());
            assertArrayEquals(loaded.toFloatArray(), mapped.toFloatArray());
            assertEquals(DType.FLOAT64, wide.dtype());
            assertEquals(Fixtures.table(4, 3)[5], (float) wide.toDoubleArray()[5]);
            assertThrows(UnsupportedOperationException.class, () -> mapped.fill_(0));
            assertArrayEquals(loaded.toFloatArray(), mapped.toFloatArray(), "a refused write changed nothing");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"table_f4_be.npy", "table_f4_fortran.npy"})
    void filesThatNeedConvertingAreNotMappedAndSaySo(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Npy.map(Fixtures.path(name)).close());
        assertTrue(e.getMessage().contains("cannot be mapped as it is") && e.getMessage().contains("Npy.load"),
                e.getMessage());
    }

    @Test
    void aTruncatedFileIsRefusedBeforeMapping() throws IOException {
        byte[] whole = Files.readAllBytes(Fixtures.path("table_f4_le.npy"));
        Path cut = dir.resolve("cut.npy");
        Files.write(cut, Arrays.copyOf(whole, whole.length - 4));
        assertThrows(MalformedFileException.class, () -> Npy.map(cut).close());
    }

    @ParameterizedTest
    @ValueSource(strings = {"table_f8_le.npy", "table_f8_be.npy"})
    void numpyFloat64FilesLoad(String name) throws IOException {
        try (Tensor t = Npy.load(Fixtures.path(name))) {
            assertEquals(DType.FLOAT64, t.dtype());
            float[] expected = Fixtures.table(4, 3);
            double[] actual = t.toDoubleArray();
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 0.0);
            }
        }
    }

    @Test
    void headersDescribeTheBytesForMapping() throws IOException {
        Path le = Fixtures.path("table_f4_le.npy");
        try (FileChannel ch = FileChannel.open(le)) {
            NpyHeader h = NpyHeader.read(ch, le.toString());
            assertEquals("<f4", h.descr());
            assertEquals(0, h.dataOffset() % 64, "numpy aligns the data to 64 bytes");
            assertEquals(48, h.dataLength());
            assertEquals(ch.size(), h.dataOffset() + h.dataLength());
            assertTrue(h.mappable());
            ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(Fixtures.table(4, 3)[11], mapped.getFloat((int) h.dataOffset() + 44));
        }
        Path fortran = Fixtures.path("table_f4_fortran.npy");
        try (FileChannel ch = FileChannel.open(fortran)) {
            NpyHeader h = NpyHeader.read(ch, fortran.toString());
            assertTrue(h.fortranOrder());
            assertFalse(h.mappable());
        }
    }

    @Test
    void int64LoadsAsInt64() throws IOException {
        try (Tensor t = Npy.load(Fixtures.path("table_i8.npy"))) {
            assertEquals(DType.INT64, t.dtype());
            assertArrayEquals(new long[] {-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6}, t.toLongArray());
        }
    }

    @Test
    void npzArchivesLoadStoredAndDeflated() throws IOException {
        Map<String, Tensor> stored = Npz.load(Fixtures.path("tables.npz"));
        assertEquals(List.of("weight", "bias"), List.copyOf(stored.keySet()));
        assertArrayEquals(Fixtures.table(4, 3), stored.get("weight").toFloatArray());
        assertArrayEquals(new double[] {0, 1, 2}, stored.get("bias").toDoubleArray());
        stored.values().forEach(Tensor::close);
        Map<String, Tensor> deflated = Npz.load(Fixtures.path("tables_compressed.npz"));
        assertArrayEquals(Fixtures.table(4, 3), deflated.get("weight").toFloatArray());
        deflated.values().forEach(Tensor::close);
    }

    @Test
    void savedFilesLoadBackAndInNumpy() throws Exception {
        Path file = dir.resolve("t.npy");
        Path archive = dir.resolve("t.npz");
        try (Tensor t = Torch.tensor(Fixtures.table(4, 3), 4, 3);
             Tensor ids = Torch.tensor(new long[] {3, 1, 4}, 3)) {
            Npy.save(file, t);
            try (Tensor back = Npy.load(file)) {
                assertTrue(Torch.equal(t, back));
            }
            Map<String, Tensor> arrays = new LinkedHashMap<>();
            arrays.put("weight", t);
            arrays.put("ids", ids);
            Npz.save(archive, arrays);
            Map<String, Tensor> back = Npz.load(archive);
            assertTrue(Torch.equal(t, back.get("weight")));
            assertTrue(Torch.equal(ids, back.get("ids")));
            back.values().forEach(Tensor::close);
        }
        assumeTrue(Fixtures.pythonHas("numpy"), "python3-numpy is not installed");
        String out = Fixtures.python("import sys, numpy as np\n"
                + "a = np.load(sys.argv[1]); z = np.load(sys.argv[2])\n"
                + "print(a.dtype, a.shape, a.flags['C_CONTIGUOUS'], float(a[3, 2]), z['ids'].tolist(), "
                + "bool((z['weight'] == a).all()))", file.toString(), archive.toString());
        assertEquals("float32 (4, 3) True " + (double) Fixtures.table(4, 3)[11] + " [3, 1, 4] True", out.trim());
    }

    // ---- hostile files -----------------------------------------------------------------------------------

    private String problem(byte[] bytes) throws IOException {
        Path file = dir.resolve("bad.npy");
        Files.write(file, bytes);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Npy.load(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        return e.problem();
    }

    static byte[] npy(String dict, int dataBytes) {
        byte[] text = dict.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + text.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(NpyHeader.MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length).put(text);
        return b.array();
    }

    private static void assertContains(String expected, String actual) {
        assertTrue(actual.contains(expected), "expected '" + expected + "' in: " + actual);
    }

    @Test
    void hostileHeadersGiveClearExceptions() throws IOException {
        String ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        assertContains("no \\x93NUMPY magic", problem("hello world".getBytes()));
        assertContains("truncated", problem(new byte[] {(byte) 0x93, 'N', 'U'}));
        assertContains("needs 24 bytes of data but the file has 20 (truncated)", problem(npy(ok, 20)));
        assertContains("(trailing bytes)", problem(npy(ok, 28)));
        byte[] lying = npy(ok, 24);
        ByteBuffer.wrap(lying).order(ByteOrder.LITTLE_ENDIAN).putShort(8, (short) 9000);
        assertContains("longer than the file", problem(lying));
        assertContains("overflows", problem(npy("{'descr': '<f8', 'fortran_order': False, "
                + "'shape': (4294967296, 4294967296)}", 0)));
        assertContains("dtype '<c8' is not supported", problem(npy("{'descr': '<c8', 'fortran_order': False, "
                + "'shape': (1,)}", 8)));
        assertContains("duplicate key 'shape'", problem(npy("{'descr': '<f4', 'fortran_order': False, "
                + "'shape': (1,), 'shape': (1,)}", 4)));
        assertContains("exactly 'descr'", problem(npy("{'descr': '<f4', 'shape': (1,)}", 4)));
        assertContains("unsupported value", problem(npy("{'descr': '<f4', 'fortran_order': __import__('os'), "
                + "'shape': (1,)}", 4)));
        byte[] version9 = npy(ok, 24);
        version9[6] = 9;
        assertContains("unsupported .npy format version 9.0", problem(version9));
        ByteBuffer nan = ByteBuffer.wrap(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8))
                .order(ByteOrder.LITTLE_ENDIAN);
        nan.putFloat(nan.capacity() - 4, Float.POSITIVE_INFINITY);
        assertContains("holds Infinity at flat element 1", problem(nan.array()));
    }

    @Test
    void zipBombsAndLyingArchivesAreRefused() throws IOException {
        // A stored entry whose header claims far more data than the entry holds.
        byte[] liar = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,)}", 0);
        Path archive = dir.resolve("liar.npz");
        writeZip(archive, "w.npy", liar, ZipEntry.STORED);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Npz.load(archive));
        assertContains("needs 4000000000 bytes of data but the file has 0", e.getMessage());
        // A deflated entry that inflates to 200 MB of zeros (a bomb by ratio once the declared size is forged small
        // is caught by the header/size agreement; here the declared size is honest but the content is a bomb).
        Path bomb = dir.resolve("bomb.npz");
        byte[] header = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (50000000,)}", 0);
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(bomb))) {
            zip.putNextEntry(new ZipEntry("w.npy"));
            zip.write(header);
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 191; i++) {
                zip.write(zeros);
            }
            zip.closeEntry();
        }
        forgeDeclaredSize(bomb, 1000);
        e = assertThrows(MalformedFileException.class, () -> Npz.load(bomb));
        assertTrue(e.getMessage().contains(bomb.toString()), e.getMessage());
        Path notZip = dir.resolve("not.npz");
        Files.write(notZip, new byte[] {1, 2, 3});
        e = assertThrows(MalformedFileException.class, () -> Npz.load(notZip));
        assertContains("not a valid zip archive", e.getMessage());
    }

    private static void writeZip(Path file, String name, byte[] content, int method) throws IOException {
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            ZipEntry entry = new ZipEntry(name);
            entry.setMethod(method);
            if (method == ZipEntry.STORED) {
                CRC32 crc = new CRC32();
                crc.update(content);
                entry.setSize(content.length);
                entry.setCompressedSize(content.length);
                entry.setCrc(crc.getValue());
            }
            zip.putNextEntry(entry);
            zip.write(content);
            zip.closeEntry();
        }
    }

    /** Rewrites the uncompressed size in the central directory (a lying archive). */
    private static void forgeDeclaredSize(Path file, int size) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = bytes.length - 22; i >= 0; i--) {
            if (b.getInt(i) == 0x02014b50) {   // central directory file header
                b.putInt(i + 24, size);
                break;
            }
        }
        Files.write(file, bytes);
        assertFalse(Arrays.equals(bytes, new byte[0]));
    }
}
