package io.jembed.optim;

import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;

/** The sparse tensor arithmetic that sparse optimizer steps need; every update touches only the gradient's rows. */
final class SparseUpdates {
    private SparseUpdates() {}

    /** {@code param[row_k] += alpha * values[k]} for every entry, in entry order (PyTorch's dense {@code add_}). */
    static void addScaled(Tensor param, SparseTensor gradient, double alpha) {
        io.jembed.backend.Backends.current().sparseAdd(param, gradient, alpha);
    }

    /** {@code s * g} as a new sparse tensor with the same indices. */
    static SparseTensor scaled(SparseTensor g, double s) {
        Tensor indices = g.indices().clone();
        Tensor values = g.values().clone();
        Elements v = new Elements(values);
        for (long i = 0; i < values.numel(); i++) {
            v.set(i, s * v.get(i));
        }
        return new SparseTensor(indices, values, g.shape());
    }

    /** {@code sa * a + sb * b}, coalesced. */
    static SparseTensor combine(SparseTensor a, double sa, SparseTensor b, double sb) {
        long width = a.shape()[1];
        long n = a.nnz() + b.nnz();
        try (Tensor indices = Torch.empty(io.jembed.DType.INT64, 1, n);
             Tensor values = Torch.empty(a.dtype(), n, width)) {
            Elements out = new Elements(values);
            long k = 0;
            for (SparseTensor part : new SparseTensor[] {a, b}) {
                double s = part == a ? sa : sb;
                Elements v = new Elements(part.values());
                long[] rows = part.indices().toLongArray();
                for (int e = 0; e < rows.length; e++, k++) {
                    indices.set(rows[e], 0, k);
                    for (long j = 0; j < width; j++) {
                        out.set(k * width + j, s * v.get(e * width + j));
                    }
                }
            }
            try (SparseTensor joined = new SparseTensor(indices.clone(), values.clone(), a.shape())) {
                return joined.coalesce();
            }
        }
    }
}
