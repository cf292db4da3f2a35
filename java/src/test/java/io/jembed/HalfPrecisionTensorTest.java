package io.jembed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.internal.HalfFloats;
import org.junit.jupiter.api.Test;

/**
 * {@link DType#FLOAT16} and {@link DType#BFLOAT16} tensors: creation from float values (rounded to nearest even),
 * exact widening back, conversions between every pair of dtypes, element access, bit patterns, and the dtype's names
 * as PyTorch spells them. The roundings themselves are tested exhaustively in {@code HalfFloatsTest} and against
 * libtorch in {@code HalfTablesMatchLibtorchTest}; the printed form in {@code HalfPrecisionPrintingTest}.
 */
class HalfPrecisionTensorTest {
    private static final float[] VALUES = {0f, -0f, 1f, -2.5f, 65504f, 65520f, 0x1p-24f, 0x1p-25f, 1f + 0x1p-11f,
        1f + 0x1p-8f, 3.14159265f, Float.NaN, Float.POSITIVE_INFINITY, -1e6f};

    private static short round(DType dtype, float x) {
        return dtype == DType.FLOAT16 ? HalfFloats.floatToFloat16(x) : HalfFloats.floatToBFloat16(x);
    }

    private static float widen(DType dtype, short bits) {
        return dtype == DType.FLOAT16 ? HalfFloats.float16ToFloat(bits) : HalfFloats.bfloat16ToFloat(bits);
    }

    @Test
    void theDtypesAreNamedAsPyTorchNamesThem() {
        assertEquals("torch.float16", DType.FLOAT16.toString());
        assertEquals("torch.bfloat16", DType.BFLOAT16.toString());
        assertEquals("torch.HalfTensor", DType.FLOAT16.legacyTensorTypeName());
        assertEquals("torch.BFloat16Tensor", DType.BFLOAT16.legacyTensorTypeName());
        assertEquals(2, DType.FLOAT16.itemSize());
        assertEquals(2, DType.BFLOAT16.itemSize());
        assertTrue(DType.FLOAT16.isFloatingPoint() && DType.FLOAT16.isReducedPrecision());
        assertTrue(DType.BFLOAT16.isFloatingPoint() && DType.BFLOAT16.isReducedPrecision());
        assertTrue(!DType.FLOAT32.isReducedPrecision() && !DType.INT64.isReducedPrecision());
    }

    @Test
    void floatValuesRoundToNearestEvenAndWidenBackExactly() {
        for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
            try (Tensor t = Torch.tensor(VALUES, dtype);
                 Tensor refilled = Torch.zeros(dtype, VALUES.length).copyFrom(VALUES)) {
                assertEquals(dtype, t.dtype());
                assertArrayEquals(new long[] {VALUES.length}, t.shape());
                short[] bits = HalfTensors.toBits(t);
                float[] back = t.toFloatArray();
                double[] backDouble = t.toDoubleArray();
                for (int i = 0; i < VALUES.length; i++) {
                    short want = round(dtype, VALUES[i]);
                    assertEquals(want, bits[i], dtype + " of " + VALUES[i]);
                    assertEquals(Float.floatToRawIntBits(widen(dtype, want)), Float.floatToRawIntBits(back[i]));
                    assertEquals(Double.doubleToRawLongBits(widen(dtype, want)),
                            Double.doubleToRawLongBits(backDouble[i]));
                    assertEquals(Double.doubleToRawLongBits(widen(dtype, want)),
                            Double.doubleToRawLongBits(t.getDouble(i)));
                }
                assertArrayEquals(bits, HalfTensors.toBits(refilled), "copyFrom(float[]) rounds alike");
            }
        }
    }

    @Test
    void conversionsBetweenEveryPairOfDtypesGoThroughFloatAsPyTorchsDo() {
        double[] wide = {1.0 + 0x1p-30, 65519.99, -3.75, 1e-8, 2.5};
        try (Tensor f64 = Torch.tensor(wide)) {
            for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
                try (Tensor narrow = f64.to(dtype);
                     Tensor viaFloat = f64.to(DType.FLOAT32).to(dtype);
                     Tensor back64 = narrow.to(DType.FLOAT64);
                     Tensor back32 = narrow.to(DType.FLOAT32);
                     Tensor asLong = narrow.to(DType.INT64);
                     Tensor same = narrow.to(dtype)) {
                    // c10::Half(double) and c10::BFloat16(double) convert through float: double rounding.
                    assertArrayEquals(HalfTensors.toBits(viaFloat), HalfTensors.toBits(narrow), dtype.toString());
                    for (int i = 0; i < wide.length; i++) {
                        float v = widen(dtype, round(dtype, (float) wide[i]));
                        assertEquals(v, back64.getDouble(i), 0.0);
                        assertEquals(v, back32.getDouble(i), 0.0);
                        assertEquals((long) v, asLong.getLong(i));
                    }
                    assertNotSame(narrow, same, "to() always returns a new tensor the caller owns");
                    assertArrayEquals(HalfTensors.toBits(narrow), HalfTensors.toBits(same));
                }
            }
        }
        try (Tensor ints = Torch.tensor(new long[] {3, -7, 2049, 70000});
             Tensor half = ints.to(DType.FLOAT16);
             Tensor brain = ints.to(DType.BFLOAT16)) {
            assertArrayEquals(new float[] {3f, -7f, 2048f, Float.POSITIVE_INFINITY}, half.toFloatArray(),
                    "2049 ties to 2048; 70000 overflows float16");
            assertArrayEquals(new float[] {3f, -7f, 2048f, 70144f}, brain.toFloatArray());
        }
        try (Tensor a = Torch.tensor(new float[] {1.5f, -2f}, DType.FLOAT16);
             Tensor b = Torch.zeros(DType.BFLOAT16, 2)) {
            b.copy_(a);
            assertArrayEquals(new float[] {1.5f, -2f}, b.toFloatArray());
        }
    }

    @Test
    void elementAccessFillsAndClonesWorkOnSixteenBitElements() {
        for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
            try (Tensor t = Torch.full(dtype, 0.1, 2, 3);
                 Tensor ones = Torch.ones(dtype, 4)) {
                short tenth = round(dtype, 0.1f);
                for (short s : HalfTensors.toBits(t)) {
                    assertEquals(tenth, s);
                }
                t.set(-1e5, 1, 2);
                assertEquals(widen(dtype, round(dtype, -1e5f)), t.getDouble(1, 2), 0.0);
                assertEquals(widen(dtype, round(dtype, -1e5f)), t.getDouble(-1, -1), 0.0);
                try (Tensor copy = t.clone()) {
                    assertEquals(dtype, copy.dtype());
                    assertArrayEquals(HalfTensors.toBits(t), HalfTensors.toBits(copy));
                }
                t.zero_();
                assertArrayEquals(new short[6], HalfTensors.toBits(t));
                assertArrayEquals(new float[] {1f, 1f, 1f, 1f}, ones.toFloatArray());
                try (Tensor scalar = Torch.scalarTensor(2.75, dtype)) {
                    assertEquals(2.75, scalar.item(), 0.0);
                }
            }
        }
    }

    @Test
    void bitPatternsTravelUnchangedNaNPayloadsIncluded() {
        short[] bits = {0x7C01, (short) 0xFE37, 0x7F81, 0x0001, (short) 0x8000, 0x7C00, 0x3C00};
        for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
            try (Tensor t = HalfTensors.fromBits(dtype, bits, 7); Tensor copy = Torch.empty(dtype, 7)) {
                assertArrayEquals(bits, HalfTensors.toBits(t));
                copy.copy_(t);
                assertArrayEquals(bits, HalfTensors.toBits(copy), "copy_ within a dtype copies bits");
            }
        }
        try (Tensor t = HalfTensors.fromBits(DType.BFLOAT16, new short[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            assertArrayEquals(new long[] {2, 3}, t.shape());
        }
        assertThrows(IllegalArgumentException.class, () -> HalfTensors.toBits(Torch.zeros(DType.FLOAT32, 2)));
    }
}
