package io.jembed.bench;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.TopK;
import io.jembed.Torch;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.nativebinding.JembedNative;
import io.jembed.nn.functional.F;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The cosine top-10 scan of a 1M x 300 float32 table (1.2 GB, in memory), beside the physical reference: a native
 * memcpy of the same 1.2 GB into a second buffer, measured in the same run. A scan reads each byte once and a copy
 * reads and writes it, so the scan's goal is at least 0.7 of the copy's bytes per second (the measure).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class NearestBenchmark {
    static final int ROWS = 1_000_000;
    static final int DIM = 300;

    private Tensor table;
    private Tensor query;
    private Memory target;

    @Setup(Level.Trial)
    public void setUp() {
        table = Torch.empty(DType.FLOAT32, ROWS, DIM);
        // Filled in slices: one float[] of 300M values would need 1.2 GB of heap.
        Memory memory = TensorInternals.memory(table);
        int slice = 1 << 22;
        float[] values = Workload.randomValues(slice, 11);
        for (long at = 0; at < (long) ROWS * DIM; at += slice) {
            int n = (int) Math.min(slice, (long) ROWS * DIM - at);
            memory.copyFromArray(values, 0, n, 4 * at);
        }
        query = Torch.tensor(Workload.randomValues(DIM, 3));
        target = Memory.allocateZeroed((long) ROWS * DIM * 4);
    }

    @Benchmark
    public long nearest() {
        try (TopK top = F.cosineTopK(table, query, 10)) {
            return top.indices().getLong(0);
        }
    }

    @Benchmark
    public void memcpy() {
        JembedNative.copy(target.address(), TensorInternals.memory(table).address(), (long) ROWS * DIM * 4);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        table.close();
        query.close();
        target.close();
    }
}
