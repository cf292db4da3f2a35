package io.jembed.quantized;

/**
 * The two row-wise quantized layouts of PyTorch's quantized embedding tables (FBGEMM's fused row-wise formats). Each
 * row holds its codes and, after them, its own scale and bias; an element dequantizes to
 * {@code scale * q + bias} (one rounding).
 *
 * <p>PyTorch equivalent: the {@code dtype} argument of {@code torch.ao.nn.quantized.Embedding} /
 * {@code EmbeddingBag}: {@code torch.quint8} (what {@code embedding_bag_byte_prepack} writes) and
 * {@code torch.quint4x2} ({@code embedding_bag_4bit_prepack}).
 *
 * <p>Immutable and thread-safe.
 */
public enum QuantizedDType {
    /**
     * 8-bit rows: {@code D} unsigned bytes, then the scale and the bias as little-endian float32
     * ({@code D + 8} bytes a row). PyTorch equivalent: {@code torch.quint8}.
     */
    QUINT8("torch.quint8", 8, 8, "embedding_bag_byte_prepack"),
    /**
     * 4-bit rows: two codes a byte (element {@code c} in byte {@code c / 2}, the low nibble first), then the scale and
     * the bias as little-endian float16 ({@code D / 2 + 4} bytes a row; {@code D} even). PyTorch equivalent:
     * {@code torch.quint4x2}.
     */
    QUINT4X2("torch.quint4x2", 4, 4, "embedding_bag_4bit_prepack");

    private final String pytorchName;
    private final int bits;
    private final int scaleBiasBytes;
    private final String prepackOp;

    QuantizedDType(String pytorchName, int bits, int scaleBiasBytes, String prepackOp) {
        this.pytorchName = pytorchName;
        this.bits = bits;
        this.scaleBiasBytes = scaleBiasBytes;
        this.prepackOp = prepackOp;
    }

    /** Bits per code: 8 or 4. */
    public int bits() {
        return bits;
    }

    /** Bytes of the scale and bias at the end of each row: 8 (two float32) or 4 (two float16). */
    public int scaleBiasBytes() {
        return scaleBiasBytes;
    }

    /** The codes' bytes of a row of {@code dim} elements: {@code dim} or {@code dim / 2}. */
    public long codeBytes(long dim) {
        return bits == 8 ? dim : dim / 2;
    }

    /** Bytes per row for {@code dim} elements: {@code dim + 8} or {@code dim / 2 + 4}. */
    public long rowBytes(long dim) {
        return codeBytes(dim) + scaleBiasBytes;
    }

    /** The embedding dim of rows of {@code rowBytes} bytes, as PyTorch's lookups derive it (-1 if too short). */
    public long dimOfRowBytes(long rowBytes) {
        if (rowBytes < scaleBiasBytes) {
            return -1;
        }
        return bits == 8 ? rowBytes - scaleBiasBytes : (rowBytes - scaleBiasBytes) * 2;
    }

    /** The name of PyTorch's prepack operator for this layout, e.g. {@code embedding_bag_byte_prepack}. */
    public String prepackOp() {
        return prepackOp;
    }

    /** PyTorch's spelling, e.g. {@code torch.quint8}. */
    @Override
    public String toString() {
        return pytorchName;
    }
}
