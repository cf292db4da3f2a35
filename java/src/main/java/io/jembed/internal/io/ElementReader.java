package io.jembed.internal.io;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.io.MalformedFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads a run of stored elements from a channel into a new tensor, converting byte order and widening float16 and
 * bfloat16, in chunks (never the whole run in the Java heap). The caller has already checked that the run lies
 * inside the file, so the tensor's size is bounded by the file's; a channel that ends early is reported as a
 * truncated file. Not API.
 */
public final class ElementReader {
    private static final int CHUNK_BYTES = 1 << 20;

    private ElementReader() {}

    /**
     * @param what names the data in messages, e.g. {@code tensor 'weight'}
     * @param checkFinite refuse NaN and infinities in floating data
     */
    public static Tensor read(ReadableByteChannel in, FileElement element, ByteOrder order, long[] shape,
                              String source, String what, boolean checkFinite, Progress progress)
            throws IOException {
        Tensor tensor = Torch.empty(element.target(), shape);
        try {
            fill(in, element, order, tensor, source, what, checkFinite, progress);
            return tensor;
        } catch (IOException | RuntimeException | Error e) {
            tensor.close();
            throw e;
        }
    }

    /** Fills every element of {@code tensor} (whose dtype must be {@code element.target()}) from the channel. */
    public static void fill(ReadableByteChannel in, FileElement element, ByteOrder order, Tensor tensor,
                            String source, String what, boolean checkFinite, Progress progress) throws IOException {
        if (tensor.dtype() != element.target()) {
            throw new IllegalArgumentException(element + " is read into " + element.target() + ", not "
                    + tensor.dtype());
        }
        Memory memory = TensorInternals.memory(tensor);
        int size = element.size();
        long remaining = tensor.numel();
        long index = 0;
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(size, remaining * size)))
                .order(order);
        int perChunk = chunk.capacity() / size;
        Object array = newArray(element.target(), (int) Math.min(perChunk, remaining));
        while (remaining > 0) {
            int n = (int) Math.min(perChunk, remaining);
            chunk.clear().limit(n * size);
            readFully(in, chunk, source, what, index * size, tensor.numel() * size);
            chunk.flip();
            convert(chunk, element, array, n);
            if (checkFinite && element.target().isFloatingPoint()) {
                checkFinite(array, n, index, source, what, element);
            }
            if (array instanceof short[]) {
                short[] bits = (short[]) array;
                for (int i = 0; i < n; i++) {
                    memory.putShort(2 * (index + i), bits[i]);
                }
            } else {
                memory.copyFromArray(array, 0, n, index * element.target().itemSize());
            }
            index += n;
            remaining -= n;
            if (progress != null) {
                progress.add((long) n * size);
            }
        }
    }

    /** Reads until {@code buffer} is full; a channel that ends first is a truncated file. */
    public static void readFully(ReadableByteChannel in, ByteBuffer buffer, String source, String what,
                                 long doneBefore, long expected) throws IOException {
        while (buffer.hasRemaining()) {
            if (in.read(buffer) < 0) {
                throw new MalformedFileException(source, "truncated: " + what + " needs " + expected
                        + " bytes but the file ends after " + (doneBefore + buffer.position()));
            }
        }
    }

    private static Object newArray(DType dtype, int length) {
        switch (dtype) {
            case FLOAT32: return new float[length];
            case FLOAT64: return new double[length];
            case INT32: return new int[length];
            case INT64: return new long[length];
            case FLOAT16:
            case BFLOAT16: return new short[length];
            default: throw new AssertionError(dtype);
        }
    }

    private static void convert(ByteBuffer chunk, FileElement element, Object array, int n) {
        switch (element) {
            case F32: chunk.asFloatBuffer().get((float[]) array, 0, n); break;
            case F64: chunk.asDoubleBuffer().get((double[]) array, 0, n); break;
            case I32: chunk.asIntBuffer().get((int[]) array, 0, n); break;
            case I64: chunk.asLongBuffer().get((long[]) array, 0, n); break;
            case F16_BITS:
            case BF16_BITS: chunk.asShortBuffer().get((short[]) array, 0, n); break;
            case F16: {
                float[] out = (float[]) array;
                for (int i = 0; i < n; i++) {
                    out[i] = FileElement.halfToFloat(chunk.getShort(2 * i));
                }
                break;
            }
            case BF16: {
                float[] out = (float[]) array;
                for (int i = 0; i < n; i++) {
                    out[i] = FileElement.bfloat16ToFloat(chunk.getShort(2 * i));
                }
                break;
            }
            default: throw new AssertionError(element);
        }
    }

    private static void checkFinite(Object array, int n, long first, String source, String what,
                                    FileElement element) throws MalformedFileException {
        if (array instanceof short[]) {
            short[] bits = (short[]) array;
            for (int i = 0; i < n; i++) {
                float value = element == FileElement.F16_BITS ? FileElement.halfToFloat(bits[i])
                        : FileElement.bfloat16ToFloat(bits[i]);
                if (!Float.isFinite(value)) {
                    throw nonFinite(source, what, first + i, value);
                }
            }
        } else if (array instanceof float[]) {
            float[] values = (float[]) array;
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(values[i])) {
                    throw nonFinite(source, what, first + i, values[i]);
                }
            }
        } else {
            double[] values = (double[]) array;
            for (int i = 0; i < n; i++) {
                if (!Double.isFinite(values[i])) {
                    throw nonFinite(source, what, first + i, values[i]);
                }
            }
        }
    }

    public static MalformedFileException nonFinite(String source, String what, long element, double value) {
        return new MalformedFileException(source, what + " holds " + value + " at flat element " + element
                + " (NaN and infinities are refused; ReadOptions.allowNonFinite(true) accepts them)");
    }
}
