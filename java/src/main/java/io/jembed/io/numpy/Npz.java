package io.jembed.io.numpy;

import io.jembed.Tensor;
import io.jembed.internal.io.AtomicFileWrite;
import io.jembed.internal.io.Progress;
import io.jembed.io.MalformedFileException;
import io.jembed.io.ProgressListener;
import io.jembed.io.ReadOptions;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes NumPy {@code .npz} archives (a zip of {@code .npy} files, stored or deflated).
 *
 * <p>Zip bombs are refused before anything is allocated: an entry's size as the archive declares it must agree with
 * the array its header describes, and may not exceed what its compressed bytes can inflate to (deflate's limit is
 * 1032:1); inflating is stopped at the declared size, and an entry that inflates to more or less is reported.
 *
 * <p>PyTorch equivalent: {@code numpy.load(path)} of an .npz ({@code {k: torch.from_numpy(v) for k, v in ...}}) and
 * {@code numpy.savez_compressed}.
 *
 * <p>Thread-safe (no shared state).
 */
public final class Npz {
    /** The most bytes deflate can produce from one compressed byte (258-byte matches of 2 bits each). */
    static final long MAX_DEFLATE_RATIO = 1032;

    private Npz() {}

    /** Every array of the archive by name (without {@code .npy}), in archive order. The caller owns the tensors. */
    public static Map<String, Tensor> load(Path file) throws IOException {
        return load(file, ReadOptions.defaults());
    }

    public static Map<String, Tensor> load(Path file, ReadOptions options) throws IOException {
        String source = file.toString();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (ZipFile zip = open(file)) {
            long total = 0;
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                total += Math.max(0, e.nextElement().getSize());
            }
            Progress progress = new Progress(options.progress(), total);
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                String name = entry.getName();
                if (!name.endsWith(".npy") || entry.isDirectory()) {
                    throw new MalformedFileException(source, "entry '" + name + "' is not an .npy array");
                }
                String key = name.substring(0, name.length() - 4);
                if (out.containsKey(key)) {
                    throw new MalformedFileException(source, "duplicate entry '" + name + "'");
                }
                out.put(key, readEntry(zip, entry, source + "!" + name, options, progress));
            }
            progress.finish();
            return out;
        } catch (ZipException | java.io.EOFException e) {
            // A corrupt central directory, or deflated data that ends early or does not inflate.
            out.values().forEach(Tensor::close);
            throw new MalformedFileException(source, "not a valid zip archive: " + e.getMessage(), e);
        } catch (IOException | RuntimeException | Error e) {
            out.values().forEach(Tensor::close);
            throw e;
        }
    }

    private static ZipFile open(Path file) throws IOException {
        try {
            return new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new MalformedFileException(file.toString(), "not a valid zip archive: " + e.getMessage(), e);
        }
    }

    private static Tensor readEntry(ZipFile zip, ZipEntry entry, String source, ReadOptions options,
                                    Progress progress) throws IOException {
        long size = entry.getSize();
        long compressed = entry.getCompressedSize();
        if (size < 0 || compressed < 0) {
            throw new MalformedFileException(source, "the archive does not declare the entry's size");
        }
        boolean bomb = entry.getMethod() == ZipEntry.STORED ? size != compressed
                : compressed < Long.MAX_VALUE / MAX_DEFLATE_RATIO && size > compressed * MAX_DEFLATE_RATIO + 64;
        if (bomb) {
            throw new MalformedFileException(source, "zip bomb: the entry claims " + size + " bytes from "
                    + compressed + " compressed bytes, more than " + (entry.getMethod() == ZipEntry.STORED
                    ? "a stored entry holds" : "deflate can produce (" + MAX_DEFLATE_RATIO + ":1)"));
        }
        try (InputStream in = zip.getInputStream(entry)) {
            ByteBuffer prefix = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            readExactly(in, prefix.array(), 0, (int) Math.min(12, size), source);
            int headerEnd = prefix.get(6) == 1 ? 10 + (prefix.getShort(8) & 0xffff)
                    : 12 + (int) Math.min(prefix.getInt(8) & 0xffffffffL, NpyHeader.MAX_HEADER_LENGTH + 1L);
            ByteBuffer header = ByteBuffer.allocate((int) Math.min(headerEnd, Math.max(12, size)));
            System.arraycopy(prefix.array(), 0, header.array(), 0, Math.min(12, header.capacity()));
            if (header.capacity() > 12) {
                readExactly(in, header.array(), 12, header.capacity() - 12, source);
            }
            NpyHeader parsed = NpyHeader.parse(header, size, source);
            Tensor t = Npy.read(parsed, Channels.newChannel(in), options, progress);
            if (in.read() >= 0) {
                t.close();
                throw new MalformedFileException(source, "the entry inflates to more than its declared " + size
                        + " bytes");
            }
            return t;
        }
    }

    private static void readExactly(InputStream in, byte[] into, int from, int count, String source)
            throws IOException {
        int done = 0;
        while (done < count) {
            int n = in.read(into, from + done, count - done);
            if (n < 0) {
                throw new MalformedFileException(source, "truncated: the entry ends inside the .npy header");
            }
            done += n;
        }
    }

    /** PyTorch equivalent: {@code numpy.savez_compressed(path, **{k: t.numpy()})}. */
    public static void save(Path file, Map<String, Tensor> arrays) throws IOException {
        save(file, arrays, ProgressListener.NONE);
    }

    public static void save(Path file, Map<String, Tensor> arrays, ProgressListener listener) throws IOException {
        AtomicFileWrite.write(file, out -> {
            try (OutputStream raw = new BufferedOutputStream(Channels.newOutputStream(out), 1 << 16);
                 ZipOutputStream zip = new ZipOutputStream(raw)) {
                for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
                    zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                    Npy.write(e.getValue(), Channels.newChannel(new NonClosing(zip)), listener);
                    zip.closeEntry();
                }
            }
        });
    }

    /** Keeps the channel wrapper from closing the zip stream under the next entry. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
