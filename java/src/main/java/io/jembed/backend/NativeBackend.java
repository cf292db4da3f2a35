package io.jembed.backend;

import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.internal.BagChecks;
import io.jembed.internal.NativeLibrary;
import io.jembed.Torch;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.internal.nativebinding.JembedNative;
import io.jembed.nn.EmbeddingBagMode;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The C++ kernels: scalar, AVX2+FMA and AVX-512 variants, one chosen at load time from CPU detection.
 *
 * <p>The variant can be forced with {@code -Djembed.kernels=scalar|avx2|avx512} (or the environment variable
 * {@code JEMBED_KERNELS}), or at run time with {@link #selectKernels(String)}, so that tests and benchmarks can run
 * each one. Gathers copy bits and give identical results on every variant; renorm sums may be reordered by the
 * vector variants and agree to float rounding.
 *
 * <p>Thread-safe: the kernels are reentrant. {@link #selectKernels(String)} switches the variant for every thread at
 * once (calls already running finish on the variant they started with).
 */
public final class NativeBackend implements Backend {
    /** System property forcing a kernel variant. */
    public static final String KERNELS_PROPERTY = "jembed.kernels";

    private static final int VARIANT_COUNT = 3;
    /** Threads for large backward passes and renorms: {@code -Djembed.threads=N}, by default the processors. */
    private static final int THREADS = Math.max(1, Integer.getInteger("jembed.threads",
            Runtime.getRuntime().availableProcessors()));
    /**
     * Below this many bytes of rows a gather runs on the calling thread alone: smaller batches are over before a
     * second thread helps, and rows warm in this core's cache would be pulled across to the other core. Measured
     * (docs/bench/full, 2-core Zen 4): splitting 128 KB and more was 1.4 to 2.4 times faster than one thread
     * except for a 256 KB batch from a table in L2 (0.91); 32 KB and less lost up to half.
     */
    private static final long PARALLEL_GATHER_BYTES = Long.getLong("jembed.parallelGatherBytes", 128L << 10);
    /**
     * The same threshold for a request in a Java array, higher: its indices must first be copied into a tensor (an
     * allocation per call), and the helper thread then reads indices that the calling thread's core has just
     * written, pulling them across. Measured (ServingBenchmark, scripts/bench-ab, batch 512 x dim 128 = 256 KB from
     * a table in L1, fork minima): two threads 8.6 us from a long[] and 7.9 from an int[], one thread 2.8 and 2.6,
     * the arraycopy loop 3.9 (docs/bench/serving/README.md).
     */
    private static final long PARALLEL_ARRAY_GATHER_BYTES = Long.getLong("jembed.parallelArrayGatherBytes",
            4 * PARALLEL_GATHER_BYTES);
    /** Below this many gradient (or renormed) elements a backward pass (or renorm) runs on the calling thread alone. */
    private static final long PARALLEL_THRESHOLD = 1 << 16;
    /** Helper threads for large gathers and backward passes; one call uses them at a time. */
    private static final WorkerCrew CREW = new WorkerCrew(THREADS - 1);
    /** The reusable job objects of the crew, filled by the caller that holds it. */
    private static final GatherJob GATHER_JOB = new GatherJob(CREW.parts());
    private static final BackwardJob BACKWARD_JOB = new BackwardJob();
    private static final RenormJob RENORM_JOB = new RenormJob();
    private static final BagJob BAG_JOB = new BagJob(CREW.parts());
    private static final BagBackwardJob BAG_BACKWARD_JOB = new BagBackwardJob(CREW.parts());

    NativeBackend() {
        if (!NativeLibrary.isAvailable()) {
            throw new IllegalStateException("jembed's native library is not available",
                    NativeLibrary.unavailableBecause());
        }
        String forced = System.getProperty(KERNELS_PROPERTY);
        if (forced != null && !forced.isBlank()) {
            selectKernels(forced);
        }
    }

    @Override
    public String name() {
        return "native(" + activeKernels() + ")";
    }

    /** The kernel variant in use: {@code scalar}, {@code avx2} or {@code avx512}. */
    public static String activeKernels() {
        return JembedNative.variantName(JembedNative.activeVariant());
    }

    /** The variants this build has and this CPU can run, from the most portable to the fastest. */
    public static List<String> supportedKernels() {
        List<String> supported = new ArrayList<>();
        for (int v = 0; v < VARIANT_COUNT; v++) {
            if (JembedNative.variantSupported(v) == 1) {
                supported.add(JembedNative.variantName(v));
            }
        }
        return supported;
    }

    /**
     * Forces a kernel variant for every later native call in this JVM.
     *
     * @throws IllegalArgumentException if the name is unknown or the CPU (or this build) cannot run that variant
     */
    public static void selectKernels(String name) {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        for (int v = 0; v < VARIANT_COUNT; v++) {
            if (JembedNative.variantName(v).equals(wanted)) {
                if (JembedNative.selectVariant(v) != 0) {
                    throw new IllegalArgumentException("kernel variant '" + name + "' is not supported here; "
                            + "supported: " + supportedKernels());
                }
                return;
            }
        }
        throw new IllegalArgumentException("unknown kernel variant '" + name + "'; expected one of scalar, avx2, "
                + "avx512 (supported here: " + supportedKernels() + ")");
    }

    @Override
    public void embedding(Tensor weight, Tensor indices, Tensor out) {
        long rowBytes = weight.size(1) * weight.dtype().itemSize();
        embedding(weight, indices, out, indices.numel() * rowBytes < PARALLEL_GATHER_BYTES ? 1 : THREADS);
    }

    /**
     * The lookup on one thread ({@code threads == 1}) or split among the calling thread and the helper threads
     * ({@code -Djembed.threads}, by default one per processor) when they are free; for benchmarks and tests.
     */
    public void embedding(Tensor weight, Tensor indices, Tensor out, int threads) {
        // A server passes a new request tensor with every call: the guard records it without a reference store.
        MemoryGuard guard = MemoryGuard.enterKeptAliveByCaller(TensorInternals.memory(weight),
                TensorInternals.memory(indices), TensorInternals.memory(out));
        try {
            gather(weight, indices, out, threads);
        } finally {
            guard.exit();
            Reference.reachabilityFence(weight);
            Reference.reachabilityFence(indices);
            Reference.reachabilityFence(out);
        }
    }

    private static void gather(Tensor weight, Tensor indices, Tensor out, int threads) {
        checkBuffers(weight, indices, out);
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        long n = indices.numel();
        if (threads == 1 || n < CREW.parts() || !CREW.tryAcquire()) {
            checkGather(gatherPart(weight, indices, out, 0, n), indices, weight.size(0));
            return;
        }
        // Rows are copied, so any split gives the same bits; each thread keeps its own misses in flight. The helper
        // threads need no guard: this thread holds the tensors until they are done. The indices are validated whole
        // first, so that a bad one fails the call before any part writes (each part validates only its own range).
        long status;
        try {
            long idx = TensorInternals.memory(indices).address();
            long bad = indices.dtype() == DType.INT64 ? JembedNative.firstBadIndexI64(idx, n, weight.size(0))
                    : JembedNative.firstBadIndexI32(idx, n, weight.size(0));
            checkGather(bad, indices, weight.size(0));
            status = GATHER_JOB.run(CREW, weight, indices, out, n);
        } finally {
            CREW.release();
        }
        // Validated above: a part that finds a bad index means another thread rewrote the indices meanwhile.
        checkResult(status, indices, weight.size(0));
    }

    @Override
    public void embedding(Tensor weight, long[] indices, Tensor out) {
        embeddingFromArray(weight, indices, indices.length, true, out);
    }

    @Override
    public void embedding(Tensor weight, int[] indices, Tensor out) {
        embeddingFromArray(weight, indices, indices.length, false, out);
    }

    /**
     * A request in a Java array: copied into this thread's native scratch block (a bulk copy of a few nanoseconds
     * for the small requests a server makes), then gathered by the kernel, which validates every index before it
     * writes. Requests large enough to split between threads go through an index tensor.
     */
    private void embeddingFromArray(Tensor weight, Object indices, int n, boolean wide, Tensor out) {
        MemoryGuard guard = TensorInternals.guard(weight, out);
        try {
            checkBuffers(weight, null, out, n);
            if (n * (weight.size(1) * weight.dtype().itemSize()) >= PARALLEL_ARRAY_GATHER_BYTES) {
                try (Tensor request = wide ? Torch.tensor((long[]) indices) : Torch.tensor((int[]) indices)) {
                    gather(weight, request, out, THREADS);
                }
                return;
            }
            long rowBytes = weight.size(1) * weight.dtype().itemSize();
            if (SmallGather.takes(n, rowBytes)) {
                // Read from the caller's array: no copy of the request, no native call.
                long table = TensorInternals.memory(weight).address();
                long target = TensorInternals.memory(out).address();
                long rows = weight.size(0);
                long status = wide ? SmallGather.gather(table, rows, rowBytes, (long[]) indices, target)
                        : SmallGather.gather(table, rows, rowBytes, (int[]) indices, target);
                if (status >= 0) {
                    long bad = wide ? ((long[]) indices)[(int) status] : ((int[]) indices)[(int) status];
                    throw EmbeddingChecks.indexOutOfRange(new long[] {n}, status, bad, rows);
                }
                checkResult(status, null, rows);
                return;
            }
            long bytes = (wide ? 8L : 4L) * n;
            Memory request = guard.scratch(bytes);
            Memory own = request == null ? Memory.allocate(bytes) : null;
            try {
                Memory idx = own != null ? own : request;
                idx.copyFromArray(indices, 0, n, 0);
                long status = gatherAt(weight, idx.address(), wide, n, out, 0);
                if (status >= 0) {
                    long bad = wide ? ((long[]) indices)[(int) status] : ((int[]) indices)[(int) status];
                    throw EmbeddingChecks.indexOutOfRange(new long[] {n}, status, bad, weight.size(0));
                }
                checkResult(status, null, weight.size(0));
            } finally {
                if (own != null) {
                    own.close();
                }
            }
        } finally {
            guard.exit();
        }
    }

    /** One gather split into equal contiguous ranges of lookups. */
    private static final class GatherJob implements WorkerCrew.Job {
        private final long[] statuses;
        private Tensor weight;
        private Tensor indices;
        private Tensor out;
        private long n;
        private long chunk;

        GatherJob(int parts) {
            statuses = new long[parts];
        }

        long run(WorkerCrew crew, Tensor weight, Tensor indices, Tensor out, long n) {
            this.weight = weight;
            this.indices = indices;
            this.out = out;
            this.n = n;
            this.chunk = (n + statuses.length - 1) / statuses.length;
            try {
                crew.run(this);
            } finally {
                // Dropped at once, so that the job never keeps a tensor reachable.
                this.weight = null;
                this.indices = null;
                this.out = null;
            }
            for (long status : statuses) {
                if (status != -1) {
                    return status; // the first bad index in input order
                }
            }
            return -1;
        }

        @Override
        public void runPart(int part) {
            long start = Math.min(n, part * chunk);
            long count = Math.min(chunk, n - start);
            statuses[part] = count > 0 ? gatherPart(weight, indices, out, start, count) : -1;
        }
    }

    /** Gathers {@code count} lookups from flat position {@code start}; a bad index's position is absolute. */
    private static long gatherPart(Tensor weight, Tensor indices, Tensor out, long start, long count) {
        boolean wide = indices.dtype() == DType.INT64;
        long idx = TensorInternals.memory(indices).address() + start * (wide ? 8 : 4);
        long bad = gatherAt(weight, idx, wide, count, out, start);
        return bad >= 0 ? bad + start : bad;
    }

    /** The kernel call: {@code count} indices at address {@code idx} into rows {@code start...} of {@code out}. */
    private static long gatherAt(Tensor weight, long idx, boolean wide, long count, Tensor out, long start) {
        long dim = weight.size(1);
        int itemSize = weight.dtype().itemSize();
        long table = TensorInternals.memory(weight).address();
        long target = TensorInternals.memory(out).address() + start * dim * itemSize;
        long rows = weight.size(0);
        if (SmallGather.takes(count, dim * itemSize)) {
            return SmallGather.gather(table, rows, dim * itemSize, idx, wide, count, target);
        }
        if (itemSize == 2) {
            // float16 and bfloat16 alike: the 16-bit gather copies bits.
            return wide ? JembedNative.gatherU16I64(table, rows, dim, idx, count, target)
                    : JembedNative.gatherU16I32(table, rows, dim, idx, count, target);
        }
        // The gather copies bits, so 4-byte weights of any type go through the float kernel, 8-byte through double.
        return itemSize == 4
                ? (wide ? JembedNative.gatherF32I64(table, rows, dim, idx, count, target)
                        : JembedNative.gatherF32I32(table, rows, dim, idx, count, target))
                : (wide ? JembedNative.gatherF64I64(table, rows, dim, idx, count, target)
                        : JembedNative.gatherF64I32(table, rows, dim, idx, count, target));
    }

    @Override
    public void embeddingRenorm(Tensor weight, Tensor indices, double maxNorm, double normType) {
        long work = indices.numel() * weight.size(1);
        embeddingRenorm(weight, indices, maxNorm, normType, work < PARALLEL_THRESHOLD ? 1 : THREADS);
    }

    /**
     * The renorm on {@code threads} threads, each owning the rows {@code r} with {@code r % threads} equal to its
     * number, as in {@link #embeddingDenseBackward(Tensor, Tensor, Tensor, long, boolean, int)}: a row's norm and
     * scaling do not depend on other rows, so every thread count gives the same bits. For benchmarks and tests.
     */
    public void embeddingRenorm(Tensor weight, Tensor indices, double maxNorm, double normType, int threads) {
        MemoryGuard guard = TensorInternals.guard(weight, indices);
        try {
            renorm(weight, indices, maxNorm, normType, threads);
        } finally {
            guard.exit();
        }
    }

    private static void renorm(Tensor weight, Tensor indices, double maxNorm, double normType, int threads) {
        checkBuffers(weight, indices, null);
        if (!weight.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("renorm needs a floating-point weight, got " + weight.dtype());
        }
        checkSingleOrDouble(weight, "renorm");
        TensorInternals.memory(weight).checkWritable();
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (threads == 1) {
            renormPart(weight, indices, maxNorm, normType, 1, 0);
            return;
        }
        if (!CREW.tryAcquire()) {
            // Another call has the helpers: this thread runs every owner's part, which gives the same bits.
            for (int owner = 0; owner < threads; owner++) {
                renormPart(weight, indices, maxNorm, normType, threads, owner);
            }
            return;
        }
        try {
            RENORM_JOB.run(CREW, weight, indices, maxNorm, normType, threads);
        } finally {
            CREW.release();
        }
    }

    /** One renorm whose owners are dealt round-robin to the crew's parts. */
    private static final class RenormJob implements WorkerCrew.Job {
        private Tensor weight;
        private Tensor indices;
        private double maxNorm;
        private double normType;
        private int owners;
        private int parts;

        void run(WorkerCrew crew, Tensor weight, Tensor indices, double maxNorm, double normType, int owners) {
            this.weight = weight;
            this.indices = indices;
            this.maxNorm = maxNorm;
            this.normType = normType;
            this.owners = owners;
            this.parts = crew.parts();
            try {
                crew.run(this);
            } finally {
                this.weight = null;
                this.indices = null;
            }
        }

        @Override
        public void runPart(int part) {
            for (int owner = part; owner < owners; owner += parts) {
                renormPart(weight, indices, maxNorm, normType, owners, owner);
            }
        }
    }

    private static void renormPart(Tensor weight, Tensor indices, double maxNorm, double normType, int owners,
                                   int owner) {
        long table = TensorInternals.memory(weight).address();
        long idx = TensorInternals.memory(indices).address();
        long rows = weight.size(0);
        long dim = weight.size(1);
        long n = indices.numel();
        boolean wide = indices.dtype() == DType.INT64;
        long bad = weight.dtype() == DType.FLOAT32
                ? (wide ? JembedNative.renormF32I64(table, rows, dim, idx, n, maxNorm, normType, owners, owner)
                        : JembedNative.renormF32I32(table, rows, dim, idx, n, maxNorm, normType, owners, owner))
                : (wide ? JembedNative.renormF64I64(table, rows, dim, idx, n, maxNorm, normType, owners, owner)
                        : JembedNative.renormF64I32(table, rows, dim, idx, n, maxNorm, normType, owners, owner));
        checkResult(bad, indices, rows);
    }

    @Override
    public void embeddingDenseBackward(Tensor gradOutput, Tensor indices, Tensor gradWeight, long paddingIdx,
                                       boolean scaleGradByFreq) {
        long work = indices.numel() * gradWeight.size(1);
        embeddingDenseBackward(gradOutput, indices, gradWeight, paddingIdx, scaleGradByFreq,
                work < PARALLEL_THRESHOLD ? 1 : THREADS);
    }

    /**
     * The dense backward on {@code threads} threads, each owning the rows {@code r} with {@code r % threads} equal
     * to its number: no two threads write one row, and each row accumulates in input order, so every thread count
     * gives the same bits.
     */
    public void embeddingDenseBackward(Tensor gradOutput, Tensor indices, Tensor gradWeight, long paddingIdx,
                                       boolean scaleGradByFreq, int threads) {
        MemoryGuard guard = TensorInternals.guard(gradOutput, indices, gradWeight);
        try {
            denseBackward(gradOutput, indices, gradWeight, paddingIdx, scaleGradByFreq, threads);
        } finally {
            guard.exit();
        }
    }

    private static void denseBackward(Tensor gradOutput, Tensor indices, Tensor gradWeight, long paddingIdx,
                                      boolean scaleGradByFreq, int threads) {
        checkBuffers(gradWeight, indices, null);
        checkSingleOrDouble(gradWeight, "the embedding backward");
        TensorInternals.memory(gradWeight).checkWritable();
        if (gradOutput.isClosed() || !TensorInternals.memory(gradOutput).isNative()
                || gradOutput.dtype() != gradWeight.dtype() || !gradWeight.dtype().isFloatingPoint()
                || gradOutput.numel() != saturatedProduct(indices.numel(), gradWeight.size(1))) {
            throw new IllegalArgumentException("the gradient must hold " + indices.numel() + " x "
                    + gradWeight.size(1) + " elements of the weight's floating-point dtype, got shape "
                    + Arrays.toString(gradOutput.shape()) + " of " + gradOutput.dtype());
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (threads == 1) {
            denseBackwardPart(gradOutput, indices, gradWeight, paddingIdx, scaleGradByFreq, 1, 0);
            return;
        }
        if (!CREW.tryAcquire()) {
            // Another call has the helpers: this thread runs every owner's part, which gives the same bits.
            for (int owner = 0; owner < threads; owner++) {
                denseBackwardPart(gradOutput, indices, gradWeight, paddingIdx, scaleGradByFreq, threads, owner);
            }
            return;
        }
        try {
            BACKWARD_JOB.run(CREW, gradOutput, indices, gradWeight, paddingIdx, scaleGradByFreq, threads);
        } finally {
            CREW.release();
        }
    }

    /** One backward pass whose owners are dealt round-robin to the crew's parts. */
    private static final class BackwardJob implements WorkerCrew.Job {
        private Tensor gradOutput;
        private Tensor indices;
        private Tensor gradWeight;
        private long paddingIdx;
        private boolean scale;
        private int owners;
        private int parts;

        void run(WorkerCrew crew, Tensor gradOutput, Tensor indices, Tensor gradWeight, long paddingIdx,
                 boolean scale, int owners) {
            this.gradOutput = gradOutput;
            this.indices = indices;
            this.gradWeight = gradWeight;
            this.paddingIdx = paddingIdx;
            this.scale = scale;
            this.owners = owners;
            this.parts = crew.parts();
            try {
                crew.run(this);
            } finally {
                this.gradOutput = null;
                this.indices = null;
                this.gradWeight = null;
            }
        }

        @Override
        public void runPart(int part) {
            for (int owner = part; owner < owners; owner += parts) {
                denseBackwardPart(gradOutput, indices, gradWeight, paddingIdx, scale, owners, owner);
            }
        }
    }

    private static void denseBackwardPart(Tensor gradOutput, Tensor indices, Tensor gradWeight, long paddingIdx,
                                          boolean scale, int owners, int owner) {
        long gw = TensorInternals.memory(gradWeight).address();
        long idx = TensorInternals.memory(indices).address();
        long go = TensorInternals.memory(gradOutput).address();
        long rows = gradWeight.size(0);
        long dim = gradWeight.size(1);
        long n = indices.numel();
        int flag = scale ? 1 : 0;
        boolean wide = indices.dtype() == DType.INT64;
        long status = gradWeight.dtype() == DType.FLOAT32
                ? (wide ? JembedNative.denseBackwardF32I64(gw, rows, dim, idx, n, go, paddingIdx, flag, owners, owner)
                        : JembedNative.denseBackwardF32I32(gw, rows, dim, idx, n, go, paddingIdx, flag, owners, owner))
                : (wide ? JembedNative.denseBackwardF64I64(gw, rows, dim, idx, n, go, paddingIdx, flag, owners, owner)
                        : JembedNative.denseBackwardF64I32(gw, rows, dim, idx, n, go, paddingIdx, flag, owners, owner));
        checkResult(status, indices, rows);
    }

    // ---- EmbeddingBag: the fused native kernels (native/src/bag_loop.h, bag_backward.cpp) ----------------------

    @Override
    public void embeddingBag(Tensor weight, Tensor indices, Tensor offsets, long bagSize, EmbeddingBagMode mode,
                             Tensor perSampleWeights, long paddingIdx, Tensor out, Tensor maxIndices) {
        long rowBytes = weight.size(1) * weight.dtype().itemSize();
        embeddingBag(weight, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx, out, maxIndices,
                indices.numel() * rowBytes < PARALLEL_GATHER_BYTES ? 1 : THREADS);
    }

    /**
     * The bag forward on one thread ({@code threads == 1}) or with its bags split among the calling thread and the
     * helper threads when they are free; for benchmarks and tests. Every split gives the same bits: each bag is
     * reduced by one thread, in input order.
     */
    public void embeddingBag(Tensor weight, Tensor indices, Tensor offsets, long bagSize, EmbeddingBagMode mode,
                             Tensor perSampleWeights, long paddingIdx, Tensor out, Tensor maxIndices, int threads) {
        MemoryGuard guard = TensorInternals.guard(weight, indices, offsets, perSampleWeights, out, maxIndices);
        try {
            bag(weight, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx, out, maxIndices, threads);
        } finally {
            guard.exit();
        }
    }

    private static void bag(Tensor weight, Tensor indices, Tensor offsets, long bagSize, EmbeddingBagMode mode,
                            Tensor perSampleWeights, long paddingIdx, Tensor out, Tensor maxIndices, int threads) {
        checkBagBuffers(weight, indices, offsets, bagSize, perSampleWeights, out, maxIndices, out.size(0));
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        long numBags = out.size(0);
        long rows = weight.size(0);
        if (offsets != null && !BagChecks.offsetEndsValid(offsets, indices.numel(), numBags)) {
            BagChecks.checkContents(indices, offsets, numBags, rows);
        }
        if (threads == 1 || numBags < CREW.parts() || !CREW.tryAcquire()) {
            // The kernel checks the offsets' order and every index before it writes.
            checkBagResult(bagPart(weight, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx, out,
                    maxIndices, 0, numBags), indices, offsets, numBags, rows);
            return;
        }
        long status;
        try {
            // Each part checks only its own bags, so the whole input is checked first: a bad index in one part must
            // fail the call before another part writes.
            if (offsets != null) {
                BagChecks.checkOffsets(offsets, indices.numel(), numBags);
            }
            long idx = TensorInternals.memory(indices).address();
            long n = indices.numel();
            if ((indices.dtype() == DType.INT64 ? JembedNative.firstBadIndexI64(idx, n, rows)
                    : JembedNative.firstBadIndexI32(idx, n, rows)) >= 0) {
                BagChecks.checkIndexRange(indices, rows);
            }
            status = BAG_JOB.run(CREW, weight, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx, out,
                    maxIndices);
        } finally {
            CREW.release();
        }
        checkBagResult(status, indices, offsets, numBags, rows);
    }

    /** One bag forward split into ranges of whole bags holding about equal numbers of lookups. */
    private static final class BagJob implements WorkerCrew.Job {
        private final long[] statuses;
        private final long[] firstBag;
        private Tensor weight;
        private Tensor indices;
        private Tensor offsets;
        private long bagSize;
        private EmbeddingBagMode mode;
        private Tensor perSampleWeights;
        private long paddingIdx;
        private Tensor out;
        private Tensor maxIndices;

        BagJob(int parts) {
            statuses = new long[parts];
            firstBag = new long[parts + 1];
        }

        long run(WorkerCrew crew, Tensor weight, Tensor indices, Tensor offsets, long bagSize, EmbeddingBagMode mode,
                 Tensor perSampleWeights, long paddingIdx, Tensor out, Tensor maxIndices) {
            this.weight = weight;
            this.indices = indices;
            this.offsets = offsets;
            this.bagSize = bagSize;
            this.mode = mode;
            this.perSampleWeights = perSampleWeights;
            this.paddingIdx = paddingIdx;
            this.out = out;
            this.maxIndices = maxIndices;
            long numBags = out.size(0);
            int parts = statuses.length;
            long lookups = bagEnd(indices, offsets, bagSize, numBags, numBags - 1);
            firstBag[0] = 0;
            for (int p = 1; p < parts; p++) {
                firstBag[p] = Math.max(firstBag[p - 1],
                        firstBagFrom(indices, offsets, bagSize, numBags, lookups / parts * p));
            }
            firstBag[parts] = numBags;
            try {
                crew.run(this);
            } finally {
                // Dropped at once, so that the job never keeps a tensor reachable.
                this.weight = null;
                this.indices = null;
                this.offsets = null;
                this.perSampleWeights = null;
                this.out = null;
                this.maxIndices = null;
            }
            for (long status : statuses) {
                if (status != -1) {
                    return status;
                }
            }
            return -1;
        }

        @Override
        public void runPart(int part) {
            long from = firstBag[part];
            long to = firstBag[part + 1];
            statuses[part] = from < to ? bagPart(weight, indices, offsets, bagSize, mode, perSampleWeights,
                    paddingIdx, out, maxIndices, from, to) : -1;
        }
    }

    /** The flat position where bag {@code b} ends (validated offsets: bags are non-decreasing ranges). */
    private static long bagEnd(Tensor indices, Tensor offsets, long bagSize, long numBags, long b) {
        if (numBags == 0) {
            return 0;
        }
        if (offsets == null) {
            return (b + 1) * bagSize;
        }
        return b + 1 < offsets.numel() ? readIndex(offsets, b + 1) : indices.numel();
    }

    /** The first bag that starts at or after flat position {@code position} (numBags if none): a binary search. */
    private static long firstBagFrom(Tensor indices, Tensor offsets, long bagSize, long numBags, long position) {
        if (offsets == null) {
            return bagSize == 0 ? numBags : Math.min(numBags, (position + bagSize - 1) / bagSize);
        }
        long low = 0;
        long high = numBags;
        while (low < high) {
            long mid = (low + high) >>> 1;
            if (readIndex(offsets, mid) < position) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    private static long readIndex(Tensor t, long i) {
        return t.dtype() == DType.INT64 ? TensorInternals.memory(t).getLong(8 * i)
                : TensorInternals.memory(t).getInt(4 * i);
    }

    /**
     * Bags {@code [from, to)} through the kernel: with offsets, pointers into the full index and weight buffers
     * (positions stay absolute) and the offsets from {@code from}; fixed-size bags, pointers to bag {@code from}'s
     * first lookup. Returns the kernel's status with an index position made absolute.
     */
    private static long bagPart(Tensor weight, Tensor indices, Tensor offsets, long bagSize, EmbeddingBagMode mode,
                                Tensor perSampleWeights, long paddingIdx, Tensor out, Tensor maxIndices, long from,
                                long to) {
        int indexSize = indices.dtype().itemSize();
        int itemSize = weight.dtype().itemSize();
        long dim = weight.size(1);
        long rows = weight.size(0);
        long shift = offsets == null ? from * bagSize : 0;
        long idx = TensorInternals.memory(indices).address() + shift * indexSize;
        long psw = perSampleWeights == null ? 0 : TensorInternals.memory(perSampleWeights).address() + shift * itemSize;
        long off = offsets == null ? 0 : TensorInternals.memory(offsets).address() + from * indexSize;
        long n = bagEnd(indices, offsets, bagSize, out.size(0), to - 1) - shift;
        long target = TensorInternals.memory(out).address() + from * dim * itemSize;
        long winners = maxIndices == null || mode != EmbeddingBagMode.MAX ? 0
                : TensorInternals.memory(maxIndices).address() + from * dim * 8;
        long table = TensorInternals.memory(weight).address();
        long count = to - from;
        int code = bagModeCode(mode);
        int flags = fusedWeights(weight.dtype(), paddingIdx) ? JEMBED_BAG_FUSED_WEIGHTS : 0;
        boolean wide = indices.dtype() == DType.INT64;
        if (weight.dtype().isReducedPrecision()) {
            long status = HalfKernels.bag(weight.dtype(), wide, table, rows, dim, idx, n, off, count, bagSize, psw,
                    paddingIdx, code, flags, target, winners);
            return status >= 0 ? status + shift : status;
        }
        long status = weight.dtype() == DType.FLOAT32
                ? (wide ? JembedNative.embeddingBagF32I64(table, rows, dim, idx, n, off, count, bagSize, psw,
                                paddingIdx, code, flags, target, winners)
                        : JembedNative.embeddingBagF32I32(table, rows, dim, idx, n, off, count, bagSize, psw,
                                paddingIdx, code, flags, target, winners))
                : (wide ? JembedNative.embeddingBagF64I64(table, rows, dim, idx, n, off, count, bagSize, psw,
                                paddingIdx, code, flags, target, winners)
                        : JembedNative.embeddingBagF64I32(table, rows, dim, idx, n, off, count, bagSize, psw,
                                paddingIdx, code, flags, target, winners));
        return status >= 0 ? status + shift : status;
    }

    @Override
    public void embeddingBagDenseBackward(Tensor gradOutput, Tensor indices, Tensor offsets, long bagSize,
                                          EmbeddingBagMode mode, Tensor perSampleWeights, long paddingIdx,
                                          boolean scaleGradByFreq, Tensor maxIndices, Tensor gradWeight) {
        long work = (mode == EmbeddingBagMode.MAX ? gradOutput.size(0) : indices.numel()) * gradWeight.size(1);
        embeddingBagDenseBackward(gradOutput, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx,
                scaleGradByFreq, maxIndices, gradWeight, work < PARALLEL_THRESHOLD ? 1 : THREADS);
    }

    /**
     * The bag backward on {@code threads} threads, each owning the rows {@code r} with {@code r % threads} equal to
     * its number, as {@link #embeddingDenseBackward(Tensor, Tensor, Tensor, long, boolean, int)} does: every thread
     * count gives the same bits.
     */
    public void embeddingBagDenseBackward(Tensor gradOutput, Tensor indices, Tensor offsets, long bagSize,
                                          EmbeddingBagMode mode, Tensor perSampleWeights, long paddingIdx,
                                          boolean scaleGradByFreq, Tensor maxIndices, Tensor gradWeight,
                                          int threads) {
        MemoryGuard guard = TensorInternals.guard(gradOutput, indices, offsets, perSampleWeights, maxIndices,
                gradWeight);
        try {
            bagBackward(gradOutput, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx, scaleGradByFreq,
                    maxIndices, gradWeight, threads);
        } finally {
            guard.exit();
        }
    }

    private static void bagBackward(Tensor gradOutput, Tensor indices, Tensor offsets, long bagSize,
                                    EmbeddingBagMode mode, Tensor perSampleWeights, long paddingIdx,
                                    boolean scaleGradByFreq, Tensor maxIndices, Tensor gradWeight, int threads) {
        checkSingleOrDouble(gradWeight, "the embedding_bag backward");
        checkBagBuffers(gradWeight, indices, offsets, bagSize, perSampleWeights, gradOutput,
                mode == EmbeddingBagMode.MAX ? maxIndices : null, gradOutput.size(0));
        if (mode == EmbeddingBagMode.MAX && maxIndices == null) {
            throw new IllegalArgumentException("the max backward needs the forward's max indices");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (threads == 1) {
            checkBagResult(bagBackwardPart(gradOutput, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx,
                    scaleGradByFreq, maxIndices, gradWeight, 1, 0), indices, gradWeight.size(0));
            return;
        }
        if (!CREW.tryAcquire()) {
            // Another call has the helpers: this thread runs every owner's part, which gives the same bits.
            for (int owner = 0; owner < threads; owner++) {
                checkBagResult(bagBackwardPart(gradOutput, indices, offsets, bagSize, mode, perSampleWeights,
                        paddingIdx, scaleGradByFreq, maxIndices, gradWeight, threads, owner), indices,
                        gradWeight.size(0));
            }
            return;
        }
        long status;
        try {
            status = BAG_BACKWARD_JOB.run(CREW, gradOutput, indices, offsets, bagSize, mode, perSampleWeights,
                    paddingIdx, scaleGradByFreq, maxIndices, gradWeight, threads);
        } finally {
            CREW.release();
        }
        checkBagResult(status, indices, gradWeight.size(0));
    }

    /** One bag backward whose row owners are dealt round-robin to the crew's parts. */
    private static final class BagBackwardJob implements WorkerCrew.Job {
        private final long[] statuses;
        private Tensor gradOutput;
        private Tensor indices;
        private Tensor offsets;
        private long bagSize;
        private EmbeddingBagMode mode;
        private Tensor perSampleWeights;
        private long paddingIdx;
        private boolean scale;
        private Tensor maxIndices;
        private Tensor gradWeight;
        private int owners;

        BagBackwardJob(int parts) {
            statuses = new long[parts];
        }

        long run(WorkerCrew crew, Tensor gradOutput, Tensor indices, Tensor offsets, long bagSize,
                 EmbeddingBagMode mode, Tensor perSampleWeights, long paddingIdx, boolean scale, Tensor maxIndices,
                 Tensor gradWeight, int owners) {
            this.gradOutput = gradOutput;
            this.indices = indices;
            this.offsets = offsets;
            this.bagSize = bagSize;
            this.mode = mode;
            this.perSampleWeights = perSampleWeights;
            this.paddingIdx = paddingIdx;
            this.scale = scale;
            this.maxIndices = maxIndices;
            this.gradWeight = gradWeight;
            this.owners = owners;
            try {
                crew.run(this);
            } finally {
                this.gradOutput = null;
                this.indices = null;
                this.offsets = null;
                this.perSampleWeights = null;
                this.maxIndices = null;
                this.gradWeight = null;
            }
            for (long status : statuses) {
                if (status != -1) {
                    return status;
                }
            }
            return -1;
        }

        @Override
        public void runPart(int part) {
            long status = -1;
            for (int owner = part; owner < owners && status == -1; owner += statuses.length) {
                status = bagBackwardPart(gradOutput, indices, offsets, bagSize, mode, perSampleWeights, paddingIdx,
                        scale, maxIndices, gradWeight, owners, owner);
            }
            statuses[part] = status;
        }
    }

    private static long bagBackwardPart(Tensor gradOutput, Tensor indices, Tensor offsets, long bagSize,
                                        EmbeddingBagMode mode, Tensor perSampleWeights, long paddingIdx,
                                        boolean scale, Tensor maxIndices, Tensor gradWeight, int owners, int owner) {
        long gw = TensorInternals.memory(gradWeight).address();
        long idx = TensorInternals.memory(indices).address();
        long off = offsets == null ? 0 : TensorInternals.memory(offsets).address();
        long go = TensorInternals.memory(gradOutput).address();
        long psw = perSampleWeights == null ? 0 : TensorInternals.memory(perSampleWeights).address();
        long winners = mode == EmbeddingBagMode.MAX ? TensorInternals.memory(maxIndices).address() : 0;
        long rows = gradWeight.size(0);
        long dim = gradWeight.size(1);
        long numBags = gradOutput.size(0);
        long n = bagEnd(indices, offsets, bagSize, numBags, numBags - 1);
        int code = bagModeCode(mode);
        int flag = scale ? 1 : 0;
        boolean wide = indices.dtype() == DType.INT64;
        return gradWeight.dtype() == DType.FLOAT32
                ? (wide ? JembedNative.embeddingBagBackwardF32I64(gw, rows, dim, idx, n, off, numBags, bagSize, go,
                                psw, paddingIdx, code, flag, winners, owners, owner)
                        : JembedNative.embeddingBagBackwardF32I32(gw, rows, dim, idx, n, off, numBags, bagSize, go,
                                psw, paddingIdx, code, flag, winners, owners, owner))
                : (wide ? JembedNative.embeddingBagBackwardF64I64(gw, rows, dim, idx, n, off, numBags, bagSize, go,
                                psw, paddingIdx, code, flag, winners, owners, owner)
                        : JembedNative.embeddingBagBackwardF64I32(gw, rows, dim, idx, n, off, numBags, bagSize, go,
                                psw, paddingIdx, code, flag, winners, owners, owner));
    }

    /**
     * The per-sample-weight gradient: one double dot product per lookup, summed in element order so that it has the
     * Java reference's bits; a vector kernel would reorder the sum. The Java reference is that loop.
     */
    @Override
    public void embeddingBagPerSampleWeightsBackward(Tensor gradOutput, Tensor weight, Tensor indices,
                                                     Tensor offsets, long bagSize, long paddingIdx,
                                                     Tensor gradPerSampleWeights) {
        JavaBackend.INSTANCE.embeddingBagPerSampleWeightsBackward(gradOutput, weight, indices, offsets, bagSize,
                paddingIdx, gradPerSampleWeights);
    }

    /** jembed.h's JEMBED_BAG_SUM, _MEAN, _MAX. */
    private static int bagModeCode(EmbeddingBagMode mode) {
        switch (mode) {
            case SUM: return 0;
            case MEAN: return 1;
            default: return 2;
        }
    }

    /** jembed.h's JEMBED_BAG_FUSED_WEIGHTS. */
    private static final int JEMBED_BAG_FUSED_WEIGHTS = 1;

    /**
     * Whether per-sample weights are fused into the sum with one rounding, as libtorch's float32 path without a
     * padding_idx (FBGEMM) does; its other paths multiply, then add (bag-contract.md; the Java reference's rule).
     */
    private static boolean fusedWeights(DType type, long paddingIdx) {
        return (type == DType.FLOAT32 || type.isReducedPrecision()) && paddingIdx < 0;
    }

    /**
     * The O(1) part of a bag call's contract, checked again here because this class is public: whoever calls it, the
     * kernels get buffers as large as they will touch. Offsets and index values are the kernels' own checks.
     */
    private static void checkBagBuffers(Tensor weight, Tensor indices, Tensor offsets, long bagSize,
                                        Tensor perSampleWeights, Tensor out, Tensor maxIndices, long numBags) {
        checkBuffers(weight, indices, null);
        boolean ok = !out.isClosed() && TensorInternals.memory(out).isNative() && out.dtype() == weight.dtype()
                && weight.dtype().isFloatingPoint()
                && out.numel() == saturatedProduct(numBags, weight.size(1))
                && (offsets == null
                        ? bagSize >= 0 && indices.numel() == saturatedProduct(numBags, bagSize)
                        : !offsets.isClosed() && TensorInternals.memory(offsets).isNative()
                                && offsets.dtype() == indices.dtype() && offsets.dim() == 1
                                && offsets.numel() >= numBags)
                && (perSampleWeights == null || (!perSampleWeights.isClosed()
                        && TensorInternals.memory(perSampleWeights).isNative()
                        && perSampleWeights.dtype() == weight.dtype()
                        && perSampleWeights.numel() == indices.numel()))
                && (maxIndices == null || (!maxIndices.isClosed() && TensorInternals.memory(maxIndices).isNative()
                        && maxIndices.dtype() == DType.INT64 && maxIndices.numel() == out.numel()));
        if (!ok) {
            throw new IllegalArgumentException("a bag call needs a float32/float64 table, offsets of the indices' "
                    + "dtype (or fixed bags covering the indices), an output of " + numBags + " x " + weight.size(1)
                    + " in the table's dtype, per-sample weights of the indices' length and int64 max indices of the "
                    + "output's size, all in native memory; got table " + Arrays.toString(weight.shape()) + " "
                    + weight.dtype() + ", indices " + Arrays.toString(indices.shape()) + ", output "
                    + Arrays.toString(out.shape()) + " " + out.dtype());
        }
    }

    /**
     * Turns a bag kernel's status into an exception: PyTorch's message for the first bad offset or index, found by
     * the Java checks; if they find none, another thread rewrote the input during the call.
     */
    private static void checkBagResult(long status, Tensor indices, Tensor offsets, long numBags, long rows) {
        if (status == -1) {
            return;
        }
        if (status == -4 || status >= 0) {
            BagChecks.checkContents(indices, offsets, numBags, rows);
        }
        if (status == -4) {
            throw new java.util.ConcurrentModificationException("the offsets were valid when checked and are not "
                    + "now: another thread rewrote the offsets tensor during the call");
        }
        checkResult(status, indices, rows);
    }

    /** A bag backward's status; its input was checked by the forward, so a failure means a concurrent rewrite. */
    private static void checkBagResult(long status, Tensor indices, long rows) {
        if (status == -4) {
            throw new java.util.ConcurrentModificationException("the offsets were valid when validated and are not "
                    + "now: another thread rewrote the offsets tensor during the call");
        }
        checkResult(status, indices, rows);
    }

    @Override
    public void sparseAdd(Tensor param, SparseTensor gradient, double alpha) {
        MemoryGuard guard = TensorInternals.guard(param, gradient.indices(), gradient.values(), null, null, null);
        try {
            sparseAddHeld(param, gradient, alpha);
        } finally {
            guard.exit();
        }
    }

    private static void sparseAddHeld(Tensor param, SparseTensor gradient, double alpha) {
        checkSparseStep(param, gradient, null, null);
        long p = TensorInternals.memory(param).address();
        long idx = TensorInternals.memory(gradient.indices()).address();
        long values = TensorInternals.memory(gradient.values()).address();
        long rows = param.size(0);
        long dim = param.size(1);
        long nnz = gradient.nnz();
        checkResult(param.dtype() == DType.FLOAT32
                ? JembedNative.sparseAddF32(p, rows, dim, idx, nnz, values, alpha)
                : JembedNative.sparseAddF64(p, rows, dim, idx, nnz, values, alpha), gradient.indices(), rows);
    }

    @Override
    public void sparseAdagrad(Tensor param, Tensor stateSum, SparseTensor gradient, double clr, double eps,
                              boolean maximize) {
        MemoryGuard guard = TensorInternals.guard(param, stateSum, gradient.indices(), gradient.values(), null, null);
        try {
            sparseAdagradHeld(param, stateSum, gradient, clr, eps, maximize);
        } finally {
            guard.exit();
        }
    }

    private static void sparseAdagradHeld(Tensor param, Tensor stateSum, SparseTensor gradient, double clr, double eps,
                                          boolean maximize) {
        checkSparseStep(param, gradient, stateSum, null);
        long p = TensorInternals.memory(param).address();
        long sum = TensorInternals.memory(stateSum).address();
        long idx = TensorInternals.memory(gradient.indices()).address();
        long values = TensorInternals.memory(gradient.values()).address();
        long rows = param.size(0);
        long dim = param.size(1);
        long nnz = gradient.nnz();
        int flag = maximize ? 1 : 0;
        checkResult(param.dtype() == DType.FLOAT32
                ? JembedNative.sparseAdagradF32(p, sum, rows, dim, idx, nnz, values, clr, eps, flag)
                : JembedNative.sparseAdagradF64(p, sum, rows, dim, idx, nnz, values, clr, eps, flag),
                gradient.indices(), rows);
    }

    @Override
    public void sparseAdam(Tensor param, Tensor expAvg, Tensor expAvgSq, SparseTensor gradient, double beta1,
                           double beta2, double stepSize, double eps, boolean maximize) {
        MemoryGuard guard = TensorInternals.guard(param, expAvg, expAvgSq, gradient.indices(), gradient.values(), null);
        try {
            sparseAdamHeld(param, expAvg, expAvgSq, gradient, beta1, beta2, stepSize, eps, maximize);
        } finally {
            guard.exit();
        }
    }

    private static void sparseAdamHeld(Tensor param, Tensor expAvg, Tensor expAvgSq, SparseTensor gradient,
                                       double beta1,
                                       double beta2, double stepSize, double eps, boolean maximize) {
        checkSparseStep(param, gradient, expAvg, expAvgSq);
        long p = TensorInternals.memory(param).address();
        long m = TensorInternals.memory(expAvg).address();
        long v = TensorInternals.memory(expAvgSq).address();
        long idx = TensorInternals.memory(gradient.indices()).address();
        long values = TensorInternals.memory(gradient.values()).address();
        long rows = param.size(0);
        long dim = param.size(1);
        long nnz = gradient.nnz();
        int flag = maximize ? 1 : 0;
        checkResult(param.dtype() == DType.FLOAT32
                ? JembedNative.sparseAdamF32(p, m, v, rows, dim, idx, nnz, values, beta1, beta2, stepSize, eps, flag)
                : JembedNative.sparseAdamF64(p, m, v, rows, dim, idx, nnz, values, beta1, beta2, stepSize, eps, flag),
                gradient.indices(), rows);
    }


    /** Below this many bytes of table a nearest-neighbour scan runs on the calling thread alone. */
    private static final long PARALLEL_SCAN_BYTES = 1L << 20;

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
        checkBuffers(weight, indices, null);
        boolean ok = weight.dtype() == DType.FLOAT32 && query.dtype() == DType.FLOAT32 && query.dim() == 1
                && query.size(0) == weight.size(1) && !query.isClosed() && TensorInternals.memory(query).isNative()
                && values.dtype() == DType.FLOAT32 && values.numel() == indices.numel()
                && indices.dtype() == DType.INT64 && values.numel() <= weight.size(0) && !values.isClosed()
                && TensorInternals.memory(values).isNative() && eps >= 0;
        if (!ok) {
            throw new IllegalArgumentException("cosineTopK needs a float32 (V, H) table, a float32 (H) query, k <= V "
                    + "float32 values and int64 indices in native memory, and eps >= 0");
        }
        TensorInternals.memory(values).checkWritable();
        TensorInternals.memory(indices).checkWritable();
        long rows = weight.size(0);
        long dim = weight.size(1);
        long k = values.numel();
        int parts = rows * dim * 4 < PARALLEL_SCAN_BYTES || rows < 2L * CREW.parts() ? 1 : CREW.parts();
        if (parts == 1 || !CREW.tryAcquire()) {
            long count = JembedNative.cosineTopKF32(TensorInternals.memory(weight).address(), 0, rows, dim,
                    TensorInternals.memory(query).address(), k, eps, TensorInternals.memory(values).address(),
                    TensorInternals.memory(indices).address());
            if (count != k) {
                throw new IllegalStateException("jembed's native kernel refused its arguments (status " + count + ")");
            }
            return;
        }
        try (Tensor partValues = io.jembed.Torch.empty(DType.FLOAT32, parts, k);
             Tensor partIndices = io.jembed.Torch.empty(DType.INT64, parts, k)) {
            NearestJob job = new NearestJob(weight, query, eps, k, partValues, partIndices, parts);
            try {
                CREW.run(job);
            } finally {
                CREW.release();
            }
            job.merge(values, indices);
        }
    }

    /** One scan split into contiguous row ranges, each keeping its own k best; merged by the caller. */
    private static final class NearestJob implements WorkerCrew.Job {
        private final long table;
        private final long query;
        private final long rows;
        private final long dim;
        private final double eps;
        private final long k;
        private final long values;
        private final long indices;
        private final long[] counts;
        private final Tensor partValues;
        private final Tensor partIndices;

        NearestJob(Tensor weight, Tensor query, double eps, long k, Tensor partValues, Tensor partIndices,
                   int parts) {
            this.table = TensorInternals.memory(weight).address();
            this.query = TensorInternals.memory(query).address();
            this.rows = weight.size(0);
            this.dim = weight.size(1);
            this.eps = eps;
            this.k = k;
            this.values = TensorInternals.memory(partValues).address();
            this.indices = TensorInternals.memory(partIndices).address();
            this.counts = new long[parts];
            this.partValues = partValues;
            this.partIndices = partIndices;
        }

        @Override
        public void runPart(int part) {
            if (part >= counts.length) {
                return;
            }
            long chunk = (rows + counts.length - 1) / counts.length;
            long begin = Math.min(rows, part * chunk);
            long end = Math.min(rows, begin + chunk);
            counts[part] = JembedNative.cosineTopKF32(table, begin, end, dim, query, k, eps, values + 4 * part * k,
                    indices + 8 * part * k);
        }

        /** The k best of every part's k best, in the kernel's order. */
        void merge(Tensor outValues, Tensor outIndices) {
            java.util.List<JavaBackend.Neighbour> all = new java.util.ArrayList<>();
            io.jembed.internal.memory.Memory v = TensorInternals.memory(partValues);
            io.jembed.internal.memory.Memory r = TensorInternals.memory(partIndices);
            for (int part = 0; part < counts.length; part++) {
                if (counts[part] < 0) {
                    throw new IllegalStateException("jembed's native kernel refused its arguments (status "
                            + counts[part] + ")");
                }
                for (long i = 0; i < counts[part]; i++) {
                    long at = part * k + i;
                    all.add(new JavaBackend.Neighbour(v.getFloat(4 * at), r.getLong(8 * at)));
                }
            }
            all.sort((a, b) -> a.betterThan(b) ? -1 : b.betterThan(a) ? 1 : 0);
            io.jembed.internal.memory.Memory values = TensorInternals.memory(outValues);
            io.jembed.internal.memory.Memory indices = TensorInternals.memory(outIndices);
            for (int i = 0; i < k; i++) {
                values.putFloat(4L * i, all.get(i).similarity);
                indices.putLong(8L * i, all.get(i).row);
            }
        }
    }

    /** The parameter and its state are 2-D tables of one floating type, matching the gradient's rows. */
    /** Checks a step's buffers without allocating (no shape copies): this runs once per optimizer step. */
    private static void checkSparseStep(Tensor param, SparseTensor gradient, Tensor state1, Tensor state2) {
        checkSingleOrDouble(param, "a sparse optimizer step");
        boolean ok = param.dim() == 2 && gradient.dim() == 2 && param.size(0) == gradient.size(0)
                && param.size(1) == gradient.size(1)
                && param.dtype().isFloatingPoint() && gradient.dtype() == param.dtype() && !param.isClosed()
                && TensorInternals.memory(param).isNative() && TensorInternals.memory(gradient.values()).isNative()
                && TensorInternals.memory(gradient.indices()).isNative()
                && gradient.values().numel() == saturatedProduct(gradient.nnz(), gradient.size(1))
                && likeParam(state1, param) && likeParam(state2, param);
        if (!ok) {
            throw new IllegalArgumentException("a sparse step needs a 2-D floating-point parameter, state of its "
                    + "shape and dtype, and a gradient of its shape, all in native memory; got parameter "
                    + Arrays.toString(param.shape()) + " " + param.dtype() + " and gradient "
                    + Arrays.toString(gradient.shape()) + " " + gradient.dtype());
        }
        // The kernels write the parameter and its state: memory-mapped (read-only) tables would fault.
        TensorInternals.memory(param).checkWritable();
        if (state1 != null) {
            TensorInternals.memory(state1).checkWritable();
        }
        if (state2 != null) {
            TensorInternals.memory(state2).checkWritable();
        }
    }

    /** True for no state ({@code null}) or a state tensor of the parameter's dtype and shape in native memory. */
    private static boolean likeParam(Tensor state, Tensor param) {
        return state == null || (state.dtype() == param.dtype() && state.dim() == 2 && state.size(0) == param.size(0)
                && state.size(1) == param.size(1) && !state.isClosed() && TensorInternals.memory(state).isNative());
    }

    /**
     * The O(1) part of the contract, checked again here because this class is public: whoever calls it, the kernels
     * get buffers as large as they will touch. Index values are the kernels' own check.
     */
    /**
     * The kernels other than the lookups and the bag forwards exist for float32 and float64 only; a float16 or
     * bfloat16 tensor (2-byte elements) must never reach them.
     */
    private static void checkSingleOrDouble(Tensor t, String operation) {
        if (t.dtype() != DType.FLOAT32 && t.dtype() != DType.FLOAT64) {
            throw new IllegalArgumentException(operation + " takes float32 or float64 tensors, got " + t.dtype());
        }
    }

    private static void checkBuffers(Tensor weight, Tensor indices, Tensor out) {
        checkBuffers(weight, indices, out, indices.numel());
    }

    /** {@code lookups}: the number of indices, in {@code indices} or in a Java array (then {@code indices} is null). */
    private static void checkBuffers(Tensor weight, Tensor indices, Tensor out, long lookups) {
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("'weight' must be 2-D, got shape " + Arrays.toString(weight.shape()));
        }
        if (indices != null && indices.dtype() != DType.INT64 && indices.dtype() != DType.INT32) {
            throw new IllegalArgumentException("indices must be int64 or int32, got " + indices.dtype());
        }
        if (!TensorInternals.memory(weight).isNative()
                || (indices != null && !TensorInternals.memory(indices).isNative())
                || (out != null && !TensorInternals.memory(out).isNative())) {
            throw new IllegalArgumentException("the native backend needs tensors in native memory");
        }
        if (out != null) {
            TensorInternals.memory(out).checkWritable();
        }
        if (out != null && (out.dtype().itemSize() != weight.dtype().itemSize()
                || out.numel() != saturatedProduct(lookups, weight.size(1)))) {
            throw new IllegalArgumentException("'out' must hold " + lookups + " x " + weight.size(1)
                    + " elements of " + weight.dtype() + ", got shape " + Arrays.toString(out.shape()) + " of "
                    + out.dtype());
        }
    }

    private static long saturatedProduct(long a, long b) {
        long high = Math.multiplyHigh(a, b);
        long low = a * b;
        return high == 0 && low >= 0 ? low : -1;
    }

    /**
     * A gather's status: the gathers validate their own indices (before writing anything), so a position is an
     * ordinary bad index, reported as {@code F.embedding} reports it.
     */
    private static void checkGather(long status, Tensor indices, long rows) {
        if (status >= 0) {
            Memory idx = TensorInternals.memory(indices);
            long bad = indices.dtype() == DType.INT64 ? idx.getLong(8 * status) : idx.getInt(4 * status);
            throw EmbeddingChecks.indexOutOfRange(indices.shape(), status, bad, rows);
        }
        checkResult(status, indices, rows);
    }

    /** Turns a kernel's status into an exception; only a concurrent rewrite of validated indices gets here. */
    private static void checkResult(long status, Tensor indices, long rows) {
        if (status == -1) {
            return;
        }
        if (status == -2) {
            throw new OutOfMemoryError("jembed's native kernel could not allocate scratch memory");
        }
        if (status == SmallGather.RACED) {
            throw new java.util.ConcurrentModificationException("an index was in range when validated and outside "
                    + "[0, " + (rows - 1) + "] when used: another thread rewrote the indices during the call");
        }
        if (status < 0) {
            throw new IllegalStateException("jembed's native kernel refused its arguments (status " + status + ")");
        }
        throw new java.util.ConcurrentModificationException("index " + indices.toLongArray()[(int) status]
                + " at flat position " + status + " is outside [0, " + (rows - 1) + "]; it was in range when "
                + "validated, so another thread rewrote the index tensor during the call");
    }

    @Override
    public void quantizedEmbeddingBag(Memory table, long rows, long dim, int bits, Tensor indices, Tensor offsets,
                                      long bagSize, EmbeddingBagMode mode, Tensor perSampleWeights, Tensor out) {
        long rowBytes = bits == 8 ? dim + 8 : dim / 2 + 4;
        QuantizedBagNative.bag(table, rows, dim, bits, indices, offsets, bagSize, mode, perSampleWeights, out,
                indices.numel() * rowBytes < PARALLEL_GATHER_BYTES ? 1 : THREADS, CREW);
    }

    /**
     * The quantized lookup on one thread ({@code threads == 1}) or with its bags split among the calling thread and
     * the helper threads when they are free; for benchmarks and tests. Every split gives the same bits.
     */
    public void quantizedEmbeddingBag(Memory table, long rows, long dim, int bits, Tensor indices, Tensor offsets,
                                      long bagSize, EmbeddingBagMode mode, Tensor perSampleWeights, Tensor out,
                                      int threads) {
        QuantizedBagNative.bag(table, rows, dim, bits, indices, offsets, bagSize, mode, perSampleWeights, out,
                threads, CREW);
    }
}
