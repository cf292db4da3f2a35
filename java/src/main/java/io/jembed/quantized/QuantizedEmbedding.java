package io.jembed.quantized;

import io.jembed.Tensor;
import io.jembed.nn.Embedding;

/**
 * A lookup table of quantized rows: the input holds indices, the output holds the dequantized rows (float32).
 *
 * <p>PyTorch equivalent: {@code torch.ao.nn.quantized.Embedding} (its forward is
 * {@code torch.ops.quantized.embedding_byte}); results are bit for bit libtorch's. {@link #fromFloat} quantizes with
 * PyTorch's prepack operator ({@code embedding_bag_byte_prepack}), whose bytes a table prepacked in PyTorch shares.
 * (PyTorch's own {@code from_float} goes through a per-channel observer whose zero point rounds slightly
 * differently; to use a table quantized in PyTorch, load its prepacked bytes: {@link QuantizedTable#fromPrepacked} or
 * {@code io.jembed.io.safetensors.QuantizedSafetensors}.)
 *
 * <p><b>Ownership.</b> A module owns the table it made ({@link #fromFloat}) and frees it in {@link #close()}; a table
 * passed to the constructor stays the caller's.
 *
 * <p><b>Thread safety.</b> {@link #forward} may run on many threads at once; the table is read-only.
 */
public class QuantizedEmbedding implements AutoCloseable {
    private final QuantizedTable table;
    private final boolean ownsTable;

    /** A module over {@code table}, which stays the caller's to close. */
    public QuantizedEmbedding(QuantizedTable table) {
        this(table, false);
    }

    private QuantizedEmbedding(QuantizedTable table, boolean ownsTable) {
        QuantizedOps.checkTable(table);
        this.table = table;
        this.ownsTable = ownsTable;
    }

    /**
     * Quantizes a float32 weight {@code (num_embeddings, embedding_dim)} into a module that owns the table.
     *
     * <p>PyTorch equivalent: {@code torch.ao.nn.quantized.Embedding} with the weight prepacked by
     * {@code embedding_bag_byte_prepack} ({@code dtype=torch.quint8}) or {@code embedding_bag_4bit_prepack}
     * ({@code dtype=torch.quint4x2}).
     *
     * @throws IllegalArgumentException as {@link QuantizedTable#quantize}
     */
    public static QuantizedEmbedding fromFloat(Tensor weight, QuantizedDType dtype) {
        return new QuantizedEmbedding(QuantizedTable.quantize(weight, dtype), true);
    }

    /**
     * Quantizes a float module's weight. {@code padding_idx} does not change a forward, so it is dropped (as PyTorch's
     * {@code from_float} drops it); {@code max_norm} does, and a module with it is refused.
     *
     * <p>PyTorch equivalent: {@code torch.ao.nn.quantized.Embedding.from_float(mod)}.
     *
     * @throws IllegalArgumentException if the module renormalises rows ({@code max_norm}), or as
     *     {@link QuantizedTable#quantize}
     */
    public static QuantizedEmbedding fromFloat(Embedding module, QuantizedDType dtype) {
        if (module == null) {
            throw new IllegalArgumentException("'module' must not be null");
        }
        if (module.maxNorm() != null) {
            throw new IllegalArgumentException("a module with max_norm=" + module.maxNorm() + " renormalises the rows "
                    + "it looks up, which a quantized table cannot do; quantize a module without max_norm");
        }
        return fromFloat(module.weight(), dtype);
    }

    /**
     * The dequantized rows of {@code indices} (int32 or int64, any shape): float32 {@code (*indices.shape,
     * embedding_dim)}.
     *
     * @throws IndexOutOfBoundsException naming the first index outside {@code [0, num_embeddings)} and its position
     */
    public Tensor forward(Tensor indices) {
        return QuantizedOps.embedding(table, indices);
    }

    /** The quantized table. PyTorch equivalent: {@code module.weight()} (the quantized weight). */
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

    /**
     * PyTorch's {@code repr}: {@code QuantizedEmbedding(num_embeddings=10, embedding_dim=3, dtype=torch.quint8,
     * qscheme=torch.per_channel_affine_float_qparams)}.
     */
    @Override
    public String toString() {
        return "QuantizedEmbedding(num_embeddings=" + table.numEmbeddings() + ", embedding_dim="
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
