package io.jembed.quantized;

import io.jembed.internal.HalfFloats;

/**
 * The arithmetic of PyTorch's row-wise prepack and unpack, bit for bit: FBGEMM's {@code QuantUtilsAvx2.cc}
 * ({@code FloatOrHalfToFused8BitRowwiseQuantizedSBFloatAvx2}), which is what libtorch runs on x86. One row at a time,
 * into and out of a byte array laid out as the row is stored.
 *
 * <p>The row's minimum and maximum are found as FBGEMM's AVX2 code finds them, because with signed zeros the choice
 * between equal candidates shows in the stored bias ({@code -0.0} or {@code +0.0}): eight lanes over the first
 * {@code D / 8 * 8} elements ({@code vminps}/{@code vmaxps}, which keep the new element on equality), the lanes
 * reduced in order by {@code std::min}/{@code std::max} (which keep the old value on equality), then the tail.
 *
 * <p>Stateless and thread-safe.
 */
final class RowwiseQuantizer {
    /** FBGEMM's epsilon in {@code 255 / (range + 1e-8)}. */
    static final float EPSILON = 1e-8f;
    private static final int LANES = 8;

    private RowwiseQuantizer() {}

    /** {@code out[0]} = the row's minimum, {@code out[1]} its maximum, found in FBGEMM's AVX2 order. */
    static void minMax(float[] x, int dim, float[] out) {
        float[] laneMin = new float[LANES];
        float[] laneMax = new float[LANES];
        java.util.Arrays.fill(laneMin, Float.MAX_VALUE);
        java.util.Arrays.fill(laneMax, -Float.MAX_VALUE);
        int full = dim / LANES * LANES;
        for (int c = 0; c < full; c++) {
            int l = c & (LANES - 1);
            // vminps(acc, x) = acc < x ? acc : x; vmaxps(acc, x) = acc > x ? acc : x.
            laneMin[l] = laneMin[l] < x[c] ? laneMin[l] : x[c];
            laneMax[l] = laneMax[l] > x[c] ? laneMax[l] : x[c];
        }
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int l = 0; l < LANES; l++) {
            // std::min(a, b) = b < a ? b : a; std::max(a, b) = a < b ? b : a.
            min = laneMin[l] < min ? laneMin[l] : min;
            max = max < laneMax[l] ? laneMax[l] : max;
        }
        for (int c = full; c < dim; c++) {
            min = x[c] < min ? x[c] : min;
            max = max < x[c] ? x[c] : max;
        }
        out[0] = min;
        out[1] = max;
    }

    /**
     * {@code embedding_bag_byte_prepack} of one row: {@code dim} codes {@code rint((x - min) * (255 / (range +
     * 1e-8)))} into {@code row[0, dim)}, then the scale {@code range / 255} and the bias {@code min} as little-endian
     * float32. The row must be finite with a finite range (the caller's policy).
     */
    static void quantize8(float[] x, int dim, byte[] row, float[] minMax) {
        minMax(x, dim, minMax);
        float min = minMax[0];
        float range = minMax[1] - min;
        float scale = range / 255f;
        float inverse = 255f / (range + EPSILON);
        for (int c = 0; c < dim; c++) {
            // The float product, rounded to nearest even as cvtps2dq rounds it (widening to double is exact).
            row[c] = (byte) Math.rint((x[c] - min) * inverse);
        }
        putFloat(row, dim, scale);
        putFloat(row, dim + 4, min);
    }

    /** {@code embedding_bag_byte_unpack} of one row: {@code fma(q, scale, bias)} (FBGEMM's AVX2 unpack). */
    static void dequantize8(byte[] row, int dim, float[] out) {
        float scale = getFloat(row, dim);
        float bias = getFloat(row, dim + 4);
        for (int c = 0; c < dim; c++) {
            out[c] = Math.fma((float) (row[c] & 0xFF), scale, bias);
        }
    }

    /**
     * {@code embedding_bag_4bit_prepack} of one row (FBGEMM's {@code FloatOrHalfToFusedNBitRowwiseQuantizedSBHalfAvx2},
     * bit rate 4): the bias is the row's minimum rounded to float16 first; the scale is {@code (max - bias) / 15}
     * (1 for a constant row) rounded to float16, replaced by 1 if that is 0 or its inverse overflows; the codes are
     * {@code clamp(rint((x - bias) * (1 / scale)), 0, 15)}, two a byte, element {@code c} in the low nibble of byte
     * {@code c / 2} when {@code c} is even; then scale and bias as little-endian float16. {@code dim} is even, and the
     * caller has checked that the bias and the scale fit float16.
     */
    static void quantize4(float[] x, int dim, byte[] row, float[] minMax) {
        minMax(x, dim, minMax);
        short biasHalf = HalfFloats.floatToFloat16(minMax[0]);
        float min = HalfFloats.float16ToFloat(biasHalf);
        float range = minMax[1] - min;
        float scale = HalfFloats.float16ToFloat(HalfFloats.floatToFloat16(range == 0 ? 1f : range / 15f));
        if (scale == 0) {
            scale = 1f;
        }
        float inverse = 1f / scale;
        if (Float.isInfinite(inverse)) {
            scale = 1f;
            inverse = 1f;
        }
        int codeBytes = dim / 2;
        java.util.Arrays.fill(row, 0, codeBytes, (byte) 0);
        for (int c = 0; c < dim; c++) {
            int q = (int) Math.max(0, Math.min(15, Math.rint((x[c] - min) * inverse)));
            row[c >> 1] |= (byte) (q << ((c & 1) * 4));
        }
        putShort(row, codeBytes, HalfFloats.floatToFloat16(scale));
        putShort(row, codeBytes + 2, biasHalf);
    }

    /** {@code embedding_bag_4bit_unpack} of one row: {@code fma(scale, q, bias)}, scale and bias widened exactly. */
    static void dequantize4(byte[] row, int dim, float[] out) {
        int codeBytes = dim / 2;
        float scale = HalfFloats.float16ToFloat(getShort(row, codeBytes));
        float bias = HalfFloats.float16ToFloat(getShort(row, codeBytes + 2));
        for (int c = 0; c < dim; c++) {
            out[c] = Math.fma(scale, (float) ((row[c >> 1] >> ((c & 1) * 4)) & 0x0F), bias);
        }
    }

    static void putShort(byte[] row, int at, short value) {
        row[at] = (byte) value;
        row[at + 1] = (byte) (value >>> 8);
    }

    static short getShort(byte[] row, int at) {
        return (short) ((row[at] & 0xFF) | (row[at + 1] & 0xFF) << 8);
    }

    static void putFloat(byte[] row, int at, float value) {
        int bits = Float.floatToRawIntBits(value);
        row[at] = (byte) bits;
        row[at + 1] = (byte) (bits >>> 8);
        row[at + 2] = (byte) (bits >>> 16);
        row[at + 3] = (byte) (bits >>> 24);
    }

    static float getFloat(byte[] row, int at) {
        return Float.intBitsToFloat((row[at] & 0xFF) | (row[at + 1] & 0xFF) << 8 | (row[at + 2] & 0xFF) << 16
                | (row[at + 3] & 0xFF) << 24);
    }
}
