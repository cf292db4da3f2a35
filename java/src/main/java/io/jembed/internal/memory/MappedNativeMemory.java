package io.jembed.internal.memory;

import io.jembed.internal.nativebinding.JembedNative;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * A read-only native memory map of part of a file ({@code jembed_map_file}): one contiguous mapping that native
 * kernels read by address, and read-only byte-buffer windows for Java. Unmapped by {@link #close()}, or by the
 * Cleaner once unreachable. Not counted by {@link LiveMemoryBudget}: the bytes belong to the page cache, which the
 * kernel reclaims by itself.
 */
final class MappedNativeMemory extends Memory {
    /** {@code -Djembed.mmap.hugePages=false} stops the transparent-huge-page advice on large mappings. */
    private static final boolean HUGE_PAGES = !"false".equalsIgnoreCase(
            System.getProperty("jembed.mmap.hugePages", "true"));
    private static final int ERR_ARGUMENT = -3;
    private static final int ERR_SHORT_FILE = -4;
    private static final int ERR_NOT_REGULAR = -5;

    private volatile long address;
    private final ByteBuffer[] windows;
    private final String source;

    private MappedNativeMemory(long address, long length, String source) {
        super(length, new Unmap(address, length));
        this.address = address;
        this.windows = new ByteBuffer[windowCount(length)];
        this.source = source;
    }

    /** Maps the range; the caller has checked the arguments and that the file holds the range. */
    static MappedNativeMemory map(Path file, long offset, long length) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("memory-mapped tensors are little-endian, as the files are, and "
                    + "this platform is big-endian: load " + file + " into memory instead");
        }
        Path absolute = file.toAbsolutePath();
        byte[] name = absolute.toString().getBytes(pathCharset());
        long mapped;
        long status;
        try (BytePointer path = new BytePointer(name.length + 1L);
             LongPointer result = new LongPointer(1)) {
            path.put(name).put(name.length, (byte) 0);
            mapped = JembedNative.mapFile(path, offset, length, HUGE_PAGES ? 1 : 0, result);
            status = result.get();
        }
        if (mapped == 0) {
            throw new IOException("cannot map bytes " + offset + " to " + (offset + length) + " of " + absolute + ": "
                    + describe(status));
        }
        return new MappedNativeMemory(mapped, length, "a read-only memory map of bytes " + offset + " to "
                + (offset + length) + " of " + absolute);
    }

    /** The charset the JDK uses for file names (sun.jnu.encoding), which the OS's open() expects. */
    private static Charset pathCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name != null ? Charset.forName(name) : Charset.defaultCharset();
        } catch (RuntimeException e) {
            return Charset.defaultCharset();
        }
    }

    private static String describe(long status) {
        if (status == ERR_SHORT_FILE) {
            return "the file is shorter than that (truncated since it was checked?)";
        }
        if (status == ERR_NOT_REGULAR) {
            return "not a regular file";
        }
        if (status == ERR_ARGUMENT) {
            return "the range or path was refused";
        }
        String name = status == 2 ? "ENOENT, no such file" : status == 13 ? "EACCES, permission denied"
                : status == 12 ? "ENOMEM, out of address space or map count" : status == 19
                ? "ENODEV, the file system does not support memory maps" : status == 24 ? "EMFILE, too many open files"
                : "OS error";
        return name + " (" + status + ")";
    }

    @Override
    public boolean isNative() {
        return true;
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public String readOnlySource() {
        return source;
    }

    @Override
    ByteBuffer window(int w) {
        ByteBuffer window = (ByteBuffer) WINDOWS.getAcquire(windows, w);
        if (window == null) {
            long start = (long) w << WINDOW_SHIFT;
            // Read-only: a put through a window would fault on the PROT_READ mapping; this way it throws instead.
            window = NativeMemory.directBuffer(address + start, Math.min(WINDOW_BYTES, byteSize() - start))
                    .asReadOnlyBuffer().order(ByteOrder.nativeOrder());
            WINDOWS.setRelease(windows, w, window);
        }
        return window;
    }

    @Override
    void released() {
        address = 0;
        for (int w = 0; w < windows.length; w++) {
            WINDOWS.setRelease(windows, w, (ByteBuffer) null);
        }
    }

    /** Holds only the address, never the memory object, so that the Cleaner can run. */
    private static final class Unmap implements Runnable {
        private final long address;
        private final long length;

        Unmap(long address, long length) {
            this.address = address;
            this.length = length;
        }

        @Override
        public void run() {
            JembedNative.unmapFile(address, length);
        }
    }
}
