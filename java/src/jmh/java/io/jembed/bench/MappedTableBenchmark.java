package io.jembed.bench;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.functional.F;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * Memory-mapped tables. {@code open}: {@code MappedTensors.safeOpen(file).getTensor("weight")} of a 4 GiB float32
 * table in a safetensors file (header read and validated, tensor mapped), then its close (unmapped); the file is sparse, so it costs no disk, and the open reads none of its data. {@code lookup}:
 * a batch of 4096 random rows from a 512 MB table (1M x 128 float32), from the file's mapping ({@code source=mapped},
 * every page touched first, so resident) or from a copy in memory ({@code source=memory}), through the same
 * {@code F.embedding} into a reused output.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class MappedTableBenchmark {
    static final long OPEN_ROWS = 1L << 20;
    static final long OPEN_DIM = 1024; // 4 GiB of float32
    static final int LOOKUP_ROWS = 1 << 20;
    static final int LOOKUP_DIM = 128; // 512 MB of float32
    static final int BATCH = 4096;

    /**
     * {@code mapped}: the file is written past the page cache (O_DIRECT), so its pages are first read through the
     * mapping, whose huge-page advice makes the kernel cache them in 2 MiB folios mapped by 2 MiB entries (Linux 6.x
     * on ext4 and xfs). {@code mapped-4k}: the file is written through the page cache, which keeps the small folios
     * of the writes, so the mapping uses 4 KiB entries. {@code memory}: a copy in jembed's (huge-page) memory.
     */
    @Param({"mapped", "mapped-4k", "memory"})
    public String source;

    private Path dir;
    private Path bigFile;
    private Tensor table;
    private Tensor[] indexSets;
    private Tensor out;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("jembed-mapped-bench");
        bigFile = dir.resolve("big.safetensors");
        SafetensorsFixture.write(bigFile, "weight", OPEN_ROWS, OPEN_DIM, null, false);
        Path lookupFile = dir.resolve("lookup.safetensors");
        float[] values = Workload.randomValues((long) LOOKUP_ROWS * LOOKUP_DIM, 7);
        long dataStart = SafetensorsFixture.write(lookupFile, "weight", LOOKUP_ROWS, LOOKUP_DIM, values,
                source.equals("mapped"));
        Tensor mapped = Torch.fromFile(lookupFile, DType.FLOAT32, dataStart, new long[] {LOOKUP_ROWS, LOOKUP_DIM});
        if (source.startsWith("mapped")) {
            table = mapped;
            // Resident: every page read once, so the benchmark measures lookups, not page faults from disk.
            try (Tensor query = Torch.ones(DType.FLOAT32, LOOKUP_DIM)) {
                F.cosineTopK(table, query, 1).close();
            }
        } else {
            table = mapped.clone();
            mapped.close();
        }
        indexSets = Workload.toTensors(Workload.indexSets(LOOKUP_ROWS, BATCH, LOOKUP_DIM, 42));
        out = Torch.empty(DType.FLOAT32, BATCH, LOOKUP_DIM);
    }

    @Benchmark
    public void lookup() {
        Tensor idx = indexSets[next];
        next = next + 1 == indexSets.length ? 0 : next + 1;
        F.embedding(idx, table, null, null, 2.0, out);
    }

    @Benchmark
    public long open() throws IOException {
        // The header is read and validated, then the tensor is mapped, then unmapped.
        try (Tensor big = io.jembed.mapped.MappedTensors.safeOpen(bigFile).getTensor("weight")) {
            return big.numel();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        table.close();
        out.close();
        for (Tensor t : indexSets) {
            t.close();
        }
        Files.deleteIfExists(bigFile);
        Files.deleteIfExists(dir.resolve("lookup.safetensors"));
        Files.deleteIfExists(dir);
    }

    /** Builds benchmark tables as safetensors files, per the format's specification. */
    static final class SafetensorsFixture {
        private SafetensorsFixture() {}

        /**
         * Writes a one-tensor float32 safetensors file of {@code rows x dim} whose data starts at byte 4096; with
         * {@code values} null the data is left as a hole (a sparse file); with {@code direct} it is written with
         * O_DIRECT, past the page cache. Returns the data's file offset.
         */
        static long write(Path file, String name, long rows, long dim, float[] values, boolean direct)
                throws IOException {
            long bytes = rows * dim * 4;
            String json = "{\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[" + rows + "," + dim
                    + "],\"data_offsets\":[0," + bytes + "]}}";
            // The specification allows trailing spaces in the header: they put the data on a page boundary here.
            byte[] header = (json + " ".repeat(4096 - 8 - json.length())).getBytes(StandardCharsets.UTF_8);
            long dataStart = 4096;
            java.util.Set<java.nio.file.OpenOption> options = new java.util.HashSet<>(java.util.List.of(
                    StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
            if (direct) {
                options.add(com.sun.nio.file.ExtendedOpenOption.DIRECT);
            }
            try (FileChannel channel = FileChannel.open(file, options)) {
                // Direct I/O wants buffers aligned to the block size and whole blocks.
                ByteBuffer chunk = ByteBuffer.allocateDirect((1 << 20) + 4096).alignedSlice(4096).limit(1 << 20)
                        .slice().order(ByteOrder.LITTLE_ENDIAN);
                chunk.clear();
                chunk.putLong(header.length).put(header);
                long at = 0;
                if (values == null) {
                    chunk.flip();
                    channel.write(chunk, 0);
                    channel.write(ByteBuffer.allocate(1), dataStart + bytes - 1);
                    return dataStart;
                }
                for (float v : values) {
                    chunk.putFloat(v);
                    if (!chunk.hasRemaining()) {
                        chunk.flip();
                        at += channel.write(chunk, at);
                        chunk.clear();
                    }
                }
                chunk.flip();
                while (chunk.hasRemaining()) {
                    at += channel.write(chunk, at);
                }
                return dataStart;
            }
        }
    }
}
