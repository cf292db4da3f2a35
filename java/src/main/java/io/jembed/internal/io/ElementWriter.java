package io.jembed.internal.io;

import io.jembed.Tensor;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/** Writes a tensor's elements to a channel in its own dtype and the given byte order, in chunks. Not API. */
public final class ElementWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    private ElementWriter() {}

    public static void write(Tensor tensor, ByteOrder order, WritableByteChannel out, Progress progress)
            throws IOException {
        Memory memory = TensorInternals.memory(tensor);
        memory.checkOpen();
        if (tensor.dtype().isReducedPrecision()) {
            writeBits(memory, tensor.numel(), order, out, progress);
            return;
        }
        int size = tensor.dtype().itemSize();
        long remaining = tensor.numel();
        long index = 0;
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(size, remaining * size)))
                .order(order);
        int perChunk = chunk.capacity() / size;
        int length = (int) Math.min(perChunk, remaining);
        Object array;
        switch (tensor.dtype()) {
            case FLOAT32: array = new float[length]; break;
            case FLOAT64: array = new double[length]; break;
            case INT32: array = new int[length]; break;
            case INT64: array = new long[length]; break;
            default: throw new IllegalArgumentException("cannot write " + tensor.dtype());
        }
        while (remaining > 0) {
            int n = (int) Math.min(perChunk, remaining);
            memory.copyToArray(index * size, array, 0, n);
            chunk.clear();
            switch (tensor.dtype()) {
                case FLOAT32: chunk.asFloatBuffer().put((float[]) array, 0, n); break;
                case FLOAT64: chunk.asDoubleBuffer().put((double[]) array, 0, n); break;
                case INT32: chunk.asIntBuffer().put((int[]) array, 0, n); break;
                default: chunk.asLongBuffer().put((long[]) array, 0, n); break;
            }
            chunk.limit(n * size);
            writeFully(out, chunk);
            index += n;
            remaining -= n;
            if (progress != null) {
                progress.add((long) n * size);
            }
        }
    }

    /** float16 and bfloat16: the 16-bit patterns, in the given byte order. */
    private static void writeBits(Memory memory, long numel, ByteOrder order, WritableByteChannel out,
                                  Progress progress) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(2, numel * 2))).order(order);
        long index = 0;
        while (index < numel) {
            int n = (int) Math.min(chunk.capacity() / 2, numel - index);
            chunk.clear();
            for (int i = 0; i < n; i++) {
                chunk.putShort(memory.getShort(2 * (index + i)));
            }
            chunk.flip();
            writeFully(out, chunk);
            index += n;
            if (progress != null) {
                progress.add(2L * n);
            }
        }
    }

    public static void writeFully(WritableByteChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
