package io.jembed.bench;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.backend.NativeBackend;
import io.jembed.nn.Embedding;
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
 * The forward gather, float32 or float64, by every implementation a JVM user could pick: jembed's native path (default dispatch
 * and each variant forced), its Java backend, the best plain Java ({@code System.arraycopy} per row), a naive
 * element loop, and libtorch's {@code at::embedding}. Each invocation looks up the next fresh index set, which
 * arrives as a {@code long[]} (as from a request): the tensor implementations copy it into their one reusable index
 * tensor first, and that copy is part of the measured time.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ForwardBenchmark {
    @Param({"native", "native-1t", "native-2t", "native-scalar", "native-avx2", "native-avx512", "java-backend",
            "arraycopy", "naive-loop", "libtorch-1t", "libtorch"})
    public String impl;

    @Param({"64"})
    public int dim;

    @Param({"float32"})
    public String dtype;

    @Param({"4096"})
    public int batch;

    @Param({"DRAM"})
    public String table;

    private interface Lookup {
        void run(int set);
    }

    private Lookup lookup;
    private int sets;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        if (!Workload.selectKernels(impl)) {
            throw new IllegalStateException(impl + " is not supported by this CPU");
        }
        int rows = Workload.rows(table, dim);
        long[][] indices = Workload.indexSets(rows, batch, dim, 42);
        sets = indices.length;
        float[] values = Workload.randomValues((long) rows * dim, 7);
        boolean wide = dtype.equals("float64");
        io.jembed.DType type = wide ? io.jembed.DType.FLOAT64 : io.jembed.DType.FLOAT32;
        switch (impl) {
            case "arraycopy": {
                lookup = wide ? arraycopy(toDoubles(values), indices, new double[batch * dim])
                        : arraycopy(values, indices, new float[batch * dim]);
                // Typed arrays, so that the arraycopy intrinsic knows both element types.
                break;
            }
            case "naive-loop": {
                if (wide) {
                    double[] table = toDoubles(values);
                    double[] out = new double[batch * dim];
                    lookup = s -> {
                        long[] idx = indices[s];
                        for (int i = 0; i < idx.length; i++) {
                            int from = (int) idx[i] * dim;
                            for (int j = 0; j < dim; j++) {
                                out[i * dim + j] = table[from + j];
                            }
                        }
                    };
                } else {
                    float[] out = new float[batch * dim];
                    lookup = s -> {
                        long[] idx = indices[s];
                        for (int i = 0; i < idx.length; i++) {
                            int from = (int) idx[i] * dim;
                            for (int j = 0; j < dim; j++) {
                                out[i * dim + j] = values[from + j];
                            }
                        }
                    };
                }
                break;
            }
            case "libtorch":
            case "libtorch-1t": {
                Libtorch.configure(impl);
                org.bytedeco.pytorch.Tensor floats = Libtorch.floats(values, rows, dim);
                org.bytedeco.pytorch.Tensor weight = wide ? floats.to(torch.ScalarType.Double) : floats;
                org.bytedeco.pytorch.Tensor idx = Libtorch.longs(indices[0]);
                org.bytedeco.javacpp.LongPointer idxData = idx.data_ptr_long();
                lookup = s -> {
                    idxData.put(indices[s]);
                    torch.embedding(weight, idx).close();
                };
                break;
            }
            case "java-backend": {
                Tensor weight = table(values, rows, type);
                Tensor idx = Torch.empty(io.jembed.DType.INT64, batch);
                Tensor out = Torch.empty(type, batch, dim);
                lookup = s -> {
                    idx.copyFrom(indices[s]);
                    Backends.java().embedding(weight, idx, out);
                };
                break;
            }
            case "native-1t":
            case "native-2t": {
                // The default dispatch's kernels with the thread count fixed, whatever the batch's size.
                NativeBackend backend = (NativeBackend) Backends.nativeBackend().orElseThrow();
                int threads = impl.equals("native-2t") ? 2 : 1;
                Tensor weight = table(values, rows, type);
                Tensor idx = Torch.empty(io.jembed.DType.INT64, batch);
                Tensor out = Torch.empty(type, batch, dim);
                lookup = s -> {
                    idx.copyFrom(indices[s]);
                    backend.embedding(weight, idx, out, threads);
                };
                break;
            }
            default: {
                Embedding embedding = Embedding.fromPretrained(table(values, rows, type));
                Tensor idx = Torch.empty(io.jembed.DType.INT64, batch);
                Tensor out = Torch.empty(type, batch, dim);
                lookup = s -> {
                    idx.copyFrom(indices[s]);
                    embedding.forward(idx, out);
                };
            }
        }
    }

    private Tensor table(float[] values, int rows, io.jembed.DType type) {
        Tensor floats = Torch.tensor(values, rows, dim);
        if (type == io.jembed.DType.FLOAT32) {
            return floats;
        }
        Tensor wide = Torch.empty(type, rows, dim).copy_(floats);
        floats.close();
        return wide;
    }

    private static double[] toDoubles(float[] values) {
        double[] wide = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            wide[i] = values[i];
        }
        return wide;
    }

    private Lookup arraycopy(float[] table, long[][] indices, float[] out) {
        int width = dim;
        return s -> {
            long[] idx = indices[s];
            for (int i = 0; i < idx.length; i++) {
                System.arraycopy(table, (int) idx[i] * width, out, i * width, width);
            }
        };
    }

    private Lookup arraycopy(double[] table, long[][] indices, double[] out) {
        int width = dim;
        return s -> {
            long[] idx = indices[s];
            for (int i = 0; i < idx.length; i++) {
                System.arraycopy(table, (int) idx[i] * width, out, i * width, width);
            }
        };
    }

    @Benchmark
    public void forward() {
        lookup.run(next);
        next = next + 1 == sets ? 0 : next + 1;
    }
}
