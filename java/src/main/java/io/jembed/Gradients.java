package io.jembed;

import io.jembed.internal.memory.MemoryGuard;

/**
 * The gradient accumulated on one leaf tensor: dense or sparse, as its producers made it.
 *
 * <p>The dense buffer outlives {@code zeroGrad()}: clearing marks it undefined, and the rows written since the last
 * clear are zeroed just before it is used again. A training step therefore costs O(batch x dim), not O(table); only
 * when more than a quarter of the rows were written is the whole buffer zeroed.
 *
 * <p>Not thread-safe: callers hold the leaf's lock.
 */
final class Gradients implements AutoCloseable {
    private Tensor dense;
    private boolean denseDefined;
    private long[] written = new long[256];
    private int writtenCount;
    private boolean writtenOverflow;
    private SparseTensor sparse;

    /** The dense gradient, or {@code null}. */
    Tensor dense() {
        if (sparse != null) {
            throw new IllegalStateException("this tensor's gradient is sparse; read it with sparseGrad()");
        }
        return denseDefined ? dense : null;
    }

    SparseTensor sparse() {
        return sparse;
    }

    /** The dense buffer, defined and ready to accumulate into the rows named by {@code rows}. */
    Tensor denseForRows(Tensor leaf, Tensor rows) {
        if (dense == null) {
            dense = Tensor.allocate(leaf.dtype(), leaf.shape(), true);
        } else if (!denseDefined) {
            zeroWrittenRows();
        }
        denseDefined = true;
        recordRows(rows);
        if (sparse != null) {
            recordRows(sparse.indices());
            sparse.addTo(dense, 1.0);
            sparse.close();
            sparse = null;
        }
        return dense;
    }

    /** The dense buffer, defined and ready to accumulate into any element; cleared whole after {@code clear()}. */
    Tensor denseWhole(Tensor leaf) {
        Tensor buffer = denseForRows(leaf, null);
        writtenOverflow = true;
        return buffer;
    }

    /** Adds {@code gradient} to the leaf's gradient, taking ownership of it. */
    void accumulateSparse(Tensor leaf, SparseTensor gradient) {
        if (denseDefined) {
            recordRows(gradient.indices());
            gradient.addTo(dense, 1.0);
            gradient.close();
        } else if (sparse == null) {
            sparse = gradient;
        } else {
            SparseTensor joined = sparse.concat(gradient);
            sparse.close();
            gradient.close();
            sparse = joined;
        }
    }

    void clear() {
        denseDefined = false;
        if (sparse != null) {
            sparse.close();
            sparse = null;
        }
    }

    private void recordRows(Tensor rows) {
        if (rows == null) {
            writtenOverflow = true;
            return;
        }
        if (writtenOverflow || dense == null) {
            return;
        }
        long limit = Math.max(16, dense.size(0) / 4);
        long n = rows.numel();
        if (writtenCount + n > limit) {
            writtenOverflow = true;
            return;
        }
        if (writtenCount + n > written.length) {
            written = java.util.Arrays.copyOf(written, (int) Math.max(written.length * 2L, writtenCount + n));
        }
        MemoryGuard guard = MemoryGuard.enter(rows.memory());
        try {
            for (long i = 0; i < n; i++) {
                written[writtenCount++] = rows.flatLong(i);
            }
        } finally {
            guard.exit();
        }
    }

    private void zeroWrittenRows() {
        long rowBytes = dense.dim() == 2 ? dense.size(1) * dense.dtype().itemSize() : 0;
        if (writtenOverflow || rowBytes == 0) {
            dense.zero_();
        } else {
            MemoryGuard guard = MemoryGuard.enter(dense.memory());
            try {
                for (int k = 0; k < writtenCount; k++) {
                    dense.memory().fillZero(written[k] * rowBytes, rowBytes);
                }
            } finally {
                guard.exit();
            }
        }
        writtenCount = 0;
        writtenOverflow = false;
    }

    @Override
    public void close() {
        if (dense != null) {
            dense.close();
        }
        if (sparse != null) {
            sparse.close();
        }
    }
}
