package io.jembed.bench;

import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backend;
import io.jembed.backend.Backends;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
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
 * One sparse optimizer step on the rows of a coalesced gradient (stepBatch distinct rows of a 100k x 128 float32
 * table): the fused row update that {@code SGD} (plain, as PyTorch's sparse SGD), {@code Adagrad} and
 * {@code SparseAdam} run once per step, native against the Java backend. Each invocation takes the next of several
 * gradients with fresh random rows, so the rows come from memory as in training.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class OptimizerStepBenchmark {
    @Param({"native", "java-backend"})
    public String stepImpl;

    @Param({"sgd", "adagrad", "sparse_adam"})
    public String optimizer;

    @Param({"100000"})
    public int stepRows;

    @Param({"128"})
    public int stepDim;

    @Param({"4096"})
    public int stepBatch;

    private Backend backend;
    private Tensor param;
    private Tensor state1;
    private Tensor state2;
    private SparseTensor[] gradients;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        backend = stepImpl.equals("native") ? Backends.nativeBackend().orElseThrow() : Backends.java();
        param = Torch.tensor(Workload.randomValues((long) stepRows * stepDim, 3), stepRows, stepDim);
        state1 = Torch.zeros(DType.FLOAT32, stepRows, stepDim);
        state2 = Torch.zeros(DType.FLOAT32, stepRows, stepDim);
        long[][] sets = Workload.indexSets(stepRows, stepBatch, stepDim, 17);
        gradients = new SparseTensor[Math.min(sets.length, 32)];
        for (int g = 0; g < gradients.length; g++) {
            long[] rows = Arrays.stream(sets[g]).distinct().sorted().toArray();
            Tensor indices = Torch.tensor(rows, 1, rows.length);
            Tensor values = Torch.tensor(Workload.randomValues((long) rows.length * stepDim, 100 + g),
                    rows.length, stepDim);
            gradients[g] = new SparseTensor(indices, values, new long[] {stepRows, stepDim}).coalesce();
        }
    }

    @Benchmark
    public void step() {
        SparseTensor gradient = gradients[next];
        next = next + 1 == gradients.length ? 0 : next + 1;
        switch (optimizer) {
            case "sgd":
                backend.sparseAdd(param, gradient, -0.01);
                break;
            case "adagrad":
                backend.sparseAdagrad(param, state1, gradient, 0.01, 1e-10, false);
                break;
            default:
                backend.sparseAdam(param, state1, state2, gradient, 0.9, 0.999, 0.001, 1e-8, false);
        }
    }
}
