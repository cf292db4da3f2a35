package io.jembed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * float16 and bfloat16 tensors print as PyTorch prints them: each expected string below is {@code repr(t)} of the
 * same tensor printed by PyTorch (1.13, Debian's python3-torch; {@code torch/_tensor_str.py} formats these dtypes the
 * same way in 2.10): the values widened exactly, PyTorch's three modes, and the dtype suffix.
 */
class HalfPrecisionPrintingTest {
    private static String repr(float[] values, DType dtype, long... shape) {
        try (Tensor t = Torch.tensor(values, dtype, shape)) {
            return t.toString();
        }
    }

    @Test
    void sixteenBitTensorsPrintAsPyTorchPrintsThem() {
        assertEquals("tensor([ 1.0000,  2.5000, -3.0000], dtype=torch.float16)",
                repr(new float[] {1f, 2.5f, -3f}, DType.FLOAT16, 3));
        assertEquals("tensor([1., 2., 3.], dtype=torch.bfloat16)",
                repr(new float[] {1f, 2f, 3f}, DType.BFLOAT16, 3));
        assertEquals("tensor([[0.1001, 0.2002],\n        [0.3008, 0.4004]], dtype=torch.bfloat16)",
                repr(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, DType.BFLOAT16, 2, 2));
        assertEquals("tensor([6.5504e+04, 1.0002e-04, 1.0000e+00], dtype=torch.float16)",
                repr(new float[] {65504f, 0.0001f, 1f}, DType.FLOAT16, 3));
        assertEquals("tensor([    nan,     inf, -1.5000], dtype=torch.float16)",
                repr(new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1.5f}, DType.FLOAT16, 3));
        assertEquals("tensor(3.1406, dtype=torch.float16)", repr(new float[] {3.14159f}, DType.FLOAT16));
        assertEquals("tensor([1.0012e-08, 3.0000e+00], dtype=torch.bfloat16)",
                repr(new float[] {1e-8f, 3f}, DType.BFLOAT16, 2));
        assertEquals("tensor([], size=(0, 3), dtype=torch.bfloat16)", repr(new float[0], DType.BFLOAT16, 0, 3));
        assertEquals("tensor([], dtype=torch.float16)", repr(new float[0], DType.FLOAT16, 0));
        try (Tensor range = Torch.arange(2000, DType.FLOAT16)) {
            assertEquals("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
                    + "        1.9990e+03], dtype=torch.float16)", range.toString());
        }
    }
}
