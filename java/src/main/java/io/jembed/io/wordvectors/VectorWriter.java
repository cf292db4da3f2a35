package io.jembed.io.wordvectors;

import io.jembed.DType;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.io.AtomicFileWrite;
import io.jembed.internal.io.Progress;
import io.jembed.internal.memory.Memory;
import io.jembed.io.ProgressListener;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Writes word vectors as word2vec binary, word2vec text or GloVe text, beside the target then moved into place. */
final class VectorWriter {
    enum Style { WORD2VEC_BINARY, WORD2VEC_TEXT, GLOVE }

    private VectorWriter() {}

    static void write(WordVectors vectors, Path file, Style style, ProgressListener listener) throws IOException {
        if (vectors.vectors().dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("word vectors are float32, not " + vectors.vectors().dtype());
        }
        int dim = (int) vectors.dim();
        Memory memory = TensorInternals.memory(vectors.vectors());
        memory.checkOpen();
        AtomicFileWrite.write(file, channel -> {
            try (OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16)) {
                if (style != Style.GLOVE) {
                    out.write((vectors.size() + " " + dim + "\n").getBytes(StandardCharsets.US_ASCII));
                }
                float[] row = new float[dim];
                ByteBuffer bytes = ByteBuffer.allocate(4 * dim).order(ByteOrder.LITTLE_ENDIAN);
                Progress progress = new Progress(listener, vectors.size());
                StringBuilder line = new StringBuilder();
                for (int r = 0; r < vectors.size(); r++) {
                    String word = vectors.words().get(r);
                    if (word.isEmpty() || (style != Style.GLOVE && word.chars().anyMatch(c -> c == ' ' || c == '\n'))
                            || word.indexOf('\n') >= 0) {
                        throw new IllegalArgumentException("word " + r + " '" + word + "' cannot be written in this "
                                + "format (empty, or holding a space or newline)");
                    }
                    memory.copyToArray((long) r * dim * 4, row, 0, dim);
                    if (style == Style.WORD2VEC_BINARY) {
                        out.write((word + " ").getBytes(StandardCharsets.UTF_8));
                        bytes.clear();
                        bytes.asFloatBuffer().put(row);
                        out.write(bytes.array());
                        out.write('\n');
                    } else {
                        line.setLength(0);
                        line.append(word);
                        for (float v : row) {
                            line.append(' ').append(v);
                        }
                        line.append('\n');
                        out.write(line.toString().getBytes(StandardCharsets.UTF_8));
                    }
                    progress.add(1);
                }
                progress.finish();
            }
        });
    }
}
