package io.jembed.internal.io;

import io.jembed.DType;

/**
 * How one element is stored in a file, and the jembed {@link DType} it is read into. float16 and bfloat16 are widened
 * to float32 (exactly) by {@link #F16} and {@link #BF16}, and kept bit for bit by {@link #F16_BITS} and
 * {@link #BF16_BITS} ({@code ReadOptions.keepReducedPrecision}). Not API.
 */
public enum FileElement {
    F16(2, DType.FLOAT32),
    BF16(2, DType.FLOAT32),
    F16_BITS(2, DType.FLOAT16),
    BF16_BITS(2, DType.BFLOAT16),
    F32(4, DType.FLOAT32),
    F64(8, DType.FLOAT64),
    I32(4, DType.INT32),
    I64(8, DType.INT64);

    private final int size;
    private final DType target;

    FileElement(int size, DType target) {
        this.size = size;
        this.target = target;
    }

    public int size() {
        return size;
    }

    public DType target() {
        return target;
    }

    /** The element that stores {@code dtype} without conversion. */
    public static FileElement of(DType dtype) {
        switch (dtype) {
            case FLOAT32: return F32;
            case FLOAT64: return F64;
            case INT32: return I32;
            case INT64: return I64;
            case FLOAT16: return F16_BITS;
            case BFLOAT16: return BF16_BITS;
            default: throw new IllegalArgumentException("no file element for " + dtype);
        }
    }

    /** The element that keeps this one's 16-bit floats as they are ({@code this} for every other element). */
    public FileElement kept() {
        return this == F16 ? F16_BITS : this == BF16 ? BF16_BITS : this;
    }

    /** IEEE 754 binary16 to float; exact (every half is a float). Java 17 has no Float.float16ToFloat. */
    public static float halfToFloat(int half) {
        int sign = (half & 0x8000) << 16;
        int exponent = (half >>> 10) & 0x1f;
        int mantissa = half & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;   // zero or subnormal: exact in float
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** bfloat16 is the top half of a float. */
    public static float bfloat16ToFloat(int bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }
}
