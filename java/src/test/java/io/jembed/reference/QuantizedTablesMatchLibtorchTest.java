package io.jembed.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.quantized.QuantizedDType;
import io.jembed.quantized.QuantizedOps;
import io.jembed.quantized.QuantizedTable;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 8-bit row-wise quantized tables against libtorch 2.10's quantized operators, called by name through its dispatcher
 * ({@link LibtorchQuantized}), on hundreds of random cases each: the prepacked bytes
 * ({@code embedding_bag_byte_prepack}),
 * the unpacked floats ({@code embedding_bag_byte_unpack}), bags ({@code embedding_bag_byte_rowwise_offsets}: 1-D
 * input with int32/int64 offsets, mixed, 2-D input, {@code include_last_offset}, empty bags, with and without
 * per-sample weights) and plain lookups ({@code embedding_byte}, through the TorchBind packed params of
 * {@code torch.ao.nn.quantized.Embedding}). Everything is compared bit for bit (a NaN matches any NaN).
 *
 * <p>The random tables hold the awkward rows on purpose: constant rows, rows of signed zeros, ranges of 1e-6 and 1e-8
 * (below FBGEMM's epsilon), huge and tiny magnitudes, and dims around every vector width. The base seed is printed
 * and fixed; {@code -Djembed.test.seed=N} replaces it, {@code -Djembed.test.cases=N} changes the number of cases.
 */
class QuantizedTablesMatchLibtorchTest {
    /** A row layout, and libtorch's operators for it. */
    enum Format {
        BYTE(QuantizedDType.QUINT8),
        FOUR_BIT(QuantizedDType.QUINT4X2);

        final QuantizedDType dtype;

        Format(QuantizedDType dtype) {
            this.dtype = dtype;
        }

        LibtorchQuantized.Packed prepack(Tensor weight) {
            return this == BYTE ? LibtorchQuantized.bytePrepack(weight) : LibtorchQuantized.fourBitPrepack(weight);
        }

        Tensor unpack(LibtorchQuantized.Packed packed) {
            return this == BYTE ? LibtorchQuantized.byteUnpack(packed) : LibtorchQuantized.fourBitUnpack(packed);
        }

        Tensor rowwiseOffsets(LibtorchQuantized.Packed packed, Tensor indices, Tensor offsets, long mode,
                              Tensor perSampleWeights, boolean includeLastOffset) {
            return this == BYTE
                    ? LibtorchQuantized.byteRowwiseOffsets(packed, indices, offsets, mode, perSampleWeights,
                            includeLastOffset)
                    : LibtorchQuantized.fourBitRowwiseOffsets(packed, indices, offsets, mode, perSampleWeights,
                            includeLastOffset);
        }

        LibtorchQuantized.TorchBindLookup embedding(Tensor weight, Tensor scales, Tensor zeroPoints, Tensor indices) {
            return this == BYTE ? LibtorchQuantized.embeddingByte(weight, scales, zeroPoints, indices)
                    : LibtorchQuantized.embedding4bit(weight, scales, zeroPoints, indices);
        }

        /** The largest code. */
        int maxCode() {
            return (1 << dtype.bits()) - 1;
        }

        int rowBytes(int dim) {
            return (int) dtype.rowBytes(dim);
        }

        /** A dim of {@link #DIMS}, made even for 4-bit rows. */
        int dim(SplittableRandom rng) {
            int dim = DIMS[rng.nextInt(DIMS.length)];
            return dtype.bits() == 4 ? dim + (dim & 1) : dim;
        }

        QuantizedTable fromPrepacked(byte[] bytes, int rows, int dim) {
            return QuantizedTable.fromPrepacked(bytes, rows, rowBytes(dim), dtype);
        }
    }

    private static final long FIXED_SEED = 0x0_8B17_7AB1EL;
    private static final int CASES = 200;
    private static final int[] DIMS = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 128, 130};

    @BeforeAll
    static void loadLibtorch() {
        assertEquals(1, Libtorch.threads());
    }

    @Test
    void prepackGivesLibtorchsBytes() {
        for (Format format : Format.values()) {
            long base = Reproduce.baseSeed(FIXED_SEED + format.ordinal() * 16);
            System.out.println("prepackGivesLibtorchsBytes " + format + ": base seed " + base);
            for (int c = 0; c < Reproduce.cases(CASES); c++) {
                long seed = Reproduce.caseSeed(base, c);
                SplittableRandom rng = new SplittableRandom(seed);
                int rows = 1 + rng.nextInt(24);
                int dim = format.dim(rng);
                try (Tensor weight = Torch.tensor(awkwardRows(rng, rows, dim, format), rows, dim);
                     QuantizedTable table = QuantizedTable.quantize(weight, format.dtype)) {
                    LibtorchQuantized.Packed expected = format.prepack(weight);
                    String header = Reproduce.header(base, c, seed) + format + " " + rows + " x " + dim + ": ";
                    assertArrayEquals(new long[] {expected.rows, expected.cols}, table.packedShape(), header + "shape");
                    byte[] actual = table.toByteArray();
                    if (!Arrays.equals(expected.bytes, actual)) {
                        int at = Arrays.mismatch(expected.bytes, actual);
                        fail(header + "bytes differ at " + at + " (row " + at / expected.cols + ", byte "
                                + at % expected.cols + ")");
                    }
                }
            }
        }
    }

    @Test
    void unpackGivesLibtorchsFloats() {
        for (Format format : Format.values()) {
            long base = Reproduce.baseSeed(FIXED_SEED + format.ordinal() * 16 + 1);
            System.out.println("unpackGivesLibtorchsFloats " + format + ": base seed " + base);
            for (int c = 0; c < Reproduce.cases(CASES); c++) {
                long seed = Reproduce.caseSeed(base, c);
                SplittableRandom rng = new SplittableRandom(seed);
                int rows = 1 + rng.nextInt(24);
                int dim = format.dim(rng);
                // Half the cases: bytes as prepack writes them; the other half: any codes, any finite scale and bias.
                byte[] bytes = rng.nextBoolean() ? prepacked(rng, rows, dim, format) : randomPacked(rng, rows, dim,
                        format);
                LibtorchQuantized.Packed packed = new LibtorchQuantized.Packed(bytes, rows, format.rowBytes(dim));
                try (QuantizedTable table = format.fromPrepacked(bytes, rows, dim);
                     Tensor actual = table.dequantize();
                     Tensor expected = format.unpack(packed)) {
                    assertSameBits(expected, actual, Reproduce.header(base, c, seed) + format + " " + rows + " x "
                            + dim);
                }
            }
        }
    }

    @Test
    void bagsAreLibtorchsRowwiseOffsets() {
        for (Format format : Format.values()) {
            bagsAreLibtorchsRowwiseOffsets(format);
        }
    }

    private static void bagsAreLibtorchsRowwiseOffsets(Format format) {
        long base = Reproduce.baseSeed(FIXED_SEED + format.ordinal() * 16 + 2);
        System.out.println("bagsAreLibtorchsRowwiseOffsets " + format + ": base seed " + base);
        int[] coverage = new int[6];
        for (int c = 0; c < Reproduce.cases(CASES * 2); c++) {
            long seed = Reproduce.caseSeed(base, c);
            SplittableRandom rng = new SplittableRandom(seed);
            int rows = 1 + rng.nextInt(40);
            int dim = format.dim(rng);
            byte[] bytes = rng.nextInt(4) == 0 ? randomPacked(rng, rows, dim, format)
                    : prepacked(rng, rows, dim, format);
            LibtorchQuantized.Packed packed = new LibtorchQuantized.Packed(bytes, rows, format.rowBytes(dim));
            boolean twoD = rng.nextInt(4) == 0;
            boolean includeLast = !twoD && rng.nextBoolean();
            boolean weighted = rng.nextBoolean();
            DType indexType = rng.nextBoolean() ? DType.INT64 : DType.INT32;
            DType offsetType = rng.nextInt(4) == 0 ? (indexType == DType.INT64 ? DType.INT32 : DType.INT64)
                    : indexType;
            int bags = rng.nextInt(9);
            long[] offsets = new long[bags + (includeLast ? 1 : 0)];
            int n;
            long[] shape;
            if (twoD) {
                bags = Math.max(1, bags);
                int length = 1 + rng.nextInt(6);
                n = bags * length;
                shape = new long[] {bags, length};
            } else {
                int at = 0;
                for (int b = 0; b < bags; b++) {
                    offsets[b] = at;
                    at += rng.nextInt(5) == 0 ? 0 : rng.nextInt(12);
                }
                if (includeLast) {
                    offsets[bags] = at;
                }
                n = bags == 0 ? 0 : at;
                shape = new long[] {n};
            }
            long[] idx = new long[n];
            for (int i = 0; i < n; i++) {
                idx[i] = rng.nextInt(rows);
            }
            float[] psw = new float[n];
            for (int i = 0; i < n; i++) {
                psw[i] = (float) (rng.nextGaussian() * 2);
            }
            String header = Reproduce.header(base, c, seed) + format + " " + rows + " x " + dim + (twoD ? " 2-D" : "")
                    + (includeLast ? " include_last_offset" : "") + (weighted ? " psw" : "") + " " + indexType
                    + "/" + offsetType + " offsets " + Arrays.toString(offsets) + ": ";
            try (QuantizedTable table = format.fromPrepacked(bytes, rows, dim);
                 Tensor input = typed(idx, indexType, shape);
                 Tensor off = twoD ? null : typed(offsets, offsetType, new long[] {offsets.length});
                 Tensor weights = weighted ? Torch.tensor(psw, shape) : null;
                 Tensor expected = format.rowwiseOffsets(packed, input, off, 0, weights, includeLast);
                 Tensor actual = QuantizedOps.embeddingBag(table, input, off, EmbeddingBagMode.SUM, weights,
                         includeLast)) {
                assertSameBits(expected, actual, header + "sum");
                if (!weighted) {
                    // MEAN (jembed's addition): libtorch's sum divided once by the bag's length.
                    try (Tensor mean = QuantizedOps.embeddingBag(table, input, off, EmbeddingBagMode.MEAN, null,
                            includeLast);
                         Tensor expectedMean = meanOf(expected, input, off, twoD)) {
                        assertSameBits(expectedMean, mean, header + "mean");
                    }
                }
            }
            coverage[0] += twoD ? 1 : 0;
            coverage[1] += includeLast ? 1 : 0;
            coverage[2] += weighted ? 1 : 0;
            coverage[3] += indexType != offsetType && !twoD ? 1 : 0;
            coverage[4] += indexType == DType.INT32 ? 1 : 0;
            coverage[5] += hasEmptyBag(offsets, bags, n, twoD) ? 1 : 0;
        }
        if (Reproduce.cases(CASES * 2) >= CASES * 2) {
            for (int k = 0; k < coverage.length; k++) {
                assertTrue(coverage[k] >= 10, "coverage " + k + " too low: " + Arrays.toString(coverage));
            }
        }
    }

    @Test
    void plainLookupsAreLibtorchsEmbeddingOperator() {
        for (Format format : Format.values()) {
            long base = Reproduce.baseSeed(FIXED_SEED + format.ordinal() * 16 + 3);
            System.out.println("plainLookupsAreLibtorchsEmbeddingOperator " + format + ": base seed " + base);
            for (int c = 0; c < Reproduce.cases(CASES); c++) {
                long seed = Reproduce.caseSeed(base, c);
                SplittableRandom rng = new SplittableRandom(seed);
                int rows = 1 + rng.nextInt(30);
                int dim = format.dim(rng);
                float[] w = new float[rows * dim];
                float[] scales = new float[rows];
                float[] zeroPoints = new float[rows];
                for (int r = 0; r < rows; r++) {
                    scales[r] = (float) (0.001 + rng.nextDouble() * 0.05);
                    zeroPoints[r] = (float) (rng.nextDouble() * format.maxCode());
                    for (int j = 0; j < dim; j++) {
                        w[r * dim + j] = (float) (rng.nextDouble() * format.maxCode() - zeroPoints[r]) * scales[r];
                    }
                }
                boolean twoD = rng.nextBoolean();
                int n = 1 + rng.nextInt(20);
                long[] shape = twoD ? new long[] {Math.max(1, n / 4), 4} : new long[] {n};
                int count = twoD ? (int) (shape[0] * 4) : n;
                long[] idx = new long[count];
                for (int i = 0; i < count; i++) {
                    idx[i] = rng.nextInt(rows);
                }
                String header = Reproduce.header(base, c, seed) + format + " " + rows + " x " + dim + " indices "
                        + Arrays.toString(shape) + ": ";
                try (Tensor weight = Torch.tensor(w, rows, dim);
                     Tensor s = Torch.tensor(scales);
                     Tensor z = Torch.tensor(zeroPoints);
                     Tensor input = Torch.tensor(idx, shape)) {
                    LibtorchQuantized.TorchBindLookup expected = format.embedding(weight, s, z, input);
                    try (Tensor libtorchOut = expected.out;
                         QuantizedTable table = format.fromPrepacked(expected.packed.bytes, rows, dim);
                         Tensor actual = QuantizedOps.embedding(table, input)) {
                        assertSameBits(libtorchOut, actual, header + "embedding");
                    }
                }
            }
        }
    }

    /**
     * PyTorch's quantized bag ignores its {@code mode} argument (mode=1, mean, returns the sum); jembed's MEAN
     * divides. Pinned so that a libtorch that starts honouring the mode shows up here.
     */
    @Test
    void libtorchsQuantizedBagSumsWhateverTheMode() {
        for (Format format : Format.values()) {
            SplittableRandom rng = new SplittableRandom(7);
            byte[] bytes = prepacked(rng, 5, 8, format);
            LibtorchQuantized.Packed packed = new LibtorchQuantized.Packed(bytes, 5, format.rowBytes(8));
            try (QuantizedTable table = format.fromPrepacked(bytes, 5, 8);
                 Tensor input = Torch.tensor(new long[] {0, 1, 2, 3, 4});
                 Tensor offsets = Torch.tensor(new long[] {0, 2});
                 Tensor sum = format.rowwiseOffsets(packed, input, offsets, 0, null, false);
                 Tensor modeMean = format.rowwiseOffsets(packed, input, offsets, 1, null, false);
                 Tensor jembedSum = QuantizedOps.embeddingBag(table, input, offsets);
                 Tensor jembedMean = QuantizedOps.embeddingBag(table, input, offsets, EmbeddingBagMode.MEAN, null,
                         false)) {
                assertSameBits(sum, modeMean, format + ": libtorch's mode=1 gives the sum");
                assertSameBits(sum, jembedSum, format + ": jembed's sum");
                assertFalse(Arrays.equals(sum.toFloatArray(), jembedMean.toFloatArray()), format + ": jembed's mean "
                        + "divides");
            }
        }
    }

    // ---- tables --------------------------------------------------------------------------------------------

    /**
     * Rows of every awkward kind, finite (the refusal policy keeps NaN and infinities out), and for 4-bit rows within
     * float16's reach (a minimum and a step below 65520).
     */
    static float[] awkwardRows(SplittableRandom rng, int rows, int dim, Format format) {
        double huge = format.dtype.bits() == 8 ? 1e20 : 1e4;
        float[] w = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            int kind = rng.nextInt(12);
            double center = rng.nextGaussian() * 3;
            double spread = Math.exp(rng.nextGaussian() * 2);
            for (int j = 0; j < dim; j++) {
                double x;
                switch (kind) {
                    case 0: x = center; break;                                       // constant row
                    case 1: x = rng.nextInt(3) == 0 ? -0.0 : rng.nextBoolean() ? 0.0 : Math.abs(rng.nextGaussian());
                        break;                                                       // signed zeros as the minimum
                    case 2: x = center + rng.nextInt(101) * 1e-8; break;             // range ~1e-6
                    case 3: x = 1 + rng.nextInt(2) * 1e-8; break;                    // range below the epsilon
                    case 4: x = rng.nextGaussian() * huge; break;                    // huge
                    case 5: x = rng.nextGaussian() * 1e-38; break;                   // tiny, subnormals
                    case 6: x = rng.nextInt(256) - 128; break;                       // integers, ties in the codes
                    default: x = center + rng.nextGaussian() * spread;
                }
                w[r * dim + j] = (float) x;
            }
        }
        return w;
    }

    /** Bytes as jembed's prepack writes them (which the prepack test shows are libtorch's). */
    static byte[] prepacked(SplittableRandom rng, int rows, int dim, Format format) {
        try (Tensor weight = Torch.tensor(awkwardRows(rng, rows, dim, format), rows, dim);
             QuantizedTable table = QuantizedTable.quantize(weight, format.dtype)) {
            return table.toByteArray();
        }
    }

    /** Any codes, with any finite scale (negative included) and bias per row. */
    static byte[] randomPacked(SplittableRandom rng, int rows, int dim, Format format) {
        int rowBytes = format.rowBytes(dim);
        int codeBytes = (int) format.dtype.codeBytes(dim);
        byte[] bytes = new byte[rows * rowBytes];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            b.position(r * rowBytes);
            for (int j = 0; j < codeBytes; j++) {
                b.put((byte) rng.nextInt(256));
            }
            float scale = (float) (rng.nextGaussian() * 0.1);
            float bias = (float) (rng.nextGaussian() * 10);
            putScaleBias(b, format, scale, bias);
        }
        return bytes;
    }

    private static void putScaleBias(java.nio.ByteBuffer b, Format format, float scale, float bias) {
        if (format == Format.BYTE) {
            b.putFloat(scale);
            b.putFloat(bias);
        } else {
            b.putShort(io.jembed.internal.HalfFloats.floatToFloat16(scale));
            b.putShort(io.jembed.internal.HalfFloats.floatToFloat16(bias));
        }
    }

    private static Tensor typed(long[] values, DType dtype, long[] shape) {
        if (dtype == DType.INT64) {
            return Torch.tensor(values, shape);
        }
        int[] narrow = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            narrow[i] = (int) values[i];
        }
        return Torch.tensor(narrow, shape);
    }

    /** libtorch's sums, each divided once (in float) by its bag's length, or left alone for an empty bag. */
    private static Tensor meanOf(Tensor sums, Tensor input, Tensor offsets, boolean twoD) {
        float[] s = sums.toFloatArray();
        long bags = sums.size(0);
        long dim = sums.size(1);
        long[] off = offsets == null ? null : offsets.toLongArray();
        long n = input.numel();
        for (int b = 0; b < bags; b++) {
            long length = twoD ? input.size(1) : (b + 1 < off.length ? off[b + 1] : n) - off[b];
            float divisor = Math.max(length, 1);
            for (int j = 0; j < dim; j++) {
                s[(int) (b * dim + j)] /= divisor;
            }
        }
        return Torch.tensor(s, bags, dim);
    }

    private static boolean hasEmptyBag(long[] offsets, int bags, int n, boolean twoD) {
        if (twoD) {
            return false;
        }
        for (int b = 0; b < bags; b++) {
            long end = b + 1 < offsets.length ? offsets[b + 1] : n;
            if (end == offsets[b]) {
                return true;
            }
        }
        return false;
    }

    static void assertSameBits(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            boolean same = Float.isNaN(e[i]) ? Float.isNaN(a[i])
                    : Float.floatToRawIntBits(e[i]) == Float.floatToRawIntBits(a[i]);
            if (!same) {
                fail(what + ": element " + i + " is " + a[i] + " (0x" + Integer.toHexString(
                        Float.floatToRawIntBits(a[i])) + "), libtorch gives " + e[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(e[i])) + ")");
            }
        }
    }
}
