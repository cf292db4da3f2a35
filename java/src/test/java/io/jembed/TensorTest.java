package io.jembed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The Tensor type: shapes, conversions, ownership, and PyTorch's printed form. */
class TensorTest {

    @Test
    void arraysRoundTripWithTheirDtype() {
        try (Tensor f = Torch.tensor(new float[] {1.5f, -2}, 2);
             Tensor d = Torch.tensor(new double[][] {{1, 2}, {3, 4}});
             Tensor l = Torch.tensor(new long[] {Long.MIN_VALUE, Long.MAX_VALUE});
             Tensor i = Torch.tensor(new int[] {7, 8, 9, 10}, 2, 1, 2)) {
            assertEquals(DType.FLOAT32, f.dtype());
            assertArrayEquals(new float[] {1.5f, -2}, f.toFloatArray());
            assertArrayEquals(new long[] {2, 2}, d.shape());
            assertArrayEquals(new double[] {1, 2, 3, 4}, d.toDoubleArray());
            assertArrayEquals(new long[] {Long.MIN_VALUE, Long.MAX_VALUE}, l.toLongArray());
            assertEquals(3, i.dim());
            assertEquals(10, i.getLong(1, 0, 1));
            assertEquals(8, i.getLong(-2, -1, -1));
        }
    }

    @Test
    void zeroDimensionalTensorHasOneElement() {
        try (Tensor s = Torch.scalarTensor(2.5, DType.FLOAT64); Tensor i = Torch.scalarTensor(7)) {
            assertEquals(0, s.dim());
            assertEquals(1, s.numel());
            assertEquals(2.5, s.item());
            assertEquals(7, i.getLong());
            assertEquals("tensor(2.5000, dtype=torch.float64)", s.toString());
            assertEquals("tensor(7)", i.toString());
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() {
        Tensor t = Torch.zeros(DType.FLOAT32, 3);
        t.close();
        assertDoesNotThrow(t::close);
        assertTrue(t.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, t::toFloatArray);
        assertTrue(e.getMessage().contains("closed"));
        assertThrows(IllegalStateException.class, () -> t.fill_(1));
        assertEquals("tensor(<closed>, dtype=torch.float32)", t.toString());
    }

    @Test
    void cloneIsIndependent() {
        try (Tensor a = Torch.tensor(new float[] {1, 2}); Tensor b = a.clone()) {
            b.set(5, 0);
            assertEquals(1.0, a.getDouble(0));
            assertEquals(5.0, b.getDouble(0));
        }
    }

    @Test
    void copyConvertsBetweenDtypes() {
        try (Tensor a = Torch.tensor(new double[] {1.75, -2.5}); Tensor b = Torch.zeros(DType.INT64, 2);
             Tensor c = Torch.zeros(DType.FLOAT32, 2)) {
            b.copy_(a);
            c.copy_(a);
            assertArrayEquals(new long[] {1, -2}, b.toLongArray());
            assertArrayEquals(new float[] {1.75f, -2.5f}, c.toFloatArray());
        }
    }

    @Test
    void zerosAreZeroAndFullIsFull() {
        try (Tensor z = Torch.zeros(DType.FLOAT64, 1000); Tensor o = Torch.full(DType.INT32, 3, 2, 2)) {
            for (double v : z.toDoubleArray()) {
                assertEquals(0.0, v);
            }
            assertArrayEquals(new int[] {3, 3, 3, 3}, o.toIntArray());
        }
    }

    @Test
    void uniformStaysWithinItsRange() {
        try (Tensor t = Torch.empty(DType.FLOAT32, 10_000).uniform_(-1, 1, new Generator(5))) {
            for (float v : t.toFloatArray()) {
                assertTrue(v >= -1 && v < 1, "value " + v);
            }
        }
    }

    @Test
    void normalHasRoughlyUnitMoments() {
        try (Tensor t = Torch.randn(new Generator(11), DType.FLOAT64, 100_000)) {
            double sum = 0;
            double squares = 0;
            for (double v : t.toDoubleArray()) {
                sum += v;
                squares += v * v;
            }
            double mean = sum / t.numel();
            // 100k samples: the standard error of the mean is about 0.003 and of the variance about 0.0045.
            assertEquals(0.0, mean, 0.02);
            assertEquals(1.0, squares / t.numel() - mean * mean, 0.03);
        }
    }

    @Test
    void equalAndAllclose() {
        try (Tensor a = Torch.tensor(new float[] {1, 2}); Tensor b = Torch.tensor(new float[] {1, 2.0000005f});
             Tensor c = Torch.tensor(new float[] {1, 2, 3})) {
            assertFalse(Torch.equal(a, b));
            assertTrue(Torch.allclose(a, b, 1e-5, 1e-8));
            assertFalse(Torch.equal(a, c));
        }
    }

    // ---- printing, as torch/_tensor_str.py prints (expected strings follow its rules by hand) -----------

    @Test
    void printsIntegralFloatsWithATrailingPoint() {
        try (Tensor t = Torch.tensor(new float[][] {{1, 2}, {3, 4}})) {
            assertEquals("tensor([[1., 2.],\n        [3., 4.]])", t.toString());
        }
    }

    @Test
    void printsFixedPointWithFourDecimalsAndAlignedSigns() {
        try (Tensor t = Torch.tensor(new float[] {-0.0251f, 1.497f, 0.5f})) {
            assertEquals("tensor([-0.0251,  1.4970,  0.5000])", t.toString());
        }
    }

    @Test
    void printsScientificWhenMagnitudesSpreadOverThreeDecades() {
        try (Tensor t = Torch.tensor(new double[] {1e-5, 1.0})) {
            assertEquals("tensor([1.0000e-05, 1.0000e+00], dtype=torch.float64)", t.toString());
        }
    }

    @Test
    void printsIntegersWithoutDtypeForInt64AndWithItForInt32() {
        try (Tensor l = Torch.tensor(new long[] {1, -20, 300}); Tensor i = Torch.tensor(new int[] {5})) {
            assertEquals("tensor([  1, -20, 300])", l.toString());
            assertEquals("tensor([5], dtype=torch.int32)", i.toString());
        }
    }

    @Test
    void printsEmptyTensorsWithTheirSize() {
        try (Tensor a = Torch.empty(DType.FLOAT32, 0); Tensor b = Torch.empty(DType.INT64, 2, 0, 3)) {
            assertEquals("tensor([])", a.toString());
            assertEquals("tensor([], size=(2, 0, 3), dtype=torch.int64)", b.toString());
        }
    }

    @Test
    void printsNonFiniteValues() {
        try (Tensor t = Torch.tensor(new float[] {Float.NaN, Float.POSITIVE_INFINITY, 1})) {
            assertEquals("tensor([nan, inf, 1.])", t.toString());
        }
    }

    @Test
    void summarisesAboveAThousandElements() {
        try (Tensor t = Torch.arange(1001, DType.INT64)) {
            assertEquals("tensor([   0,    1,    2,  ...,  998,  999, 1000])", t.toString());
        }
    }

    @Test
    void wrapsLongRowsAtEightyColumns() {
        try (Tensor t = Torch.arange(20, DType.FLOAT32)) {
            assertEquals("tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
                    + "        14., 15., 16., 17., 18., 19.])", t.toString());
        }
    }

    @Test
    void printsThreeDimensionalTensorsWithBlankLinesBetweenMatrices() {
        try (Tensor t = Torch.tensor(new float[] {1, 2, 3, 4}, 2, 1, 2)) {
            assertEquals("tensor([[[1., 2.]],\n\n        [[3., 4.]]])", t.toString());
        }
    }
}
