package io.jembed.mapped;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.Fixtures;
import io.jembed.io.MalformedFileException;
import io.jembed.io.safetensors.SafeOpen;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.nn.Embedding;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code MappedTensors} (safe_open with mapped tensors): the tensors of the specification-built fixture and of
 * jembed's own writer map to the values {@code Safetensors} reads; F16/BF16 map as float16/bfloat16, bit for bit;
 * lying headers are {@code MalformedFileException}s naming the file; mapped tables serve {@code Embedding} lookups
 * and refuse writes.
 */
class MappedTensorsTest {
    @TempDir
    Path dir;

    @Test
    void everyMappableTensorOfTheFixtureHasTheValuesTheReaderReads() throws IOException {
        Path file = Fixtures.path("table.safetensors");
        MappedTensors mapped = MappedTensors.safeOpen(file);
        try (SafeOpen read = Safetensors.safeOpen(file)) {
            assertEquals(read.keys(), mapped.keys());
            assertEquals(read.metadata(), mapped.metadata());
            for (String name : List.of("embedding.weight", "f64", "i32", "i64", "empty")) {
                try (Tensor m = mapped.getTensor(name); Tensor r = read.getTensor(name)) {
                    assertEquals(r.dtype(), m.dtype(), name);
                    assertArrayEquals(r.shape(), m.shape(), name);
                    assertArrayEquals(r.toDoubleArray(), m.toDoubleArray(), name);
                }
            }
        }
        try (Tensor weight = mapped.getTensor("embedding.weight")) {
            assertArrayEquals(Fixtures.table(4, 3), weight.toFloatArray());
        }
    }

    @Test
    void halfPrecisionTensorsMapAsFloat16AndBFloat16WithTheReadersBits() throws IOException {
        Path file = Fixtures.path("table.safetensors");
        MappedTensors mapped = MappedTensors.safeOpen(file);
        try (SafeOpen kept = Safetensors.safeOpen(file, io.jembed.io.ReadOptions.defaults()
                .keepReducedPrecision(true))) {
            for (String name : List.of("f16", "bf16")) {
                try (Tensor m = mapped.getTensor(name); Tensor r = kept.getTensor(name)) {
                    assertEquals(name.equals("f16") ? DType.FLOAT16 : DType.BFLOAT16, m.dtype(), name);
                    assertEquals(r.dtype(), m.dtype(), name);
                    assertArrayEquals(io.jembed.HalfTensors.toBits(r), io.jembed.HalfTensors.toBits(m), name);
                }
            }
        }
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> mapped.getTensor("nope"));
        assertTrue(unknown.getMessage().contains("embedding.weight"), unknown.getMessage());
    }

    @Test
    void aTableJembedWroteIsLookedUpFromItsMappingAndRefusesWrites() throws IOException {
        Path file = dir.resolve("model.safetensors");
        float[] values = new float[100 * 7];
        for (int k = 0; k < values.length; k++) {
            values[k] = (float) Math.sin(k);
        }
        try (Tensor table = Torch.tensor(values, 100, 7)) {
            Safetensors.saveFile(Map.of("emb.weight", table), file);
        }
        try (Tensor weight = MappedTensors.safeOpen(file).getTensor("emb.weight");
             Embedding embedding = Embedding.fromPretrained(weight);
             Tensor idx = Torch.tensor(new long[] {99, 0, 42});
             Tensor out = embedding.forward(idx)) {
            float[] got = out.toFloatArray();
            long[] rows = {99, 0, 42};
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 7; j++) {
                    assertEquals(values[(int) rows[i] * 7 + j], got[i * 7 + j]);
                }
            }
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> weight.fill_(0));
            assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
        }
    }

    /** A one-tensor safetensors file whose header says what {@code json} says, followed by {@code dataBytes}. */
    private Path lyingFile(String name, String json, int dataBytes) throws IOException {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bytes = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putLong(header.length).put(header);
        Path file = dir.resolve(name);
        Files.write(file, bytes.array());
        return file;
    }

    @Test
    void lyingHeadersAreMalformedFilesNamingTheFile() throws IOException {
        Path pastEnd = lyingFile("past-end.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1000,1000],\"data_offsets\":[0,4000000]}}", 16);
        Path headerTooLong = dir.resolve("header-too-long.safetensors");
        Files.write(headerTooLong, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        Path shapeMismatch = lyingFile("shape-mismatch.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,16]}}", 16);
        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, new byte[] {1, 2, 3});
        for (Path file : List.of(pastEnd, headerTooLong, shapeMismatch, truncated)) {
            MalformedFileException e = assertThrows(MalformedFileException.class, () -> MappedTensors.safeOpen(file),
                    file.getFileName().toString());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
        try (Tensor ok = MappedTensors.safeOpen(lyingFile("fine.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16)).getTensor("w")) {
            assertEquals(DType.FLOAT32, ok.dtype());
            assertArrayEquals(new float[4], ok.toFloatArray());
        }
    }
}
