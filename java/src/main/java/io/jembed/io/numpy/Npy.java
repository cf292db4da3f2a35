package io.jembed.io.numpy;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.io.AtomicFileWrite;
import io.jembed.internal.io.ElementReader;
import io.jembed.internal.io.ElementWriter;
import io.jembed.internal.io.PositionalChannel;
import io.jembed.internal.io.Progress;
import io.jembed.internal.memory.Memory;
import io.jembed.io.ProgressListener;
import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads and writes NumPy {@code .npy} files: any rank, float16 (widened to float32), float32, float64, int32 and
 * int64, either byte order, C or Fortran order (Fortran-ordered data is reordered into jembed's row-major layout while
 * loading).
 *
 * <p>PyTorch equivalent: {@code torch.from_numpy(numpy.load(path))} and {@code numpy.save(path, t.numpy())}.
 *
 * <p>Thread-safe (no shared state).
 */
public final class Npy {
    private Npy() {}

    /** PyTorch equivalent: {@code torch.from_numpy(numpy.load(path))}. The caller owns the tensor. */
    public static Tensor load(Path file) throws IOException {
        return load(file, ReadOptions.defaults());
    }

    public static Tensor load(Path file, ReadOptions options) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            NpyHeader header = NpyHeader.read(channel, file.toString());
            Progress progress = new Progress(options.progress(), header.dataLength());
            Tensor t = read(header, new PositionalChannel(channel, header.dataOffset(),
                    header.dataOffset() + header.dataLength()), options, progress);
            progress.finish();
            return t;
        }
    }

    /**
     * Maps the array of an {@code .npy} file as a read-only tensor without reading it ({@link Torch#fromFile}: the
     * open costs the same for any size, pages are read as lookups touch them and shared by every process that maps
     * the file; writes throw, {@code clone()} gives a writable copy). Only data that is a jembed table as it is can be
     * mapped: float32, float64, int32 or int64 in this machine's byte order, C order (or rank at most 1).
     *
     * <p>PyTorch equivalent: {@code torch.from_numpy(numpy.load(path, mmap_mode='r'))}.
     *
     * @throws IllegalArgumentException if the data would need converting (float16, the other byte order, Fortran
     *     order): the message says which; {@link #load} converts while it reads
     * @throws io.jembed.io.MalformedFileException if the header is bad or the file shorter than it says
     */
    public static Tensor map(Path file) throws IOException {
        NpyHeader header;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            header = NpyHeader.read(channel, file.toString());
        }
        if (!header.mappable()) {
            String why = header.fortranOrder() ? "it is in Fortran order"
                    : header.byteOrder() != ByteOrder.nativeOrder() ? "its byte order is not this machine's"
                    : "its elements (" + header.descr() + ") are not stored as jembed holds them";
            throw new IllegalArgumentException(file + ": the array cannot be mapped as it is: " + why
                    + "; Npy.load reads it into memory, converting it");
        }
        return Torch.fromFile(file, header.dtype(), header.dataOffset(), header.shape());
    }

    /** Reads the data a validated header describes from {@code in} (positioned at the first element). */
    static Tensor read(NpyHeader header, ReadableByteChannel in, ReadOptions options, Progress progress)
            throws IOException {
        long[] shape = header.shape();
        if (!header.fortranOrder() || shape.length <= 1) {
            return ElementReader.read(in, header.element(), header.byteOrder(), shape, header.source(), "the array",
                    !options.allowNonFinite(), progress);
        }
        long[] reversed = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            reversed[i] = shape[shape.length - 1 - i];
        }
        try (Tensor columnMajor = ElementReader.read(in, header.element(), header.byteOrder(), reversed,
                header.source(), "the array", !options.allowNonFinite(), progress)) {
            Tensor out = Torch.empty(columnMajor.dtype(), shape);
            reverseAxes(TensorInternals.memory(columnMajor), TensorInternals.memory(out), shape,
                    columnMajor.dtype().itemSize());
            return out;
        }
    }

    /**
     * Writes, in row-major order of {@code shape}, the elements of a row-major array of the reversed shape (a
     * Fortran-ordered array): destination element (i0, ..., ik) comes from source element (ik, ..., i0).
     */
    private static void reverseAxes(Memory from, Memory to, long[] shape, int itemSize) {
        int rank = shape.length;
        long[] stride = new long[rank];   // the source stride of destination axis k: prod(shape[0..k-1])
        long s = 1;
        for (int k = 0; k < rank; k++) {
            stride[k] = s;
            s *= shape[k];
        }
        long total = s;
        long[] index = new long[rank];
        long source = 0;
        for (long dest = 0; dest < total; dest++) {
            if (itemSize == 8) {
                to.putLong(dest * 8, from.getLong(source * 8));
            } else {
                to.putInt(dest * 4, from.getInt(source * 4));
            }
            for (int k = rank - 1; k >= 0; k--) {
                if (++index[k] < shape[k]) {
                    source += stride[k];
                    break;
                }
                source -= stride[k] * (shape[k] - 1);
                index[k] = 0;
            }
        }
    }

    /** PyTorch equivalent: {@code numpy.save(path, t.numpy())}: format 1.0, little-endian, C order. */
    public static void save(Path file, Tensor tensor) throws IOException {
        save(file, tensor, ProgressListener.NONE);
    }

    public static void save(Path file, Tensor tensor, ProgressListener listener) throws IOException {
        if (tensor == null || tensor.isClosed()) {
            throw new IllegalArgumentException("the tensor is " + (tensor == null ? "null" : "closed"));
        }
        AtomicFileWrite.write(file, out -> write(tensor, out, listener));
    }

    /** The whole .npy file of {@code tensor}, written to {@code out}. */
    static void write(Tensor tensor, WritableByteChannel out, ProgressListener listener) throws IOException {
        ElementWriter.writeFully(out, ByteBuffer.wrap(header(tensor)));
        Progress progress = new Progress(listener, tensor.numel() * tensor.dtype().itemSize());
        ElementWriter.write(tensor, ByteOrder.LITTLE_ENDIAN, out, progress);
        progress.finish();
    }

    /** Magic, version 1.0, length, and the dict padded with spaces and a newline to a multiple of 64 bytes. */
    static byte[] header(Tensor tensor) {
        String descr = descr(tensor.dtype());
        StringBuilder shape = new StringBuilder("(");
        long[] dims = tensor.shape();
        for (int i = 0; i < dims.length; i++) {
            shape.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        shape.append(dims.length == 1 ? ",)" : ")");
        StringBuilder dict = new StringBuilder("{'descr': '").append(descr)
                .append("', 'fortran_order': False, 'shape': ").append(shape).append(", }");
        int unpadded = 10 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        dict.append(" ".repeat(padding)).append('\n');
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (text.length > 65535) {
            throw new IllegalArgumentException("an .npy 1.0 header of " + text.length + " bytes is too long");
        }
        ByteBuffer b = ByteBuffer.allocate(10 + text.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(NpyHeader.MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length).put(text);
        return b.array();
    }

    private static String descr(DType dtype) {
        switch (dtype) {
            case FLOAT32: return "<f4";
            case FLOAT64: return "<f8";
            case INT32: return "<i4";
            case INT64: return "<i8";
            case FLOAT16: return "<f2";
            default: throw new IllegalArgumentException("no .npy dtype for " + dtype + (dtype == DType.BFLOAT16
                    ? " (NumPy has no bfloat16: save it as safetensors, or convert it with to(DType.FLOAT32))" : ""));
        }
    }
}
