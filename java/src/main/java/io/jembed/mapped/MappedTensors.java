package io.jembed.mapped;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.MalformedFileException;
import io.jembed.io.safetensors.SafetensorsDType;
import io.jembed.io.safetensors.SafetensorsHeader;
import io.jembed.io.safetensors.SafetensorsTensorInfo;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Tensors of a safetensors file, memory-mapped read-only instead of read: the header is read and validated (by
 * {@link SafetensorsHeader}, which checks every offset against the file's size), and each {@link #getTensor} maps
 * its tensor's bytes. Opening and getting a tensor cost the same for a kilobyte and for gigabytes; pages are read
 * as lookups touch them, and every process that maps the file shares one copy in the page cache.
 *
 * <p>PyTorch equivalent: {@code with safe_open(path, framework="pt") as f: f.get_tensor(name)}, whose tensors are
 * backed by the file's mapping, and {@code torch.load(path, mmap=True)}. {@code Safetensors.safeOpen} reads tensors
 * into memory instead (and converts F16/BF16 unless told to keep them, and checks for NaN); this class maps F32,
 * F64, F16, BF16 (as float16 and bfloat16), I32 and I64 tensors as they are, and checks nothing in the data (that
 * would read it all).
 *
 * <p>Each tensor returned is the caller's: {@link Tensor#close()} unmaps it; it stays valid after this object is
 * dropped (which holds no file handle). Tensors are read-only: writes throw {@link UnsupportedOperationException}
 * naming the file; {@link Tensor#clone()} makes a writable copy. Do not truncate or rewrite a mapped file: on
 * Linux, touching a page past the new end raises SIGBUS, which kills the JVM; replace it by renaming a new file
 * over it.
 *
 * <p>Immutable and thread-safe.
 */
public final class MappedTensors {
    private final Path file;
    private final SafetensorsHeader header;

    private MappedTensors(Path file, SafetensorsHeader header) {
        this.file = file;
        this.header = header;
    }

    /**
     * Reads and validates the header of a safetensors file.
     *
     * @throws MalformedFileException if the header is malformed or lies (offsets past the end, overlaps, ...)
     * @throws IOException if the file cannot be read
     */
    public static MappedTensors safeOpen(Path file) throws IOException {
        if (file == null) {
            throw new IllegalArgumentException("file must not be null");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return new MappedTensors(file, SafetensorsHeader.read(channel, file.toString()));
        }
    }

    /** The validated header: names, dtypes, shapes, offsets. */
    public SafetensorsHeader header() {
        return header;
    }

    /** The tensor names, sorted. PyTorch equivalent: {@code f.keys()}. */
    public List<String> keys() {
        List<String> keys = new ArrayList<>(header.names());
        Collections.sort(keys);
        return keys;
    }

    /** The {@code __metadata__} map (empty when absent). PyTorch equivalent: {@code f.metadata()}. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /**
     * Maps one tensor read-only.
     *
     * <p>PyTorch equivalent: {@code f.get_tensor(name)}.
     *
     * @throws IllegalArgumentException if there is no such tensor (the message lists the names)
     * @throws MalformedFileException if its dtype cannot be mapped as a jembed dtype (F16 and BF16 map as float16 and
     *     bfloat16 tensors), or the file is now shorter than its header says
     * @throws IOException if the file cannot be mapped
     */
    public Tensor getTensor(String name) throws IOException {
        SafetensorsTensorInfo info = header.tensor(name);
        DType dtype = info.dtype().storedDType();
        if (dtype == null || SafetensorsDType.of(dtype) != info.dtype()) {
            throw new MalformedFileException(file.toString(), "tensor '" + name + "' is stored as " + info.dtype()
                    + ", which cannot be mapped as it is (mapped tensors are F32, F64, F16, BF16, I32 or I64)");
        }
        return Torch.fromFile(file, dtype, info.fileOffset(), info.shape());
    }

    @Override
    public String toString() {
        return "MappedTensors(" + file + ", " + header.names().size() + " tensors)";
    }
}
