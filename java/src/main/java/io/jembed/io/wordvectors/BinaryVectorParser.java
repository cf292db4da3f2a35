package io.jembed.io.wordvectors;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.io.Progress;
import io.jembed.internal.memory.Memory;
import io.jembed.io.MalformedFileException;
import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the word2vec C tool's binary format: an ASCII {@code "V D\n"} line, then per word its UTF-8 bytes, a space,
 * and D little-endian float32s (the C tool adds a newline after each vector; gensim does not; both load).
 */
final class BinaryVectorParser {
    /** The longest word accepted. */
    static final int MAX_WORD_BYTES = 1 << 20;
    private static final int BLOCK = 1 << 20;

    private final FileChannel channel;
    private final String source;
    private final long size;
    private ByteBuffer buffer = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
    private long bufferStart;

    private BinaryVectorParser(FileChannel channel, String source) throws IOException {
        this.channel = channel;
        this.source = source;
        this.size = channel.size();
        buffer.limit(0);
    }

    static WordVectors load(Path file, ReadOptions options) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return new BinaryVectorParser(channel, file.toString()).parse(options);
        }
    }

    /** Makes at least {@code n} bytes available in the buffer (fewer only at the end of the file). */
    private boolean fill(int n) throws IOException {
        if (buffer.remaining() >= n) {
            return true;
        }
        bufferStart += buffer.position();
        buffer.compact();
        while (buffer.position() < n) {
            int read = channel.read(buffer, bufferStart + buffer.position());
            if (read < 0) {
                break;
            }
        }
        buffer.flip();
        return buffer.remaining() >= n;
    }

    private long position() {
        return bufferStart + buffer.position();
    }

    /** Bytes up to (not including) {@code stop}, which is consumed; null at the end of the file. */
    private byte[] until(byte stop, int max, String what) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        while (true) {
            if (!buffer.hasRemaining() && !fill(1)) {
                return out.size() == 0 ? null : out.toByteArray();
            }
            byte b = buffer.get();
            if (b == stop) {
                return out.toByteArray();
            }
            out.write(b);
            if (out.size() > max) {
                throw new MalformedFileException(source, what + " at byte " + (position() - out.size())
                        + " is longer than " + max + " bytes");
            }
        }
    }

    private WordVectors parse(ReadOptions options) throws IOException {
        byte[] headerBytes = until((byte) '\n', 256, "the header line");
        String header = headerBytes == null ? "" : new String(headerBytes, StandardCharsets.ISO_8859_1).trim();
        String[] fields = header.split("\\s+");
        long count;
        long dimension;
        try {
            count = Long.parseLong(fields[0]);
            dimension = fields.length == 2 ? Long.parseLong(fields[1]) : -1;
        } catch (NumberFormatException e) {
            count = -1;
            dimension = -1;
        }
        if (fields.length != 2 || count < 0 || dimension < 1 || dimension > Integer.MAX_VALUE / 4) {
            throw new MalformedFileException(source, "the first line must be \"<count> <dimension>\" with "
                    + "dimension in [1, " + Integer.MAX_VALUE / 4 + "], found \""
                    + TextVectorParser.abbreviate(header) + "\"");
        }
        int dim = (int) dimension;
        long recordMin = 4L * dim + 2;   // at least a one-byte word, a space and the floats
        long dataBytes = size - position();
        if (count > Integer.MAX_VALUE - 8 || count * recordMin > dataBytes) {
            throw new MalformedFileException(source, "the header promises " + count + " vectors of dimension " + dim
                    + ", which need at least " + (count <= Integer.MAX_VALUE ? count * recordMin : Long.MAX_VALUE)
                    + " bytes, but the file has " + dataBytes + " after the header (truncated, or not word2vec "
                    + "binary)");
        }
        if (buffer.capacity() < 4 * dim + 16) {   // a vector must fit the buffer whole
            ByteBuffer larger = ByteBuffer.allocate(4 * dim + 16).order(ByteOrder.LITTLE_ENDIAN);
            larger.put(buffer).flip();
            bufferStart = position() - larger.remaining();
            buffer = larger;
        }
        Tensor table = Torch.empty(DType.FLOAT32, count, dim);
        try {
            Memory memory = TensorInternals.memory(table);
            Progress progress = new Progress(options.progress(), size);
            CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            List<String> words = new ArrayList<>((int) count);
            Map<String, Integer> seen = new HashMap<>((int) Math.min(count * 2, 1 << 24));
            float[] row = new float[dim];
            boolean checkFinite = !options.allowNonFinite();
            for (int r = 0; r < count; r++) {
                // Newlines between records (the C tool's) and stray spaces are not part of the word.
                while (true) {
                    if (!fill(1)) {
                        throw truncated(r, count);
                    }
                    byte b = buffer.get(buffer.position());
                    if (b != '\n' && b != '\r' && b != ' ') {
                        break;
                    }
                    buffer.get();
                }
                long wordAt = position();
                byte[] wordBytes = until((byte) ' ', MAX_WORD_BYTES, "word " + r);
                if (wordBytes == null || !fill(4 * dim)) {
                    throw truncated(r, count);
                }
                String word;
                try {
                    word = utf8.decode(ByteBuffer.wrap(wordBytes)).toString();
                } catch (CharacterCodingException e) {
                    throw new MalformedFileException(source, "word " + r + " at byte " + wordAt + " is not valid "
                            + "UTF-8 (" + TextVectorParser.hex(wordBytes, 0, wordBytes.length) + ")");
                }
                Integer before = seen.putIfAbsent(word, r);
                if (before != null) {
                    throw new MalformedFileException(source, "duplicate word '" + TextVectorParser.abbreviate(word)
                            + "' (vectors " + before + " and " + r + ", counting from 0)");
                }
                words.add(word);
                buffer.asFloatBuffer().get(row);
                buffer.position(buffer.position() + 4 * dim);
                if (checkFinite) {
                    for (int k = 0; k < dim; k++) {
                        if (!Float.isFinite(row[k])) {
                            throw new MalformedFileException(source, "the vector of '"
                                    + TextVectorParser.abbreviate(word) + "' (vector " + r + ") holds " + row[k]
                                    + " at position " + k + " (NaN and infinities are refused; "
                                    + "ReadOptions.allowNonFinite(true) accepts them)");
                        }
                    }
                }
                memory.copyFromArray(row, 0, dim, (long) r * dim * 4);
                progress.at(position());
            }
            while (fill(1)) {
                byte b = buffer.get();
                if (b != '\n' && b != '\r' && b != ' ') {
                    throw new MalformedFileException(source, "the file goes on after the " + count + " vectors its "
                            + "header promises (byte " + (position() - 1) + " of " + size + ")");
                }
            }
            progress.finish();
            return new WordVectors(words, table);
        } catch (IOException | RuntimeException | Error e) {
            table.close();
            throw e;
        }
    }

    private MalformedFileException truncated(int row, long count) {
        return new MalformedFileException(source, "truncated: the file ends inside vector " + row + " of the " + count
                + " its header promises");
    }
}
