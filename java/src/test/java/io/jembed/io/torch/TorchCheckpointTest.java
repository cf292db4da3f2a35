package io.jembed.io.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.io.Fixtures;
import io.jembed.io.MalformedFileException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointTest {
    @TempDir
    Path dir;

    /** model.pt: torch.save(model.state_dict()) from PyTorch 1.13 (scripts/make-io-fixtures). */
    @Test
    void stateDictOfPyTorchLoads() throws IOException {
        Map<String, Tensor> state = TorchCheckpoint.loadStateDict(Fixtures.path("model.pt"));
        try {
            assertEquals(List.of("embedding.weight", "linear.weight", "linear.bias"), new ArrayList<>(state.keySet()));
            Tensor weight = state.get("embedding.weight");
            assertEquals(DType.FLOAT32, weight.dtype());
            assertArrayEquals(new long[] {4, 3}, weight.shape());
            assertArrayEquals(Fixtures.table(4, 3), weight.toFloatArray());
            assertArrayEquals(new float[] {0, 0.125f, 0.25f, 0.375f, 0.5f, 0.625f},
                    state.get("linear.weight").toFloatArray());
            assertArrayEquals(new float[] {0.5f, -0.5f}, state.get("linear.bias").toFloatArray());
        } finally {
            state.values().forEach(Tensor::close);
        }
    }

    /** mixed.pt: views sharing one storage, float16, int32/int64, and plain values around them. */
    @Test
    void viewsSharedStoragesAndPrimitiveValuesLoad() throws IOException {
        try (TorchCheckpoint c = TorchCheckpoint.load(Fixtures.path("mixed.pt"))) {
            double[] table = new double[20];
            for (int i = 0; i < 20; i++) {
                table[i] = i / 8.0;
            }
            assertArrayEquals(table, c.tensor("table").toDoubleArray());
            assertArrayEquals(Arrays.copyOfRange(table, 5, 15), c.tensor("rows").toDoubleArray());
            assertArrayEquals(new long[] {2, 5}, c.tensor("rows").shape());
            assertArrayEquals(new double[] {1 / 8.0, 6 / 8.0, 11 / 8.0, 16 / 8.0}, c.tensor("column").toDoubleArray());
            assertArrayEquals(new long[] {0, 1, 2, 3, 4}, c.tensor("ids").toLongArray());
            assertArrayEquals(new float[] {1f, -2.5f, 65504f}, c.tensor("half").toFloatArray());
            assertEquals(DType.INT32, c.tensor("nested.tuple.0").dtype());
            Map<?, ?> root = (Map<?, ?>) c.root();
            assertEquals(7L, root.get("step"));
            assertEquals("fixture", root.get("name"));
            assertEquals(Arrays.asList(1L, 2.5, true, null), ((Map<?, ?>) root.get("nested")).get("list"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.tensor("nope"));
            assertTrue(e.getMessage().contains("no tensor named 'nope'"), e.getMessage());
        }
    }

    /** runs_code.pt: torch.save of an object whose __reduce__ is os.system; PyTorch's weights_only refuses it too. */
    @Test
    void aCheckpointThatWouldRunCodeIsRefused() {
        MalformedFileException e = assertThrows(MalformedFileException.class,
                () -> TorchCheckpoint.load(Fixtures.path("runs_code.pt")));
        assertTrue(e.getMessage().contains("global 'posix.system' is forbidden"), e.getMessage());
    }

    // ---- hostile archives -----------------------------------------------------------------------------------

    private Path archive(String pickle, byte[] data, int dataMethod) throws IOException {
        Path file = dir.resolve("bad.pt");
        try (OutputStream raw = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(raw)) {
            stored(zip, "bad/data.pkl", pickle.getBytes(StandardCharsets.ISO_8859_1));
            if (data != null) {
                if (dataMethod == ZipEntry.STORED) {
                    stored(zip, "bad/data/0", data);
                } else {
                    zip.putNextEntry(new ZipEntry("bad/data/0"));
                    zip.write(data);
                    zip.closeEntry();
                }
            }
        }
        return file;
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

    private String problem(Path file) {
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> TorchCheckpoint.load(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        return e.problem();
    }

    private static void assertContains(String expected, String actual) {
        assertTrue(actual.contains(expected), "expected '" + expected + "' in: " + actual);
    }

    /** A protocol-2 pickle of {'w': _rebuild_tensor_v2(storage('0', FloatStorage, numel), 0, size, stride)}. */
    static String tensorPickle(long numel, String size, String stride) {
        return "\u0080\u0002}q\u0000X\u0001\u0000\u0000\u0000wctorch._utils\n_rebuild_tensor_v2\n("
                + "(X\u0007\u0000\u0000\u0000storagectorch\nFloatStorage\nX\u0001\u0000\u0000\u00000X\u0003\u0000\u0000"
                + "\u0000cpuJ" + le32(numel) + "tQK\u0000" + size + stride + "\u0089ccollections\nOrderedDict\n)RtRs.";
    }

    static String le32(long v) {
        return new String(new char[] {(char) (v & 0xff), (char) ((v >> 8) & 0xff), (char) ((v >> 16) & 0xff),
            (char) ((v >> 24) & 0xff)});
    }

    @Test
    void aHandMadePickleOfTheSameShapeLoads() throws IOException {
        byte[] data = new byte[12];
        java.nio.ByteBuffer.wrap(data).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, 1.5f).putFloat(8, -2f);
        Path file = archive(tensorPickle(3, "K\u0003\u0085", "K\u0001\u0085"), data, ZipEntry.STORED);
        Map<String, Tensor> state = TorchCheckpoint.loadStateDict(file);
        assertArrayEquals(new float[] {1.5f, 0, -2f}, state.get("w").toFloatArray());
        state.values().forEach(Tensor::close);
    }

    @Test
    void hostileCheckpointsGiveClearExceptions() throws IOException {
        assertContains("global 'os.system' is forbidden",
                problem(archive("\u0080\u0002cos\nsystem\nX\u0002\u0000\u0000\u0000ls\u0085R.", null, 0)));
        assertContains("global 'builtins.eval' is forbidden",
                problem(archive("\u0080\u0004\u008c\u0008builtins\u008c\u0004eval\u0093.", null, 0)));
        assertContains("opcode 0x69 ('i') is not allowed", problem(archive("(iposix\nsystem\n.", null, 0)));
        assertContains("runs past the end of the pickle",
                problem(archive("\u0080\u0002X\u00ff\u00ff\u00ff\u007fabc.", null, 0)));
        assertContains("ends without STOP", problem(archive("\u0080\u0002]", null, 0)));
        assertContains("memo index 9 was never stored", problem(archive("\u0080\u0002h\u0009.", null, 0)));
        // The storage holds 3 floats but the tensor claims 4 of them.
        assertContains("reaches element 3 of a storage of 3",
                problem(archive(tensorPickle(3, "K\u0004\u0085", "K\u0001\u0085"), new byte[12], ZipEntry.STORED)));
        // The storage claims 1e9 floats but its record has 12 bytes: refused before allocating 4 GB.
        assertContains("needs 4000000000 bytes but its record has 12",
                problem(archive(tensorPickle(1_000_000_000L, "K\u0003\u0085", "K\u0001\u0085"), new byte[12],
                        ZipEntry.STORED)));
        assertContains("overflows", problem(archive(tensorPickle(3,
                "\u008a\u0008\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0040K\u0004\u0086",
                "K\u0001K\u0001\u0086"), new byte[12], ZipEntry.STORED)));
        Path notZip = dir.resolve("old.pt");
        Files.write(notZip, new byte[] {(byte) 0x80, 2, 'K', 1, '.'});
        assertContains("not a torch.save zip archive", problem(notZip));
    }

    @Test
    void zipBombsAreRefusedBeforeInflating() throws IOException {
        // 16 MB of zeros deflate to ~16 KB; the record then claims what the storage needs (honest ratio) or not.
        byte[] zeros = new byte[16 << 20];
        Path file = archive(tensorPickle(4 << 20, "J" + le32(4 << 20) + "\u0085", "K\u0001\u0085"), zeros,
                ZipEntry.DEFLATED);
        // Forge the declared size small: the record no longer matches the storage, nothing is inflated.
        byte[] bytes = Files.readAllBytes(file);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = bytes.length - 22; i >= 0; i--) {
            if (b.getInt(i) == 0x02014b50 && new String(bytes, i + 46, 10, StandardCharsets.US_ASCII)
                    .equals("bad/data/0")) {
                b.putInt(i + 24, 12);
                break;
            }
        }
        Files.write(file, bytes);
        assertContains("needs 16777216 bytes but its record has 12", problem(file));
    }
}
