package io.jembed;

import io.jembed.internal.HalfFloats;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;

/**
 * The bit patterns of {@link DType#FLOAT16} and {@link DType#BFLOAT16} tensors, for data that arrives or leaves as
 * 16-bit words (files, other libraries, tests that compare bits). Values, as opposed to bits, go through
 * {@link Tensor#copyFrom(float[])}, {@link Tensor#toFloatArray()} and {@link Tensor#to(DType)}.
 *
 * <p>Thread-safe (stateless); the tensors follow {@link Tensor}'s rules.
 */
public final class HalfTensors {
    private HalfTensors() {}

    /**
     * A new tensor of {@code dtype} (float16 or bfloat16) whose elements have the given bit patterns, in the given
     * shape (an empty {@code shape} gives a 0-d tensor). PyTorch equivalent:
     * {@code torch.tensor(bits, dtype=torch.int16).view(dtype).reshape(shape)}.
     *
     * @throws IllegalArgumentException if {@code dtype} is not 16-bit floating, or the shape does not hold
     *     {@code bits.length} elements
     */
    public static Tensor fromBits(DType dtype, short[] bits, long... shape) {
        checkHalf(dtype);
        long numel = Shapes.numel(shape.clone());
        if (numel != bits.length) {
            throw new IllegalArgumentException("shape " + Shapes.toString(shape) + " holds " + numel
                    + " elements, but " + bits.length + " bit patterns were given");
        }
        Tensor t = Tensor.allocate(dtype, shape, false);
        Memory memory = t.memory();
        for (int i = 0; i < bits.length; i++) {
            memory.putShort(2L * i, bits[i]);
        }
        return t;
    }

    /**
     * The bit patterns of a float16 or bfloat16 tensor's elements, in row-major order.
     * PyTorch equivalent: {@code tensor.view(torch.int16).flatten().tolist()}.
     *
     * @throws IllegalArgumentException if the tensor is not 16-bit floating
     * @throws IllegalStateException if it is closed or holds more elements than a Java array can
     */
    public static short[] toBits(Tensor tensor) {
        checkHalf(tensor.dtype());
        tensor.checkOpen();
        if (tensor.numel() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a tensor of " + tensor.numel() + " elements does not fit in a Java array"
                    + " (at most " + (Integer.MAX_VALUE - 8) + ")");
        }
        Memory memory = tensor.memory();
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            short[] bits = new short[(int) tensor.numel()];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = memory.getShort(2L * i);
            }
            return bits;
        } finally {
            guard.exit();
        }
    }

    private static void checkHalf(DType dtype) {
        if (dtype == null || !dtype.isReducedPrecision()) {
            throw new IllegalArgumentException("expected torch.float16 or torch.bfloat16, got " + dtype);
        }
    }

    /** Rounds {@code values} into {@code memory}'s 16-bit elements (the caller checked length and dtype). */
    static void narrow(float[] values, Memory memory, DType dtype) {
        boolean half = dtype == DType.FLOAT16;
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            memory.putShort(2L * i, half ? HalfFloats.floatToFloat16(v) : HalfFloats.floatToBFloat16(v));
        }
    }

    /**
     * {@code target.copy_(source)} between float32 and a 16-bit type, element by element without going through
     * double (the result is the same; this skips the boxing-free but generic path). Returns false when the pair is
     * not one of these, for the caller's generic copy.
     */
    static boolean convert(Tensor source, Tensor target) {
        DType from = source.dtype();
        DType to = target.dtype();
        Memory in = source.memory();
        Memory out = target.memory();
        long n = source.numel();
        if (from == DType.FLOAT32 && to.isReducedPrecision()) {
            boolean half = to == DType.FLOAT16;
            for (long i = 0; i < n; i++) {
                float v = in.getFloat(4 * i);
                out.putShort(2 * i, half ? HalfFloats.floatToFloat16(v) : HalfFloats.floatToBFloat16(v));
            }
            return true;
        }
        if (from.isReducedPrecision() && to == DType.FLOAT32) {
            boolean half = from == DType.FLOAT16;
            for (long i = 0; i < n; i++) {
                short bits = in.getShort(2 * i);
                out.putFloat(4 * i, half ? HalfFloats.float16ToFloat(bits) : HalfFloats.bfloat16ToFloat(bits));
            }
            return true;
        }
        return false;
    }
}
