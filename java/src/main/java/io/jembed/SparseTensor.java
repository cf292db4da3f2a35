package io.jembed;

import io.jembed.internal.memory.MemoryGuard;
import java.util.Arrays;

/**
 * A sparse COO tensor with one sparse and one dense dimension, as PyTorch's sparse embedding gradients are: row
 * {@code indices[0, k]} of the dense shape holds {@code values[k]}; an index may repeat (uncoalesced), and repeated
 * rows add up.
 *
 * <p>PyTorch equivalent: a {@code torch.sparse_coo} tensor with {@code sparse_dim=1, dense_dim=1}
 * ({@code _indices()}, {@code _values()}, {@code coalesce()}, {@code to_dense()}).
 *
 * <p>Owns its index and value tensors ({@link #close()} closes both). Thread safety: as {@link Tensor}.
 */
public final class SparseTensor implements AutoCloseable {
    private final Tensor indices;
    private final Tensor values;
    private final long[] shape;
    private final boolean coalesced;

    /**
     * @param indices int64 of shape {@code (1, nnz)}, each in {@code [0, shape[0])}
     * @param values shape {@code (nnz, shape[1])}
     * @param shape the dense shape {@code (rows, H)}
     */
    public SparseTensor(Tensor indices, Tensor values, long[] shape) {
        this(indices, values, shape, false);
        if (indices.dtype() != DType.INT64 || indices.dim() != 2 || indices.size(0) != 1) {
            throw new IllegalArgumentException("indices must be int64 of shape (1, nnz), got " + indices.dtype() + " "
                    + Arrays.toString(indices.shape()));
        }
        if (shape.length != 2 || values.dim() != 2 || values.size(0) != indices.size(1)
                || values.size(1) != shape[1]) {
            throw new IllegalArgumentException("values of shape " + Arrays.toString(values.shape())
                    + " do not fit indices " + Arrays.toString(indices.shape()) + " and size " + Arrays.toString(shape));
        }
        for (long k = 0; k < indices.size(1); k++) {
            long row = indices.flatLong(k);
            if (row < 0 || row >= shape[0]) {
                throw new IndexOutOfBoundsException("sparse index " + row + " at position " + k + " is outside [0, "
                        + (shape[0] - 1) + "]");
            }
        }
    }

    SparseTensor(Tensor indices, Tensor values, long[] shape, boolean coalesced) {
        this.indices = indices;
        this.values = values;
        this.shape = shape.clone();
        this.coalesced = coalesced;
    }

    /** PyTorch equivalent: {@code t._indices()}: int64 of shape {@code (1, nnz)}, owned by this tensor. */
    public Tensor indices() {
        return indices;
    }

    /** PyTorch equivalent: {@code t._values()}: shape {@code (nnz, H)}, owned by this tensor. */
    public Tensor values() {
        return values;
    }

    /** PyTorch equivalent: {@code t.shape} (the dense shape). */
    public long[] shape() {
        return shape.clone();
    }

    /** PyTorch equivalent: {@code t.dim()}: the rank of the dense shape. */
    public int dim() {
        return shape.length;
    }

    /** PyTorch equivalent: {@code t.size(dim)}: one extent of the dense shape, without copying the shape. */
    public long size(int dim) {
        return shape[dim];
    }

    /** PyTorch equivalent: {@code t._nnz()}: stored entries, repeats included. */
    public long nnz() {
        return indices.size(1);
    }

    /** The data type of the values. PyTorch equivalent: {@code tensor.dtype}. */
    public DType dtype() {
        return values.dtype();
    }

    /** PyTorch equivalent: {@code t.is_coalesced()}. */
    public boolean isCoalesced() {
        return coalesced;
    }

    /**
     * Sorted, unique indices with the values of repeated indices added in entry order. PyTorch equivalent:
     * {@code t.coalesce()}. Returns a new tensor owned by the caller.
     */
    public SparseTensor coalesce() {
        long nnz = nnz();
        if (nnz > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("coalesce supports at most " + (Integer.MAX_VALUE - 8) + " entries");
        }
        long[] rows = indices.toLongArray();
        Integer[] order = new Integer[rows.length];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        Arrays.sort(order, (a, b) -> rows[a] != rows[b] ? Long.compare(rows[a], rows[b]) : Integer.compare(a, b));
        int unique = 0;
        for (int k = 0; k < order.length; k++) {
            if (k == 0 || rows[order[k]] != rows[order[k - 1]]) {
                unique++;
            }
        }
        long dim = shape[1];
        Tensor newIndices = Tensor.allocate(DType.INT64, new long[] {1, unique}, false);
        Tensor newValues = Tensor.allocate(values.dtype(), new long[] {unique, dim}, true);
        MemoryGuard guard = MemoryGuard.enter(values.memory());
        try {
            fillCoalesced(rows, order, newIndices, newValues, dim);
        } finally {
            guard.exit();
        }
        return new SparseTensor(newIndices, newValues, shape, true);
    }

    private void fillCoalesced(long[] rows, Integer[] order, Tensor newIndices, Tensor newValues, long dim) {
        int slot = -1;
        for (int k = 0; k < order.length; k++) {
            if (k == 0 || rows[order[k]] != rows[order[k - 1]]) {
                slot++;
                newIndices.flatSetLong(slot, rows[order[k]]);
            }
            for (long j = 0; j < dim; j++) {
                newValues.flatSet(slot * dim + j, newValues.flatDouble(slot * dim + j)
                        + values.flatDouble(order[k] * dim + j));
            }
        }
    }

    /** PyTorch equivalent: {@code t.to_dense()}: repeated rows added in entry order. */
    public Tensor toDense() {
        Tensor dense = Tensor.allocate(values.dtype(), shape, true);
        addTo(dense, 1.0);
        return dense;
    }

    /** {@code target[indices[k]] += alpha * values[k]} for every entry in order (PyTorch's dense {@code add_(sparse)}). */
    void addTo(Tensor target, double alpha) {
        long dim = shape[1];
        MemoryGuard guard = MemoryGuard.enter(target.memory(), indices.memory(), values.memory());
        try {
            for (long k = 0; k < nnz(); k++) {
                long row = indices.flatLong(k);
                for (long j = 0; j < dim; j++) {
                    long at = row * dim + j;
                    target.flatSet(at, target.flatDouble(at) + roundTo(alpha * values.flatDouble(k * dim + j)));
                }
            }
        } finally {
            guard.exit();
        }
    }

    private double roundTo(double v) {
        return values.dtype() == DType.FLOAT32 ? (float) v : v;
    }

    /** Entries of this tensor followed by those of {@code other}: how PyTorch accumulates sparse gradients. */
    SparseTensor concat(SparseTensor other) {
        long n1 = nnz();
        long n2 = other.nnz();
        long dim = shape[1];
        Tensor newIndices = Tensor.allocate(DType.INT64, new long[] {1, n1 + n2}, false);
        Tensor newValues = Tensor.allocate(values.dtype(), new long[] {n1 + n2, dim}, false);
        int item = values.dtype().itemSize();
        MemoryGuard guard = MemoryGuard.enter(indices.memory(), values.memory(), other.indices.memory(),
                other.values.memory(), null, null);
        try {
            indices.memory().copyTo(0, newIndices.memory(), 0, 8 * n1);
            other.indices.memory().copyTo(0, newIndices.memory(), 8 * n1, 8 * n2);
            values.memory().copyTo(0, newValues.memory(), 0, n1 * dim * item);
            other.values.memory().copyTo(0, newValues.memory(), n1 * dim * item, n2 * dim * item);
        } finally {
            guard.exit();
        }
        return new SparseTensor(newIndices, newValues, shape, false);
    }

    /** Closes the index and value tensors. */
    @Override
    public void close() {
        indices.close();
        values.close();
    }

    @Override
    public String toString() {
        return "tensor(indices=" + indices + ",\n       values=" + values + ",\n       size=("
                + shape[0] + ", " + shape[1] + "), nnz=" + nnz() + ", layout=torch.sparse_coo)";
    }
}
