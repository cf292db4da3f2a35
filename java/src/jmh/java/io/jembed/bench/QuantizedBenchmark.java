package io.jembed.bench;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.backend.NativeBackend;
import io.jembed.internal.QuantizedInternals;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.quantized.QuantizedDType;
import io.jembed.quantized.QuantizedOps;
import io.jembed.quantized.QuantizedTable;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.T_TensorTensorTensorTensor_T;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
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
 * Lookups in a table of 512 MB as float32 (the same rows stored as float32, or as PyTorch's 8-bit or 4-bit rows):
 * {@code op=lookup} gathers 4096 fresh random rows, {@code op=bag} sums 4096 bags of 20 fresh rows. {@code impl}:
 * jembed's native kernels on one thread ({@code jembed-1t}: the native backend's float32 or quantized lookup, into a
 * reused output) or on the default dispatch ({@code jembed}: what a user calls; large calls split among the helper
 * threads), or libtorch 2.10 on one intra-op thread ({@code libtorch-1t}:
 * {@code at::embedding} / {@code at::embedding_bag} for float32, FBGEMM's quantized kernels through
 * {@code quantized::embedding_bag_byte_rowwise_offsets} / {@code embedding_bag_4bit_rowwise_offsets} for quantized
 * rows, with offsets {@code 0..4095} for the plain lookup, which is what {@code quantized::embedding_byte} runs).
 * libtorch's tables come from {@code torch.empty}, on 4 KiB pages (its allocator asks for transparent huge pages only
 * under {@code THP_MEM_ALLOC_ENABLE=1}), while jembed's sit on 2 MiB pages ({@code madvise(MADV_HUGEPAGE)}); a random
 * row on 4 KiB pages of a 512 MB table is also a TLB miss. {@code libtorch-1t-thp} is libtorch on jembed's own table
 * memory (the same bytes, wrapped by {@code torch::from_blob}), i.e. on the same 2 MiB pages.
 * Each invocation copies the next index set (a {@code long[]}) into the implementation's one index tensor, inside the
 * measured time. Every format reads the same index sets, enough of them that a pass through them touches more than
 * the L3 holds in the narrowest (4-bit) format too.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class QuantizedBenchmark {
    static final int BATCH = 4096;
    static final int PER_BAG = 20;

    @Param({"jembed-1t", "jembed", "libtorch-1t", "libtorch-1t-thp"})
    public String impl;

    @Param({"float32", "quint8", "quint4x2"})
    public String format;

    @Param({"64", "128", "256"})
    public int dim;

    @Param({"lookup", "bag"})
    public String op;

    private interface Call {
        void run(int set);
    }

    private Call call;
    /** With libtorch-1t-thp: the jembed table whose memory libtorch reads (a field, so no Cleaner frees it). */
    private Object tableOwner;
    private int sets;
    private int next;

    /** Bytes per row of a format: what a lookup reads. */
    static long rowBytes(String format, int dim) {
        switch (format) {
            case "float32": return 4L * dim;
            case "quint8": return QuantizedDType.QUINT8.rowBytes(dim);
            case "quint4x2": return QuantizedDType.QUINT4X2.rowBytes(dim);
            default: throw new IllegalArgumentException("format must be float32, quint8 or quint4x2, got " + format);
        }
    }

    /** A libtorch tensor over jembed memory (not a copy: the memory must outlive it). */
    private static org.bytedeco.pytorch.Tensor onPagesOf(Memory memory, long[] shape, torch.ScalarType type) {
        org.bytedeco.javacpp.Pointer at = new org.bytedeco.javacpp.Pointer() {
            {
                address = memory.address();
            }
        };
        return torch.from_blob(at, shape, new TensorOptions(type));
    }

    @Setup(Level.Trial)
    public void setUp() {
        int rows = Workload.rows("DRAM", dim);
        boolean bag = op.equals("bag");
        if (!bag && !op.equals("lookup")) {
            throw new IllegalArgumentException("op must be lookup or bag, got " + op);
        }
        int lookups = bag ? BATCH * PER_BAG : BATCH;
        // The same rows for every format, and enough sets that one pass touches more than the L3 holds even as
        // 4-bit rows (the narrowest format: a random row spans (bytes + 63) / 64 lines on average). Sized for float32
        // rows, a pass of 4-bit lookups at dims 128 and 256 touched 13-17 MB, which the L3 (32 MB) kept.
        long[][] indices = Workload.indexSetsTouching(rows, lookups, QuantizedDType.QUINT4X2.rowBytes(dim) + 63, 42);
        sets = indices.length;
        long[] offsets = new long[BATCH];
        for (int b = 0; b < BATCH; b++) {
            offsets[b] = bag ? (long) b * PER_BAG : b;
        }
        float[] values = Workload.randomValues((long) rows * dim, 7);
        Tensor weight = Torch.tensor(values, rows, dim);
        values = null;
        rowBytes(format, dim);
        QuantizedTable table = format.equals("float32") ? null : QuantizedTable.quantize(weight,
                format.equals("quint8") ? QuantizedDType.QUINT8 : QuantizedDType.QUINT4X2);
        boolean hugePages = impl.equals("libtorch-1t-thp");
        if (impl.equals("libtorch-1t") || hugePages) {
            Libtorch.configure("libtorch-1t");
            org.bytedeco.pytorch.Tensor idx = Libtorch.longs(indices[0]);
            org.bytedeco.pytorch.Tensor off = Libtorch.longs(offsets);
            org.bytedeco.javacpp.LongPointer idxData = idx.data_ptr_long();
            if (table == null) {
                org.bytedeco.pytorch.Tensor w = hugePages ? onPagesOf(TensorInternals.memory(weight),
                        new long[] {rows, dim}, torch.ScalarType.Float) : Libtorch.copyOf(weight);
                if (hugePages) {
                    tableOwner = weight; // libtorch reads weight's memory: kept for the trial
                } else {
                    weight.close();
                }
                LongOptional noPadding = new LongOptional();
                TensorOptional noWeights = new TensorOptional();
                call = s -> {
                    idxData.put(indices[s]);
                    if (bag) {
                        T_TensorTensorTensorTensor_T r = torch.embedding_bag(w, idx, off, false, 0, false, noWeights,
                                false, noPadding);
                        r.get0().close();
                        r.get1().close();
                        r.get2().close();
                        r.get3().close();
                        r.close();
                    } else {
                        torch.embedding(w, idx, -1, false, false).close();
                    }
                };
            } else {
                weight.close();
                org.bytedeco.pytorch.Tensor packed;
                if (hugePages) {
                    // libtorch reads the table's own memory: kept open (and reachable) for the trial.
                    tableOwner = table;
                    packed = onPagesOf(QuantizedInternals.memory(table), new long[] {rows, table.rowBytes()},
                            torch.ScalarType.Byte);
                } else {
                    byte[] bytes = table.toByteArray();
                    table.close();
                    packed = torch.empty(new long[] {rows, table.rowBytes()},
                            new TensorOptions(torch.ScalarType.Byte), new MemoryFormatOptional());
                    packed.data_ptr_byte().put(bytes);
                }
                OperatorHandle rowwise = Dispatcher.singleton()
                        .findSchemaOrThrow(format.equals("quint8") ? "quantized::embedding_bag_byte_rowwise_offsets"
                                : "quantized::embedding_bag_4bit_rowwise_offsets", "");
                IValue packedValue = new IValue(packed);
                IValue idxValue = new IValue(idx);
                IValue offValue = new IValue(off);
                IValue no = new IValue(false);
                IValue sum = new IValue(0L);
                IValue none = new IValue();
                call = s -> {
                    idxData.put(indices[s]);
                    // The boxed call takes every argument of the schema (push_back copies each IValue).
                    IValueVector stack = new IValueVector();
                    stack.push_back(packedValue).push_back(idxValue).push_back(offValue).push_back(no).push_back(sum)
                            .push_back(no).push_back(none).push_back(none).push_back(no);
                    rowwise.callBoxed(stack);
                    stack.close();
                };
            }
        } else if (!impl.equals("jembed-1t") && !impl.equals("jembed")) {
            throw new IllegalArgumentException(
                    "impl must be jembed, jembed-1t, libtorch-1t or libtorch-1t-thp, got " + impl);
        } else {
            Tensor idx = Torch.empty(DType.INT64, lookups);
            Tensor off = Torch.tensor(offsets);
            Tensor out = Torch.empty(DType.FLOAT32, BATCH, dim);
            NativeBackend backend = (NativeBackend) Backends.nativeBackend().orElseThrow();
            // jembed-1t: the backend on one thread; jembed: what a user calls, on the default dispatch (large calls
            // split among the helper threads).
            int threads = impl.equals("jembed-1t") ? 1 : 0;
            if (table == null) {
                call = s -> {
                    idx.copyFrom(indices[s]);
                    if (bag) {
                        if (threads == 1) {
                            backend.embeddingBag(weight, idx, off, 0, EmbeddingBagMode.SUM, null, -1, out, null, 1);
                        } else {
                            backend.embeddingBag(weight, idx, off, 0, EmbeddingBagMode.SUM, null, -1, out, null);
                        }
                    } else if (threads == 1) {
                        backend.embedding(weight, idx, out, 1);
                    } else {
                        backend.embedding(weight, idx, out);
                    }
                };
            } else {
                weight.close();
                Memory bytes = QuantizedInternals.memory(table);
                int bits = table.dtype().bits();
                call = s -> {
                    idx.copyFrom(indices[s]);
                    if (threads == 1) {
                        backend.quantizedEmbeddingBag(bytes, rows, dim, bits, idx, bag ? off : null, bag ? 0 : 1,
                                EmbeddingBagMode.SUM, null, out, 1);
                    } else if (bag) {
                        QuantizedOps.embeddingBag(table, idx, off, EmbeddingBagMode.SUM, null, false, out);
                    } else {
                        QuantizedOps.embedding(table, idx, out);
                    }
                };
            }
        }
    }

    @Benchmark
    public void run() {
        call.run(next);
        next = next + 1 == sets ? 0 : next + 1;
    }
}
