package io.jembed.bench;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.backend.NativeBackend;
import java.util.concurrent.TimeUnit;
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
 * The dense backward of a gradBatch into a {@code gradRows x 128} float32 gradient: jembed accumulates into the existing
 * gradient (native on 1 and 2 threads, and the Java backend); libtorch's {@code embedding_dense_backward} allocates
 * and zeroes a full gradient each call, which is what PyTorch's autograd runs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BackwardBenchmark {
    @Param({"native-1t", "native-2t", "java-backend", "libtorch-1t", "libtorch"})
    public String backwardImpl;

    @Param({"false", "true"})
    public boolean scaleGradByFreq;

    @Param({"100000"})
    public int gradRows;

    @Param({"128"})
    public int gradDim;

    @Param({"4096"})
    public int gradBatch;

    private interface Step {
        void run(int set);
    }

    private Step step;
    private int sets;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        long[][] indices = Workload.indexSets(gradRows, gradBatch, gradDim, 3);
        sets = Math.min(indices.length, 64);
        float[] upstream = Workload.randomValues((long) gradBatch * gradDim, 5);
        if (backwardImpl.startsWith("libtorch")) {
            Libtorch.configure(backwardImpl);
            org.bytedeco.pytorch.Tensor grad = Libtorch.floats(upstream, gradBatch, gradDim);
            org.bytedeco.pytorch.Tensor[] idx = new org.bytedeco.pytorch.Tensor[sets];
            for (int s = 0; s < sets; s++) {
                idx[s] = Libtorch.longs(indices[s]);
            }
            step = s -> torch.embedding_dense_backward(grad, idx[s], gradRows, -1, scaleGradByFreq).close();
            return;
        }
        Tensor grad = Torch.tensor(upstream, gradBatch, gradDim);
        Tensor gradWeight = Torch.zeros(DType.FLOAT32, gradRows, gradDim);
        Tensor[] idx = Workload.toTensors(java.util.Arrays.copyOf(indices, sets));
        if (backwardImpl.equals("java-backend")) {
            step = s -> Backends.java().embeddingDenseBackward(grad, idx[s], gradWeight, -1, scaleGradByFreq);
        } else {
            NativeBackend backend = (NativeBackend) Backends.nativeBackend().orElseThrow();
            int threads = backwardImpl.equals("native-2t") ? 2 : 1;
            step = s -> backend.embeddingDenseBackward(grad, idx[s], gradWeight, -1, scaleGradByFreq, threads);
        }
    }

    @Benchmark
    public void backward() {
        step.run(next);
        next = next + 1 == sets ? 0 : next + 1;
    }
}
