package io.jembed.bench;

import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
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
 * The memory guard's own price (issue 13, section 2: at most 5 ns per call on one thread, and no slowdown between
 * threads sharing a table): entering and leaving the guard with the three blocks of a lookup (table, indices,
 * output), the table shared by every benchmark thread ({@code -t 2}), against the same loop without the guard.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GuardBenchmark {
    @State(Scope.Benchmark)
    public static class Shared {
        Memory table;

        @Setup(Level.Trial)
        public void setUp() {
            table = Memory.allocateZeroed(1 << 16);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            table.close();
        }
    }

    @State(Scope.Thread)
    public static class Own {
        Memory indices;
        Memory out;

        @Setup(Level.Trial)
        public void setUp() {
            indices = Memory.allocateZeroed(64);
            out = Memory.allocateZeroed(64);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            indices.close();
            out.close();
        }
    }

    /** What a guarded call adds: enter with three blocks, one read of each (the "work"), exit. */
    @Benchmark
    public long guarded(Shared shared, Own own) {
        MemoryGuard guard = MemoryGuard.enter(shared.table, own.indices, own.out);
        try {
            return shared.table.address() + own.indices.address() + own.out.address();
        } finally {
            guard.exit();
        }
    }

    /** The same reads without the guard. */
    @Benchmark
    public long unguarded(Shared shared, Own own) {
        return shared.table.address() + own.indices.address() + own.out.address();
    }
}
