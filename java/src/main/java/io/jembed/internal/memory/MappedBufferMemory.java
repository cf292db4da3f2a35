package io.jembed.internal.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A read-only map of part of a file for JVMs without jembed's JNI library: {@code FileChannel.map} windows of 1 GiB
 * (one {@code MappedByteBuffer} holds at most 2 GiB), little-endian as the files are. Not addressable by native
 * code. Unmapped by {@link #close()} through {@code Unsafe.invokeCleaner} where the JDK offers it, otherwise when the
 * garbage collector finds the buffers unreachable.
 */
final class MappedBufferMemory extends Memory {
    private final ByteBuffer[] windows;
    private final String source;

    private MappedBufferMemory(ByteBuffer[] windows, long length, String source) {
        super(length, new BufferMemory.Unmap(windows));
        this.windows = windows;
        this.source = source;
    }

    /** Maps the range; the caller has checked the arguments and that the file holds the range. */
    static MappedBufferMemory map(Path file, long offset, long length) throws IOException {
        Path absolute = file.toAbsolutePath();
        ByteBuffer[] windows = new ByteBuffer[windowCount(length)];
        try (FileChannel channel = FileChannel.open(absolute, StandardOpenOption.READ)) {
            // Checked again on the open file: it may have shrunk since the caller looked.
            if (offset + length > channel.size()) {
                throw new IOException(absolute + " holds " + channel.size() + " bytes, too few for bytes " + offset
                        + " to " + (offset + length) + " of a mapped tensor");
            }
            for (int w = 0; w < windows.length; w++) {
                long start = (long) w << WINDOW_SHIFT;
                windows[w] = channel.map(FileChannel.MapMode.READ_ONLY, offset + start,
                        Math.min(WINDOW_BYTES, length - start)).order(ByteOrder.LITTLE_ENDIAN);
            }
        } catch (IOException | RuntimeException | Error e) {
            new BufferMemory.Unmap(windows).run();
            throw e;
        }
        // The mappings outlive the channel.
        return new MappedBufferMemory(windows, length, "a read-only memory map of bytes " + offset + " to "
                + (offset + length) + " of " + absolute);
    }

    @Override
    public boolean isNative() {
        return false;
    }

    @Override
    public long address() {
        return 0;
    }

    @Override
    public String readOnlySource() {
        return source;
    }

    @Override
    ByteBuffer window(int w) {
        return windows[w];
    }

    @Override
    void released() {
        // Unmap.run() releases the buffers themselves.
    }
}
