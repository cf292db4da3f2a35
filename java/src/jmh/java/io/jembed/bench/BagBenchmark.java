package io.jembed.bench;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.backend.NativeBackend;
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

/**
 * The pooled lookup (EmbeddingBag forward, float32, {@code perBag} lookups per bag), by every implementation a JVM
 * user could pick: jembed's module with its zero-allocation forward ({@code native}), its native backend on one or
 * two threads, the best plain Java loop over a {@code float[]} table, and libtorch's {@code at::embedding_bag}
 * (FBGEMM's kernels for float sum and mean). Each invocation pools the next fresh index set, which arrives as a
 * {@code long[]}: the tensor implementations copy it into their one reusable index tensor first, inside the measured
 * time. {@code mode}: {@code sum}, {@code mean}, or {@code sum-psw} (sum with per-sample weights).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BagBenchmark {
    @Param({"native", "native-1t", "native-2t", "java-loop", "libtorch-1t", "libtorch"})
    public String bagImpl;

    @Param({"64"})
    public int dim;

    @Param({"4096"})
    public int bags;

    @Param({"20"})
    public int perBag;

    @Param({"DRAM"})
    public String table;

    @Param({"sum"})
    public String mode;

    private interface Pool {
        void run(int set);
    }

    private Pool pool;
    private int sets;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        int rows = Workload.rows(table, dim);
        int lookups = bags * perBag;
        long[][] indices = Workload.indexSets(rows, lookups, dim, 42);
        sets = indices.length;
        float[] values = Workload.randomValues((long) rows * dim, 7);
        float[] weights = Workload.randomValues(lookups, 11);
        long[] offsets = new long[bags];
        for (int b = 0; b < bags; b++) {
            offsets[b] = (long) b * perBag;
        }
        boolean mean = mode.equals("mean");
        boolean weighted = mode.equals("sum-psw");
        if (!mode.equals("sum") && !mean && !weighted) {
            throw new IllegalArgumentException("mode must be sum, mean or sum-psw, got " + mode);
        }
        switch (bagImpl) {
            case "java-loop": {
                float[] out = new float[bags * dim];
                int width = dim;
                int size = perBag;
                pool = s -> {
                    long[] idx = indices[s];
                    java.util.Arrays.fill(out, 0f);
                    for (int b = 0; b < bags; b++) {
                        int to = b * width;
                        for (int i = b * size; i < (b + 1) * size; i++) {
                            int from = (int) idx[i] * width;
                            float w = weighted ? weights[i] : 1f;
                            for (int j = 0; j < width; j++) {
                                out[to + j] += weighted ? values[from + j] * w : values[from + j];
                            }
                        }
                        if (mean) {
                            for (int j = 0; j < width; j++) {
                                out[to + j] /= size;
                            }
                        }
                    }
                };
                break;
            }
            case "libtorch":
            case "libtorch-1t": {
                Libtorch.configure(bagImpl);
                org.bytedeco.pytorch.Tensor weight = Libtorch.floats(values, rows, dim);
                org.bytedeco.pytorch.Tensor idx = Libtorch.longs(indices[0]);
                org.bytedeco.pytorch.Tensor off = Libtorch.longs(offsets);
                TensorOptional psw = weighted ? new TensorOptional(Libtorch.floats(weights, lookups))
                        : new TensorOptional();
                LongOptional noPadding = new LongOptional();
                org.bytedeco.javacpp.LongPointer idxData = idx.data_ptr_long();
                long code = mean ? 1 : 0;
                pool = s -> {
                    idxData.put(indices[s]);
                    T_TensorTensorTensorTensor_T r = torch.embedding_bag(weight, idx, off, false, code, false, psw,
                            false, noPadding);
                    r.get0().close();
                    r.get1().close();
                    r.get2().close();
                    r.get3().close();
                    r.close();
                };
                break;
            }
            default: {
                Tensor weight = Torch.tensor(values, rows, dim);
                Tensor idx = Torch.empty(DType.INT64, lookups);
                Tensor off = Torch.tensor(offsets);
                Tensor psw = weighted ? Torch.tensor(weights) : null;
                Tensor out = Torch.empty(DType.FLOAT32, bags, dim);
                EmbeddingBagMode bagMode = mean ? EmbeddingBagMode.MEAN : EmbeddingBagMode.SUM;
                if (bagImpl.equals("native")) {
                    // What a user writes: the module's zero-allocation forward, with its argument checks.
                    EmbeddingBag module = EmbeddingBag.fromPretrained(weight,
                            new EmbeddingBagFromPretrainedOptions().mode(bagMode));
                    pool = s -> {
                        idx.copyFrom(indices[s]);
                        module.forward(idx, off, psw, out);
                    };
                } else {
                    NativeBackend backend = (NativeBackend) Backends.nativeBackend().orElseThrow();
                    int threads = bagImpl.equals("native-2t") ? 2 : 1;
                    pool = s -> {
                        idx.copyFrom(indices[s]);
                        backend.embeddingBag(weight, idx, off, 0, bagMode, psw, -1, out, null, threads);
                    };
                }
            }
        }
    }

    @Benchmark
    public void forward() {
        pool.run(next);
        next = next + 1 == sets ? 0 : next + 1;
    }
}
