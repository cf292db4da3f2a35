package io.jembed.bench;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.F;
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
 * The serving path (issue 13): small lookups from a table that sits in a cache, by every thread of a server, against
 * the best plain Java (a {@code System.arraycopy} loop over a {@code float[]} table). The table is shared by every
 * benchmark thread ({@code -t 2} runs two threads on one table); each thread has its own requests and outputs.
 *
 * <p>{@code impl}: {@code tensor} looks up from a prepared index tensor ({@code F.embedding(idx, w, null, null, 2.0,
 * out)}, no allocation); {@code long[]} and {@code int[]} take the request as a Java array (jembed's array entry
 * {@code F.embedding(long[], ...)}); {@code arraycopy-long[]} / {@code arraycopy-int[]} are the plain Java loops over
 * the same requests. Tables: {@code L1} 32 KB, {@code L2} 512 KB, {@code L3} 16 MB; requests rotate through enough
 * random index sets to touch 4 MB of rows per pass, so an L3 table is not served from L2.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ServingBenchmark {
    /** The table, shared by all benchmark threads of a trial. */
    @State(Scope.Benchmark)
    public static class Table {
        @Param({"L1"})
        public String table;

        @Param({"16"})
        public int dim;

        float[] values;
        Tensor weight;
        int rows;

        @Setup(Level.Trial)
        public void setUp() {
            rows = (int) (bytes(table) / (4L * dim));
            values = Workload.randomValues((long) rows * dim, 7);
            weight = Torch.tensor(values, rows, dim);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            weight.close();
        }

        static long bytes(String table) {
            switch (table) {
                case "L1": return 32L << 10;
                case "L2": return 512L << 10;
                case "L3": return 16L << 20;
                default: throw new IllegalArgumentException("table must be L1, L2 or L3, got " + table);
            }
        }
    }

    /** One thread's requests and outputs. */
    @State(Scope.Thread)
    public static class Requests {
        @Param({"tensor", "long[]", "int[]", "arraycopy-long[]", "arraycopy-int[]"})
        public String impl;

        @Param({"8"})
        public int batch;

        long[][] longs;
        int[][] ints;
        Tensor[] prepared;
        Tensor out;
        int kind;
        float[] outArray;
        int next;

        @Setup(Level.Trial)
        public void setUp(Table t) {
            long perSet = (long) batch * t.dim * 4;
            int sets = (int) Math.max(64, Math.min(65536, (4L << 20) / perSet));
            long seed = 42 + Thread.currentThread().getId();
            longs = new long[sets][];
            ints = new int[sets][];
            long[][] random = Workload.indexSets(t.rows, batch, t.dim, seed);
            for (int s = 0; s < sets; s++) {
                longs[s] = random[s % random.length];
                ints[s] = new int[batch];
                for (int i = 0; i < batch; i++) {
                    ints[s][i] = (int) longs[s][i];
                }
            }
            if (impl.equals("tensor")) {
                prepared = new Tensor[sets];
                for (int s = 0; s < sets; s++) {
                    prepared[s] = Torch.tensor(longs[s]);
                }
            }
            kind = java.util.List.of(IMPLS).indexOf(impl);
            if (kind < 0) {
                throw new IllegalArgumentException("unknown impl " + impl);
            }
            out = Torch.empty(DType.FLOAT32, batch, t.dim);
            outArray = new float[batch * t.dim];
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (prepared != null) {
                for (Tensor p : prepared) {
                    p.close();
                }
            }
            out.close();
        }
    }

    static final String[] IMPLS = {"tensor", "long[]", "int[]", "arraycopy-long[]", "arraycopy-int[]"};

    @Benchmark
    public void lookup(Table t, Requests r) {
        int s = r.next;
        r.next = s + 1 == r.longs.length ? 0 : s + 1;
        switch (r.kind) {
            case 0:
                F.embedding(r.prepared[s], t.weight, null, null, 2.0, r.out);
                break;
            case 1:
                F.embedding(r.longs[s], t.weight, r.out);
                break;
            case 2:
                F.embedding(r.ints[s], t.weight, r.out);
                break;
            case 3: {
                long[] idx = r.longs[s];
                float[] table = t.values;
                float[] out = r.outArray;
                int dim = t.dim;
                for (int i = 0; i < idx.length; i++) {
                    System.arraycopy(table, (int) idx[i] * dim, out, i * dim, dim);
                }
                break;
            }
            case 4: {
                int[] idx = r.ints[s];
                float[] table = t.values;
                float[] out = r.outArray;
                int dim = t.dim;
                for (int i = 0; i < idx.length; i++) {
                    System.arraycopy(table, idx[i] * dim, out, i * dim, dim);
                }
                break;
            }
            default:
                throw new IllegalArgumentException(r.impl);
        }
    }
}
