package io.jembed.io.safetensors;

import io.jembed.DType;
import io.jembed.internal.io.FileElement;

/**
 * The element types of the safetensors format, by the names its header uses, in the order the reference
 * implementation sorts them (its writer puts larger types first). Every one parses; {@link #tensorDType()} says which
 * jembed can load.
 *
 * <p>PyTorch equivalent: the {@code dtype} strings of {@code safetensors} ({@code "F32"}, {@code "BF16"}, ...).
 */
public enum SafetensorsDType {
    BOOL(1, null),
    U8(1, null),
    I8(1, null),
    F8_E5M2(1, null),
    F8_E4M3(1, null),
    I16(2, null),
    U16(2, null),
    F16(2, FileElement.F16),
    BF16(2, FileElement.BF16),
    I32(4, FileElement.I32),
    U32(4, null),
    F32(4, FileElement.F32),
    F64(8, FileElement.F64),
    I64(8, FileElement.I64),
    U64(8, null);

    private final int itemSize;
    private final FileElement element;

    SafetensorsDType(int itemSize, FileElement element) {
        this.itemSize = itemSize;
        this.element = element;
    }

    /** Bytes per element in the file. */
    public int itemSize() {
        return itemSize;
    }

    /**
     * The jembed dtype this is read into: F32 and F64 as themselves, F16 and BF16 widened (exactly) to float32, I32 and
     * I64 as int32 and int64; {@code null} for the types jembed cannot load.
     */
    public DType tensorDType() {
        return element == null ? null : element.target();
    }

    FileElement element() {
        return element;
    }

    /**
     * The jembed dtype that holds this type's bytes as they are ({@code F16} as {@code FLOAT16}, {@code BF16} as
     * {@code BFLOAT16}, the others as {@link #tensorDType()}), or {@code null}: what a memory-mapped tensor and
     * {@code ReadOptions.keepReducedPrecision(true)} give.
     */
    public DType storedDType() {
        return element == null ? null : element.kept().target();
    }

    /** The safetensors dtype that stores a jembed dtype without conversion. */
    public static SafetensorsDType of(DType dtype) {
        switch (dtype) {
            case FLOAT16: return F16;
            case BFLOAT16: return BF16;
            case FLOAT32: return F32;
            case FLOAT64: return F64;
            case INT32: return I32;
            case INT64: return I64;
            default: throw new IllegalArgumentException("safetensors has no dtype for " + dtype);
        }
    }
}
