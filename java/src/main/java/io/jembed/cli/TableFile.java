package io.jembed.cli;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.io.MalformedFileException;
import io.jembed.io.ProgressListener;
import io.jembed.io.ReadOptions;
import io.jembed.io.numpy.Npy;
import io.jembed.io.numpy.NpyHeader;
import io.jembed.io.torch.TorchCheckpoint;
import io.jembed.io.wordvectors.FastText;
import io.jembed.io.wordvectors.Glove;
import io.jembed.io.wordvectors.Word2Vec;
import io.jembed.io.wordvectors.WordVectors;
import io.jembed.mapped.MappedTensors;
import io.jembed.vocab.Vocabulary;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A table file opened by the tool: its format (found from its first bytes, not its name), its tensors (memory-mapped
 * where the format allows it: safetensors, .npy), its metadata and its vocabulary, if it carries one. Owns the
 * tensors: {@link #close()} frees or unmaps them.
 */
final class TableFile implements AutoCloseable {
    enum Format {
        SAFETENSORS("safetensors"),
        NPY("NumPy .npy"),
        TORCH("PyTorch checkpoint (torch.save zip)"),
        WORD2VEC_BINARY("word2vec binary"),
        WORD2VEC_TEXT("word2vec / fastText .vec text"),
        GLOVE("GloVe text");

        final String description;

        Format(String description) {
            this.description = description;
        }
    }

    final Path path;
    final Format format;
    final Map<String, Tensor> tensors;
    final Map<String, String> metadata;
    final Vocabulary vocabulary;
    final boolean mapped;

    private TableFile(Path path, Format format, Map<String, Tensor> tensors, Map<String, String> metadata,
                      Vocabulary vocabulary, boolean mapped) {
        this.path = path;
        this.format = format;
        this.tensors = tensors;
        this.metadata = metadata;
        this.vocabulary = vocabulary;
        this.mapped = mapped;
    }

    /** The format of a file, from its first bytes. */
    static Format detect(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IOException(path + ": no such file");
        }
        byte[] start = new byte[4096];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(start, 0, start.length);
        }
        long size = Files.size(path);
        if (n >= 6 && (start[0] & 0xff) == 0x93 && new String(start, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            return Format.NPY;
        }
        if (n >= 4 && start[0] == 'P' && start[1] == 'K' && start[2] == 3 && start[3] == 4) {
            return Format.TORCH;
        }
        if (n >= 9) {
            long headerLength = ByteBuffer.wrap(start, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength > 0 && headerLength <= size - 8 && start[8] == '{') {
                return Format.SAFETENSORS;
            }
        }
        // Word vectors: word2vec (and fastText .vec) files open with a "count dim" line; GloVe files do not.
        int lineEnd = 0;
        while (lineEnd < n && start[lineEnd] != '\n') {
            lineEnd++;
        }
        String first = new String(start, 0, lineEnd, StandardCharsets.UTF_8).trim();
        if (!first.matches("\\d+ \\d+")) {
            return Format.GLOVE;
        }
        for (int k = lineEnd + 1; k < n; k++) {
            // Binary vectors hold raw float bytes: NULs and control characters no text line has.
            int b = start[k] & 0xff;
            if (b == 0 || (b < 0x20 && b != '\n' && b != '\r' && b != '\t')) {
                return Format.WORD2VEC_BINARY;
            }
        }
        return Format.WORD2VEC_TEXT;
    }

    /** Opens a file of any supported format; {@code progress} hears about loads that read the whole file. */
    static TableFile open(Path path, ProgressListener progress) throws IOException {
        Format format = detect(path);
        ReadOptions options = ReadOptions.defaults().progress(progress);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        switch (format) {
            case SAFETENSORS: {
                MappedTensors file = MappedTensors.safeOpen(path);
                Map<String, String> metadata = file.metadata();
                Vocabulary vocabulary = Vocabulary.inMetadata(metadata)
                        ? Vocabulary.fromMetadata(metadata, path.toString()) : null;
                try {
                    for (String name : file.header().names()) {
                        tensors.put(name, file.getTensor(name));
                    }
                } catch (MalformedFileException e) {
                    // A type that cannot be mapped (F16, BF16): the whole file is read and converted instead.
                    tensors.values().forEach(Tensor::close);
                    tensors.clear();
                    tensors.putAll(io.jembed.io.safetensors.Safetensors.loadFile(path, options));
                    return new TableFile(path, format, tensors, metadata, vocabulary, false);
                }
                return new TableFile(path, format, tensors, metadata, vocabulary, true);
            }
            case NPY: {
                NpyHeader header;
                try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                    header = NpyHeader.read(channel, path.toString());
                }
                boolean mappable = header.mappable();
                tensors.put("array", mappable ? Npy.map(path) : Npy.load(path, options));
                return new TableFile(path, format, tensors, Map.of(), null, mappable);
            }
            case TORCH:
                tensors.putAll(TorchCheckpoint.loadStateDict(path, options));
                return new TableFile(path, format, tensors, Map.of(), null, false);
            default: {
                WordVectors vectors = format == Format.WORD2VEC_BINARY ? Word2Vec.loadBinary(path, options)
                        : format == Format.GLOVE ? Glove.load(path, options) : FastText.loadVec(path, options);
                tensors.put("weight", vectors.vectors());
                return new TableFile(path, format, tensors, Map.of(), Vocabulary.of(vectors.words()), false);
            }
        }
    }

    /**
     * The table to search or convert: the tensor named {@code name}, or, without a name, the only 2-D floating-point
     * tensor of the file.
     */
    Tensor table(String name) {
        if (name != null) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new IllegalArgumentException(path + " has no tensor named '" + name + "'; it has "
                        + tensors.keySet());
            }
            return t;
        }
        Tensor found = null;
        for (Tensor t : tensors.values()) {
            if (t.dim() == 2 && t.dtype().isFloatingPoint()) {
                if (found != null) {
                    throw new IllegalArgumentException(path + " has several 2-D tables " + tensors.keySet()
                            + "; name one with --tensor");
                }
                found = t;
            }
        }
        if (found == null) {
            throw new IllegalArgumentException(path + " has no 2-D floating-point table; it has " + tensors.keySet());
        }
        return found;
    }

    static String describe(Tensor t) {
        return t.dtype().toString().replace("torch.", "") + " " + java.util.Arrays.toString(t.shape());
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static boolean isFloat32(Tensor t) {
        return t.dtype() == DType.FLOAT32;
    }

    @Override
    public void close() {
        tensors.values().forEach(Tensor::close);
    }
}
