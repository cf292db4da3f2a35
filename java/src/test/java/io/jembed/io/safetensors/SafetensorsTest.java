package io.jembed.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.Fixtures;
import io.jembed.io.MalformedFileException;
import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void readsEveryDtypeOfTheSpecificationFixture() throws IOException {
        Map<String, Tensor> tensors = Safetensors.loadFile(Fixtures.path("table.safetensors"));
        try {
            assertEquals(List.of("embedding.weight", "f64", "f16", "bf16", "i32", "i64", "empty"),
                    new ArrayList<>(tensors.keySet()), "file-offset order");
            Tensor weight = tensors.get("embedding.weight");
            assertEquals(DType.FLOAT32, weight.dtype());
            assertArrayEquals(new long[] {4, 3}, weight.shape());
            assertArrayEquals(Fixtures.table(4, 3), weight.toFloatArray());
            assertArrayEquals(new double[] {0.125, -0.5, 1e300, Double.MIN_VALUE}, tensors.get("f64").toDoubleArray());
            assertArrayEquals(new float[] {0f, 1f, -2f, 0.5f, 65504f, 0x1p-24f}, tensors.get("f16").toFloatArray());
            assertArrayEquals(new float[] {1f, -2.5f, 3.140625f}, tensors.get("bf16").toFloatArray());
            assertEquals(DType.INT32, tensors.get("i32").dtype());
            assertArrayEquals(new int[] {-1, 0, Integer.MAX_VALUE}, tensors.get("i32").toIntArray());
            assertArrayEquals(new long[] {Long.MIN_VALUE, 42}, tensors.get("i64").toLongArray());
            assertArrayEquals(new long[] {0, 3}, tensors.get("empty").shape());
        } finally {
            tensors.values().forEach(Tensor::close);
        }
    }

    @Test
    void safeOpenReadsTheHeaderAndOneTensorOnRequest() throws IOException {
        try (SafeOpen f = Safetensors.safeOpen(Fixtures.path("table.safetensors"))) {
            assertEquals(List.of("bf16", "embedding.weight", "empty", "f16", "f64", "i32", "i64"), f.keys());
            assertEquals(Map.of("format", "pt", "note", "built from the safetensors specification"), f.metadata());
            SafetensorsTensorInfo info = f.header().tensor("embedding.weight");
            assertEquals(SafetensorsDType.F32, info.dtype());
            assertEquals(48, info.byteLength());
            assertEquals(0, f.header().dataStart() % 8, "the header is padded to 8 bytes");
            try (Tensor t = f.getTensor("f16")) {
                assertEquals(65504f, t.toFloatArray()[4]);
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.getTensor("nope"));
            assertTrue(e.getMessage().contains("no tensor named 'nope'"), e.getMessage());
        }
    }

    @Test
    void headerParsesFromAMappedRegionWithoutReadingTheData() throws IOException {
        Path file = Fixtures.path("table.safetensors");
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            SafetensorsHeader fromMap = SafetensorsHeader.parse(mapped, ch.size(), file.toString());
            SafetensorsHeader fromChannel = SafetensorsHeader.read(ch, file.toString());
            assertEquals(fromChannel.names(), fromMap.names());
            SafetensorsTensorInfo info = fromMap.tensor("embedding.weight");
            assertEquals(Fixtures.table(4, 3)[1],
                    mapped.order(ByteOrder.LITTLE_ENDIAN).getFloat((int) info.fileOffset() + 4));
        }
    }

    @Test
    void writesWhatItReadsWithMetadataAndTheReferenceLayout() throws IOException {
        Path file = dir.resolve("out.safetensors");
        Map<String, Tensor> in = new LinkedHashMap<>();
        try (Tensor a = Torch.tensor(Fixtures.table(4, 3), 4, 3);
             Tensor b = Torch.tensor(new double[] {1.5, -2}, 2);
             Tensor c = Torch.tensor(new long[] {7, -8, 9}, 3);
             Tensor d = Torch.tensor(new int[] {1}, 1)) {
            in.put("z.weight", a);
            in.put("a.f64", b);
            in.put("ids", c);
            in.put("i32", d);
            Safetensors.saveFile(in, file, Map.of("vocabulary", "[\"a\",\"b\"]"));
            try (SafeOpen f = Safetensors.safeOpen(file)) {
                List<String> order = new ArrayList<>();
                f.header().tensors().forEach(t -> order.add(t.name()));
                assertEquals(List.of("ids", "a.f64", "z.weight", "i32"), order, "larger dtypes first, then by name");
                assertEquals("[\"a\",\"b\"]", f.metadata().get("vocabulary"));
                for (Map.Entry<String, Tensor> e : in.entrySet()) {
                    try (Tensor back = f.getTensor(e.getKey())) {
                        assertTrue(Torch.equal(e.getValue(), back), e.getKey());
                    }
                }
            }
        }
    }

    @Test
    void numpyReadsWhatJembedWrites() throws Exception {
        assumeTrue(Fixtures.pythonHas("numpy"), "python3-numpy is not installed");
        Path file = dir.resolve("np.safetensors");
        try (Tensor a = Torch.tensor(Fixtures.table(4, 3), 4, 3)) {
            Safetensors.saveFile(Map.of("w", a), file);
        }
        // An independent reader of the specification: json + numpy.frombuffer.
        String out = Fixtures.python("import json,struct,sys,numpy as np\n"
                + "b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n])\n"
                + "s,e=h['w']['data_offsets']; a=np.frombuffer(b[8+n+s:8+n+e],'<f4').reshape(h['w']['shape'])\n"
                + "print(h['w']['dtype'], list(a.shape), float(a.sum()), float(a[3,2]))", file.toString());
        float sum = 0;
        for (float v : Fixtures.table(4, 3)) {
            sum += v;
        }
        assertEquals("F32 [4, 3] " + (double) sum + " " + (double) Fixtures.table(4, 3)[11], out.trim());
    }

    @Test
    void nonFiniteValuesAreRefusedUnlessAllowed() throws IOException {
        Path file = dir.resolve("nan.safetensors");
        try (Tensor a = Torch.tensor(new float[] {1, Float.NaN, 3}, 3)) {
            Safetensors.saveFile(Map.of("w", a), file);
        }
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Safetensors.loadFile(file));
        assertTrue(e.getMessage().contains("tensor 'w' holds NaN at flat element 1"), e.getMessage());
        Map<String, Tensor> loaded = Safetensors.loadFile(file, ReadOptions.defaults().allowNonFinite(true));
        assertTrue(Float.isNaN(loaded.get("w").toFloatArray()[1]));
        loaded.values().forEach(Tensor::close);
    }

    @Test
    void progressReachesTheTotal() throws IOException {
        List<long[]> calls = new ArrayList<>();
        Map<String, Tensor> t = Safetensors.loadFile(Fixtures.path("table.safetensors"),
                ReadOptions.defaults().progress((done, total) -> calls.add(new long[] {done, total})));
        t.values().forEach(Tensor::close);
        long[] last = calls.get(calls.size() - 1);
        assertEquals(last[1], last[0]);
        assertEquals(48 + 32 + 12 + 6 + 12 + 16, last[1]);
    }

    // ---- hostile files -----------------------------------------------------------------------------------

    static byte[] file(String json, int dataBytes) {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        return b.array();
    }

    private String problem(byte[] bytes) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, bytes);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Safetensors.loadFile(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), "names the file: " + e.getMessage());
        return e.problem();
    }

    private static void assertContains(String expected, String actual) {
        assertTrue(actual.contains(expected), "expected '" + expected + "' in: " + actual);
    }

    @Test
    void hostileHeadersGiveClearExceptions() throws IOException {
        String ok = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertContains("truncated", problem(new byte[5]));
        byte[] longHeader = file(ok, 8);
        ByteBuffer.wrap(longHeader).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
        assertContains("header length 1000 is longer than the file", problem(longHeader));
        ByteBuffer.wrap(longHeader).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1);
        assertContains("exceeds the limit", problem(longHeader));
        assertContains("cover only 8", problem(file(ok, 12)));
        assertContains("past the end", problem(file(ok, 4)));
        assertContains("overlaps", problem(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)));
        assertContains("hole", problem(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)));
        assertContains("overflows", problem(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                + "\"data_offsets\":[0,8]}}", 8)));
        assertContains("needs 12 bytes but data_offsets [0, 8) hold 8",
                problem(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)));
        assertContains("duplicate key \"a\"", problem(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
                + "[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)));
        assertContains("unknown dtype \"F128\"",
                problem(file("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16)));
        assertContains("cannot load", problem(file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1)));
        assertContains("negative size", problem(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0)));
        assertContains("must start with '{'", problem(file("[1]", 0)));
        assertContains("invalid JSON", problem(file("{\"a\":", 0)));
        byte[] notUtf8 = file("{\"\u00e9\":{}}", 0);
        notUtf8[10] = (byte) 0xff;
        assertContains("not valid UTF-8", problem(notUtf8));
        assertContains("nested deeper", problem(file("{\"__metadata__\":" + "[".repeat(100) + "]".repeat(100) + "}", 0)));
        assertContains("\"__metadata__\" value of \"k\" must be a string",
                problem(file("{\"__metadata__\":{\"k\":1}}", 0)));
    }

    @Test
    void truncatedDataIsReportedAsTruncated() throws IOException {
        // The header is validated against the file's size, so truncation shows up there, naming the tensor.
        byte[] whole = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16);
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 3);
        assertContains("tensor 'w' data_offsets [0, 16) point past the end", problem(cut));
    }
}
