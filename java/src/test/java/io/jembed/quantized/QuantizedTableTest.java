package io.jembed.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagFromPretrainedOptions;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.EmbeddingFromPretrainedOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The quantized table's policies (rows it refuses, rows it keeps exactly, the tiny-range pitfall), its byte layout
 * read back by hand, the modules (shapes, repr, what {@code fromFloat} refuses), and concurrent lookups.
 */
class QuantizedTableTest {

    @Test
    void rowsWithNaNOrInfinityAreRefusedNamingRowColumnAndValue() {
        try (Tensor nan = Torch.tensor(new float[] {1, 2, 3, 4, 5, Float.NaN}, 2, 3);
             Tensor inf = Torch.tensor(new float[] {1, Float.NEGATIVE_INFINITY, 3, 4}, 2, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> QuantizedTable.quantize(nan, QuantizedDType.QUINT8));
            assertTrue(e.getMessage().contains("row 1 holds NaN at column 2"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> QuantizedTable.quantize(inf, QuantizedDType.QUINT8));
            assertTrue(e.getMessage().contains("row 0 holds -Infinity at column 1"), e.getMessage());
        }
    }

    @Test
    void aRangeThatOverflowsFloatIsRefused() {
        try (Tensor w = Torch.tensor(new float[] {-3e38f, 3e38f}, 1, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> QuantizedTable.quantize(w, QuantizedDType.QUINT8));
            assertTrue(e.getMessage().contains("overflows float32"), e.getMessage());
        }
    }

    @Test
    void constantRowsComeBackExactly() {
        float[] values = {0.1f, 0.1f, 0.1f, -7.25f, -7.25f, -7.25f, 0f, 0f, 0f};
        try (Tensor w = Torch.tensor(values, 3, 3);
             QuantizedTable t = QuantizedTable.quantize(w, QuantizedDType.QUINT8);
             Tensor back = t.dequantize()) {
            assertArrayEquals(values, back.toFloatArray());
            assertEquals(0f, t.scale(0));
            assertEquals(0.1f, t.bias(0));
        }
    }

    @Test
    void theLayoutIsCodesThenScaleThenBiasAsLittleEndianFloats() {
        // min 0, max 255: scale 1, codes = the values, inverse 255 / (255 + 1e-8) rounds to 1 in float.
        try (Tensor w = Torch.tensor(new float[] {0, 255, 17}, 1, 3);
             QuantizedTable t = QuantizedTable.quantize(w, QuantizedDType.QUINT8)) {
            byte[] bytes = t.toByteArray();
            assertEquals(11, bytes.length);
            assertArrayEquals(new byte[] {0, (byte) 255, 17}, java.util.Arrays.copyOf(bytes, 3));
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertEquals(1f, b.getFloat(3));
            assertEquals(0f, b.getFloat(7));
            assertArrayEquals(new long[] {1, 11}, t.packedShape());
            assertEquals(11, t.rowBytes());
        }
    }

    /**
     * The pitfall of FBGEMM's epsilon: with a range of 1e-8 the codes reach only about 128, so the row's maximum comes
     * back near min + range / 2, although the stored scale is range / 255. PyTorch does the same (the prepack test
     * compares these rows' bytes with libtorch's).
     */
    @Test
    void aRangeBelowTheEpsilonLosesHalfOfIt() {
        float min = 1f;
        float max = Math.nextUp(Math.nextUp(1f));  // range 2.4e-7: above 1e-8, codes still fall short of 255
        try (Tensor w = Torch.tensor(new float[] {min, max}, 1, 2);
             QuantizedTable t = QuantizedTable.quantize(w, QuantizedDType.QUINT8)) {
            int top = t.toByteArray()[1] & 0xFF;
            float range = max - min;
            assertEquals(Math.rint(range * (255f / (range + 1e-8f))), top, "the code of the maximum");
            assertTrue(top < 255);
        }
        try (Tensor w = Torch.tensor(new float[] {0f, 1e-8f}, 1, 2);
             QuantizedTable t = QuantizedTable.quantize(w, QuantizedDType.QUINT8);
             Tensor back = t.dequantize()) {
            assertEquals(128, t.toByteArray()[1] & 0xFF);
            assertEquals(1e-8f * 128 / 255, back.toFloatArray()[1], 1e-15);
        }
    }

    @Test
    void fromPrepackedChecksItsSizesAndCopiesTheBytes() {
        byte[] bytes = new byte[2 * 12];
        bytes[0] = 7;
        try (QuantizedTable t = QuantizedTable.fromPrepacked(bytes, 2, 12, QuantizedDType.QUINT8)) {
            bytes[0] = 9;
            assertEquals(4, t.embeddingDim());
            assertEquals(7, t.toByteArray()[0]);
        }
        assertThrows(IllegalArgumentException.class,
                () -> QuantizedTable.fromPrepacked(new byte[23], 2, 12, QuantizedDType.QUINT8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuantizedTable.fromPrepacked(new byte[14], 2, 7, QuantizedDType.QUINT8));
        assertTrue(e.getMessage().contains("rows of at least 8 bytes"), e.getMessage());
    }

    @Test
    void aClosedTableRefusesUseAndClosingTwiceIsHarmless() {
        QuantizedTable t = QuantizedTable.fromPrepacked(new byte[10], 1, 10, QuantizedDType.QUINT8);
        t.close();
        t.close();
        assertTrue(t.isClosed());
        try (Tensor idx = Torch.tensor(new long[] {0})) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> QuantizedOps.embedding(t, idx));
            assertTrue(e.getMessage().contains("'table' has been closed"), e.getMessage());
        }
        assertThrows(IllegalStateException.class, t::dequantize);
    }

    @Test
    void lookupsGiveTheDequantizedRowsInTheIndicesShape() {
        try (Tensor w = Torch.randn(9, 5);
             QuantizedEmbedding emb = QuantizedEmbedding.fromFloat(w, QuantizedDType.QUINT8);
             Tensor all = emb.weight().dequantize();
             Tensor idx = Torch.tensor(new long[][] {{3, 1}, {8, 3}});
             Tensor scalar = Torch.scalarTensor(4);
             Tensor out = emb.forward(idx);
             Tensor one = emb.forward(scalar)) {
            assertArrayEquals(new long[] {2, 2, 5}, out.shape());
            assertArrayEquals(new long[] {5}, one.shape());
            float[] rows = all.toFloatArray();
            float[] got = out.toFloatArray();
            long[] flat = {3, 1, 8, 3};
            for (int i = 0; i < flat.length; i++) {
                for (int j = 0; j < 5; j++) {
                    assertEquals(Float.floatToRawIntBits(rows[(int) flat[i] * 5 + j]),
                            Float.floatToRawIntBits(got[i * 5 + j]));
                }
            }
            assertArrayEquals(java.util.Arrays.copyOfRange(rows, 20, 25), one.toFloatArray());
        }
    }

    @Test
    void modulesPrintAsPyTorchsQuantizedModules() {
        try (Tensor w = Torch.randn(10, 3);
             QuantizedEmbedding emb = QuantizedEmbedding.fromFloat(w, QuantizedDType.QUINT8);
             QuantizedEmbeddingBag bag = QuantizedEmbeddingBag.fromFloat(w, QuantizedDType.QUINT8)) {
            assertEquals("QuantizedEmbedding(num_embeddings=10, embedding_dim=3, dtype=torch.quint8, "
                    + "qscheme=torch.per_channel_affine_float_qparams)", emb.toString());
            assertEquals("QuantizedEmbeddingBag(num_embeddings=10, embedding_dim=3, dtype=torch.quint8, "
                    + "qscheme=torch.per_channel_affine_float_qparams)", bag.toString());
        }
    }

    @Test
    void fromFloatRefusesWhatAQuantizedLookupCannotHonour() {
        try (Tensor w = Torch.randn(10, 3);
             Embedding renorming = Embedding.fromPretrained(w, new EmbeddingFromPretrainedOptions().maxNorm(1.0));
             EmbeddingBag padded = EmbeddingBag.fromPretrained(w, new EmbeddingBagFromPretrainedOptions()
                     .paddingIdx(0));
             EmbeddingBag max = EmbeddingBag.fromPretrained(w, new EmbeddingBagFromPretrainedOptions().mode("max"))) {
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> QuantizedEmbedding.fromFloat(renorming, QuantizedDType.QUINT8)).getMessage()
                    .contains("max_norm=1.0"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> QuantizedEmbeddingBag.fromFloat(padded, QuantizedDType.QUINT8)).getMessage()
                    .contains("padding_idx=0"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> QuantizedEmbeddingBag.fromFloat(max, QuantizedDType.QUINT8)).getMessage()
                    .contains("mode='max'"));
        }
    }

    @Test
    void aMeanModuleFromAFloatMeanModuleDividesEachSumOnce() {
        try (Tensor w = Torch.randn(10, 6);
             EmbeddingBag floatBag = EmbeddingBag.fromPretrained(w);   // mode mean, PyTorch's default
             QuantizedEmbeddingBag bag = QuantizedEmbeddingBag.fromFloat(floatBag, QuantizedDType.QUINT8);
             QuantizedEmbeddingBag sums = new QuantizedEmbeddingBag(bag.weight());
             Tensor input = Torch.tensor(new long[] {1, 2, 3, 9, 9});
             Tensor offsets = Torch.tensor(new long[] {0, 3, 3});
             Tensor mean = bag.forward(input, offsets);
             Tensor sum = sums.forward(input, offsets)) {
            assertEquals(EmbeddingBagMode.MEAN, bag.mode());
            float[] m = mean.toFloatArray();
            float[] s = sum.toFloatArray();
            int[] lengths = {3, 0, 2};
            for (int b = 0; b < 3; b++) {
                for (int j = 0; j < 6; j++) {
                    assertEquals(s[b * 6 + j] / Math.max(lengths[b], 1), m[b * 6 + j]);
                }
            }
        }
    }

    @Test
    void concurrentLookupsInOneTableGiveTheSingleThreadResults() throws Exception {
        try (Tensor w = Torch.randn(1000, 37);
             QuantizedEmbeddingBag bag = QuantizedEmbeddingBag.fromFloat(w, QuantizedDType.QUINT8)) {
            long[] idx = new long[400];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = (i * 7919L) % 1000;
            }
            long[] offsets = new long[20];
            for (int b = 0; b < offsets.length; b++) {
                offsets[b] = b * 20L;
            }
            float[] expected;
            try (Tensor input = Torch.tensor(idx); Tensor off = Torch.tensor(offsets);
                 Tensor out = bag.forward(input, off)) {
                expected = out.toFloatArray();
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    results.add(pool.submit(() -> {
                        boolean same = true;
                        for (int k = 0; k < 100; k++) {
                            try (Tensor input = Torch.tensor(idx); Tensor off = Torch.tensor(offsets);
                                 Tensor out = bag.forward(input, off)) {
                                same &= java.util.Arrays.equals(expected, out.toFloatArray());
                            }
                        }
                        return same;
                    }));
                }
                for (Future<Boolean> f : results) {
                    assertTrue(f.get());
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void aFailedLookupWritesNothingIntoTheCallersOutput() {
        try (Tensor w = Torch.randn(10, 4);
             QuantizedTable t = QuantizedTable.quantize(w, QuantizedDType.QUINT8);
             Tensor input = Torch.tensor(new long[] {1, 2, 10});
             Tensor offsets = Torch.tensor(new long[] {0, 2});
             Tensor out = Torch.full(DType.FLOAT32, 5f, 2, 4)) {
            byte[] before = t.toByteArray();
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> QuantizedOps.embeddingBag(t, input, offsets, EmbeddingBagMode.SUM, null, false, out));
            assertTrue(e.getMessage().contains("index 10 at position [2]") && e.getMessage().contains("0 to 9"),
                    e.getMessage());
            assertArrayEquals(new float[] {5, 5, 5, 5, 5, 5, 5, 5}, out.toFloatArray());
            assertArrayEquals(before, t.toByteArray());
        }
    }

    /**
     * A call large enough for the native backend to split its bags among threads (over 128 KB of rows) gives the Java
     * reference's bits, and one bad index fails it before any part writes.
     */
    @Test
    void largeCallsGiveTheJavaReferenceBitsAndFailWhole() {
        int bags = 300;
        int perBag = 20;
        long[] idx = new long[bags * perBag];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = (i * 7919L) % 5000;
        }
        long[] offsets = new long[bags];
        for (int b = 0; b < bags; b++) {
            offsets[b] = (long) b * perBag;
        }
        try (Tensor w = Torch.randn(5000, 128);
             QuantizedTable t = QuantizedTable.quantize(w, QuantizedDType.QUINT8);
             Tensor input = Torch.tensor(idx);
             Tensor off = Torch.tensor(offsets);
             Tensor psw = Torch.randn(idx.length);
             Tensor out = QuantizedOps.embeddingBag(t, input, off, EmbeddingBagMode.SUM, psw, false);
             Tensor reference = Torch.empty(DType.FLOAT32, bags, 128)) {
            io.jembed.backend.Backends.java().quantizedEmbeddingBag(io.jembed.internal.QuantizedInternals.memory(t),
                    5000, 128, 8, input, off, 0, EmbeddingBagMode.SUM, psw, reference);
            assertArrayEquals(reference.toFloatArray(), out.toFloatArray());

            idx[idx.length - 1] = 5000;
            try (Tensor bad = Torch.tensor(idx);
                 Tensor target = Torch.full(DType.FLOAT32, 3, bags, 128)) {
                IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                        () -> QuantizedOps.embeddingBag(t, bad, off, EmbeddingBagMode.SUM, psw, false, target));
                assertTrue(e.getMessage().contains("index 5000 at position [5999]"), e.getMessage());
                for (float x : target.toFloatArray()) {
                    assertEquals(3f, x);
                }
            }
        }
    }

    @Test
    void fourBitRowsAreNibblesLowFirstThenFloat16ScaleAndBias() {
        // min 0, max 15: bias 0, scale 15 / 15 = 1 (0x3C00), codes the values themselves.
        try (Tensor w = Torch.tensor(new float[] {0, 15, 1, 2}, 1, 4);
             QuantizedTable t = QuantizedTable.quantize(w, QuantizedDType.QUINT4X2);
             Tensor back = t.dequantize()) {
            assertArrayEquals(new byte[] {(byte) 0xF0, 0x21, 0x00, 0x3C, 0x00, 0x00}, t.toByteArray());
            assertArrayEquals(new long[] {1, 6}, t.packedShape());
            assertEquals(1f, t.scale(0));
            assertEquals(0f, t.bias(0));
            assertArrayEquals(new float[] {0, 15, 1, 2}, back.toFloatArray());
        }
    }

    /**
     * Pitfall: a 4-bit row keeps its bias in float16. A constant row whose value float16 holds comes back exactly
     * (scale 1, codes 0); otherwise the bias is the value rounded to float16 and the range left over, tiny but not 0,
     * gets a subnormal float16 scale, with which the codes bring the value back to within that scale (FBGEMM's
     * arithmetic; the prepack test compares such rows' bytes with libtorch's).
     */
    @Test
    void aConstantFourBitRowComesBackWithinItsFloat16Rounding() {
        try (Tensor w = Torch.tensor(new float[] {0.5f, 0.5f, 0.1f, 0.1f}, 2, 2);
             QuantizedTable t = QuantizedTable.quantize(w, QuantizedDType.QUINT4X2);
             Tensor back = t.dequantize()) {
            float[] b = back.toFloatArray();
            assertEquals(1f, t.scale(0));
            assertEquals(0.5f, b[0]);
            assertEquals(0.5f, b[1]);
            assertEquals(0.0999755859375f, t.bias(1), "0.1 rounded to float16");
            float scale = t.scale(1);
            assertTrue(scale > 0 && scale < 0x1p-14f, "a subnormal float16 scale, got " + scale);
            assertEquals(0.1f, b[2], scale);
            assertEquals(b[2], b[3]);
        }
    }

    @Test
    void fourBitRowsBeyondFloat16AreRefused() {
        try (Tensor big = Torch.tensor(new float[] {70000f, 70001f}, 1, 2);
             Tensor wide = Torch.tensor(new float[] {0f, 1e6f}, 1, 2);
             Tensor odd = Torch.tensor(new float[] {1, 2, 3}, 1, 3)) {
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> QuantizedTable.quantize(big, QuantizedDType.QUINT4X2)).getMessage()
                    .contains("row 0 has minimum 70000.0, which float16 cannot hold"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> QuantizedTable.quantize(wide, QuantizedDType.QUINT4X2)).getMessage()
                    .contains("does not fit float16"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> QuantizedTable.quantize(odd, QuantizedDType.QUINT4X2)).getMessage()
                    .contains("a multiple of 2: embedding_dim is 3"));
            // The same rows are fine as 8-bit rows (float32 scale and bias).
            QuantizedTable.quantize(big, QuantizedDType.QUINT8).close();
        }
    }
}
