package io.jembed.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.HalfTensors;
import io.jembed.Tensor;
import io.jembed.io.Fixtures;
import io.jembed.io.MalformedFileException;
import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * safetensors F16 and BF16: kept bit for bit as float16/bfloat16 tensors with
 * {@code ReadOptions.keepReducedPrecision(true)} (widened to float32 by default, as before), and written as F16/BF16
 * in the reference layout, so that the file's bytes are the tensor's.
 */
class SafetensorsHalfPrecisionTest {
    @TempDir
    Path dir;

    @Test
    void theSpecificationFixturesHalfTensorsAreKeptBitForBitWhenAsked() throws IOException {
        ReadOptions keep = ReadOptions.defaults().keepReducedPrecision(true);
        Map<String, Tensor> kept = Safetensors.loadFile(Fixtures.path("table.safetensors"), keep);
        Map<String, Tensor> widened = Safetensors.loadFile(Fixtures.path("table.safetensors"));
        try {
            assertEquals(DType.FLOAT16, kept.get("f16").dtype());
            assertEquals(DType.BFLOAT16, kept.get("bf16").dtype());
            assertEquals(DType.FLOAT32, widened.get("f16").dtype(), "the default is unchanged: widened");
            // The fixture's values (SafetensorsTest): 0, 1, -2, 0.5, 65504, 2^-24 and 1, -2.5, 3.140625.
            assertArrayEquals(new short[] {0x0000, 0x3C00, (short) 0xC000, 0x3800, 0x7BFF, 0x0001},
                    HalfTensors.toBits(kept.get("f16")));
            assertArrayEquals(new short[] {0x3F80, (short) 0xC020, 0x4049}, HalfTensors.toBits(kept.get("bf16")));
            assertArrayEquals(widened.get("f16").toFloatArray(), kept.get("f16").toFloatArray());
            assertArrayEquals(widened.get("bf16").toFloatArray(), kept.get("bf16").toFloatArray());
            assertEquals(DType.FLOAT32, kept.get("embedding.weight").dtype(), "other dtypes are as before");
        } finally {
            kept.values().forEach(Tensor::close);
            widened.values().forEach(Tensor::close);
        }
    }

    @Test
    void halfTensorsAreWrittenAsF16AndBF16AndReadBackWithTheirBits() throws IOException {
        short[] half = {0x7C01, (short) 0xFE37, 0x0001, (short) 0x8000, 0x3C00, 0x7BFF};
        short[] brain = {0x7FC0, 0x0001, (short) 0xBF80, 0x4049};
        Path file = dir.resolve("half.safetensors");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("h", HalfTensors.fromBits(DType.FLOAT16, half, 2, 3));
        tensors.put("b", HalfTensors.fromBits(DType.BFLOAT16, brain, 4));
        try {
            Safetensors.saveFile(tensors, file);
        } finally {
            tensors.values().forEach(Tensor::close);
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) buffer.getLong(0);
        String header = new String(bytes, 8, headerLength, StandardCharsets.UTF_8);
        // The reference writer's order: larger dtypes first (BF16 sorts after F16 in its list), then by name.
        assertTrue(header.startsWith("{\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[8,20]}}"), header);
        for (int i = 0; i < brain.length; i++) {
            assertEquals(brain[i], buffer.getShort(8 + headerLength + 2 * i), "BF16 element " + i);
        }
        for (int i = 0; i < half.length; i++) {
            assertEquals(half[i], buffer.getShort(8 + headerLength + 8 + 2 * i), "F16 element " + i);
        }
        ReadOptions keep = ReadOptions.defaults().keepReducedPrecision(true).allowNonFinite(true);
        try (SafeOpen f = Safetensors.safeOpen(file, keep);
             Tensor h = f.getTensor("h");
             Tensor b = f.getTensor("b")) {
            assertArrayEquals(new long[] {2, 3}, h.shape());
            assertArrayEquals(half, HalfTensors.toBits(h));
            assertArrayEquals(brain, HalfTensors.toBits(b));
        }
    }

    @Test
    void nonFiniteHalfValuesAreRefusedUnlessAllowedWhetherKeptOrWidened() throws IOException {
        Path file = dir.resolve("nan.safetensors");
        try (Tensor t = HalfTensors.fromBits(DType.FLOAT16, new short[] {0x3C00, 0x7E00}, 2)) {
            Safetensors.saveFile(Map.of("t", t), file);
        }
        for (boolean keep : new boolean[] {true, false}) {
            MalformedFileException e = assertThrows(MalformedFileException.class, () -> Safetensors.loadFile(file,
                    ReadOptions.defaults().keepReducedPrecision(keep)));
            assertTrue(e.getMessage().contains("NaN at flat element 1"), e.getMessage());
        }
    }
}
