package io.jembed.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jembed.internal.HalfFloats;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link HalfFloats} against libtorch 2.10's own conversions ({@code tensor.to(torch.float16 / torch.bfloat16)} and
 * back to float32): every 16-bit pattern widened, and narrowed from every float16/bfloat16 value, every tie between
 * two neighbours and the floats next to it, every exponent's edge cases and a million random floats. Bits must be
 * equal; for NaN only NaN-ness is compared, since libtorch's vectorised bfloat16 cast gives {@code 0xFFFF} where
 * {@code c10::BFloat16} (and jembed) give {@code 0x7FC0} (reference note, section 4).
 */
class HalfFloatsMatchLibtorchTest {
    @BeforeAll
    static void loadLibtorch() {
        Libtorch.threads();
    }

    private static short[] libtorchNarrow(float[] values, torch.ScalarType type) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor t = torch.empty(new long[] {values.length},
                    new TensorOptions(torch.ScalarType.Float), new MemoryFormatOptional());
            t.data_ptr_float().put(values);
            org.bytedeco.pytorch.Tensor narrow = t.to(type).contiguous().view(torch.ScalarType.Short);
            short[] out = new short[values.length];
            narrow.data_ptr_short().get(out);
            return out;
        }
    }

    private static float[] libtorchWiden(short[] bits, torch.ScalarType type) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor t = torch.empty(new long[] {bits.length},
                    new TensorOptions(torch.ScalarType.Short), new MemoryFormatOptional());
            t.data_ptr_short().put(bits);
            org.bytedeco.pytorch.Tensor wide = t.view(type).to(torch.ScalarType.Float).contiguous();
            float[] out = new float[bits.length];
            wide.data_ptr_float().get(out);
            return out;
        }
    }

    private static short[] allPatterns() {
        short[] all = new short[0x10000];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        return all;
    }

    /** Every value of the format, the midpoints of neighbours and the floats next to them, edges and random floats. */
    private static float[] probes(boolean bfloat16) {
        SplittableRandom random = new SplittableRandom(bfloat16 ? 16 : 61);
        int randoms = 1_000_000;
        float[] probes = new float[0x10000 * 4 + 255 * 20 + randoms];
        int n = 0;
        for (int h = 0; h < 0x10000; h++) {
            float x = bfloat16 ? HalfFloats.bfloat16ToFloat((short) h) : HalfFloats.float16ToFloat((short) h);
            float next = bfloat16 ? HalfFloats.bfloat16ToFloat((short) (h + 1))
                    : HalfFloats.float16ToFloat((short) (h + 1));
            float mid = (float) (((double) x + next) / 2);
            probes[n++] = x;
            probes[n++] = mid;
            probes[n++] = Math.nextDown(mid);
            probes[n++] = Math.nextUp(mid);
        }
        for (int exponent = 0; exponent < 255; exponent++) {
            for (int low : new int[] {0, 1, 0xFFF, 0x1000, 0x1001, 0x1FFF, 0x7FFF, 0x8000, 0x8001, 0x7FFFFF}) {
                probes[n++] = Float.intBitsToFloat((exponent << 23) | low);
                probes[n++] = Float.intBitsToFloat(0x80000000 | (exponent << 23) | low);
            }
        }
        for (int i = 0; i < randoms; i++) {
            probes[n++] = Float.intBitsToFloat(random.nextInt());
        }
        return probes;
    }

    private static void assertSameBitsOrBothNaN(float expected, float actual, String what) {
        if (Float.isNaN(expected) && Float.isNaN(actual)) {
            return;
        }
        if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(actual)) {
            fail(what + ": libtorch " + expected + " (0x" + Integer.toHexString(Float.floatToRawIntBits(expected))
                    + "), jembed " + actual + " (0x" + Integer.toHexString(Float.floatToRawIntBits(actual)) + ")");
        }
    }

    @Test
    void everyFloat16PatternWidensAsLibtorchWidensIt() {
        float[] expected = libtorchWiden(allPatterns(), torch.ScalarType.Half);
        for (int h = 0; h < 0x10000; h++) {
            assertSameBitsOrBothNaN(expected[h], HalfFloats.float16ToFloat((short) h),
                    "float16 0x" + Integer.toHexString(h));
        }
    }

    @Test
    void everyBFloat16PatternWidensAsLibtorchWidensIt() {
        float[] expected = libtorchWiden(allPatterns(), torch.ScalarType.BFloat16);
        for (int h = 0; h < 0x10000; h++) {
            assertSameBitsOrBothNaN(expected[h], HalfFloats.bfloat16ToFloat((short) h),
                    "bfloat16 0x" + Integer.toHexString(h));
        }
    }

    @Test
    void floatsNarrowToFloat16AsLibtorchNarrowsThem() {
        float[] probes = probes(false);
        short[] expected = libtorchNarrow(probes, torch.ScalarType.Half);
        int nans = 0;
        for (int i = 0; i < probes.length; i++) {
            short got = HalfFloats.floatToFloat16(probes[i]);
            if (Float.isNaN(probes[i])) {
                nans++;
                assertEquals(0x7C00, expected[i] & 0x7C00, "libtorch's float16 of a NaN is NaN");
                assertEquals(0x7C00, got & 0x7C00, "jembed's float16 of a NaN is NaN");
                continue;
            }
            if (got != expected[i]) {
                fail("float16 of " + probes[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(probes[i]))
                        + "): libtorch 0x" + Integer.toHexString(expected[i] & 0xFFFF) + ", jembed 0x"
                        + Integer.toHexString(got & 0xFFFF));
            }
        }
        assertEquals(true, nans > 1000, "the probes include NaNs");
    }

    @Test
    void floatsNarrowToBFloat16AsLibtorchNarrowsThem() {
        float[] probes = probes(true);
        short[] expected = libtorchNarrow(probes, torch.ScalarType.BFloat16);
        for (int i = 0; i < probes.length; i++) {
            short got = HalfFloats.floatToBFloat16(probes[i]);
            if (Float.isNaN(probes[i])) {
                assertEquals(true, Float.isNaN(HalfFloats.bfloat16ToFloat(expected[i])), "libtorch keeps NaN");
                assertEquals(HalfFloats.BFLOAT16_NAN, got, "jembed gives c10's NaN");
                continue;
            }
            if (got != expected[i]) {
                fail("bfloat16 of " + probes[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(probes[i]))
                        + "): libtorch 0x" + Integer.toHexString(expected[i] & 0xFFFF) + ", jembed 0x"
                        + Integer.toHexString(got & 0xFFFF));
            }
        }
    }
}
