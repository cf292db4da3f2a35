package io.jembed.io.safetensors;

import io.jembed.Tensor;
import io.jembed.internal.io.ElementReader;
import io.jembed.internal.io.FileElement;
import io.jembed.internal.io.PositionalChannel;
import io.jembed.internal.io.Progress;
import io.jembed.io.MalformedFileException;
import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * An open safetensors file: its header, read at once, and its tensors, each read on request. Opening costs the
 * header only, whatever the file's size.
 *
 * <p>PyTorch equivalent: {@code with safe_open(path, framework="pt") as f:} ({@code f.keys()},
 * {@code f.metadata()}, {@code f.get_tensor(name)}).
 *
 * <p>Thread safety: {@link #getTensor} may be called from several threads at once (positional reads);
 * {@link #close()} must not race with them.
 */
public final class SafeOpen implements AutoCloseable {
    private final FileChannel channel;
    private final SafetensorsHeader header;
    private final ReadOptions options;

    private SafeOpen(FileChannel channel, SafetensorsHeader header, ReadOptions options) {
        this.channel = channel;
        this.header = header;
        this.options = options;
    }

    static SafeOpen open(Path file, ReadOptions options) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new SafeOpen(channel, SafetensorsHeader.read(channel, file.toString()), options);
        } catch (IOException | RuntimeException | Error e) {
            channel.close();
            throw e;
        }
    }

    public SafetensorsHeader header() {
        return header;
    }

    /** The tensor names, sorted, as {@code safe_open(...).keys()} returns them. */
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
     * Reads one tensor: F32, F64, I32, I64 as themselves, F16 and BF16 widened to float32, or kept as float16 and
     * bfloat16 with {@code ReadOptions.keepReducedPrecision(true)}.
     *
     * <p>PyTorch equivalent: {@code f.get_tensor(name)}.
     *
     * @throws IllegalArgumentException if there is no such tensor
     * @throws MalformedFileException if its dtype cannot be loaded, the file is shorter than its header said, or
     *     (unless allowed) it holds NaN or infinities
     */
    public Tensor getTensor(String name) throws IOException {
        SafetensorsTensorInfo info = header.tensor(name);
        return read(info, new Progress(options.progress(), info.byteLength()), true);
    }

    Tensor read(SafetensorsTensorInfo info, Progress progress, boolean finish) throws IOException {
        if (info.dtype().element() == null) {
            throw new MalformedFileException(header.source(), "tensor '" + info.name() + "' has dtype "
                    + info.dtype() + ", which jembed cannot load (it loads F32, F64, F16, BF16, I32, I64)");
        }
        if (!channel.isOpen()) {
            throw new IllegalStateException("safe_open of " + header.source() + " has been closed");
        }
        PositionalChannel in = new PositionalChannel(channel, info.fileOffset(), info.fileOffset() + info.byteLength());
        FileElement element = options.keepReducedPrecision() ? info.dtype().element().kept() : info.dtype().element();
        Tensor tensor = ElementReader.read(in, element, ByteOrder.LITTLE_ENDIAN, info.shape(),
                header.source(), "tensor '" + info.name() + "'", !options.allowNonFinite(), progress);
        if (finish) {
            progress.finish();
        }
        return tensor;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
