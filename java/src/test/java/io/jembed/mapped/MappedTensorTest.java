package io.jembed.mapped;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingOptions;
import io.jembed.nn.functional.F;
import io.jembed.optim.SGD;
import io.jembed.optim.SGDOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read-only memory-mapped tables ({@code Torch.fromFile}, PyTorch's {@code torch.from_file} / NumPy's
 * {@code memmap(mode='r')}): lookups give the bits of the same table in memory on either backend, at any offset in
 * the file and past 2^31 elements; writes are refused naming the file and change nothing; bad ranges are clear
 * exceptions; close unmaps at once.
 */
class MappedTensorTest {
    @TempDir
    Path dir;

    /** A file of {@code header} junk bytes, then {@code values} as little-endian float32. */
    private Path writeFloats(String name, int header, float[] values) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(header + 4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < header; k++) {
            bytes.put((byte) (k * 37 + 1));
        }
        for (float v : values) {
            bytes.putFloat(v);
        }
        Path file = dir.resolve(name);
        Files.write(file, bytes.array());
        return file;
    }

    private static float[] randomTable(int rows, int dim, long seed) {
        Random random = new Random(seed);
        float[] table = new float[rows * dim];
        for (int k = 0; k < table.length; k++) {
            table[k] = (float) random.nextGaussian();
        }
        return table;
    }

    @Test
    void lookupsInAMappedTableGiveTheBitsOfTheSameTableInMemory() throws IOException {
        int rows = 1000;
        int dim = 37;
        float[] values = randomTable(rows, dim, 1);
        // Offset 13: tables in files start wherever the header ends, not on any alignment.
        Path file = writeFloats("table.bin", 13, values);
        long[][] batch = {{0, 999, 5, 5}, {17, 400, 998, 1}};
        try (Tensor mapped = Torch.fromFile(file, DType.FLOAT32, 13, new long[] {rows, dim});
             Tensor inMemory = Torch.tensor(values, rows, dim);
             Tensor idx = Torch.tensor(batch);
             Tensor fromMap = F.embedding(idx, mapped);
             Tensor fromMemory = F.embedding(idx, inMemory)) {
            assertArrayEquals(new long[] {rows, dim}, mapped.shape());
            assertArrayEquals(fromMemory.toFloatArray(), fromMap.toFloatArray());
            assertArrayEquals(values, mapped.toFloatArray());
            assertEquals(values[998 * dim + 36], mapped.getDouble(998, 36), 0.0);
            // The nearest-neighbour scan reads the mapping as it reads memory.
            try (Tensor query = Torch.tensor(java.util.Arrays.copyOfRange(values, 5 * dim, 6 * dim));
                 io.jembed.TopK fromMapTop = F.cosineTopK(mapped, query, 7);
                 io.jembed.TopK fromMemoryTop = F.cosineTopK(inMemory, query, 7)) {
                assertEquals(5, fromMapTop.indices().getLong(0));
                assertArrayEquals(fromMemoryTop.indices().toLongArray(), fromMapTop.indices().toLongArray());
                assertArrayEquals(fromMemoryTop.values().toFloatArray(), fromMapTop.values().toFloatArray());
            }
        }
    }

    @Test
    void theEmbeddingModuleLooksUpAFrozenMappedTable() throws IOException {
        float[] values = randomTable(50, 8, 2);
        Path file = writeFloats("module.bin", 64, values);
        try (Tensor mapped = Torch.fromFile(file, DType.FLOAT32, 64, new long[] {50, 8});
             Embedding embedding = Embedding.fromPretrained(mapped);
             Tensor idx = Torch.tensor(new long[] {3, 49, 0});
             Tensor out = embedding.forward(idx)) {
            float[] got = out.toFloatArray();
            for (int i = 0; i < 3; i++) {
                int row = (int) new long[] {3, 49, 0}[i];
                for (int j = 0; j < 8; j++) {
                    assertEquals(values[row * 8 + j], got[i * 8 + j]);
                }
            }
        }
    }

    @Test
    void writesIntoAMappedTableAreRefusedNamingTheFileAndChangeNothing() throws IOException {
        float[] values = randomTable(20, 4, 3);
        for (int k = 0; k < 4; k++) {
            values[4 * 7 + k] = 100f; // row 7's norm is 200, above any max_norm below
        }
        Path file = writeFloats("readonly.bin", 8, values);
        try (Tensor mapped = Torch.fromFile(file, DType.FLOAT32, 8, new long[] {20, 4});
             Tensor idx = Torch.tensor(new long[] {7, 1})) {
            List<Runnable> writes = List.of(
                    () -> mapped.set(1.0, 0, 0),
                    () -> mapped.fill_(0.0),
                    () -> mapped.zero_(),
                    () -> mapped.normal_(0, 1),
                    () -> mapped.uniform_(-1, 1),
                    () -> mapped.copyFrom(new float[80]),
                    () -> mapped.copy_(Torch.zeros(DType.FLOAT32, 20, 4)),
                    () -> F.embedding(idx, mapped, null, 1.0, 2.0, false, false),
                    () -> new SGD(List.of(mapped), new SGDOptions(0.1)));
            for (Runnable write : writes) {
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, write::run);
                assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
                assertTrue(e.getMessage().contains("clone()"), e.getMessage());
            }
            try (Embedding renormed = new Embedding(new EmbeddingOptions(20, 4).weight(mapped).maxNorm(1.0))) {
                assertThrows(UnsupportedOperationException.class, () -> renormed.forward(idx));
            }
            assertArrayEquals(values, mapped.toFloatArray());
            // The copy a user asks for is writable and leaves the file alone.
            try (Tensor copy = mapped.clone();
                 Tensor out = F.embedding(idx, copy, null, 1.0, 2.0, false, false)) {
                assertEquals(1.0, Math.sqrt(sumOfSquares(out.toFloatArray(), 0, 4)), 1e-5);
                copy.set(-5.0, 0, 0);
                assertEquals(-5.0, copy.getDouble(0, 0));
            }
            assertArrayEquals(values, mapped.toFloatArray());
        }
    }

    private static double sumOfSquares(float[] a, int from, int count) {
        double sum = 0;
        for (int k = from; k < from + count; k++) {
            sum += (double) a[k] * a[k];
        }
        return sum;
    }

    @Test
    void rangesTheFileDoesNotHoldAreClearExceptions() throws IOException {
        Path file = writeFloats("short.bin", 16, new float[10]); // 56 bytes
        IOException shortFile = assertThrows(IOException.class,
                () -> Torch.fromFile(file, DType.FLOAT32, 16, new long[] {11}));
        assertTrue(shortFile.getMessage().contains(file.toString()) && shortFile.getMessage().contains("56 bytes"),
                shortFile.getMessage());
        assertThrows(IOException.class, () -> Torch.fromFile(file, DType.FLOAT32, 57, new long[] {0}));
        IOException missing = assertThrows(IOException.class,
                () -> Torch.fromFile(dir.resolve("missing.bin"), DType.FLOAT32, 0, new long[] {1}));
        assertTrue(missing.getMessage().contains("missing.bin"), missing.getMessage());
        assertThrows(IOException.class, () -> Torch.fromFile(dir, DType.FLOAT32, 0, new long[] {0}));
        assertThrows(IllegalArgumentException.class, () -> Torch.fromFile(file, DType.FLOAT32, -1, new long[] {1}));
        assertThrows(IllegalArgumentException.class, () -> Torch.fromFile(file, DType.FLOAT32, 0, new long[] {-1}));
        assertThrows(IllegalArgumentException.class,
                () -> Torch.fromFile(file, DType.FLOAT64, 0, new long[] {1L << 62, 4}));
        // Exactly the whole file, and an empty tensor at its very end, are fine.
        try (Tensor whole = Torch.fromFile(file, DType.FLOAT32, 16, new long[] {10});
             Tensor empty = Torch.fromFile(file, DType.FLOAT32, 56, new long[] {0, 3})) {
            assertEquals(10, whole.numel());
            assertEquals(0, empty.numel());
        }
    }

    @Test
    void closeUnmapsTheFileAtOnceAndLaterUseThrows() throws IOException {
        Path file = writeFloats("unmap.bin", 0, randomTable(4096, 4, 4));
        Tensor mapped = Torch.fromFile(file, DType.FLOAT32, 0, new long[] {4096, 4});
        assertEquals(1, mappingsOf(file), "mapped once");
        mapped.close();
        assertEquals(0, mappingsOf(file), "unmapped by close(), not by a later garbage collection");
        assertTrue(mapped.isClosed());
        assertThrows(IllegalStateException.class, () -> mapped.getDouble(0, 0));
        try (Tensor idx = Torch.tensor(new long[] {1})) {
            assertThrows(IllegalStateException.class, () -> F.embedding(idx, mapped));
        }
        mapped.close(); // harmless when repeated
    }

    /** The mappings of {@code file} in this process, from /proc/self/maps (Linux; -1 elsewhere, skipped). */
    private static long mappingsOf(Path file) throws IOException {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return -1;
        }
        String name = file.toRealPath().toString();
        try (var lines = Files.lines(maps)) {
            return lines.filter(line -> line.endsWith(" " + name)).count();
        }
    }

    @Test
    void aSparseTableOfMoreThanTwoToThe31ElementsIsLookedUpPastEveryWindow() throws IOException {
        // 2^31 + 2^20 float32 elements (8 GiB + 4 MiB) in a sparse file: no disk or memory is used but for the
        // rows written. dim 3: 12-byte rows straddle the 1 GiB windows of the Java fallback.
        long dim = 3;
        long rows = ((1L << 31) + (1L << 20)) / dim;
        long header = 40;
        Path file = dir.resolve("huge.bin");
        long[] picked = {0, (1L << 30) / 12, (1L << 31) / 3 + 1, rows - 1};
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1), header + rows * dim * 4 - 1); // sets the length, writes nothing else
            for (long row : picked) {
                ByteBuffer bytes = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
                for (long j = 0; j < dim; j++) {
                    bytes.putFloat(row * 10 + j + 0.5f);
                }
                bytes.flip();
                channel.write(bytes, header + row * dim * 4);
            }
        }
        try (Tensor mapped = Torch.fromFile(file, DType.FLOAT32, header, new long[] {rows, dim});
             Tensor idx = Torch.tensor(new long[] {picked[3], picked[1], 5, picked[2], picked[0]});
             Tensor out = F.embedding(idx, mapped)) {
            assertTrue(mapped.numel() > Integer.MAX_VALUE);
            float[] got = out.toFloatArray();
            long[] order = {picked[3], picked[1], 5, picked[2], picked[0]};
            for (int i = 0; i < order.length; i++) {
                for (int j = 0; j < dim; j++) {
                    float expected = order[i] == 5 ? 0f : order[i] * 10 + j + 0.5f;
                    assertEquals(expected, got[(int) (i * dim + j)], "row " + order[i]);
                }
            }
            assertFalse(mapped.isClosed());
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
