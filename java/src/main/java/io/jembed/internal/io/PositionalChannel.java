package io.jembed.internal.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;

/**
 * A read-only window {@code [start, end)} of a file channel, read with positional reads so that several windows of one
 * channel may be read from different threads. Reports end of stream at {@code end}. Not API.
 */
public final class PositionalChannel implements ReadableByteChannel {
    private final FileChannel channel;
    private long position;
    private final long end;

    public PositionalChannel(FileChannel channel, long start, long end) {
        this.channel = channel;
        this.position = start;
        this.end = end;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (position >= end) {
            return -1;
        }
        int limit = dst.limit();
        if (dst.remaining() > end - position) {
            dst.limit(dst.position() + (int) (end - position));
        }
        try {
            int n = channel.read(dst, position);
            if (n > 0) {
                position += n;
            }
            return n;
        } finally {
            dst.limit(limit);
        }
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() {
        // The channel belongs to the caller.
    }
}
