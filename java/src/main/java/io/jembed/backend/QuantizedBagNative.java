package io.jembed.backend;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.internal.Bags;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.internal.nativebinding.JembedNative;
import io.jembed.nn.EmbeddingBagMode;
import java.util.Arrays;

/**
 * {@link Backend#quantizedEmbeddingBag} on the native kernels ({@code native/src/quant_bag_loop.h}, through
 * {@code jembed_quantized_bag_*}): the kernel checks every index and offset before it writes, so a bad index costs no
 * separate pass here. Large calls split their bags among the native backend's helper threads (each bag reduced by one
 * thread, so every split gives the same bits). Tables or tensors outside native memory go to the Java reference.
 *
 * <p>Thread-safe: stateless; the kernels are reentrant.
 */
final class QuantizedBagNative {
    private static final int JEMBED_BAG_SUM = 0;
    private static final int JEMBED_BAG_MEAN = 1;
    private static final long JEMBED_ERR_OFFSETS = -4;

    private QuantizedBagNative() {}

    static void bag(Memory table, long rows, long dim, int bits, Tensor indices, Tensor offsets, long bagSize,
                    EmbeddingBagMode mode, Tensor perSampleWeights, Tensor out, int threads, WorkerCrew crew) {
        MemoryGuard guard = MemoryGuard.enter(table, TensorInternals.memory(indices),
                offsets == null ? null : TensorInternals.memory(offsets),
                perSampleWeights == null ? null : TensorInternals.memory(perSampleWeights),
                TensorInternals.memory(out), null);
        try {
            if (!allNative(table, indices, offsets, perSampleWeights, out)) {
                QuantizedBagJava.bag(table, rows, dim, bits, indices, offsets, bagSize, mode, perSampleWeights, out);
                return;
            }
            checkContract(table, rows, dim, bits, indices, offsets, bagSize, mode, perSampleWeights, out);
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            }
            Call call = new Call(table, rows, dim, bits, indices, offsets, bagSize, mode, perSampleWeights, out);
            long status;
            if (threads == 1 || call.numBags < crew.parts() || !crew.tryAcquire()) {
                status = call.part(0, call.numBags);
            } else {
                try {
                    // Each part checks only its own indices before it writes; the whole call must fail before any
                    // part writes, so every index is checked here first, in one vectorised pass.
                    status = call.firstBadIndex();
                    if (status == -1) {
                        status = new SplitJob(call, crew.parts()).run(crew);
                    }
                } finally {
                    crew.release();
                }
            }
            checkStatus(status, indices, rows);
        } finally {
            guard.exit();
        }
    }

    /** One validated call: the kernel over a range of whole bags. */
    private static final class Call {
        final long table;
        final long rows;
        final long dim;
        final int bits;
        final Tensor indices;
        final Tensor offsets;
        final long bagSize;
        final int mode;
        final long psw;
        final long out;
        final long numBags;
        final int indexSize;

        Call(Memory table, long rows, long dim, int bits, Tensor indices, Tensor offsets, long bagSize,
             EmbeddingBagMode mode, Tensor perSampleWeights, Tensor out) {
            this.table = table.address();
            this.rows = rows;
            this.dim = dim;
            this.bits = bits;
            this.indices = indices;
            this.offsets = offsets;
            this.bagSize = bagSize;
            this.mode = mode == EmbeddingBagMode.MEAN ? JEMBED_BAG_MEAN : JEMBED_BAG_SUM;
            this.psw = perSampleWeights == null ? 0 : TensorInternals.memory(perSampleWeights).address();
            this.out = TensorInternals.memory(out).address();
            this.numBags = out.size(0);
            this.indexSize = indices.dtype().itemSize();
        }

        /** Where bag {@code b} ends (validated offsets; with include_last_offset the extra offset is the length). */
        long end(long b) {
            if (offsets == null) {
                return (b + 1) * bagSize;
            }
            return b + 1 < offsets.numel() ? read(offsets, b + 1) : indices.numel();
        }

        /**
         * Bags {@code [from, to)}: with offsets, pointers into the full index and weight buffers (positions stay
         * absolute) and the offsets from {@code from}; fixed-size bags, pointers to bag {@code from}'s first lookup.
         * Returns the kernel's status with an index position made absolute.
         */
        long part(long from, long to) {
            if (from >= to) {
                return -1;
            }
            long shift = offsets == null ? from * bagSize : 0;
            long idx = TensorInternals.memory(indices).address() + shift * indexSize;
            long off = offsets == null ? 0 : TensorInternals.memory(offsets).address() + from * indexSize;
            long weights = psw == 0 ? 0 : psw + shift * 4;
            long n = end(to - 1) - shift;
            long target = out + from * dim * 4;
            long count = to - from;
            boolean wide = indexSize == 8;
            long status;
            if (bits == 4) {
                status = wide
                        ? JembedNative.quantizedBagU4I64(table, rows, dim, idx, n, off, count, bagSize, weights, mode,
                                target)
                        : JembedNative.quantizedBagU4I32(table, rows, dim, idx, n, off, count, bagSize, weights, mode,
                                target);
            } else {
                status = wide
                        ? JembedNative.quantizedBagU8I64(table, rows, dim, idx, n, off, count, bagSize, weights, mode,
                                target)
                        : JembedNative.quantizedBagU8I32(table, rows, dim, idx, n, off, count, bagSize, weights, mode,
                                target);
            }
            return status >= 0 ? status + shift : status;
        }

        /** The position of the first index outside {@code [0, rows)}, or -1: every bag's indices, in one pass. */
        long firstBadIndex() {
            long idx = TensorInternals.memory(indices).address();
            long n = indices.numel();
            return indexSize == 8 ? JembedNative.firstBadIndexI64(idx, n, rows)
                    : JembedNative.firstBadIndexI32(idx, n, rows);
        }

        /** The first bag that starts at or after flat position {@code position} ({@code numBags} if none). */
        long firstBagFrom(long position) {
            if (offsets == null) {
                return bagSize == 0 ? numBags : Math.min(numBags, (position + bagSize - 1) / bagSize);
            }
            long low = 0;
            long high = numBags;
            while (low < high) {
                long mid = (low + high) >>> 1;
                if (read(offsets, mid) < position) {
                    low = mid + 1;
                } else {
                    high = mid;
                }
            }
            return low;
        }

        private static long read(Tensor t, long i) {
            return Bags.read(TensorInternals.memory(t), t.dtype() == DType.INT64, i);
        }
    }

    /** A call split into ranges of whole bags holding about equal numbers of lookups; each bag on one thread. */
    private static final class SplitJob implements WorkerCrew.Job {
        private final Call call;
        private final long[] firstBag;
        private final long[] statuses;

        SplitJob(Call call, int parts) {
            this.call = call;
            this.firstBag = new long[parts + 1];
            this.statuses = new long[parts];
            long lookups = call.end(call.numBags - 1);
            for (int p = 1; p < parts; p++) {
                firstBag[p] = Math.max(firstBag[p - 1], call.firstBagFrom(lookups / parts * p));
            }
            firstBag[parts] = call.numBags;
        }

        long run(WorkerCrew crew) {
            crew.run(this);
            for (long status : statuses) {
                if (status != -1) {
                    return status;
                }
            }
            return -1;
        }

        @Override
        public void runPart(int part) {
            statuses[part] = call.part(firstBag[part], firstBag[part + 1]);
        }
    }

    private static boolean allNative(Memory table, Tensor indices, Tensor offsets, Tensor perSampleWeights,
                                     Tensor out) {
        return table.isNative() && TensorInternals.memory(indices).isNative()
                && (offsets == null || TensorInternals.memory(offsets).isNative())
                && (perSampleWeights == null || TensorInternals.memory(perSampleWeights).isNative())
                && TensorInternals.memory(out).isNative();
    }

    /**
     * The O(1) part of the contract, checked again here because the backend is public: whoever calls it, the kernel
     * gets buffers as large as it will touch. Index values and offsets are the kernel's own checks.
     */
    private static void checkContract(Memory table, long rows, long dim, int bits, Tensor indices, Tensor offsets,
                                      long bagSize, EmbeddingBagMode mode, Tensor perSampleWeights, Tensor out) {
        long numBags = out.dim() == 2 ? out.size(0) : -1;
        long n = indices.numel();
        long rowBytes = bits == 8 ? dim + 8 : dim / 2 + 4;
        boolean ok = (bits == 8 || (bits == 4 && dim % 2 == 0)) && mode != EmbeddingBagMode.MAX && rows >= 0
                && dim >= 0 && table.byteSize() / Math.max(1, rowBytes) >= rows
                && out.dtype() == DType.FLOAT32 && numBags >= 0 && out.size(1) == dim
                && (indices.dtype() == DType.INT64 || indices.dtype() == DType.INT32)
                && (offsets == null
                        ? bagSize >= 0 && (bagSize == 0 ? n == 0 : n % bagSize == 0 && n / bagSize == numBags)
                        : offsets.dtype() == indices.dtype() && offsets.dim() == 1 && offsets.numel() >= numBags)
                && (perSampleWeights == null || (perSampleWeights.dtype() == DType.FLOAT32
                        && perSampleWeights.numel() == n && mode == EmbeddingBagMode.SUM));
        if (!ok) {
            throw new IllegalArgumentException("a quantized lookup needs 8-bit or 4-bit rows (an even dim), mode sum "
                    + "or mean, a float32 output of (bags, " + dim + "), offsets of the indices' dtype (or fixed bags "
                    + "covering the "
                    + "indices) and float32 per-sample weights of the indices' length with sum; got " + bits
                    + "-bit rows, mode " + mode + ", indices " + Arrays.toString(indices.shape()) + " "
                    + indices.dtype() + ", output " + Arrays.toString(out.shape()) + " " + out.dtype());
        }
        TensorInternals.memory(out).checkWritable();
    }

    private static void checkStatus(long status, Tensor indices, long rows) {
        if (status == -1) {
            return;
        }
        if (status == JEMBED_ERR_OFFSETS) {
            throw new java.util.ConcurrentModificationException("the offsets are not non-decreasing within [0, "
                    + indices.numel() + "]: they were valid when validated, so another thread rewrote them");
        }
        if (status < 0) {
            throw new IllegalStateException("jembed's quantized kernel refused its arguments (status " + status + ")");
        }
        long value = Bags.read(TensorInternals.memory(indices), indices.dtype() == DType.INT64, status);
        throw EmbeddingChecks.indexOutOfRange(indices.shape(), status, value, rows);
    }
}
