package io.jembed.bench;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.backend.NativeBackend;
import io.jembed.nn.EmbeddingBagMode;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.T_TensorTensorTensorTensor_T;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
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
 * The dense weight gradient of an EmbeddingBag (sum) of {@code bagCount} bags of {@code bagLookups} lookups into a
 * {@code bagRows x bagDim} float32 table. jembed accumulates into the existing gradient (native, 1 and 2 threads).
 * org.bytedeco's libtorch does not expose {@code _embedding_bag_backward}, so libtorch runs it the way PyTorch does,
 * through autograd: {@code libtorch-1t}/{@code libtorch} time {@code embedding_bag} on a weight that requires grad plus
 * {@code torch::autograd::grad} (which calls {@code _embedding_bag_backward}, allocating and zeroing a whole-table
 * gradient), and {@code libtorch-1t-forward} times that forward alone, so that the report can subtract it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BagBackwardBenchmark {
    @Param({"native-1t", "native-2t", "libtorch-1t", "libtorch", "libtorch-1t-forward"})
    public String bagBackwardImpl;

    @Param({"100000"})
    public int bagRows;

    @Param({"128"})
    public int bagDim;

    @Param({"4096"})
    public int bagCount;

    @Param({"20"})
    public int bagLookups;

    private interface Step {
        void run(int set);
    }

    private Step step;
    private int sets;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        int lookups = bagCount * bagLookups;
        long[][] indices = Workload.indexSets(bagRows, lookups, bagDim, 3);
        sets = Math.min(indices.length, 64);
        float[] upstream = Workload.randomValues((long) bagCount * bagDim, 5);
        long[] offsets = new long[bagCount];
        for (int b = 0; b < bagCount; b++) {
            offsets[b] = (long) b * bagLookups;
        }
        if (bagBackwardImpl.startsWith("libtorch")) {
            Libtorch.configure(bagBackwardImpl.replace("-forward", ""));
            org.bytedeco.pytorch.Tensor weight = Libtorch.floats(Workload.randomValues((long) bagRows * bagDim, 7),
                    bagRows, bagDim);
            weight.set_requires_grad(true);
            org.bytedeco.pytorch.Tensor grad = Libtorch.floats(upstream, bagCount, bagDim);
            org.bytedeco.pytorch.Tensor off = Libtorch.longs(offsets);
            org.bytedeco.pytorch.Tensor[] idx = new org.bytedeco.pytorch.Tensor[sets];
            for (int s = 0; s < sets; s++) {
                idx[s] = Libtorch.longs(indices[s]);
            }
            TensorOptional noWeights = new TensorOptional();
            LongOptional noPadding = new LongOptional();
            boolean forwardOnly = bagBackwardImpl.endsWith("-forward");
            step = s -> {
                T_TensorTensorTensorTensor_T r = torch.embedding_bag(weight, idx[s], off, false, 0, false, noWeights,
                        false, noPadding);
                if (!forwardOnly) {
                    TensorVector grads = torch.grad(new TensorVector(r.get0()), new TensorVector(weight),
                            new TensorVector(grad), new BoolOptional(false), false, false);
                    grads.get(0).close();
                    grads.close();
                }
                r.get0().close();
                r.get1().close();
                r.get2().close();
                r.get3().close();
                r.close();
            };
            return;
        }
        Tensor grad = Torch.tensor(upstream, bagCount, bagDim);
        Tensor gradWeight = Torch.zeros(DType.FLOAT32, bagRows, bagDim);
        Tensor off = Torch.tensor(offsets);
        Tensor[] idx = Workload.toTensors(java.util.Arrays.copyOf(indices, sets));
        NativeBackend backend = (NativeBackend) Backends.nativeBackend().orElseThrow();
        int threads = bagBackwardImpl.equals("native-2t") ? 2 : 1;
        step = s -> backend.embeddingBagDenseBackward(grad, idx[s], off, 0, EmbeddingBagMode.SUM, null, -1, false,
                null, gradWeight, threads);
    }

    @Benchmark
    public void backward() {
        step.run(next);
        next = next + 1 == sets ? 0 : next + 1;
    }
}
