package io.jembed.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link HalfFloats} against references written independently of it: float16 narrowing against the nearest of all
 * finite float16 values (found by search, distances compared exactly in {@code BigDecimal}, ties to the even
 * pattern), bfloat16 narrowing against the same search over bfloat16 values, on every 16-bit pattern, every tie,
 * the neighbours of every tie and random floats. libtorch's own conversions are compared in
 * {@code io.jembed.reference.HalfFloatsMatchLibtorchTest}.
 */
class HalfFloatsTest {
    /** Every non-negative finite float16 value, in pattern order (which is value order). */
    private static final float[] FLOAT16_VALUES = new float[0x7C00];
    /** Every non-negative finite bfloat16 value, in pattern order. */
    private static final float[] BFLOAT16_VALUES = new float[0x7F80];

    static {
        for (int h = 0; h < FLOAT16_VALUES.length; h++) {
            // The value by definition: (-1)^s * 2^(e-15) * 1.f, or 2^-14 * 0.f for subnormals; no bit tricks.
            int e = h >>> 10;
            int f = h & 0x3FF;
            FLOAT16_VALUES[h] = e == 0 ? (float) (f * Math.pow(2, -24)) : (float) ((1024 + f) * Math.pow(2, e - 25));
        }
        for (int b = 0; b < BFLOAT16_VALUES.length; b++) {
            int e = b >>> 7;
            int f = b & 0x7F;
            BFLOAT16_VALUES[b] = e == 0 ? (float) (f * Math.pow(2, -133)) : (float) ((128 + f) * Math.pow(2, e - 134));
        }
    }

    /**
     * The pattern of the nearest value of {@code table} (or infinity past the overflow threshold {@code overflow}),
     * ties to the even pattern; NaN is not handled here.
     */
    private static int nearest(float x, float[] table, double overflow, int infinity) {
        double a = Math.abs((double) x);
        int sign = (Float.floatToRawIntBits(x) >>> 31) << 15;
        if (a >= overflow) {
            return sign | infinity;
        }
        if (a > table[table.length - 1]) {
            return sign | (table.length - 1);  // below the overflow threshold, the midpoint to infinity
        }
        int lo = 0;
        int hi = table.length - 1;
        while (lo < hi) {  // the first value >= a
            int mid = (lo + hi) >>> 1;
            if (table[mid] >= a) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if (table[lo] == a || lo == 0) {
            return sign | lo;
        }
        BigDecimal exact = new BigDecimal(a);
        int cmp = exact.subtract(new BigDecimal(table[lo - 1])).compareTo(new BigDecimal(table[lo]).subtract(exact));
        int pick = cmp < 0 ? lo - 1 : cmp > 0 ? lo : ((lo & 1) == 0 ? lo : lo - 1);
        return sign | pick;
    }

    private static int expectedFloat16(float x) {
        // 65504 + 16 (half an ulp) is the threshold: it and everything above round to infinity.
        return nearest(x, FLOAT16_VALUES, 65520.0, 0x7C00);
    }

    private static int expectedBFloat16(float x) {
        // Float.MAX_VALUE rounds to infinity in bfloat16 (2^128 - 2^120 is the tie, above every float below
        // infinity except those rounding to it): compare with the largest finite bfloat16 plus half its ulp.
        double threshold = (double) BFLOAT16_VALUES[BFLOAT16_VALUES.length - 1] + Math.pow(2, 127 - 8);
        return nearest(x, BFLOAT16_VALUES, threshold, 0x7F80);
    }

    private static void checkFloat(float x) {
        if (Float.isNaN(x)) {
            return;
        }
        int want = expectedFloat16(x);
        int got = HalfFloats.floatToFloat16(x) & 0xFFFF;
        if (want != got) {
            fail("float16 of " + x + " (0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + "): expected 0x"
                    + Integer.toHexString(want) + ", got 0x" + Integer.toHexString(got));
        }
        int wantB = expectedBFloat16(x);
        int gotB = HalfFloats.floatToBFloat16(x) & 0xFFFF;
        if (wantB != gotB) {
            fail("bfloat16 of " + x + " (0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + "): expected 0x"
                    + Integer.toHexString(wantB) + ", got 0x" + Integer.toHexString(gotB));
        }
    }

    @Test
    void everyFloat16PatternWidensToItsValueAndNarrowsBackToItself() {
        for (int pattern = 0; pattern < 0x10000; pattern++) {
            final int h = pattern;
            float f = HalfFloats.float16ToFloat((short) h);
            int e = (h >>> 10) & 0x1F;
            int frac = h & 0x3FF;
            boolean negative = (h & 0x8000) != 0;
            if (e == 0x1F && frac != 0) {
                assertTrue(Float.isNaN(f), () -> "0x" + Integer.toHexString(h) + " is NaN");
                int bits = Float.floatToRawIntBits(f);
                assertEquals(frac, (bits >>> 13) & 0x3FF, "NaN payload kept");
                assertEquals(negative, bits < 0, "NaN sign kept");
                // Quiet NaNs come back bit for bit; signalling ones come back quiet (F16C's rule).
                int back = HalfFloats.floatToFloat16(f) & 0xFFFF;
                assertEquals(h | 0x200, back, () -> "NaN 0x" + Integer.toHexString(h));
                continue;
            }
            float magnitude = e == 0x1F ? Float.POSITIVE_INFINITY : FLOAT16_VALUES[h & 0x7FFF];
            assertEquals(Float.floatToRawIntBits(negative ? -magnitude : magnitude), Float.floatToRawIntBits(f),
                    () -> "value of 0x" + Integer.toHexString(h));
            assertEquals(h, HalfFloats.floatToFloat16(f) & 0xFFFF, () -> "round trip of 0x" + Integer.toHexString(h));
        }
    }

    @Test
    void everyBFloat16PatternWidensToItsValueAndNarrowsBackToItself() {
        for (int b = 0; b < 0x10000; b++) {
            float f = HalfFloats.bfloat16ToFloat((short) b);
            assertEquals(b << 16, Float.floatToRawIntBits(f));
            int back = HalfFloats.floatToBFloat16(f) & 0xFFFF;
            if (Float.isNaN(f)) {
                assertEquals(0x7FC0, back, "every NaN becomes c10's 0x7FC0");
            } else {
                assertEquals(b, back, "round trip of 0x" + Integer.toHexString(b));
            }
        }
    }

    @Test
    void tiesAndTheirNeighboursRoundToNearestEvenInBothFormats() {
        // Every float16 tie is the midpoint of two adjacent float16 values; with its neighbours one float ulp away.
        for (int h = 0; h < 0x7C00; h++) {
            double next = h + 1 < 0x7C00 ? FLOAT16_VALUES[h + 1] : 65536.0;
            float mid = (float) ((FLOAT16_VALUES[h] + next) / 2);  // exact: 12 significant bits at most
            for (float x : new float[] {mid, Math.nextDown(mid), Math.nextUp(mid), -mid, -Math.nextUp(mid)}) {
                checkFloat(x);
            }
        }
        for (int b = 0; b < 0x7F80; b++) {
            double next = b + 1 < 0x7F80 ? BFLOAT16_VALUES[b + 1] : Math.pow(2, 128);
            double midD = (BFLOAT16_VALUES[b] + next) / 2;
            if (midD > Float.MAX_VALUE) {
                continue;
            }
            float mid = (float) midD;
            for (float x : new float[] {mid, Math.nextDown(mid), Math.nextUp(mid), -mid, -Math.nextDown(mid)}) {
                checkFloat(x);
            }
        }
    }

    @Test
    void randomFloatsAndEveryExponentRoundToTheNearestValue() {
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 500_000; i++) {
            checkFloat(Float.intBitsToFloat(random.nextInt()));
        }
        for (int exponent = 0; exponent < 255; exponent++) {
            for (int low : new int[] {0, 1, 0xFFF, 0x1000, 0x1001, 0x1FFF, 0x7FFF, 0x8000, 0x8001, 0x7FFFFF}) {
                checkFloat(Float.intBitsToFloat((exponent << 23) | low));
                checkFloat(Float.intBitsToFloat(0x80000000 | (exponent << 23) | low));
            }
        }
    }

    @Test
    void theEdgesAreWhereIeeeAndC10PutThem() {
        assertEquals(0x7BFF, HalfFloats.floatToFloat16(65504f));
        assertEquals(0x7BFF, HalfFloats.floatToFloat16(Math.nextDown(65520f)));
        assertEquals(0x7C00, HalfFloats.floatToFloat16(65520f), "the tie above 65504 goes to infinity (even)");
        assertEquals((short) 0xFC00, HalfFloats.floatToFloat16(Float.NEGATIVE_INFINITY));
        assertEquals(0x0001, HalfFloats.floatToFloat16(0x1p-24f), "smallest subnormal");
        assertEquals(0x0000, HalfFloats.floatToFloat16(0x1p-25f), "half of it ties to even zero");
        assertEquals(0x0001, HalfFloats.floatToFloat16(Math.nextUp(0x1p-25f)));
        assertEquals((short) 0x8000, HalfFloats.floatToFloat16(-0.0f));
        assertEquals(0x0400, HalfFloats.floatToFloat16(Math.nextDown(0x1p-14f)), "rounds up into the normals");
        assertEquals(0x3C00, HalfFloats.floatToFloat16(1f + 0x1p-11f), "tie at 1 + ulp/2 stays at 1 (even)");
        assertEquals(0x3C02, HalfFloats.floatToFloat16(1f + 3 * 0x1p-11f), "tie at 1 + 3ulp/2 goes to 1 + 2ulp");
        assertEquals(0x7E00, HalfFloats.floatToFloat16(Float.NaN));
        assertEquals(0x7FC0, HalfFloats.floatToBFloat16(Float.intBitsToFloat(0xFFFFFFFF)), "NaN drops its sign");
        assertEquals(0x7F80, HalfFloats.floatToBFloat16(Float.MAX_VALUE), "rounds up to infinity");
        assertEquals(0x3F80, HalfFloats.floatToBFloat16(1f + 0x1p-8f), "the tie 1 + 2^-8 stays at 1 (even)");
        assertEquals(0x3F81, HalfFloats.floatToBFloat16TiesAway(1f + 0x1p-8f), "FBGEMM's rounding goes away");
        assertEquals(0x3F82, HalfFloats.floatToBFloat16(1f + 3 * 0x1p-8f));
        assertEquals(0x0001, HalfFloats.floatToBFloat16(Float.MIN_VALUE * 0x1p16f), "bfloat16 subnormals kept");
        assertEquals((short) 0xBF81, HalfFloats.floatToBFloat16TiesAway(-(1f + 0x1p-8f)));
    }

    @Test
    void arrayConversionsApplyTheScalarOnesElementByElement() {
        float[] values = {1f, -2.5f, 65520f, 0x1p-25f, Float.NaN, 1f + 0x1p-8f};
        short[] half = new short[values.length + 2];
        short[] brain = new short[values.length + 2];
        HalfFloats.floatsToFloat16(values, 0, half, 1, values.length);
        HalfFloats.floatsToBFloat16(values, 0, brain, 1, values.length);
        float[] backHalf = new float[values.length];
        float[] backBrain = new float[values.length];
        HalfFloats.float16ToFloats(half, 1, backHalf, 0, values.length);
        HalfFloats.bfloat16ToFloats(brain, 1, backBrain, 0, values.length);
        for (int i = 0; i < values.length; i++) {
            assertEquals(HalfFloats.floatToFloat16(values[i]), half[i + 1]);
            assertEquals(HalfFloats.floatToBFloat16(values[i]), brain[i + 1]);
            assertEquals(Float.floatToRawIntBits(HalfFloats.float16ToFloat(half[i + 1])),
                    Float.floatToRawIntBits(backHalf[i]));
            assertEquals(Float.floatToRawIntBits(HalfFloats.bfloat16ToFloat(brain[i + 1])),
                    Float.floatToRawIntBits(backBrain[i]));
        }
        assertEquals(0, half[0]);
        assertEquals(0, half[half.length - 1]);
    }
}
