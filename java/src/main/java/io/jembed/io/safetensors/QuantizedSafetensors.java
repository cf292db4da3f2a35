package io.jembed.io.safetensors;

import io.jembed.internal.QuantizedInternals;
import io.jembed.internal.io.AtomicFileWrite;
import io.jembed.internal.io.ElementWriter;
import io.jembed.internal.io.Json;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.io.MalformedFileException;
import io.jembed.quantized.QuantizedDType;
import io.jembed.quantized.QuantizedTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Row-wise quantized tables in safetensors files: each table is a {@code U8} tensor of shape
 * {@code (num_embeddings, row_bytes)} holding PyTorch's prepacked bytes as they are, so that
 * {@code safetensors.torch.load_file} gives the tensor {@code torch.ops.quantized.embedding_bag_byte_prepack}
 * returned, and a prepacked tensor PyTorch saved loads here. Since a {@code U8} shape does not say which layout it
 * holds (an 8-bit row of 24 elements and a 4-bit row of 56 are both 32 bytes), the layout of table {@code name} is
 * recorded in the {@code __metadata__} map under {@code "jembed.quantized.<name>"}, as JSON:
 *
 * <pre>
 *   {"dtype": "torch.quint8", "prepack": "embedding_bag_byte_prepack", "embedding_dim": 128, "row_bytes": 136,
 *    "layout": "128 uint8 codes, then scale and bias as float32 little-endian; x = fma(q, scale, bias)"}
 * </pre>
 *
 * <p>Writing one from PyTorch: {@code save_file({"emb": packed}, path, metadata={"jembed.quantized.emb":
 * json.dumps({"dtype": "torch.quint8", "embedding_dim": d, "row_bytes": d + 8})})}, or load a {@code U8} tensor
 * without a record with {@link #load(Path, String, QuantizedDType)}.
 *
 * <p>Files are hostile input: a missing or malformed record, a record that disagrees with the tensor's dtype or
 * shape, or a tensor of another dtype gives a {@link MalformedFileException} naming the file and the problem, before
 * any allocation (the header's own checks are {@link SafetensorsHeader}'s).
 *
 * <p>Thread-safe (no shared state).
 */
public final class QuantizedSafetensors {
    /** The prefix of the metadata key that records a table's layout: {@code "jembed.quantized." + name}. */
    public static final String METADATA_PREFIX = "jembed.quantized.";
    private static final int CHUNK = 1 << 20;

    private QuantizedSafetensors() {}

    /**
     * Writes the tables (as {@code U8} tensors, by name order) and their layout records, plus {@code metadata} (may be
     * null), beside the target and then moved into place, so a failure never leaves half a file under the name.
     *
     * @throws IllegalArgumentException if a name is {@code "__metadata__"}, a table is closed, or a metadata key
     *     collides with a layout record
     */
    public static void saveFile(Map<String, QuantizedTable> tables, Path file, Map<String, String> metadata)
            throws IOException {
        TreeMap<String, QuantizedTable> sorted = new TreeMap<>();
        for (Map.Entry<String, QuantizedTable> e : tables.entrySet()) {
            if (e.getKey() == null || e.getKey().equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("a table may not be named " + e.getKey());
            }
            if (e.getValue() == null || e.getValue().isClosed()) {
                throw new IllegalArgumentException("table '" + e.getKey() + "' is "
                        + (e.getValue() == null ? "null" : "closed"));
            }
            sorted.put(e.getKey(), e.getValue());
        }
        Map<String, String> allMetadata = new LinkedHashMap<>();
        if (metadata != null) {
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("metadata keys and values must not be null: " + e);
                }
                if (e.getKey().startsWith(METADATA_PREFIX) && tables.containsKey(
                        e.getKey().substring(METADATA_PREFIX.length()))) {
                    throw new IllegalArgumentException("metadata key " + e.getKey() + " would replace the layout "
                            + "record of a table");
                }
                allMetadata.put(e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<String, QuantizedTable> e : sorted.entrySet()) {
            allMetadata.put(METADATA_PREFIX + e.getKey(), record(e.getValue()));
        }
        StringBuilder json = new StringBuilder("{").append(Json.quote(SafetensorsHeader.METADATA_KEY)).append(":{");
        boolean first = true;
        for (Map.Entry<String, String> e : allMetadata.entrySet()) {
            json.append(first ? "" : ",").append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
            first = false;
        }
        json.append('}');
        long offset = 0;
        for (Map.Entry<String, QuantizedTable> e : sorted.entrySet()) {
            QuantizedTable t = e.getValue();
            json.append(',').append(Json.quote(e.getKey())).append(":{\"dtype\":\"U8\",\"shape\":[")
                    .append(t.numEmbeddings()).append(',').append(t.rowBytes()).append("],\"data_offsets\":[")
                    .append(offset).append(',').append(offset + t.byteSize()).append("]}");
            offset += t.byteSize();
        }
        json.append('}');
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(header);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        prefix.flip();
        AtomicFileWrite.write(file, out -> {
            ElementWriter.writeFully(out, prefix);
            for (QuantizedTable t : sorted.values()) {
                writeTable(t, out);
            }
        });
    }

    /** The layout record of a table (the JSON string stored under {@code "jembed.quantized.<name>"}). */
    static String record(QuantizedTable t) {
        boolean eight = t.dtype() == QuantizedDType.QUINT8;
        String layout = eight
                ? t.embeddingDim() + " uint8 codes, then scale and bias as float32 little-endian; "
                        + "x = fma(q, scale, bias)"
                : t.embeddingDim() + " 4-bit codes two a byte, element c in the low (c even) or high nibble of byte "
                        + "c / 2, then scale and bias as float16 little-endian; x = fma(scale, q, bias)";
        return "{\"dtype\":" + Json.quote(t.dtype().toString()) + ",\"prepack\":" + Json.quote(t.dtype().prepackOp())
                + ",\"embedding_dim\":" + t.embeddingDim() + ",\"row_bytes\":" + t.rowBytes() + ",\"layout\":"
                + Json.quote(layout) + "}";
    }

    private static void writeTable(QuantizedTable t, FileChannel out) throws IOException {
        Memory memory = QuantizedInternals.memory(t);
        MemoryGuard guard = MemoryGuard.enter(memory);
        try {
            byte[] chunk = new byte[(int) Math.min(CHUNK, Math.max(1, t.byteSize()))];
            for (long at = 0; at < t.byteSize(); at += chunk.length) {
                int n = (int) Math.min(chunk.length, t.byteSize() - at);
                memory.copyToBytes(at, chunk, 0, n);
                ElementWriter.writeFully(out, ByteBuffer.wrap(chunk, 0, n));
            }
        } finally {
            guard.exit();
        }
    }

    /**
     * Every table of the file that has a layout record, by name, read into memory (tensors without a record are
     * left out). The caller closes the tables; on failure none is left open.
     *
     * @throws MalformedFileException if a record is malformed or disagrees with its tensor
     */
    public static Map<String, QuantizedTable> loadFile(Path file) throws IOException {
        Map<String, QuantizedTable> tables = new LinkedHashMap<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(channel, file.toString());
            List<Layout> layouts = new ArrayList<>();
            for (Map.Entry<String, String> e : header.metadata().entrySet()) {
                if (e.getKey().startsWith(METADATA_PREFIX)) {
                    layouts.add(layout(header, e.getKey().substring(METADATA_PREFIX.length()), e.getValue()));
                }
            }
            for (Layout l : layouts) {
                tables.put(l.info.name(), read(channel, l, header.source()));
            }
            return tables;
        } catch (IOException | RuntimeException | Error e) {
            tables.values().forEach(QuantizedTable::close);
            throw e;
        }
    }

    /**
     * One {@code U8} tensor of the file as a table of the given layout, whether or not the file records one (a
     * record that disagrees is an error). For prepacked tensors saved by PyTorch without jembed's record.
     *
     * @throws MalformedFileException if there is no such tensor, it is not {@code U8 (rows, row_bytes)}, or its rows
     *     are too short for the layout
     */
    public static QuantizedTable load(Path file, String name, QuantizedDType dtype) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(channel, file.toString());
            String recorded = header.metadata().get(METADATA_PREFIX + name);
            Layout l = recorded != null ? layout(header, name, recorded) : layout(header, name, dtype);
            if (l.dtype != dtype) {
                throw new MalformedFileException(header.source(), "tensor '" + name + "' is recorded as " + l.dtype
                        + ", not " + dtype);
            }
            return read(channel, l, header.source());
        }
    }

    /**
     * A table of the file memory-mapped read-only: nothing is read up front, pages come in as lookups touch them,
     * and every process mapping the file shares them. Needs a layout record. {@code close()} unmaps it.
     *
     * @throws MalformedFileException if there is no such table or its record is malformed
     */
    public static QuantizedTable map(Path file, String name) throws IOException {
        Layout l;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(channel, file.toString());
            String recorded = header.metadata().get(METADATA_PREFIX + name);
            if (recorded == null) {
                throw new MalformedFileException(header.source(), "no layout record " + METADATA_PREFIX + name
                        + " in the metadata" + (header.contains(name) ? "" : ", and no tensor '" + name + "'"));
            }
            l = layout(header, name, recorded);
        }
        Memory memory = Memory.mapReadOnly(file, l.info.fileOffset(), l.info.byteLength());
        try {
            return QuantizedInternals.wrap(memory, l.rows, l.dim, l.dtype);
        } catch (RuntimeException | Error e) {
            memory.close();
            throw e;
        }
    }

    /** A tensor's layout, checked against its header entry. */
    private static final class Layout {
        final SafetensorsTensorInfo info;
        final QuantizedDType dtype;
        final long rows;
        final long dim;

        Layout(SafetensorsTensorInfo info, QuantizedDType dtype, long rows, long dim) {
            this.info = info;
            this.dtype = dtype;
            this.rows = rows;
            this.dim = dim;
        }
    }

    private static Layout layout(SafetensorsHeader header, String name, String record) throws MalformedFileException {
        String source = header.source();
        Object parsed;
        try {
            parsed = Json.parse(record);
        } catch (Json.JsonException e) {
            throw new MalformedFileException(source, "the layout record of '" + name + "' is not JSON: "
                    + e.getMessage(), e);
        }
        if (!(parsed instanceof Map)) {
            throw new MalformedFileException(source, "the layout record of '" + name + "' is not a JSON object");
        }
        Map<?, ?> fields = (Map<?, ?>) parsed;
        Object dtypeName = fields.get("dtype");
        QuantizedDType dtype = null;
        for (QuantizedDType d : QuantizedDType.values()) {
            if (d.toString().equals(dtypeName)) {
                dtype = d;
            }
        }
        if (dtype == null) {
            throw new MalformedFileException(source, "the layout record of '" + name + "' names dtype " + dtypeName
                    + "; expected torch.quint8 or torch.quint4x2");
        }
        Layout l = layout(header, name, dtype);
        Object dim = fields.get("embedding_dim");
        Object rowBytes = fields.get("row_bytes");
        if (!(dim instanceof Long) || (Long) dim != l.dim || (rowBytes != null && !Long.valueOf(
                dtype.rowBytes(l.dim)).equals(rowBytes))) {
            throw new MalformedFileException(source, "the layout record of '" + name + "' gives embedding_dim " + dim
                    + " and row_bytes " + rowBytes + ", but the tensor's rows of " + l.info.shape()[1] + " bytes hold "
                    + l.dim + " elements of " + dtype);
        }
        return l;
    }

    private static Layout layout(SafetensorsHeader header, String name, QuantizedDType dtype)
            throws MalformedFileException {
        String source = header.source();
        if (!header.contains(name)) {
            throw new MalformedFileException(source, "no tensor '" + name + "' (tensors: " + header.names() + ")");
        }
        SafetensorsTensorInfo info = header.tensor(name);
        long[] shape = info.shape();
        if (info.dtype() != SafetensorsDType.U8 || shape.length != 2) {
            throw new MalformedFileException(source, "tensor '" + name + "' must be U8 of shape (num_embeddings, "
                    + "row_bytes) to hold a quantized table, but it is " + info.dtype() + " of shape "
                    + java.util.Arrays.toString(shape));
        }
        long dim = dtype.dimOfRowBytes(shape[1]);
        if (dim < 0) {
            throw new MalformedFileException(source, "tensor '" + name + "' has rows of " + shape[1] + " bytes, too "
                    + "short for the scale and bias of a " + dtype + " row (" + dtype.scaleBiasBytes() + " bytes)");
        }
        return new Layout(info, dtype, shape[0], dim);
    }

    private static QuantizedTable read(FileChannel channel, Layout l, String source) throws IOException {
        long bytes = l.info.byteLength();
        Memory memory = Memory.allocate(bytes);
        try {
            byte[] chunk = new byte[(int) Math.min(CHUNK, Math.max(1, bytes))];
            ByteBuffer buffer = ByteBuffer.wrap(chunk);
            for (long at = 0; at < bytes; ) {
                int n = (int) Math.min(chunk.length, bytes - at);
                buffer.clear().limit(n);
                while (buffer.hasRemaining()) {
                    if (channel.read(buffer, l.info.fileOffset() + at + buffer.position()) < 0) {
                        throw new MalformedFileException(source, "truncated inside tensor '" + l.info.name() + "'");
                    }
                }
                memory.copyFromBytes(chunk, 0, n, at);
                at += n;
            }
            return QuantizedInternals.wrap(memory, l.rows, l.dim, l.dtype);
        } catch (IOException | RuntimeException | Error e) {
            memory.close();
            throw e;
        }
    }
}
