package io.jembed.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jembed.DType;
import io.jembed.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Comparisons of jembed tensors with libtorch's results: bit for bit, or within a stated tolerance. */
final class TensorAssertions {
    private TensorAssertions() {}

    /** Same dtype, same shape, and the same raw bits in every element (NaN payloads and signed zeros included). */
    static void assertBitIdentical(Tensor expected, Tensor actual, Supplier<String> what) {
        assertSameLayout(expected, actual, what);
        long[] want = rawBits(expected);
        long[] got = rawBits(actual);
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) {
                fail(what.get() + ": element " + i + " (row " + i / rowLength(expected) + ") differs: expected "
                        + describe(expected.dtype(), want[i]) + " but got " + describe(actual.dtype(), got[i]));
            }
        }
    }

    /**
     * Same dtype and shape; every element either has the expected bits or lies within
     * {@code atol + rtol * |expected|} of it (both finite). Returns the largest fraction of that tolerance used by
     * any element (0 when all bits agree; at most 1 when the assertion passes), for the tests' evidence.
     */
    static double assertClose(Tensor expected, Tensor actual, double rtol, double atol, Supplier<String> what) {
        assertSameLayout(expected, actual, what);
        double[] want = expected.toDoubleArray();
        double[] got = actual.toDoubleArray();
        long[] wantBits = rawBits(expected);
        long[] gotBits = rawBits(actual);
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            if (wantBits[i] == gotBits[i]) {
                continue;
            }
            double error = Math.abs(got[i] - want[i]);
            boolean close = Double.isFinite(want[i]) && Double.isFinite(got[i]) && error <= atol + rtol * Math.abs(want[i]);
            if (!close) {
                fail(what.get() + ": element " + i + " (row " + i / rowLength(expected) + ") expected "
                        + describe(expected.dtype(), wantBits[i]) + " but got " + describe(actual.dtype(), gotBits[i])
                        + ": |difference| " + error + " > atol " + atol + " + rtol " + rtol + " * |expected|");
            }
            worst = Math.max(worst, error / (atol + rtol * Math.abs(want[i])));
        }
        return worst;
    }

    static void assertSameLayout(Tensor expected, Tensor actual, Supplier<String> what) {
        assertEquals(expected.dtype(), actual.dtype(), () -> what.get() + ": dtype");
        assertArrayEquals(expected.shape(), actual.shape(), () -> what.get() + ": shape");
    }

    /** The raw bits of every element, widened to long (floats by {@code floatToRawIntBits}). */
    /** The shape as a list, for assertEquals messages that print it. */
    static List<Long> shapeList(Tensor t) {
        List<Long> list = new ArrayList<>();
        for (long side : t.shape()) {
            list.add(side);
        }
        return list;
    }

    static long[] rawBits(Tensor t) {
        int n = Math.toIntExact(t.numel());
        long[] bits = new long[n];
        switch (t.dtype()) {
            case FLOAT32: {
                float[] values = t.toFloatArray();
                for (int i = 0; i < n; i++) {
                    bits[i] = Float.floatToRawIntBits(values[i]);
                }
                return bits;
            }
            case FLOAT64: {
                double[] values = t.toDoubleArray();
                for (int i = 0; i < n; i++) {
                    bits[i] = Double.doubleToRawLongBits(values[i]);
                }
                return bits;
            }
            case INT32: {
                int[] values = t.toIntArray();
                for (int i = 0; i < n; i++) {
                    bits[i] = values[i];
                }
                return bits;
            }
            case INT64:
                return t.toLongArray();
            case FLOAT16:
            case BFLOAT16: {
                short[] patterns = io.jembed.HalfTensors.toBits(t);
                for (int i = 0; i < n; i++) {
                    bits[i] = patterns[i] & 0xFFFF;
                }
                return bits;
            }
            default:
                throw new AssertionError(t.dtype());
        }
    }

    private static long rowLength(Tensor t) {
        return t.dim() == 0 ? 1 : Math.max(1, t.size(-1));
    }

    static String describe(DType dtype, long bits) {
        switch (dtype) {
            case FLOAT32:
                return Float.intBitsToFloat((int) bits) + " (0x" + Integer.toHexString((int) bits) + ")";
            case FLOAT64:
                return Double.longBitsToDouble(bits) + " (0x" + Long.toHexString(bits) + ")";
            case FLOAT16:
                return io.jembed.internal.HalfFloats.float16ToFloat((short) bits) + " (0x" + Long.toHexString(bits)
                        + ")";
            case BFLOAT16:
                return io.jembed.internal.HalfFloats.bfloat16ToFloat((short) bits) + " (0x" + Long.toHexString(bits)
                        + ")";
            default:
                return Long.toString(bits);
        }
    }
}
