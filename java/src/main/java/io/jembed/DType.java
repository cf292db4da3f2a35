package io.jembed;

/**
 * The element type of a {@link Tensor}.
 *
 * <p>PyTorch equivalent: {@code torch.dtype} ({@code torch.float32}, {@code torch.float64}, {@code torch.int32},
 * {@code torch.int64}, {@code torch.float16}, {@code torch.bfloat16}). Code that needs the size asks
 * {@link #itemSize()} rather than assuming 4 or 8; {@link #isReducedPrecision()} tells the two 16-bit floating types,
 * which are held as their bit patterns and converted exactly ({@code io.jembed.internal.HalfFloats}).
 *
 * <p>Immutable and thread-safe.
 */
public enum DType {
    /** PyTorch equivalent: {@code torch.float32}. */
    FLOAT32("float32", "Float", 4, true),
    /** PyTorch equivalent: {@code torch.float64}. */
    FLOAT64("float64", "Double", 8, true),
    /** PyTorch equivalent: {@code torch.int32}. */
    INT32("int32", "Int", 4, false),
    /** PyTorch equivalent: {@code torch.int64} (PyTorch's {@code torch.long}). */
    INT64("int64", "Long", 8, false),
    /**
     * IEEE 754 binary16: 11 significant bits, 5 exponent bits (largest finite value 65504). Values convert from float
     * by rounding to nearest even. PyTorch equivalent: {@code torch.float16} ({@code torch.half}).
     */
    FLOAT16("float16", "Half", 2, true),
    /**
     * bfloat16: the top half of a float32 (8 significant bits, float32's exponent range). Values convert from float
     * by rounding to nearest even ({@code c10::BFloat16}'s rounding). PyTorch equivalent: {@code torch.bfloat16}.
     */
    BFLOAT16("bfloat16", "BFloat16", 2, true);

    private final String pytorchName;
    private final String legacyName;
    private final int itemSize;
    private final boolean floatingPoint;

    DType(String pytorchName, String legacyName, int itemSize, boolean floatingPoint) {
        this.pytorchName = pytorchName;
        this.legacyName = legacyName;
        this.itemSize = itemSize;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int itemSize() {
        return itemSize;
    }

    /** PyTorch equivalent: {@code dtype.is_floating_point}. */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** True for {@link #FLOAT16} and {@link #BFLOAT16}, the 16-bit floating types. */
    public boolean isReducedPrecision() {
        return this == FLOAT16 || this == BFLOAT16;
    }

    /** PyTorch's spelling, e.g. {@code torch.float32}. */
    @Override
    public String toString() {
        return "torch." + pytorchName;
    }

    /** PyTorch's legacy tensor type name used in its error messages, e.g. {@code torch.FloatTensor}. */
    public String legacyTensorTypeName() {
        return "torch." + legacyName + "Tensor";
    }

    /** The name PyTorch's scalar-type checks print, e.g. {@code Long}. */
    public String scalarTypeName() {
        return legacyName;
    }
}
