package io.jembed.spark;

import io.jembed.DType;
import io.jembed.io.MalformedFileException;
import io.jembed.io.safetensors.SafetensorsDType;
import io.jembed.io.safetensors.SafetensorsTensorInfo;
import io.jembed.mapped.MappedTensors;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Splits a table into N safetensors files by row range, for tables larger than one executor's memory (TorchRec's
 * row-wise sharding), and reads such a set back ({@link #layout}) for {@link ShardedLookup}.
 *
 * <p>Shard {@code k} of {@code N} holds rows {@code [k * rows / N, (k + 1) * rows / N)} (sizes differ by at most one
 * row; none is empty), as a tensor named {@code weight}, with metadata {@value #INDEX}, {@value #COUNT},
 * {@value #ROW_START}, {@value #ROWS_TOTAL} and {@value #SOURCE}. Rows are copied byte for byte from the source
 * file ({@link FileChannel#transferTo}): nothing is converted, nothing is held in memory, so a table larger than
 * memory splits at disk speed. Each shard is written to a temporary file and renamed into place.
 *
 * <p>Command line: {@code java -cp jembed-spark.jar:jembed.jar:javacpp.jar io.jembed.spark.TableShards TABLE N
 * OUT_DIR} (or {@code scripts/jembed-shard TABLE N OUT_DIR}) prints the shard files.
 */
public final class TableShards {
    public static final String INDEX = "jembed.shard.index";
    public static final String COUNT = "jembed.shard.count";
    public static final String ROW_START = "jembed.shard.row_start";
    public static final String ROWS_TOTAL = "jembed.shard.rows_total";
    public static final String SOURCE = "jembed.shard.source";

    private TableShards() {
    }

    /** A set of shards, in shard order: the files, the first row of each, the table's rows, dim and dtype. */
    public record Layout(List<String> tables, long[] starts, long rows, int dim, DType dtype)
            implements java.io.Serializable {
        /** The shard holding global row {@code id} (in {@code [0, rows)}). */
        public int shardOf(long id) {
            int at = Arrays.binarySearch(starts, id);
            return at >= 0 ? at : -at - 2;
        }
    }

    /**
     * Writes {@code shards} files into {@code outDir} (created if needed), named
     * {@code <stem>-shard-00000-of-00004.safetensors}, and returns them in shard order.
     *
     * @throws IllegalArgumentException if {@code shards} is not in {@code [1, rows]}
     * @throws JembedTableException if the table is malformed or not a 2-D floating-point table (F32, F64, F16 or
     *     BF16, kept as it is)
     */
    public static List<Path> split(Path table, int shards, Path outDir) throws IOException {
        MappedTensors tensors;
        SafetensorsTensorInfo info;
        try {
            tensors = MappedTensors.safeOpen(table);
            info = ExecutorTables.tableTensor(table.toString(), table, tensors);
        } catch (MalformedFileException e) {
            throw new JembedTableException(table.toString(), e.getMessage(), e);
        }
        long rows = info.shape()[0];
        long dim = info.shape()[1];
        if (shards < 1 || shards > rows) {
            throw new IllegalArgumentException("shards must be in [1, " + rows + "] (the table's rows), got " + shards);
        }
        Files.createDirectories(outDir);
        String stem = table.getFileName().toString().replaceFirst("\\.safetensors$", "");
        long rowBytes = dim * info.dtype().itemSize();
        List<Path> files = new ArrayList<>();
        try (FileChannel source = FileChannel.open(table, StandardOpenOption.READ)) {
            for (int k = 0; k < shards; k++) {
                long start = rowStart(k, shards, rows);
                long count = rowStart(k + 1, shards, rows) - start;
                Path file = outDir.resolve(String.format("%s-shard-%05d-of-%05d.safetensors", stem, k, shards));
                String header = "{\"__metadata__\":{" + entry(INDEX, k) + "," + entry(COUNT, shards) + ","
                        + entry(ROW_START, start) + "," + entry(ROWS_TOTAL, rows) + ","
                        + entry(SOURCE, table.getFileName().toString()) + "},\"weight\":{\"dtype\":\""
                        + info.dtype().name() + "\",\"shape\":[" + count + "," + dim + "],\"data_offsets\":[0,"
                        + count * rowBytes + "]}}";
                write(file, header, source, info.fileOffset() + start * rowBytes, count * rowBytes);
                files.add(file);
            }
        }
        return files;
    }

    /** The first row of shard {@code k} of {@code n} over {@code rows} rows. */
    static long rowStart(int k, int n, long rows) {
        return java.math.BigInteger.valueOf(k).multiply(java.math.BigInteger.valueOf(rows))
                .divide(java.math.BigInteger.valueOf(n)).longValueExact();
    }

    /**
     * Reads the shards' headers (on the driver: the files must be readable there, by path or as shipped files) and
     * checks that they are one table's complete set.
     *
     * @throws JembedTableException if a file is missing or malformed, or the set is incomplete or mixed
     */
    public static Layout layout(List<String> shardTables) {
        int n = shardTables.size();
        if (n == 0) {
            throw new IllegalArgumentException("no shard files given");
        }
        String[] ordered = new String[n];
        long[] starts = new long[n];
        long[] counts = new long[n];
        long rows = -1;
        long dim = -1;
        SafetensorsDType dtype = null;
        for (String shard : shardTables) {
            Path file = ExecutorTables.resolve(shard);
            try {
                MappedTensors tensors = MappedTensors.safeOpen(file);
                SafetensorsTensorInfo info = ExecutorTables.tableTensor(shard, file, tensors);
                Map<String, String> meta = tensors.metadata();
                int index = Math.toIntExact(number(shard, meta, INDEX));
                long count = number(shard, meta, COUNT);
                long total = number(shard, meta, ROWS_TOTAL);
                if (count != n || index < 0 || index >= n || ordered[index] != null) {
                    throw new JembedTableException(shard, "is shard " + index + " of " + count + ", but " + n
                            + " files were given" + (index >= 0 && index < n && ordered[index] != null
                            ? " and shard " + index + " is also " + ordered[index] : ""), null);
                }
                if (rows >= 0 && (total != rows || info.shape()[1] != dim || info.dtype() != dtype)) {
                    throw new JembedTableException(shard, "belongs to a table of " + total + " rows of dim "
                            + info.shape()[1] + " in " + info.dtype() + ", the other shards to one of " + rows
                            + " rows of dim " + dim + " in " + dtype, null);
                }
                rows = total;
                dim = info.shape()[1];
                dtype = info.dtype();
                ordered[index] = shard;
                starts[index] = number(shard, meta, ROW_START);
                counts[index] = info.shape()[0];
            } catch (IOException e) {
                throw new JembedTableException(shard, "cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        long next = 0;
        for (int k = 0; k < n; k++) {
            if (starts[k] != next) {
                throw new JembedTableException(ordered[k], "starts at row " + starts[k] + ", but the shards before "
                        + "it end at row " + next, null);
            }
            next += counts[k];
        }
        if (next != rows) {
            throw new JembedTableException(ordered[n - 1], "the shards hold " + next + " rows, the table " + rows,
                    null);
        }
        return new Layout(List.of(ordered), starts, rows, (int) dim, dtype.storedDType());
    }

    private static long number(String shard, Map<String, String> meta, String key) {
        String value = meta.get(key);
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new JembedTableException(shard, "is not a shard written by TableShards: metadata '" + key + "' is "
                    + (value == null ? "missing" : "'" + value + "'"), e);
        }
    }

    private static String entry(String key, Object value) {
        return quote(key) + ":" + quote(String.valueOf(value));
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    private static void write(Path file, String header, FileChannel source, long from, long bytes)
            throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(json);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        prefix.flip();
        Path absolute = file.toAbsolutePath();
        Path temporary = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".tmp");
        try {
            // A temporary file is private (rw-------); shards are read by executors that may run as another user.
            try {
                Files.setPosixFilePermissions(temporary, java.nio.file.attribute.PosixFilePermissions.fromString(
                        "rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // Not a POSIX file system: its default permissions stand.
            }
            try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                while (prefix.hasRemaining()) {
                    out.write(prefix);
                }
                long done = 0;
                while (done < bytes) {
                    long moved = source.transferTo(from + done, bytes - done, out);
                    if (moved <= 0) {
                        throw new IOException("the table ended while copying rows at byte " + (from + done));
                    }
                    done += moved;
                }
            }
            Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** {@code TableShards TABLE N OUT_DIR}: splits, and prints each shard's file and row range. */
    public static void main(String[] args) throws IOException {
        PrintStream out = System.out;
        if (args.length != 3) {
            System.err.println("usage: TableShards TABLE.safetensors N OUT_DIR");
            System.exit(2);
        }
        List<Path> files = split(Path.of(args[0]), Integer.parseInt(args[1]), Path.of(args[2]));
        Layout layout = layout(files.stream().map(Path::toString).toList());
        for (int k = 0; k < files.size(); k++) {
            long end = k + 1 < files.size() ? layout.starts()[k + 1] : layout.rows();
            out.println(files.get(k) + "\trows [" + layout.starts()[k] + ", " + end + ")");
        }
    }
}
