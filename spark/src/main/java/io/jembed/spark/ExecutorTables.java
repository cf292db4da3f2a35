package io.jembed.spark;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.io.safetensors.SafetensorsDType;
import io.jembed.io.safetensors.SafetensorsTensorInfo;
import io.jembed.mapped.MappedTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;

/**
 * The tables of this JVM (an executor, or the driver in local mode), each memory-mapped once, read-only, and shared
 * by every task that runs here: no broadcast, no copy per task. Pages are read as lookups touch them, and every
 * executor on a machine shares one copy of them in the page cache.
 *
 * <p>A table is named by a path or by the file name of a file shipped with {@code --files} or
 * {@code SparkContext.addFile} ({@link SparkFiles#get}); it is keyed by its real path, size and modification time,
 * so a file replaced by a new one (written elsewhere, then renamed over it: never rewrite a mapped file in place,
 * see {@code MappedTensors}) is mapped anew, while the old mapping stays valid for tasks still using it. Mappings
 * live as long as the JVM. A file that fails to open is not remembered: each task that needs it tries again, and
 * fails again with the same message (a task retry gives the same result).
 *
 * <p>The tensor used is the file's only tensor, else the one named {@code weight}; it must be a 2-D table of F32,
 * F64, F16 or BF16, mapped as it is (float32, float64, float16, bfloat16), as the core looks it up.
 *
 * <p>Thread-safe.
 */
public final class ExecutorTables {
    private static final ConcurrentHashMap<Key, MappedTable> TABLES = new ConcurrentHashMap<>();
    private static final AtomicLong OPENS = new AtomicLong();
    /** The safetensors dtypes the core looks up as they are. */
    private static final java.util.Set<SafetensorsDType> TABLE_DTYPES = java.util.EnumSet.of(SafetensorsDType.F32,
            SafetensorsDType.F64, SafetensorsDType.F16, SafetensorsDType.BF16);

    private ExecutorTables() {
    }

    /** One mapped table. */
    public record MappedTable(String table, Path file, Tensor weight, long rows, int dim) {
        /** The table's dtype, as mapped (the core's results have it). */
        public DType dtype() {
            return weight.dtype();
        }
    }

    /** A table's shape and dtype, from its header. */
    public record TableHeader(long rows, int dim, DType dtype) {
    }

    private record Key(Path realPath, long size, long modified) {
    }

    /**
     * The mapped table, mapping it on the first call in this JVM.
     *
     * @throws JembedTableException if the file is missing, malformed, or holds no 2-D floating-point table
     */
    public static MappedTable get(String table) {
        Path file = resolve(table);
        Key key;
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            key = new Key(file.toRealPath(), attributes.size(), attributes.lastModifiedTime().toMillis());
        } catch (IOException e) {
            throw new JembedTableException(table, "cannot read " + file + ": " + e, e);
        }
        MappedTable mapped = TABLES.get(key);
        return mapped != null ? mapped : TABLES.computeIfAbsent(key, k -> open(table, k.realPath()));
    }

    /** How many times this JVM has mapped a table file (each distinct file version once). */
    public static long opens() {
        return OPENS.get();
    }

    /**
     * The local file a table reference names: the path itself when it is a file here, else the file of that name
     * shipped with {@code --files} or {@code SparkContext.addFile}.
     *
     * @throws JembedTableException if neither exists
     */
    public static Path resolve(String table) {
        Objects.requireNonNull(table, "table");
        String path = table.startsWith("file:") ? Path.of(java.net.URI.create(table)).toString() : table;
        Path direct = Path.of(path);
        if (Files.isRegularFile(direct)) {
            return direct;
        }
        String shippedRoot = null;
        if (SparkEnv.get() != null && direct.getFileName() != null) {
            Path shipped = Path.of(SparkFiles.get(direct.getFileName().toString()));
            if (Files.isRegularFile(shipped)) {
                return shipped;
            }
            shippedRoot = SparkFiles.getRootDirectory();
        }
        throw new JembedTableException(table, "no such file: neither at that path"
                + (shippedRoot == null ? "" : " nor among the files shipped with --files or SparkContext.addFile ("
                + shippedRoot + ")")
                + "; a table must be a local file on every executor (shared storage, or shipped with --files)",
                new NoSuchFileException(path));
    }

    /**
     * The table's {@code (rows, dim)} from its header alone (nothing mapped), or {@code null} when the file is not
     * here; see {@link #headerIfPresent}.
     *
     * @throws JembedTableException if the file is here but malformed, or holds no 2-D floating-point table
     */
    public static long[] inspectIfPresent(String table) {
        TableHeader header = headerIfPresent(table);
        return header == null ? null : new long[] {header.rows(), header.dim()};
    }

    /**
     * The table's shape and dtype from its header alone (nothing mapped), or {@code null} when the file is not here:
     * what the driver checks when a function is resolved, so that a malformed table fails the query before any task
     * runs, while a table that only the executors can see is checked by their first task.
     *
     * @throws JembedTableException if the file is here but malformed, or holds no 2-D floating-point table
     */
    public static TableHeader headerIfPresent(String table) {
        Path file;
        try {
            file = resolve(table);
        } catch (JembedTableException notHere) {
            return null;
        }
        try {
            SafetensorsTensorInfo info = tableTensor(table, file, MappedTensors.safeOpen(file));
            return new TableHeader(info.shape()[0], (int) info.shape()[1], info.dtype().storedDType());
        } catch (IOException | RuntimeException e) {
            throw asTableException(table, file, e);
        }
    }

    private static MappedTable open(String table, Path file) {
        Tensor weight = null;
        try {
            MappedTensors tensors = MappedTensors.safeOpen(file);
            weight = tensors.getTensor(tableTensor(table, file, tensors).name());
            OPENS.incrementAndGet();
            return new MappedTable(table, file, weight, weight.size(0), (int) weight.size(1));
        } catch (IOException | RuntimeException e) {
            if (weight != null) {
                weight.close();
            }
            throw asTableException(table, file, e);
        }
    }

    /** The file's only tensor, else the one named {@code weight}; checked to be a 2-D floating-point table. */
    static SafetensorsTensorInfo tableTensor(String table, Path file, MappedTensors tensors) {
        List<String> names = tensors.keys();
        String name = names.size() == 1 ? names.get(0) : "weight";
        if (!names.contains(name)) {
            throw new JembedTableException(table, file + " holds " + names.size() + " tensors " + names
                    + " and none is named 'weight': save the table alone, or under the name 'weight'", null);
        }
        SafetensorsTensorInfo info = tensors.header().tensor(name);
        long[] shape = info.shape();
        if (shape.length != 2 || !TABLE_DTYPES.contains(info.dtype()) || shape[1] > Integer.MAX_VALUE) {
            throw new JembedTableException(table, "tensor '" + name + "' of " + file + " is " + info.dtype()
                    + " of shape " + Arrays.toString(shape) + "; a table must be 2-D (rows, dim) of F32, F64, F16 "
                    + "or BF16", null);
        }
        return info;
    }

    private static JembedTableException asTableException(String table, Path file, Exception e) {
        if (e instanceof JembedTableException tableException) {
            return tableException;
        }
        return new JembedTableException(table, "cannot use " + file + ": " + e.getMessage(), e);
    }
}
