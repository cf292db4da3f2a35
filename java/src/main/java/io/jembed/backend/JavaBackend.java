package io.jembed.backend;

import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.internal.BagChecks;
import io.jembed.internal.Bags;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.nn.EmbeddingBagMode;
import java.util.Arrays;

/**
 * The reference implementation in plain Java, written to be read: one row copy per index, and a renorm that spells
 * out each norm. Runs on every JVM; the native backend must agree with it.
 *
 * <p>Thread-safe: stateless.
 */
public final class JavaBackend implements Backend {
    static final JavaBackend INSTANCE = new JavaBackend();

    private JavaBackend() {}

    @Override
    public String name() {
        return "java";
    }

    @Override
    public void embedding(Tensor weight, Tensor indices, Tensor out) {
        MemoryGuard guard = TensorInternals.guard(weight, indices, out);
        try {
            gather(weight, indices, out);
        } finally {
            guard.exit();
        }
    }

    private static void gather(Tensor weight, Tensor indices, Tensor out) {
        EmbeddingChecks.checkIndices(indices, weight.size(0), "embedding");
        Memory table = TensorInternals.memory(weight);
        Memory idx = TensorInternals.memory(indices);
        Memory target = TensorInternals.memory(out);
        long rowBytes = weight.size(1) * weight.dtype().itemSize();
        long n = indices.numel();
        boolean wide = indices.dtype() == DType.INT64;
        for (long i = 0; i < n; i++) {
            long row = wide ? idx.getLong(8 * i) : idx.getInt(4 * i);
            table.copyTo(row * rowBytes, target, i * rowBytes, rowBytes);
        }
    }

    @Override
    public void embedding(Tensor weight, long[] indices, Tensor out) {
        embeddingFromArray(weight, indices, indices.length, out);
    }

    @Override
    public void embedding(Tensor weight, int[] indices, Tensor out) {
        embeddingFromArray(weight, indices, indices.length, out);
    }

    /** A request in a {@code long[]} or {@code int[]}: every index checked, then the rows copied. */
    private static void embeddingFromArray(Tensor weight, Object indices, int n, Tensor out) {
        MemoryGuard guard = TensorInternals.guard(weight, out);
        try {
            long rows = weight.size(0);
            for (int i = 0; i < n; i++) {
                long index = element(indices, i);
                if (Long.compareUnsigned(index, rows) >= 0) {
                    throw EmbeddingChecks.indexOutOfRange(new long[] {n}, i, index, rows);
                }
            }
            Memory table = TensorInternals.memory(weight);
            Memory target = TensorInternals.memory(out);
            long rowBytes = weight.size(1) * weight.dtype().itemSize();
            for (int i = 0; i < n; i++) {
                table.copyTo(element(indices, i) * rowBytes, target, i * rowBytes, rowBytes);
            }
        } finally {
            guard.exit();
        }
    }

    private static long element(Object indices, int i) {
        return indices instanceof long[] ? ((long[]) indices)[i] : ((int[]) indices)[i];
    }

    @Override
    public void embeddingRenorm(Tensor weight, Tensor indices, double maxNorm, double normType) {
        MemoryGuard guard = TensorInternals.guard(weight, indices);
        try {
            renorm(weight, indices, maxNorm, normType);
        } finally {
            guard.exit();
        }
    }

    private static void renorm(Tensor weight, Tensor indices, double maxNorm, double normType) {
        Memory table = TensorInternals.memory(weight);
        table.checkWritable();
        long[] rows = distinctSorted(indices);
        long dim = weight.size(1);
        boolean single = weight.dtype() == DType.FLOAT32;
        int itemSize = weight.dtype().itemSize();
        for (long row : rows) {
            long start = row * dim * itemSize;
            double norm = norm(table, start, dim, normType, single);
            if (norm > maxNorm) {
                double scale = maxNorm / (norm + 1e-7);
                for (long j = 0; j < dim; j++) {
                    long at = start + j * itemSize;
                    if (single) {
                        table.putFloat(at, table.getFloat(at) * (float) scale);
                    } else {
                        table.putDouble(at, table.getDouble(at) * scale);
                    }
                }
            }
        }
    }

    @Override
    public void embeddingDenseBackward(Tensor gradOutput, Tensor indices, Tensor gradWeight, long paddingIdx,
                                       boolean scaleGradByFreq) {
        MemoryGuard guard = TensorInternals.guard(gradOutput, indices, gradWeight);
        try {
            denseBackward(gradOutput, indices, gradWeight, paddingIdx, scaleGradByFreq);
        } finally {
            guard.exit();
        }
    }

    private static void denseBackward(Tensor gradOutput, Tensor indices, Tensor gradWeight, long paddingIdx,
                                      boolean scaleGradByFreq) {
        Memory grads = TensorInternals.memory(gradOutput);
        Memory target = TensorInternals.memory(gradWeight);
        long[] rows = indices.toLongArray();
        long[] sorted = scaleGradByFreq ? sortedCopy(rows) : null;
        long dim = gradWeight.size(1);
        boolean single = gradWeight.dtype() == DType.FLOAT32;
        int itemSize = gradWeight.dtype().itemSize();
        for (int i = 0; i < rows.length; i++) {
            long r = rows[i];
            if (r == paddingIdx) {
                continue;
            }
            // PyTorch's scale is computed in double and applied as add_stub's alpha in the gradient's type.
            double alpha = scaleGradByFreq ? 1.0 / occurrences(sorted, r) : 1.0;
            for (long j = 0; j < dim; j++) {
                long at = (r * dim + j) * itemSize;
                long from = (i * dim + j) * itemSize;
                if (single) {
                    float x = grads.getFloat(from);
                    float acc = target.getFloat(at);
                    target.putFloat(at, scaleGradByFreq ? Math.fma(x, (float) alpha, acc) : acc + x);
                } else {
                    double x = grads.getDouble(from);
                    double acc = target.getDouble(at);
                    target.putDouble(at, scaleGradByFreq ? Math.fma(x, alpha, acc) : acc + x);
                }
            }
        }
    }

    @Override
    public void embeddingBag(Tensor weight, Tensor indices, Tensor offsets, long bagSize, EmbeddingBagMode mode,
                             Tensor perSampleWeights, long paddingIdx, Tensor out, Tensor maxIndices) {
        MemoryGuard guard = TensorInternals.guard(weight, indices, offsets, perSampleWeights, out, maxIndices);
        try {
            bag(weight, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx, out, maxIndices);
        } finally {
            guard.exit();
        }
    }

    private static void bag(Tensor weight, Tensor indices, Tensor offsets, long bagSize, EmbeddingBagMode mode,
                            Tensor perSampleWeights, long paddingIdx, Tensor out, Tensor maxIndices) {
        BagChecks.checkContents(indices, offsets, out.size(0), weight.size(0));
        if (weight.dtype().isReducedPrecision()) {
            HalfBags.bag(weight, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx, out, maxIndices);
            return;
        }
        Bags bags = new Bags(indices, offsets, bagSize, out.size(0));
        Memory table = TensorInternals.memory(weight);
        Memory idx = TensorInternals.memory(indices);
        Memory target = TensorInternals.memory(out);
        Memory weights = perSampleWeights == null ? null : TensorInternals.memory(perSampleWeights);
        Memory argmax = maxIndices == null ? null : TensorInternals.memory(maxIndices);
        boolean wide = indices.dtype() == DType.INT64;
        boolean single = weight.dtype() == DType.FLOAT32;
        int itemSize = weight.dtype().itemSize();
        long dim = weight.size(1);
        // libtorch fuses the per-sample weight into the sum (FBGEMM's kernel) only for float32 tables without
        // padding_idx; its other path multiplies and then adds.
        boolean fusedWeights = single && paddingIdx < 0;
        for (long b = 0; b < bags.numBags(); b++) {
            long outRow = b * dim;
            target.fillZero(outRow * itemSize, dim * itemSize);
            long count = 0;
            for (long i = bags.start(b); i < bags.end(b); i++) {
                long r = Bags.read(idx, wide, i);
                if (r == paddingIdx) {
                    continue;
                }
                boolean first = count == 0;
                count++;
                for (long j = 0; j < dim; j++) {
                    long at = (outRow + j) * itemSize;
                    long from = (r * dim + j) * itemSize;
                    if (mode == EmbeddingBagMode.MAX) {
                        double x = single ? table.getFloat(from) : table.getDouble(from);
                        double current = single ? target.getFloat(at) : target.getDouble(at);
                        if (first || x > current) {
                            copyElement(table, from, target, at, single);
                            if (argmax != null) {
                                argmax.putLong(8 * (outRow + j), r);
                            }
                        }
                    } else if (single) {
                        float x = table.getFloat(from);
                        float acc = target.getFloat(at);
                        if (weights == null) {
                            target.putFloat(at, acc + x);
                        } else if (fusedWeights) {
                            target.putFloat(at, Math.fma(weights.getFloat(4 * i), x, acc));
                        } else {
                            target.putFloat(at, acc + x * weights.getFloat(4 * i));
                        }
                    } else {
                        double x = table.getDouble(from);
                        double acc = target.getDouble(at);
                        target.putDouble(at, weights == null ? acc + x : acc + x * weights.getDouble(8 * i));
                    }
                }
            }
            if (mode == EmbeddingBagMode.MEAN && count > 1) {
                for (long j = 0; j < dim; j++) {
                    long at = (outRow + j) * itemSize;
                    if (single) {
                        target.putFloat(at, target.getFloat(at) / count);
                    } else {
                        target.putDouble(at, target.getDouble(at) / count);
                    }
                }
            }
            if (argmax != null && count == 0) {
                for (long j = 0; j < dim; j++) {
                    argmax.putLong(8 * (outRow + j), -1);
                }
            }
        }
    }

    private static void copyElement(Memory from, long fromAt, Memory to, long toAt, boolean single) {
        if (single) {
            to.putFloat(toAt, from.getFloat(fromAt));
        } else {
            to.putDouble(toAt, from.getDouble(fromAt));
        }
    }

    @Override
    public void embeddingBagDenseBackward(Tensor gradOutput, Tensor indices, Tensor offsets, long bagSize,
                                          EmbeddingBagMode mode, Tensor perSampleWeights, long paddingIdx,
                                          boolean scaleGradByFreq, Tensor maxIndices, Tensor gradWeight) {
        MemoryGuard guard = TensorInternals.guard(gradOutput, indices, offsets, perSampleWeights, maxIndices,
                gradWeight);
        try {
            bagDenseBackward(gradOutput, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx,
                    scaleGradByFreq, maxIndices, gradWeight);
        } finally {
            guard.exit();
        }
    }

    private static void bagDenseBackward(Tensor gradOutput, Tensor indices, Tensor offsets, long bagSize,
                                         EmbeddingBagMode mode, Tensor perSampleWeights, long paddingIdx,
                                         boolean scaleGradByFreq, Tensor maxIndices, Tensor gradWeight) {
        Bags bags = new Bags(indices, offsets, bagSize, gradOutput.size(0));
        Memory grads = TensorInternals.memory(gradOutput);
        Memory target = TensorInternals.memory(gradWeight);
        boolean single = gradWeight.dtype() == DType.FLOAT32;
        int itemSize = gradWeight.dtype().itemSize();
        long dim = gradWeight.size(1);
        if (mode == EmbeddingBagMode.MAX) {
            Memory argmax = TensorInternals.memory(maxIndices);
            for (long k = 0; k < bags.numBags() * dim; k++) {
                long r = argmax.getLong(8 * k);
                if (r >= 0) {
                    long at = (r * dim + k % dim) * itemSize;
                    if (single) {
                        target.putFloat(at, target.getFloat(at) + grads.getFloat(4 * k));
                    } else {
                        target.putDouble(at, target.getDouble(at) + grads.getDouble(8 * k));
                    }
                }
            }
            return;
        }
        Memory idx = TensorInternals.memory(indices);
        boolean wide = indices.dtype() == DType.INT64;
        Memory weights = perSampleWeights == null ? null : TensorInternals.memory(perSampleWeights);
        long[] sorted = scaleGradByFreq ? sortedCopy(indices.toLongArray()) : null;
        for (long b = 0; b < bags.numBags(); b++) {
            long count = 0;
            for (long i = bags.start(b); i < bags.end(b); i++) {
                count += Bags.read(idx, wide, i) == paddingIdx ? 0 : 1;
            }
            for (long i = bags.start(b); i < bags.end(b); i++) {
                long r = Bags.read(idx, wide, i);
                if (r == paddingIdx) {
                    continue;
                }
                // libtorch's _embedding_bag_dense_backward: the scale in double, cast to the gradient's type as
                // axpy's alpha; BLAS's axpy fuses the multiply-add (exact when the scale is 1).
                double scale = weights == null ? 1.0 : single ? weights.getFloat(4 * i) : weights.getDouble(8 * i);
                if (scaleGradByFreq) {
                    scale /= occurrences(sorted, r);
                }
                if (mode == EmbeddingBagMode.MEAN) {
                    scale /= count;
                }
                for (long j = 0; j < dim; j++) {
                    long at = (r * dim + j) * itemSize;
                    long from = (b * dim + j) * itemSize;
                    if (single) {
                        float x = grads.getFloat(from);
                        float acc = target.getFloat(at);
                        target.putFloat(at, scale == 1.0 ? acc + x : Math.fma(x, (float) scale, acc));
                    } else {
                        double x = grads.getDouble(from);
                        double acc = target.getDouble(at);
                        target.putDouble(at, scale == 1.0 ? acc + x : Math.fma(x, scale, acc));
                    }
                }
            }
        }
    }

    @Override
    public void embeddingBagPerSampleWeightsBackward(Tensor gradOutput, Tensor weight, Tensor indices,
                                                     Tensor offsets, long bagSize, long paddingIdx,
                                                     Tensor gradPerSampleWeights) {
        MemoryGuard guard = TensorInternals.guard(gradOutput, weight, indices, offsets, gradPerSampleWeights, null);
        try {
            bagPerSampleWeightsBackward(gradOutput, weight, indices, offsets, bagSize, paddingIdx,
                    gradPerSampleWeights);
        } finally {
            guard.exit();
        }
    }

    private static void bagPerSampleWeightsBackward(Tensor gradOutput, Tensor weight, Tensor indices,
                                                    Tensor offsets, long bagSize, long paddingIdx,
                                                    Tensor gradPerSampleWeights) {
        Bags bags = new Bags(indices, offsets, bagSize, gradOutput.size(0));
        Memory grads = TensorInternals.memory(gradOutput);
        Memory table = TensorInternals.memory(weight);
        Memory idx = TensorInternals.memory(indices);
        Memory target = TensorInternals.memory(gradPerSampleWeights);
        boolean wide = indices.dtype() == DType.INT64;
        boolean single = weight.dtype() == DType.FLOAT32;
        long dim = weight.size(1);
        for (long b = 0; b < bags.numBags(); b++) {
            for (long i = bags.start(b); i < bags.end(b); i++) {
                long r = Bags.read(idx, wide, i);
                double dot = 0;
                if (r != paddingIdx) {
                    for (long j = 0; j < dim; j++) {
                        dot += single
                                ? (double) grads.getFloat(4 * (b * dim + j)) * table.getFloat(4 * (r * dim + j))
                                : grads.getDouble(8 * (b * dim + j)) * table.getDouble(8 * (r * dim + j));
                    }
                }
                if (single) {
                    target.putFloat(4 * i, (float) dot);
                } else {
                    target.putDouble(8 * i, dot);
                }
            }
        }
    }

    @Override
    public void sparseAdd(Tensor param, SparseTensor gradient, double alpha) {
        MemoryGuard guard = TensorInternals.guard(param, gradient.indices(), gradient.values());
        try {
            addRows(param, gradient, alpha);
        } finally {
            guard.exit();
        }
    }

    private static void addRows(Tensor param, SparseTensor gradient, double alpha) {
        Rows rows = new Rows(param, gradient);
        for (int k = 0; k < rows.index.length; k++) {
            for (long j = 0; j < rows.dim; j++) {
                long at = rows.index[k] * rows.dim + j;
                rows.setParam(at, rows.param(at) + rows.round(alpha * rows.gradient(k * rows.dim + j)));
            }
        }
    }

    @Override
    public void sparseAdagrad(Tensor param, Tensor stateSum, SparseTensor gradient, double clr, double eps,
                              boolean maximize) {
        MemoryGuard guard = TensorInternals.guard(param, stateSum, gradient.indices(), gradient.values(), null, null);
        try {
            adagradRows(param, stateSum, gradient, clr, eps, maximize);
        } finally {
            guard.exit();
        }
    }

    private static void adagradRows(Tensor param, Tensor stateSum, SparseTensor gradient, double clr, double eps,
                                    boolean maximize) {
        Rows rows = new Rows(param, gradient);
        Memory sum = TensorInternals.memory(stateSum);
        for (int k = 0; k < rows.index.length; k++) {
            for (long j = 0; j < rows.dim; j++) {
                long at = rows.index[k] * rows.dim + j;
                double d = rows.gradient(k * rows.dim + j);
                d = maximize ? -d : d;
                rows.set(sum, at, rows.get(sum, at) + d * d);
                double std = Math.sqrt(rows.get(sum, at)) + eps;
                rows.setParam(at, rows.param(at) - clr * d / std);
            }
        }
    }

    @Override
    public void sparseAdam(Tensor param, Tensor expAvg, Tensor expAvgSq, SparseTensor gradient, double beta1,
                           double beta2, double stepSize, double eps, boolean maximize) {
        MemoryGuard guard = TensorInternals.guard(param, expAvg, expAvgSq, gradient.indices(), gradient.values(), null);
        try {
            adamRows(param, expAvg, expAvgSq, gradient, beta1, beta2, stepSize, eps, maximize);
        } finally {
            guard.exit();
        }
    }

    private static void adamRows(Tensor param, Tensor expAvg, Tensor expAvgSq, SparseTensor gradient, double beta1,
                                 double beta2, double stepSize, double eps, boolean maximize) {
        Rows rows = new Rows(param, gradient);
        Memory m = TensorInternals.memory(expAvg);
        Memory v = TensorInternals.memory(expAvgSq);
        for (int k = 0; k < rows.index.length; k++) {
            for (long j = 0; j < rows.dim; j++) {
                long at = rows.index[k] * rows.dim + j;
                double d = rows.gradient(k * rows.dim + j);
                d = maximize ? -d : d;
                double oldM = rows.get(m, at);
                double updateM = (d - oldM) * (1 - beta1);
                rows.set(m, at, oldM + updateM);
                double oldV = rows.get(v, at);
                double updateV = (d * d - oldV) * (1 - beta2);
                rows.set(v, at, oldV + updateV);
                double numer = updateM + oldM;
                double denom = Math.sqrt(updateV + oldV) + eps;
                rows.setParam(at, rows.param(at) - stepSize * (numer / denom));
            }
        }
    }

    /** Element access for the sparse optimizer steps: double arithmetic, one rounding per stored value. */
    private static final class Rows {
        final long[] index;
        final long dim;
        final boolean single;
        final Memory param;
        final Memory values;

        Rows(Tensor param, SparseTensor gradient) {
            this.index = gradient.indices().toLongArray();
            this.dim = gradient.shape()[1];
            this.single = param.dtype() == DType.FLOAT32;
            this.param = TensorInternals.memory(param);
            this.values = TensorInternals.memory(gradient.values());
        }

        double get(Memory memory, long i) {
            return single ? memory.getFloat(4 * i) : memory.getDouble(8 * i);
        }

        void set(Memory memory, long i, double value) {
            if (single) {
                memory.putFloat(4 * i, (float) value);
            } else {
                memory.putDouble(8 * i, value);
            }
        }

        double round(double value) {
            return single ? (float) value : value;
        }

        double param(long i) {
            return get(param, i);
        }

        void setParam(long i, double value) {
            set(param, i, value);
        }

        double gradient(long i) {
            return get(values, i);
        }
    }

    private static long[] sortedCopy(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted;
    }

    private static long occurrences(long[] sorted, long value) {
        int first = Arrays.binarySearch(sorted, value);
        int low = first;
        int high = first;
        while (low > 0 && sorted[low - 1] == value) {
            low--;
        }
        while (high + 1 < sorted.length && sorted[high + 1] == value) {
            high++;
        }
        return high - low + 1;
    }

    /** Each row once: renorming a row twice could change it twice. */
    private static long[] distinctSorted(Tensor indices) {
        long n = indices.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("renorm supports at most " + (Integer.MAX_VALUE - 8)
                    + " indices per call, got " + n);
        }
        long[] rows = indices.toLongArray();
        Arrays.sort(rows);
        int distinct = 0;
        for (int i = 0; i < rows.length; i++) {
            if (i == 0 || rows[i] != rows[i - 1]) {
                rows[distinct++] = rows[i];
            }
        }
        return Arrays.copyOf(rows, distinct);
    }

    /**
     * The {@code p}-norm of one row as PyTorch's CPU norm computes it: a float row accumulates in float, a double row
     * in double. Float arithmetic is emulated by rounding each double result to float, which gives exactly the float
     * result for +, * and sqrt (double has more than twice float's precision).
     */
    private static double norm(Memory table, long start, long dim, double p, boolean single) {
        if (dim == 1) {
            // PyTorch's norm of one element is |x| (or x != 0 for p = 0), not (|x|^p)^(1/p), which can overflow.
            double x = Math.abs(single ? table.getFloat(start) : table.getDouble(start));
            return p == 0 ? (x != 0 ? 1 : 0) : x;
        }
        double acc = p == Double.NEGATIVE_INFINITY ? Double.POSITIVE_INFINITY : 0;
        for (long j = 0; j < dim; j++) {
            double a = Math.abs(single ? table.getFloat(start + 4 * j) : table.getDouble(start + 8 * j));
            if (p == 2) {
                acc = round(acc + round(a * a, single), single);
            } else if (p == 1) {
                acc = round(acc + a, single);
            } else if (p == Double.POSITIVE_INFINITY) {
                acc = Math.max(acc, a);
            } else if (p == Double.NEGATIVE_INFINITY) {
                acc = Math.min(acc, a);
            } else if (p == 0) {
                acc += a != 0 ? 1 : 0;
            } else {
                acc = round(acc + round(Math.pow(a, round(p, single)), single), single);
            }
        }
        if (p == 2) {
            return round(Math.sqrt(acc), single);
        }
        if (p == 1 || p == 0 || Double.isInfinite(p)) {
            return acc;
        }
        return round(Math.pow(acc, round(1 / round(p, single), single)), single);
    }

    private static double round(double value, boolean toFloat) {
        return toFloat ? (float) value : value;
    }

    @Override
    public void cosineTopK(Tensor weight, Tensor query, double eps, Tensor values, Tensor indices) {
        MemoryGuard guard = TensorInternals.guard(weight, query, values, indices, null, null);
        try {
            topK(weight, query, eps, values, indices);
        } finally {
            guard.exit();
        }
    }

    private static void topK(Tensor weight, Tensor query, double eps, Tensor values, Tensor indices) {
        Memory table = TensorInternals.memory(weight);
        Memory q = TensorInternals.memory(query);
        long rows = weight.size(0);
        long dim = weight.size(1);
        int k = (int) values.numel();
        double queryNorm2 = 0;
        for (long j = 0; j < dim; j++) {
            double x = q.getFloat(4 * j);
            queryNorm2 += x * x;
        }
        double queryNorm = Math.max(Math.sqrt(queryNorm2), eps);
        // The k best so far, worst at the head.
        java.util.PriorityQueue<Neighbour> best = new java.util.PriorityQueue<>(Math.max(1, k),
                (a, b) -> a.betterThan(b) ? 1 : b.betterThan(a) ? -1 : 0);
        for (long r = 0; r < rows && k > 0; r++) {
            double dot = 0;
            double norm2 = 0;
            for (long j = 0; j < dim; j++) {
                double x = table.getFloat(4 * (r * dim + j));
                dot += x * q.getFloat(4 * j);
                norm2 += x * x;
            }
            Neighbour candidate = new Neighbour(
                    (float) (dot / (Math.max(Math.sqrt(norm2), eps) * queryNorm)), r);
            if (best.size() < k) {
                best.add(candidate);
            } else if (candidate.betterThan(best.peek())) {
                best.poll();
                best.add(candidate);
            }
        }
        Memory outValues = TensorInternals.memory(values);
        Memory outIndices = TensorInternals.memory(indices);
        for (int i = best.size() - 1; i >= 0; i--) {
            Neighbour n = best.poll();
            outValues.putFloat(4L * i, n.similarity);
            outIndices.putLong(8L * i, n.row);
        }
    }

    /** A row and its similarity, ordered as torch.topk orders the largest: NaN first, then by value, then by row. */
    static final class Neighbour {
        final float similarity;
        final long row;

        Neighbour(float similarity, long row) {
            this.similarity = similarity;
            this.row = row;
        }

        boolean betterThan(Neighbour other) {
            boolean nan = Float.isNaN(similarity);
            boolean otherNan = Float.isNaN(other.similarity);
            if (nan != otherNan) {
                return nan;
            }
            if (!nan && similarity != other.similarity) {
                return similarity > other.similarity;
            }
            return row < other.row;
        }
    }

    @Override
    public void quantizedEmbeddingBag(Memory table, long rows, long dim, int bits, Tensor indices, Tensor offsets,
                                      long bagSize, EmbeddingBagMode mode, Tensor perSampleWeights, Tensor out) {
        QuantizedBagJava.bag(table, rows, dim, bits, indices, offsets, bagSize, mode, perSampleWeights, out);
    }
}
