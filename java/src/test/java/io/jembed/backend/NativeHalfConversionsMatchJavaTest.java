package io.jembed.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.HalfTensors;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.HalfFloats;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.nativebinding.JembedNative;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The native conversions ({@code native/src/half_float.h}: the scalar functions, F16C and AVX-512 on the variant in
 * use) give {@link HalfFloats}' bits: every 16-bit pattern widened, and every float16/bfloat16 value, the midpoints
 * between neighbours and the floats beside them, and a million random floats narrowed. NaN results compare as NaN
 * where F16C quiets a signalling float16 NaN as it widens; everything else bit for bit.
 */
class NativeHalfConversionsMatchJavaTest {
    private static long address(Tensor t) {
        return TensorInternals.memory(t).address();
    }

    @Test
    void everyPatternWidensAndEveryProbeNarrowsToTheJavaBits() {
        assumeTrue(Backends.current() instanceof NativeBackend, "native backend not in use in this pass");
        short[] all = new short[0x10000];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        SplittableRandom random = new SplittableRandom(0xF16C);
        float[] probes = new float[0x10000 * 8 + 1_000_000];
        int n = 0;
        for (int h = 0; h < 0x10000; h++) {
            for (boolean brain : new boolean[] {false, true}) {
                float x = brain ? HalfFloats.bfloat16ToFloat((short) h) : HalfFloats.float16ToFloat((short) h);
                float next = brain ? HalfFloats.bfloat16ToFloat((short) (h + 1))
                        : HalfFloats.float16ToFloat((short) (h + 1));
                float mid = (float) (((double) x + next) / 2);
                probes[n++] = x;
                probes[n++] = mid;
                probes[n++] = Math.nextDown(mid);
                probes[n++] = Math.nextUp(mid);
            }
        }
        while (n < probes.length) {
            probes[n++] = Float.intBitsToFloat(random.nextInt());
        }
        for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
            boolean half = dtype == DType.FLOAT16;
            try (Tensor patterns = HalfTensors.fromBits(dtype, all, all.length);
                 Tensor wide = Torch.empty(DType.FLOAT32, all.length);
                 Tensor floats = Torch.tensor(probes);
                 Tensor narrow = Torch.empty(dtype, probes.length)) {
                if (half) {
                    JembedNative.f32FromF16(address(patterns), all.length, address(wide));
                    JembedNative.f16FromF32(address(floats), probes.length, address(narrow));
                } else {
                    JembedNative.f32FromBf16(address(patterns), all.length, address(wide));
                    JembedNative.bf16FromF32(address(floats), probes.length, address(narrow));
                }
                float[] widened = wide.toFloatArray();
                for (int h = 0; h < all.length; h++) {
                    float want = half ? HalfFloats.float16ToFloat(all[h]) : HalfFloats.bfloat16ToFloat(all[h]);
                    boolean same = Float.floatToRawIntBits(want) == Float.floatToRawIntBits(widened[h])
                            || (Float.isNaN(want) && Float.isNaN(widened[h]));
                    if (!same) {
                        fail(dtype + " pattern 0x" + Integer.toHexString(h) + ": Java " + want + ", native "
                                + widened[h]);
                    }
                }
                short[] narrowed = HalfTensors.toBits(narrow);
                for (int i = 0; i < probes.length; i++) {
                    short want = half ? HalfFloats.floatToFloat16(probes[i]) : HalfFloats.floatToBFloat16(probes[i]);
                    if (want != narrowed[i]) {
                        fail(dtype + " of " + probes[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(
                                probes[i])) + "): Java 0x" + Integer.toHexString(want & 0xFFFF) + ", native 0x"
                                + Integer.toHexString(narrowed[i] & 0xFFFF) + " on " + Backends.current().name());
                    }
                }
                assertEquals(probes.length, narrowed.length);
            }
        }
    }
}
