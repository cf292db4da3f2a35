package io.jembed.quantized;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.HalfFloats;
import io.jembed.internal.QuantizedInternals;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import java.util.Arrays;

/**
 * An embedding table quantized row by row, holding exactly the bytes of PyTorch's prepacked tensor: a table made
 * here and one made by {@code torch.ops.quantized.embedding_bag_byte_prepack(weight)} from the same float32 weight
 * are the same bytes, and either one can be looked up here or in PyTorch. Each row holds its codes, then its own
 * scale and bias ({@link QuantizedDType} gives the layouts); element {@code c} of row {@code r} stands for
 * {@code scale * q + bias}.
 *
 * <p>PyTorch equivalent: the {@code uint8} tensor returned by {@code torch.ops.quantized.embedding_bag_byte_prepack}
 * or {@code embedding_bag_4bit_prepack} (the packed weight of {@code torch.ao.nn.quantized.Embedding}/
 * {@code EmbeddingBag}).
 *
 * <p><b>Accuracy.</b> 8-bit rows: each element comes back within half a quantization step ({@code scale / 2}) of its
 * float value, plus {@code 1e-8} (FBGEMM's epsilon in {@code 255 / (range + 1e-8)}) and float rounding; rows whose
 * range is below about {@code 5e-6} lose more to that epsilon (their codes never reach 255, see the README).
 * Constant rows come back exactly. 4-bit rows: half a step as well, plus what float16 costs them: the bias is the
 * minimum rounded to float16 (elements just above it may fall below code 0's reach), and the scale is rounded to
 * float16 too (code 15 may fall short of the maximum); a constant row comes back exactly only if float16 holds its
 * value, otherwise within the tiny scale left by the bias's rounding.
 *
 * <p><b>Rows jembed refuses to quantize.</b> A row holding NaN or an infinity, or whose range
 * {@code max - min} overflows float32, has no meaningful scale (PyTorch stores a scale of infinity, or codes a NaN
 * as 0, and such rows dequantize to NaN); {@link #quantize} throws {@link IllegalArgumentException} naming the row,
 * the column and the value, and nothing is allocated. 4-bit rows must also have a minimum and a step
 * {@code (max - min) / 15} that float16 holds (below 65520), and an even {@code embedding_dim}, as PyTorch requires.
 *
 * <p><b>Ownership and thread safety.</b> The bytes are off-heap and owned by this table: {@link #close()} frees them
 * (waiting for lookups that are running on other threads), later use throws {@link IllegalStateException}. The
 * table is immutable: concurrent lookups are safe.
 */
public final class QuantizedTable implements AutoCloseable {
    static {
        QuantizedInternals.install(new QuantizedInternals.Access() {
            @Override
            public Memory memory(QuantizedTable table) {
                return table.memory;
            }

            @Override
            public QuantizedTable wrap(Memory memory, long rows, long dim, QuantizedDType dtype) {
                return new QuantizedTable(memory, rows, dim, dtype);
            }
        });
    }

    private final Memory memory;
    private final long rows;
    private final long dim;
    private final QuantizedDType dtype;
    private final long rowBytes;

    private QuantizedTable(Memory memory, long rows, long dim, QuantizedDType dtype) {
        long rowBytes = dtype.rowBytes(dim);
        if (rows < 0 || dim < 0 || rows > memory.byteSize() / Math.max(1, rowBytes)) {
            throw new IllegalArgumentException(memory.byteSize() + " bytes cannot hold " + rows + " rows of "
                    + rowBytes + " bytes");
        }
        this.memory = memory;
        this.rows = rows;
        this.dim = dim;
        this.dtype = dtype;
        this.rowBytes = rowBytes;
    }

    /**
     * Quantizes a float32 table row by row, as PyTorch's prepack does, bit for bit.
     *
     * <p>PyTorch equivalent: {@code torch.ops.quantized.embedding_bag_byte_prepack(weight)} for
     * {@link QuantizedDType#QUINT8}, {@code embedding_bag_4bit_prepack(weight)} for {@link QuantizedDType#QUINT4X2}.
     *
     * @param weight a 2-D float32 tensor {@code (num_embeddings, embedding_dim)}, not modified
     * @throws IllegalArgumentException if the weight is not 2-D float32, or a row holds NaN or an infinity, or its
     *     range overflows float32, or (4-bit) the dim is odd or a row's minimum or step does not fit float16 (naming
     *     the row and the value)
     * @throws IllegalStateException if the weight has been closed
     */
    public static QuantizedTable quantize(Tensor weight, QuantizedDType dtype) {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype must be torch.quint8 or torch.quint4x2 (QuantizedDType), got "
                    + "null");
        }
        checkWeight(weight, dtype);
        MemoryGuard guard = TensorInternals.guard(weight);
        try {
            return quantizeHeld(weight, dtype);
        } finally {
            guard.exit();
        }
    }

    private static void checkWeight(Tensor weight, QuantizedDType dtype) {
        if (weight == null) {
            throw new IllegalArgumentException("'weight' must not be null");
        }
        if (weight.isClosed()) {
            throw new IllegalStateException("'weight' has been closed");
        }
        if (weight.dim() != 2 || weight.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException(dtype.prepackOp() + " needs a 2-D float32 weight (num_embeddings, "
                    + "embedding_dim), got shape " + Arrays.toString(weight.shape()) + " of " + weight.dtype());
        }
        if (dtype == QuantizedDType.QUINT4X2 && weight.size(1) % 2 != 0) {
            throw new IllegalArgumentException("qembeddingbag_4bit_prepack only works for the number of columns a "
                    + "multiple of 2: embedding_dim is " + weight.size(1));
        }
        if (weight.size(1) > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("embedding_dim " + weight.size(1) + " is larger than "
                    + (Integer.MAX_VALUE - 16) + ", the widest row jembed quantizes");
        }
    }

    private static QuantizedTable quantizeHeld(Tensor weight, QuantizedDType dtype) {
        Memory source = TensorInternals.memory(weight);
        long rows = weight.size(0);
        int dim = (int) weight.size(1);
        float[] x = new float[dim];
        // Every row is checked before anything is allocated: a refused table costs no memory.
        for (long r = 0; r < rows; r++) {
            source.copyToArray(4 * r * dim, x, 0, dim);
            checkRow(x, r, dtype);
        }
        long rowBytes = dtype.rowBytes(dim);
        long bytes;
        try {
            bytes = Math.multiplyExact(rows, rowBytes);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(rows + " rows of " + rowBytes + " bytes overflow a long", e);
        }
        Memory memory = Memory.allocate(bytes);
        try {
            byte[] row = new byte[(int) rowBytes];
            float[] minMax = new float[2];
            for (long r = 0; r < rows; r++) {
                source.copyToArray(4 * r * dim, x, 0, dim);
                if (dtype == QuantizedDType.QUINT8) {
                    RowwiseQuantizer.quantize8(x, dim, row, minMax);
                } else {
                    RowwiseQuantizer.quantize4(x, dim, row, minMax);
                }
                memory.copyFromBytes(row, 0, row.length, r * rowBytes);
            }
            return new QuantizedTable(memory, rows, dim, dtype);
        } catch (RuntimeException | Error e) {
            memory.close();
            throw e;
        }
    }

    /**
     * The refusal policy: finite values and a finite range; for 4-bit rows also a minimum and a step
     * {@code (max - min) / 15} that fit float16 (beyond 65504 they round to infinity and the row dequantizes to NaN).
     */
    private static void checkRow(float[] x, long r, QuantizedDType dtype) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < x.length; c++) {
            if (!Float.isFinite(x[c])) {
                throw new IllegalArgumentException("row " + r + " holds " + x[c] + " at column " + c + ": only "
                        + "finite rows can be quantized (PyTorch's prepack gives such a row a scale of infinity or "
                        + "codes the NaN as 0, and it dequantizes to NaN)");
            }
            min = Math.min(min, x[c]);
            max = Math.max(max, x[c]);
        }
        if (x.length > 0 && !Float.isFinite(max - min)) {
            throw new IllegalArgumentException("row " + r + " spans " + min + " to " + max + ", a range that "
                    + "overflows float32: its scale would be infinite and the row would dequantize to NaN");
        }
        if (dtype == QuantizedDType.QUINT4X2 && x.length > 0) {
            float bias = HalfFloats.float16ToFloat(HalfFloats.floatToFloat16(min));
            if (Float.isInfinite(bias)) {
                throw new IllegalArgumentException("row " + r + " has minimum " + min + ", which float16 cannot hold "
                        + "(|min| >= 65520 rounds to infinity): a 4-bit row keeps its bias in float16, and this one "
                        + "would dequantize to NaN");
            }
            float step = (max - bias) / 15f;
            if (Float.isInfinite(HalfFloats.float16ToFloat(HalfFloats.floatToFloat16(step)))) {
                throw new IllegalArgumentException("row " + r + " spans " + min + " to " + max + ": its step "
                        + "(max - min) / 15 = " + step + " does not fit float16 (>= 65520), where a 4-bit row keeps "
                        + "its "
                        + "scale; the row would dequantize to NaN");
            }
        }
    }

    /**
     * A table around prepacked bytes, e.g. those of a tensor PyTorch's prepack returned
     * ({@code packed.numpy().tobytes()}, shape {@code (numRows, rowBytes)}). The bytes are copied.
     *
     * @param rowBytes bytes per row: {@code embedding_dim + 8} for {@link QuantizedDType#QUINT8},
     *     {@code embedding_dim / 2 + 4} for {@link QuantizedDType#QUINT4X2}
     * @throws IllegalArgumentException if the sizes do not match the array, or rows are too short for their scale
     *     and bias
     */
    public static QuantizedTable fromPrepacked(byte[] packed, long numRows, long rowBytes, QuantizedDType dtype) {
        if (packed == null || dtype == null) {
            throw new IllegalArgumentException("the packed bytes and the dtype must not be null");
        }
        long dim = dtype.dimOfRowBytes(rowBytes);
        if (numRows < 0 || dim < 0) {
            throw new IllegalArgumentException("a " + dtype + " table needs numRows >= 0 and rows of at least "
                    + dtype.scaleBiasBytes() + " bytes (the scale and the bias), got " + numRows + " rows of "
                    + rowBytes + " bytes");
        }
        if (numRows != 0 && (rowBytes > packed.length || packed.length / rowBytes != numRows
                || packed.length % rowBytes != 0) || numRows == 0 && packed.length != 0) {
            throw new IllegalArgumentException(packed.length + " bytes are not " + numRows + " rows of " + rowBytes
                    + " bytes");
        }
        Memory memory = Memory.allocate(packed.length);
        memory.copyFromBytes(packed, 0, packed.length, 0);
        return new QuantizedTable(memory, numRows, dim, dtype);
    }

    /**
     * The float32 table the codes stand for: element {@code (r, c)} is {@code fma(q, scale, bias)} in float32 (scale
     * and bias widened from float16 for 4-bit rows).
     *
     * <p>PyTorch equivalent: {@code torch.ops.quantized.embedding_bag_byte_unpack(packed)} /
     * {@code embedding_bag_4bit_unpack(packed)}.
     */
    public Tensor dequantize() {
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            if (dim > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("embedding_dim " + dim + " is too wide to dequantize");
            }
            Tensor out = Torch.empty(DType.FLOAT32, rows, dim);
            Memory target = TensorInternals.memory(out);
            byte[] row = new byte[(int) rowBytes];
            float[] values = new float[(int) dim];
            for (long r = 0; r < rows; r++) {
                memory.copyToBytes(r * rowBytes, row, 0, row.length);
                if (dtype == QuantizedDType.QUINT8) {
                    RowwiseQuantizer.dequantize8(row, (int) dim, values);
                } else {
                    RowwiseQuantizer.dequantize4(row, (int) dim, values);
                }
                target.copyFromArray(values, 0, values.length, 4 * r * dim);
            }
            return out;
        } finally {
            guard.exit();
        }
    }

    /** The layout: {@link QuantizedDType#QUINT8} or {@link QuantizedDType#QUINT4X2}. */
    public QuantizedDType dtype() {
        return dtype;
    }

    /** Rows of the table. PyTorch equivalent: {@code packed.size(0)}. */
    public long numEmbeddings() {
        return rows;
    }

    /** Elements per row (the float table's {@code embedding_dim}). */
    public long embeddingDim() {
        return dim;
    }

    /** Bytes per row, codes and scale and bias. PyTorch equivalent: {@code packed.size(1)}. */
    public long rowBytes() {
        return rowBytes;
    }

    /** The whole table's bytes: {@code numEmbeddings() * rowBytes()}. */
    public long byteSize() {
        return rows * rowBytes;
    }

    /** The shape of PyTorch's prepacked tensor: {@code (numEmbeddings, rowBytes)}. */
    public long[] packedShape() {
        return new long[] {rows, rowBytes};
    }

    /** The prepacked bytes, row after row. PyTorch equivalent: {@code packed.numpy().tobytes()}. */
    public byte[] toByteArray() {
        long bytes = byteSize();
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a table of " + bytes + " bytes does not fit in a Java array");
        }
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            byte[] out = new byte[(int) bytes];
            memory.copyToBytes(0, out, 0, out.length);
            return out;
        } finally {
            guard.exit();
        }
    }

    /** Row {@code r}'s scale. */
    public float scale(long r) {
        return scaleBias(r, 0);
    }

    /** Row {@code r}'s bias (the value code 0 stands for). */
    public float bias(long r) {
        return scaleBias(r, 1);
    }

    private float scaleBias(long r, int which) {
        if (r < 0 || r >= rows) {
            throw new IndexOutOfBoundsException("row " + r + " is out of range; valid rows are 0 to " + (rows - 1));
        }
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            long at = r * rowBytes + dtype.codeBytes(dim);
            if (dtype == QuantizedDType.QUINT8) {
                return memory.getFloat(at + 4L * which);
            }
            long h = at + 2L * which;
            short bits = (short) ((memory.getByte(h) & 0xFF) | (memory.getByte(h + 1) & 0xFF) << 8);
            return HalfFloats.float16ToFloat(bits);
        } finally {
            guard.exit();
        }
    }

    /** True after {@link #close()}. */
    public boolean isClosed() {
        return memory.isClosed();
    }

    /** Frees the bytes now (after lookups running on other threads finish); later calls do nothing. */
    @Override
    public void close() {
        memory.close();
    }

    /** E.g. {@code QuantizedTable(num_embeddings=10, embedding_dim=3, dtype=torch.quint8)}. */
    @Override
    public String toString() {
        return "QuantizedTable(num_embeddings=" + rows + ", embedding_dim=" + dim + ", dtype=" + dtype
                + (isClosed() ? ", closed" : "") + ")";
    }

    Memory memory() {
        return memory;
    }
}
