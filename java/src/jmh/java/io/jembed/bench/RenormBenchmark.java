package io.jembed.bench;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backend;
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
 * {@code embedding_renorm_} of a renormBatch of renormRows (max_norm 1, p = 2) in a 100k x 128 float32 table: the sort, the row
 * norms and, for renormRows above max_norm, the rescaling. After the first pass over the index sets most renormRows are at
 * max_norm, so the steady state measures the norms, as in a long training or inference run. {@code native} is the
 * default dispatch (split among threads from 65,536 elements), {@code native-Nt} forces N threads.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RenormBenchmark {
    @Param({"native", "native-1t", "java-backend", "libtorch-1t"})
    public String renormImpl;

    @Param({"100000"})
    public int renormRows;

    @Param({"128"})
    public int renormDim;

    @Param({"4096"})
    public int renormBatch;

    private interface Renorm {
        void run(int set);
    }

    private Renorm renorm;
    private int sets;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        long[][] indices = Workload.indexSets(renormRows, renormBatch, renormDim, 11);
        sets = Math.min(indices.length, 64);
        float[] values = Workload.randomValues((long) renormRows * renormDim, 13);
        if (renormImpl.startsWith("libtorch")) {
            Libtorch.configure(renormImpl);
            org.bytedeco.pytorch.Tensor weight = Libtorch.floats(values, renormRows, renormDim);
            org.bytedeco.pytorch.Tensor[] idx = new org.bytedeco.pytorch.Tensor[sets];
            for (int s = 0; s < sets; s++) {
                idx[s] = Libtorch.longs(indices[s]);
            }
            renorm = s -> torch.embedding_renorm_(weight, idx[s], 1.0, 2.0).close();
            return;
        }
        Tensor weight = Torch.tensor(values, renormRows, renormDim);
        Tensor[] idx = Workload.toTensors(java.util.Arrays.copyOf(indices, sets));
        if (renormImpl.equals("java-backend")) {
            Backend backend = Backends.java();
            renorm = s -> backend.embeddingRenorm(weight, idx[s], 1.0, 2.0);
        } else if (renormImpl.equals("native")) {
            Backend backend = Backends.nativeBackend().orElseThrow();
            renorm = s -> backend.embeddingRenorm(weight, idx[s], 1.0, 2.0);
        } else {
            NativeBackend backend = (NativeBackend) Backends.nativeBackend().orElseThrow();
            int threads = Integer.parseInt(renormImpl.substring("native-".length(), renormImpl.length() - 1));
            renorm = s -> backend.embeddingRenorm(weight, idx[s], 1.0, 2.0, threads);
        }
    }

    @Benchmark
    public void renorm() {
        renorm.run(next);
        next = next + 1 == sets ? 0 : next + 1;
    }
}
