package io.jembed.io.safetensors;

import io.jembed.Tensor;
import io.jembed.internal.io.AtomicFileWrite;
import io.jembed.internal.io.ElementWriter;
import io.jembed.internal.io.Json;
import io.jembed.internal.io.Progress;
import io.jembed.io.ProgressListener;
import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes safetensors files (the Hugging Face format: a JSON header, then raw little-endian tensors).
 *
 * <p>PyTorch equivalent: {@code safetensors.torch}: {@link #safeOpen} is {@code safe_open}, {@link #loadFile} is
 * {@code load_file}, {@link #saveFile} is {@code save_file}.
 *
 * <p>Thread-safe (no shared state).
 */
public final class Safetensors {
    private Safetensors() {}

    /** PyTorch equivalent: {@code safe_open(path, framework="pt")}. The caller closes the result. */
    public static SafeOpen safeOpen(Path file) throws IOException {
        return SafeOpen.open(file, ReadOptions.defaults());
    }

    public static SafeOpen safeOpen(Path file, ReadOptions options) throws IOException {
        return SafeOpen.open(file, options);
    }

    /**
     * Every tensor of the file, by name, in the order of their bytes in the file. The caller owns (and closes) the
     * tensors. On failure no tensor is left open.
     *
     * <p>PyTorch equivalent: {@code safetensors.torch.load_file(path)}.
     */
    public static Map<String, Tensor> loadFile(Path file) throws IOException {
        return loadFile(file, ReadOptions.defaults());
    }

    public static Map<String, Tensor> loadFile(Path file, ReadOptions options) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafeOpen open = SafeOpen.open(file, options)) {
            SafetensorsHeader header = open.header();
            long total = 0;
            for (SafetensorsTensorInfo info : header.tensors()) {
                total += info.byteLength();
            }
            Progress progress = new Progress(options.progress(), total);
            for (SafetensorsTensorInfo info : header.tensors()) {
                tensors.put(info.name(), open.read(info, progress, false));
            }
            progress.finish();
            return tensors;
        } catch (IOException | RuntimeException | Error e) {
            tensors.values().forEach(Tensor::close);
            throw e;
        }
    }

    /** As {@link #saveFile(Map, Path, Map, ProgressListener)} without metadata or progress. */
    public static void saveFile(Map<String, Tensor> tensors, Path file) throws IOException {
        saveFile(tensors, file, null, ProgressListener.NONE);
    }

    public static void saveFile(Map<String, Tensor> tensors, Path file, Map<String, String> metadata)
            throws IOException {
        saveFile(tensors, file, metadata, ProgressListener.NONE);
    }

    /**
     * Writes tensors (float32, float64, int32, int64: stored as F32, F64, I32, I64) and an optional
     * {@code __metadata__} map, laid out as the reference writer lays them out: larger dtypes first, then by name; the
     * header padded with spaces to a multiple of 8 bytes. The file is written beside the target and moved into place,
     * so a failure never leaves half a file under the name.
     *
     * <p>PyTorch equivalent: {@code safetensors.torch.save_file(tensors, path, metadata=None)}.
     *
     * @throws IllegalArgumentException if a name is {@code "__metadata__"} or a tensor is closed
     */
    public static void saveFile(Map<String, Tensor> tensors, Path file, Map<String, String> metadata,
                                ProgressListener listener) throws IOException {
        List<Map.Entry<String, Tensor>> entries = new ArrayList<>(tensors.entrySet());
        for (Map.Entry<String, Tensor> e : entries) {
            if (e.getKey() == null || e.getKey().equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor may not be named " + e.getKey());
            }
            if (e.getValue() == null || e.getValue().isClosed()) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' is " + (e.getValue() == null
                        ? "null" : "closed"));
            }
        }
        entries.sort(Comparator.<Map.Entry<String, Tensor>>comparingInt(
                e -> -SafetensorsDType.of(e.getValue().dtype()).ordinal()).thenComparing(Map.Entry::getKey));
        StringBuilder json = new StringBuilder("{");
        if (metadata != null && !metadata.isEmpty()) {
            json.append(Json.quote(SafetensorsHeader.METADATA_KEY)).append(":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("metadata keys and values must not be null: " + e);
                }
                json.append(first ? "" : ",").append(Json.quote(e.getKey())).append(':')
                        .append(Json.quote(e.getValue()));
                first = false;
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : entries) {
            Tensor t = e.getValue();
            long bytes = t.numel() * t.dtype().itemSize();
            if (json.length() > 1) {
                json.append(',');
            }
            json.append(Json.quote(e.getKey())).append(":{\"dtype\":\"").append(SafetensorsDType.of(t.dtype()))
                    .append("\",\"shape\":").append(Arrays.toString(t.shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
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
        long total = offset;
        AtomicFileWrite.write(file, out -> {
            ElementWriter.writeFully(out, prefix);
            Progress progress = new Progress(listener, total);
            for (Map.Entry<String, Tensor> e : entries) {
                ElementWriter.write(e.getValue(), ByteOrder.LITTLE_ENDIAN, out, progress);
            }
            progress.finish();
        });
    }

}
