package io.jembed.quantized;

import io.jembed.Tensor;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagMode;

/**
 * Sums (or means) of bags of quantized rows, dequantized on the fly into float32, without materialising the rows.
 *
 * <p>PyTorch equivalent: {@code torch.ao.nn.quantized.EmbeddingBag} (its forward is
 * {@code torch.ops.quantized.embedding_bag_byte_rowwise_offsets}); sums are bit for bit libtorch's. PyTorch's module
 * only sums; {@code mean} here divides each sum once by its bag's length, as the float module does. See
 * {@link QuantizedEmbedding} for how {@link #fromFloat} quantizes, and {@link QuantizedOps#embeddingBag} for the
 * arguments.
 *
 * <p><b>Ownership.</b> A module owns the table it made ({@link #fromFloat}) and frees it in {@link #close()}; a table
 * passed to the constructor stays the caller's.
 *
 * <p><b>Thread safety.</b> {@link #forward} may run on many threads at once; the table is read-only.
 */
public class QuantizedEmbeddingBag implements AutoCloseable {
    private final QuantizedTable table;
    private final EmbeddingBagMode mode;
    private final boolean includeLastOffset;
    private final boolean ownsTable;

    /** PyTorch equivalent: {@code torch.ao.nn.quantized.EmbeddingBag(..., mode='sum')} over {@code table}. */
    public QuantizedEmbeddingBag(QuantizedTable table) {
        this(table, EmbeddingBagMode.SUM, false);
    }

    /**
     * A module over {@code table} (which stays the caller's to close).
     *
     * @param mode SUM or MEAN
     * @param includeLastOffset as in {@code nn.EmbeddingBag}: the offsets end with the input's length
     * @throws IllegalArgumentException if {@code mode} is MAX or null
     */
    public QuantizedEmbeddingBag(QuantizedTable table, EmbeddingBagMode mode, boolean includeLastOffset) {
        this(table, mode, includeLastOffset, false);
    }

    private QuantizedEmbeddingBag(QuantizedTable table, EmbeddingBagMode mode, boolean includeLastOffset,
                                  boolean ownsTable) {
        QuantizedOps.checkTable(table);
        if (mode == null || mode == EmbeddingBagMode.MAX) {
            throw new IllegalArgumentException("a quantized EmbeddingBag sums or averages: mode has to be sum or mean, "
                    + "got " + (mode == null ? "null" : "'" + mode.pythonName() + "'"));
        }
        this.table = table;
        this.mode = mode;
        this.includeLastOffset = includeLastOffset;
        this.ownsTable = ownsTable;
    }

    /**
     * Quantizes a float32 weight into a module (mode sum) that owns the table.
     *
     * @throws IllegalArgumentException as {@link QuantizedTable#quantize}
     */
    public static QuantizedEmbeddingBag fromFloat(Tensor weight, QuantizedDType dtype) {
        return new QuantizedEmbeddingBag(QuantizedTable.quantize(weight, dtype), EmbeddingBagMode.SUM, false, true);
    }

    /**
     * Quantizes a float module's weight, keeping its mode and {@code include_last_offset}. Options that change its
     * results and that quantized lookups cannot honour are refused: {@code max_norm}, {@code padding_idx} and mode
     * {@code max}.
     *
     * <p>PyTorch equivalent: {@code torch.ao.nn.quantized.EmbeddingBag.from_float(mod)}.
     */
    public static QuantizedEmbeddingBag fromFloat(EmbeddingBag module, QuantizedDType dtype) {
        if (module == null) {
            throw new IllegalArgumentException("'module' must not be null");
        }
        if (module.maxNorm() != null || module.paddingIdx() != null || module.mode() == EmbeddingBagMode.MAX) {
            throw new IllegalArgumentException("a quantized EmbeddingBag sums or averages all of each bag's rows as "
                    + "they are; this module has " + (module.maxNorm() != null ? "max_norm=" + module.maxNorm()
                    : module.paddingIdx() != null ? "padding_idx=" + module.paddingIdx() : "mode='max'")
                    + ", which it cannot honour");
        }
        QuantizedTable table = QuantizedTable.quantize(module.weight(), dtype);
        return new QuantizedEmbeddingBag(table, module.mode(), module.includeLastOffset(), true);
    }

    /** Fixed-size bags: a 2-D input {@code (B, N)}. */
    public Tensor forward(Tensor input) {
        return QuantizedOps.embeddingBag(table, input, null, mode, null, includeLastOffset);
    }

    /** A 1-D input with offsets (or a 2-D input with {@code offsets} null). */
    public Tensor forward(Tensor input, Tensor offsets) {
        return QuantizedOps.embeddingBag(table, input, offsets, mode, null, includeLastOffset);
    }

    /** With per-sample weights (float32, the input's shape; mode sum). */
    public Tensor forward(Tensor input, Tensor offsets, Tensor perSampleWeights) {
        return QuantizedOps.embeddingBag(table, input, offsets, mode, perSampleWeights, includeLastOffset);
    }

    /** Into a caller-provided float32 {@code out} of shape {@code (B, embedding_dim)}: no allocation. */
    public void forward(Tensor input, Tensor offsets, Tensor perSampleWeights, Tensor out) {
        QuantizedOps.embeddingBag(table, input, offsets, mode, perSampleWeights, includeLastOffset, out);
    }

    /** The quantized table. PyTorch equivalent: {@code module.weight()}. */
    public QuantizedTable weight() {
        return table;
    }

    public long numEmbeddings() {
        return table.numEmbeddings();
    }

    public long embeddingDim() {
        return table.embeddingDim();
    }

    public QuantizedDType dtype() {
        return table.dtype();
    }

    public EmbeddingBagMode mode() {
        return mode;
    }

    public boolean includeLastOffset() {
        return includeLastOffset;
    }

    /**
     * PyTorch's {@code repr}: {@code QuantizedEmbeddingBag(num_embeddings=10, embedding_dim=3, dtype=torch.quint8,
     * qscheme=torch.per_channel_affine_float_qparams)}.
     */
    @Override
    public String toString() {
        return "QuantizedEmbeddingBag(num_embeddings=" + table.numEmbeddings() + ", embedding_dim="
                + table.embeddingDim() + ", dtype=" + table.dtype() + ", qscheme="
                + "torch.per_channel_affine_float_qparams)";
    }

    /** Frees the table if this module made it; a table passed in is left to its owner. Idempotent. */
    @Override
    public void close() {
        if (ownsTable) {
            table.close();
        }
    }
}
