package io.jembed.bench;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.backend.NativeBackend;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagFromPretrainedOptions;
import io.jembed.nn.EmbeddingBagMode;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.T_TensorTensorTensorTensor_T;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Narrower tables (issue 11): the rows of a 512 MB float32 table (512 MB / (4 x dim) rows), stored as float32,
 * float16 or bfloat16, read by 4096 lookups ({@code op = lookup}) or 4096 bags of 20 summed ({@code op = bag}), fresh
 * random rows on every invocation (index sets that together touch more than the L3 holds). Implementations: jembed's
 * modules with their zero-allocation forwards and the default dispatch ({@code jembed}), jembed's native backend on
 * one thread ({@code jembed-1t}), and libtorch's {@code at::embedding} / {@code at::embedding_bag} on the same format
 * (FBGEMM's kernels for the bags) on one intra-op thread ({@code libtorch-1t}). The index set arrives as a
 * {@code long[]} and is copied into the implementation's index tensor inside the measured time, as in
 * {@link BagBenchmark}. A score is the time of one call; {@link PrecisionBenchMain} turns it into ns per row.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PrecisionBenchmark {
    static final int BATCH = 4096;
    static final int PER_BAG = 20;

    @Param({"jembed", "jembed-1t", "libtorch-1t"})
    public String impl;

    @Param({"float32", "float16", "bfloat16"})
    public String format;

    @Param({"64", "128", "256"})
    public int dim;

    @Param({"lookup", "bag"})
    public String op;

    private interface Call {
        void run(int set);
    }

    private Call call;
    private long[][] indices;
    private int next;
    private AutoCloseable resources;

    static DType dtype(String format) {
        switch (format) {
            case "float32": return DType.FLOAT32;
            case "float16": return DType.FLOAT16;
            case "bfloat16": return DType.BFLOAT16;
            default: throw new IllegalArgumentException("format must be float32, float16 or bfloat16, got " + format);
        }
    }

    static int lookups(String op) {
        return op.equals("bag") ? BATCH * PER_BAG : BATCH;
    }

    @Setup(Level.Trial)
    public void setUp() {
        int rows = Workload.rows("DRAM", dim);
        boolean bag = op.equals("bag");
        if (!bag && !op.equals("lookup")) {
            throw new IllegalArgumentException("op must be lookup or bag, got " + op);
        }
        int lookups = lookups(op);
        indices = Workload.indexSets(rows, lookups, dim, 42);
        float[] values = Workload.randomValues((long) rows * dim, 7);
        long[] offsets = new long[BATCH];
        for (int b = 0; b < BATCH; b++) {
            offsets[b] = (long) b * PER_BAG;
        }
        DType type = dtype(format);
        if (impl.equals("libtorch-1t")) {
            Libtorch.configure(impl);
            org.bytedeco.pytorch.Tensor wide = Libtorch.floats(values, rows, dim);
            org.bytedeco.pytorch.Tensor weight = type == DType.FLOAT32 ? wide
                    : wide.to(type == DType.FLOAT16 ? torch.ScalarType.Half : torch.ScalarType.BFloat16);
            org.bytedeco.pytorch.Tensor idx = Libtorch.longs(indices[0]);
            org.bytedeco.pytorch.Tensor off = Libtorch.longs(offsets);
            org.bytedeco.javacpp.LongPointer idxData = idx.data_ptr_long();
            TensorOptional noWeights = new TensorOptional();
            LongOptional noPadding = new LongOptional();
            if (bag) {
                call = s -> {
                    idxData.put(indices[s]);
                    T_TensorTensorTensorTensor_T r = torch.embedding_bag(weight, idx, off, false, 0, false,
                            noWeights, false, noPadding);
                    r.get0().close();
                    r.get1().close();
                    r.get2().close();
                    r.get3().close();
                    r.close();
                };
            } else {
                call = s -> {
                    idxData.put(indices[s]);
                    torch.embedding(weight, idx, -1, false, false).close();
                };
            }
            return;
        }
        Tensor weight = Torch.tensor(values, rows, dim);
        if (type != DType.FLOAT32) {
            try (Tensor wide = weight) {
                weight = wide.to(type);
            }
        }
        Tensor idx = Torch.empty(DType.INT64, lookups);
        Tensor off = Torch.tensor(offsets);
        Tensor out = Torch.empty(type, bag ? BATCH : lookups, dim);
        Tensor table = weight;
        resources = () -> {
            table.close();
            idx.close();
            off.close();
            out.close();
        };
        if (impl.equals("jembed")) {
            if (bag) {
                EmbeddingBag module = EmbeddingBag.fromPretrained(table,
                        new EmbeddingBagFromPretrainedOptions().mode(EmbeddingBagMode.SUM));
                call = s -> {
                    idx.copyFrom(indices[s]);
                    module.forward(idx, off, null, out);
                };
            } else {
                Embedding module = Embedding.fromPretrained(table);
                call = s -> {
                    idx.copyFrom(indices[s]);
                    module.forward(idx, out);
                };
            }
        } else if (impl.equals("jembed-1t")) {
            NativeBackend backend = (NativeBackend) Backends.nativeBackend().orElseThrow();
            if (bag) {
                call = s -> {
                    idx.copyFrom(indices[s]);
                    backend.embeddingBag(table, idx, off, 0, EmbeddingBagMode.SUM, null, -1, out, null, 1);
                };
            } else {
                call = s -> {
                    idx.copyFrom(indices[s]);
                    backend.embedding(table, idx, out, 1);
                };
            }
        } else {
            throw new IllegalArgumentException("impl must be jembed, jembed-1t or libtorch-1t, got " + impl);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (resources != null) {
            resources.close();
        }
    }

    @Benchmark
    public void read() {
        call.run(next);
        next = next + 1 == indices.length ? 0 : next + 1;
    }
}
