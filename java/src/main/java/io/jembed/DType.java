package io.jembed;

/**
 * The element type of a {@link Tensor}.
 *
 * <p>PyTorch equivalent: {@code torch.dtype} ({@code torch.float32}, {@code torch.float64}, {@code torch.int32},
 * {@code torch.int64}). Reduced-precision floating types ({@code float16}, {@code bfloat16}) will join this enum with
 * their own item size; code that needs the size asks {@link #itemSize()} rather than assuming 4 or 8.
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
    INT64("int64", "Long", 8, false);

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
