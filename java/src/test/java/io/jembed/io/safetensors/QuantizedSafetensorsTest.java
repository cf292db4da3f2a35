package io.jembed.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.MalformedFileException;
import io.jembed.quantized.QuantizedDType;
import io.jembed.quantized.QuantizedOps;
import io.jembed.quantized.QuantizedTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quantized tables in safetensors files: saved as {@code U8 (rows, row_bytes)} with the layout recorded in
 * {@code __metadata__}, read back (into memory or mapped) to the same bytes, and refused with a clear message when
 * the record is missing, malformed or disagrees with the tensor.
 */
class QuantizedSafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void savedTablesLoadBackToTheSameBytesWithTheirLayoutRecorded() throws IOException {
        Path file = dir.resolve("tables.safetensors");
        try (Tensor w1 = Torch.randn(7, 5);
             Tensor w2 = Torch.randn(3, 16);
             QuantizedTable a = QuantizedTable.quantize(w1, QuantizedDType.QUINT8);
             QuantizedTable b = QuantizedTable.quantize(w2, QuantizedDType.QUINT8)) {
            Map<String, QuantizedTable> tables = new LinkedHashMap<>();
            tables.put("user", a);
            tables.put("item", b);
            QuantizedSafetensors.saveFile(tables, file, Map.of("note", "two tables"));
            try (FileChannel channel = FileChannel.open(file)) {
                SafetensorsHeader header = SafetensorsHeader.read(channel, file.toString());
                assertEquals(SafetensorsDType.U8, header.tensor("user").dtype());
                assertArrayEquals(new long[] {7, 13}, header.tensor("user").shape());
                assertEquals("two tables", header.metadata().get("note"));
                String record = header.metadata().get("jembed.quantized.user");
                assertTrue(record.contains("\"dtype\":\"torch.quint8\"") && record.contains("\"embedding_dim\":5")
                        && record.contains("\"row_bytes\":13"), record);
            }
            Map<String, QuantizedTable> loaded = QuantizedSafetensors.loadFile(file);
            try (QuantizedTable la = loaded.get("user");
                 QuantizedTable lb = loaded.get("item");
                 QuantizedTable mapped = QuantizedSafetensors.map(file, "item");
                 QuantizedTable explicit = QuantizedSafetensors.load(file, "user", QuantizedDType.QUINT8)) {
                assertEquals(2, loaded.size());
                assertArrayEquals(a.toByteArray(), la.toByteArray());
                assertArrayEquals(b.toByteArray(), lb.toByteArray());
                assertArrayEquals(b.toByteArray(), mapped.toByteArray());
                assertArrayEquals(a.toByteArray(), explicit.toByteArray());
                assertEquals(5, la.embeddingDim());
                try (Tensor idx = Torch.tensor(new long[] {2, 0});
                     Tensor fromMap = QuantizedOps.embedding(mapped, idx);
                     Tensor fromMemory = QuantizedOps.embedding(b, idx)) {
                    assertArrayEquals(fromMemory.toFloatArray(), fromMap.toFloatArray());
                }
            }
        }
    }

    @Test
    void aPrepackedTensorWithoutARecordLoadsWhenTheCallerNamesTheLayout() throws IOException {
        Path file = dir.resolve("pytorch.safetensors");
        byte[] packed = new byte[2 * 12];
        packed[3] = 42;
        writeU8(file, "emb", 2, 12, packed, null);
        try (QuantizedTable t = QuantizedSafetensors.load(file, "emb", QuantizedDType.QUINT8)) {
            assertEquals(4, t.embeddingDim());
            assertArrayEquals(packed, t.toByteArray());
        }
        assertEquals(0, QuantizedSafetensors.loadFile(file).size(), "tensors without a record are left out");
        MalformedFileException e = assertThrows(MalformedFileException.class,
                () -> QuantizedSafetensors.map(file, "emb"));
        assertTrue(e.getMessage().contains("no layout record jembed.quantized.emb"), e.getMessage());
    }

    @Test
    void recordsThatLieOrTensorsOfAnotherKindAreRefused() throws IOException {
        Path lying = dir.resolve("lying.safetensors");
        writeU8(lying, "emb", 2, 12, new byte[24],
                "{\"dtype\":\"torch.quint8\",\"embedding_dim\":5,\"row_bytes\":13}");
        MalformedFileException e = assertThrows(MalformedFileException.class,
                () -> QuantizedSafetensors.loadFile(lying));
        assertTrue(e.getMessage().contains("gives embedding_dim 5") && e.getMessage().contains(lying.toString()),
                e.getMessage());

        Path notJson = dir.resolve("notjson.safetensors");
        writeU8(notJson, "emb", 2, 12, new byte[24], "{dtype: 8}");
        e = assertThrows(MalformedFileException.class, () -> QuantizedSafetensors.loadFile(notJson));
        assertTrue(e.getMessage().contains("is not JSON"), e.getMessage());

        Path unknown = dir.resolve("unknown.safetensors");
        writeU8(unknown, "emb", 2, 12, new byte[24], "{\"dtype\":\"torch.qint2\",\"embedding_dim\":4}");
        e = assertThrows(MalformedFileException.class, () -> QuantizedSafetensors.loadFile(unknown));
        assertTrue(e.getMessage().contains("names dtype torch.qint2"), e.getMessage());

        Path shortRows = dir.resolve("short.safetensors");
        writeU8(shortRows, "emb", 2, 6, new byte[12], null);
        e = assertThrows(MalformedFileException.class,
                () -> QuantizedSafetensors.load(shortRows, "emb", QuantizedDType.QUINT8));
        assertTrue(e.getMessage().contains("rows of 6 bytes, too short"), e.getMessage());

        Path floats = dir.resolve("floats.safetensors");
        try (Tensor w = Torch.randn(2, 3)) {
            Safetensors.saveFile(Map.of("emb", w), floats);
        }
        e = assertThrows(MalformedFileException.class,
                () -> QuantizedSafetensors.load(floats, "emb", QuantizedDType.QUINT8));
        assertTrue(e.getMessage().contains("must be U8 of shape (num_embeddings, row_bytes)"), e.getMessage());
        e = assertThrows(MalformedFileException.class,
                () -> QuantizedSafetensors.load(floats, "missing", QuantizedDType.QUINT8));
        assertTrue(e.getMessage().contains("no tensor 'missing'"), e.getMessage());
    }

    /** A file with one U8 tensor, written by hand as the format's specification lays it out. */
    private static void writeU8(Path file, String name, long rows, long cols, byte[] data, String record)
            throws IOException {
        String metadata = record == null ? "" : "\"__metadata__\":{\"jembed.quantized." + name + "\":"
                + io.jembed.internal.io.Json.quote(record) + "},";
        byte[] header = ("{" + metadata + "\"" + name + "\":{\"dtype\":\"U8\",\"shape\":[" + rows + "," + cols
                + "],\"data_offsets\":[0," + data.length + "]}}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).put(data);
        Files.write(file, b.array());
    }
}
