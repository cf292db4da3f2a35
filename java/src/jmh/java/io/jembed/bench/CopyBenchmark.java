package io.jembed.bench;

import io.jembed.internal.memory.Memory;
import io.jembed.internal.nativebinding.JembedNative;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * The physical reference: a native memcpy of as many bytes as a gather of {@code batch} rows of {@code dim} floats
 * moves, streaming between two 512 MB buffers (both beyond the L3), so that the report can print each gather as a
 * fraction of what the memory can do.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CopyBenchmark {
    private static final long BUFFER = 512L << 20;

    @Param({"64"})
    public int dim;

    @Param({"4096"})
    public int batch;

    private Memory source;
    private Memory target;
    private long bytes;
    private long offset;

    @Setup(Level.Trial)
    public void setUp() {
        source = Memory.allocateZeroed(BUFFER);
        target = Memory.allocateZeroed(BUFFER);
        bytes = (long) batch * dim * 4;
    }

    @Benchmark
    public void memcpy() {
        JembedNative.copy(target.address() + offset, source.address() + offset, bytes);
        offset += bytes;
        if (offset + bytes > BUFFER) {
            offset = 0;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        source.close();
        target.close();
    }
}
