package io.jembed.internal;

/**
 * Exact conversions between {@code float} and the two 16-bit floating formats, on their bit patterns held in a
 * {@code short}: IEEE 754 binary16 ({@code torch.float16}) and bfloat16 ({@code torch.bfloat16}, the top half of a
 * float32). Java 17 has no {@code Float.floatToFloat16} (JDK 20), so these are written out in integer arithmetic.
 *
 * <ul>
 *   <li><b>Widening</b> (16 bits to float) is exact for every pattern: subnormals, infinities and NaN payloads are
 *   kept ({@code float16ToFloat(floatToFloat16(x))} is the identity on the 65536 patterns; a NaN keeps its payload
 *   and sign, as the F16C instruction {@code vcvtph2ps} does for quiet NaNs).</li>
 *   <li><b>float16 narrowing</b> rounds to nearest, ties to even (IEEE 754, PyTorch's {@code c10::Half}, F16C
 *   {@code vcvtps2ph} with rounding mode 0), into subnormals where the value is below 2<sup>-14</sup>, and to
 *   infinity from 65520 up (65504 plus half a unit in the last place). NaN stays NaN with its sign and the top ten
 *   bits of its payload, made quiet: F16C's result. ({@code c10::Half}'s scalar constructor gives {@code 0x7E00} with
 *   the sign instead; PyTorch's vectorised {@code .to()} gives F16C's. NaN-ness is what both guarantee.)</li>
 *   <li><b>bfloat16 narrowing</b> is {@code c10::BFloat16}'s {@code round_to_nearest_even}: ties to even, NaN becomes
 *   {@code 0x7FC0} (sign dropped). {@link #floatToBFloat16TiesAway} is FBGEMM's {@code (bits + 0x8000) >> 16}, the
 *   rounding of libtorch's EmbeddingBag fast path, for tests that pin it.</li>
 * </ul>
 *
 * <p>The native kernels convert with the same rules ({@code native/src/half_float.h}); both are tested on every
 * 16-bit pattern and against libtorch's conversions. Stateless and thread-safe.
 */
public final class HalfFloats {
    /** float16 bits of +infinity; a float16 NaN has all of these set and a non-zero fraction. */
    public static final short FLOAT16_POSITIVE_INFINITY = 0x7C00;
    /** The NaN {@code c10::BFloat16} produces from any float NaN. */
    public static final short BFLOAT16_NAN = 0x7FC0;

    private HalfFloats() {}

    /** The float16 value of {@code bits}, exactly. PyTorch equivalent: {@code float(c10::Half)}. */
    public static float float16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int fraction = h & 0x3FF;
        if (exponent == 0x1F) {
            // Infinity or NaN: the fraction becomes the top bits of the float's (payload and quiet bit kept).
            return Float.intBitsToFloat(sign | 0x7F800000 | (fraction << 13));
        }
        if (exponent != 0) {
            // Rebias 15 -> 127.
            return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (fraction << 13));
        }
        // Zero or subnormal: fraction * 2^-24, exact in float (at most 10 significant bits).
        float magnitude = fraction * 0x1p-24f;
        return sign != 0 ? -magnitude : magnitude;
    }

    /** {@code value} rounded to the nearest float16, ties to even. PyTorch equivalent: {@code c10::Half(value)}. */
    public static short floatToFloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int magnitude = bits & 0x7FFFFFFF;
        if (magnitude > 0x7F800000) {
            // NaN: quiet, with the top ten bits of the payload.
            return (short) (sign | 0x7C00 | 0x200 | ((magnitude >>> 13) & 0x3FF));
        }
        if (magnitude >= 0x477FF000) {
            // 65520 and up (infinity included): 65520 is the tie between 65504 and 2^16, and 0x7BFF is odd.
            return (short) (sign | 0x7C00);
        }
        if (magnitude >= 0x38800000) {
            // Normal float16 (2^-14 and up): rebias 127 -> 15, then drop 13 fraction bits, rounding. A carry out of
            // the fraction increments the exponent, which is the right result (up to 0x7BFF + 1 = infinity, excluded
            // above).
            int rebiased = magnitude - 0x38000000;
            return (short) (sign | roundShiftRightEven(rebiased, 13));
        }
        int exponent = magnitude >>> 23;
        if (exponent < 102) {
            // Below 2^-25 (half the smallest subnormal): rounds to zero.
            return (short) sign;
        }
        // Subnormal float16: the value is significand * 2^(exponent - 150), in units of 2^-24 that is
        // significand >> (126 - exponent); the shift is 14 to 24. Rounding up to 0x400 gives the smallest normal.
        int significand = (magnitude & 0x7FFFFF) | 0x800000;
        return (short) (sign | roundShiftRightEven(significand, 126 - exponent));
    }

    /** {@code value >>> shift} rounded to nearest, ties to even ({@code value} non-negative, 1 <= shift <= 30). */
    private static int roundShiftRightEven(int value, int shift) {
        int kept = value >>> shift;
        int rest = value & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rest > half || (rest == half && (kept & 1) != 0)) {
            kept++;
        }
        return kept;
    }

    /** The bfloat16 value of {@code bits}, exactly: the top half of a float. */
    public static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * {@code value} rounded to the nearest bfloat16, ties to even; every NaN becomes {@link #BFLOAT16_NAN}.
     * PyTorch equivalent: {@code c10::BFloat16(value)} ({@code round_to_nearest_even}).
     */
    public static short floatToBFloat16(float value) {
        if (Float.isNaN(value)) {
            return BFLOAT16_NAN;
        }
        int bits = Float.floatToRawIntBits(value);
        // Adding 0x7FFF rounds up when the lower half exceeds 0x8000; the lowest kept bit breaks the tie (to even).
        // The carry propagates into the exponent as it should (up to infinity).
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /**
     * {@code value} rounded to the nearest bfloat16 with ties away from zero, as FBGEMM's {@code cpu_float2bfloat16}
     * and its EmbeddingSpMDM kernels round ({@code (bits + 0x8000) >> 16}). NaN becomes {@link #BFLOAT16_NAN}.
     */
    public static short floatToBFloat16TiesAway(float value) {
        if (Float.isNaN(value)) {
            return BFLOAT16_NAN;
        }
        return (short) ((Float.floatToRawIntBits(value) + 0x8000) >>> 16);
    }

    /** {@code dst[dstPos + i] = floatToFloat16(src[srcPos + i])} for {@code i < length}. */
    public static void floatsToFloat16(float[] src, int srcPos, short[] dst, int dstPos, int length) {
        for (int i = 0; i < length; i++) {
            dst[dstPos + i] = floatToFloat16(src[srcPos + i]);
        }
    }

    /** {@code dst[dstPos + i] = floatToBFloat16(src[srcPos + i])} for {@code i < length}. */
    public static void floatsToBFloat16(float[] src, int srcPos, short[] dst, int dstPos, int length) {
        for (int i = 0; i < length; i++) {
            dst[dstPos + i] = floatToBFloat16(src[srcPos + i]);
        }
    }

    /** {@code dst[dstPos + i] = float16ToFloat(src[srcPos + i])} for {@code i < length}. */
    public static void float16ToFloats(short[] src, int srcPos, float[] dst, int dstPos, int length) {
        for (int i = 0; i < length; i++) {
            dst[dstPos + i] = float16ToFloat(src[srcPos + i]);
        }
    }

    /** {@code dst[dstPos + i] = bfloat16ToFloat(src[srcPos + i])} for {@code i < length}. */
    public static void bfloat16ToFloats(short[] src, int srcPos, float[] dst, int dstPos, int length) {
        for (int i = 0; i < length; i++) {
            dst[dstPos + i] = bfloat16ToFloat(src[srcPos + i]);
        }
    }
}
