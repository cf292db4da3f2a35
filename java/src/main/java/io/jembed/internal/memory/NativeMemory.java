package io.jembed.internal.memory;

import io.jembed.internal.nativebinding.JembedNative;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;

/**
 * Memory from {@code jembed_alloc}: 64-byte aligned, huge pages for large blocks, addressable by native kernels.
 * Counted by {@link LiveMemoryBudget}, so that dropped blocks are collected before they pile up.
 */
final class NativeMemory extends Memory {
    private volatile long address;
    private final ByteBuffer[] windows;

    private NativeMemory(long address, long bytes) {
        super(bytes, new Free(address, bytes));
        this.address = address;
        this.windows = new ByteBuffer[windowCount(bytes)];
    }

    static NativeMemory allocateNative(long bytes) {
        LIVE_MEMORY.reserve(bytes);
        long address = JembedNative.alloc(bytes);
        if (address == 0) {
            LIVE_MEMORY.collectNow();
            address = JembedNative.alloc(bytes);
        }
        if (address == 0) {
            LIVE_MEMORY.release(bytes);
            throw new OutOfMemoryError("jembed could not allocate " + bytes + " bytes of native memory ("
                    + LIVE_MEMORY.liveBytes() + " bytes held by open tensors)");
        }
        return new NativeMemory(address, bytes);
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
    ByteBuffer window(int w) {
        // Acquire/release: a window seen by another thread must be seen whole, or it could use an address of 0.
        ByteBuffer window = (ByteBuffer) WINDOWS.getAcquire(windows, w);
        if (window == null) {
            // Created on demand: the native backend never reads its tensors through windows. A race creates two
            // equivalent views of the same bytes, which is harmless.
            long start = (long) w << WINDOW_SHIFT;
            window = directBuffer(address + start, Math.min(WINDOW_BYTES, byteSize() - start));
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

    static ByteBuffer directBuffer(long start, long length) {
        // A byte view of the block; JavaCPP sizes the buffer as limit * sizeof(), and sizeof() of a subclass is
        // looked up by class, so it is fixed to one byte here.
        Pointer view = new Pointer() {
            {
                this.address = start; // not "address": inside this class that name is the inherited field
                this.limit = length;
                this.capacity = length;
            }

            @Override
            public int sizeof() {
                return 1;
            }
        };
        return view.asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /** Holds only the address, never the {@code NativeMemory}, so that the Cleaner can run. */
    private static final class Free implements Runnable {
        private final long address;
        private final long bytes;

        Free(long address, long bytes) {
            this.address = address;
            this.bytes = bytes;
        }

        @Override
        public void run() {
            JembedNative.free(address);
            LIVE_MEMORY.release(bytes);
        }
    }
}
