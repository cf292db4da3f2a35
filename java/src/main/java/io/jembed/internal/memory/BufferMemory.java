package io.jembed.internal.memory;

import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Memory made of direct byte buffers, for JVMs where jembed's JNI library is not available. Not addressable by
 * native code.
 */
final class BufferMemory extends Memory {
    private final ByteBuffer[] windows;

    private BufferMemory(ByteBuffer[] windows, long bytes) {
        super(bytes, new Free(windows, bytes));
        this.windows = windows;
    }

    static BufferMemory allocateBuffers(long bytes) {
        LIVE_MEMORY.reserve(bytes);
        ByteBuffer[] windows = new ByteBuffer[windowCount(bytes)];
        try {
            for (int w = 0; w < windows.length; w++) {
                long length = Math.min(WINDOW_BYTES, bytes - ((long) w << WINDOW_SHIFT));
                windows[w] = ByteBuffer.allocateDirect((int) length).order(ByteOrder.nativeOrder());
            }
        } catch (OutOfMemoryError e) {
            new Free(windows, bytes).run();
            throw e;
        }
        return new BufferMemory(windows, bytes);
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
    ByteBuffer window(int w) {
        return windows[w];
    }

    @Override
    void released() {
        // Free.run() releases the buffers themselves.
    }

    /** Releases the budget's count, then the buffers. */
    private static final class Free implements Runnable {
        private final Unmap buffers;
        private final long bytes;
        private boolean done;

        Free(ByteBuffer[] windows, long bytes) {
            this.buffers = new Unmap(windows);
            this.bytes = bytes;
        }

        @Override
        public void run() {
            if (done) {
                return;
            }
            done = true;
            LIVE_MEMORY.release(bytes);
            buffers.run();
        }
    }

    /**
     * Frees direct (or mapped) buffers now through {@code sun.misc.Unsafe.invokeCleaner} where the JDK offers it;
     * otherwise they are freed when the garbage collector finds them unreachable. Later runs do nothing.
     */
    static final class Unmap implements Runnable {
        private static final Object UNSAFE;
        private static final Method INVOKE_CLEANER;

        static {
            Object unsafe = null;
            Method invokeCleaner = null;
            try {
                Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
                java.lang.reflect.Field field = unsafeClass.getDeclaredField("theUnsafe");
                field.setAccessible(true);
                unsafe = field.get(null);
                invokeCleaner = unsafeClass.getMethod("invokeCleaner", ByteBuffer.class);
            } catch (ReflectiveOperationException | RuntimeException e) {
                unsafe = null;
                invokeCleaner = null;
            }
            UNSAFE = unsafe;
            INVOKE_CLEANER = invokeCleaner;
        }

        private ByteBuffer[] windows;

        Unmap(ByteBuffer[] windows) {
            this.windows = windows;
        }

        @Override
        public void run() {
            ByteBuffer[] toFree = windows;
            windows = null;
            if (toFree == null || INVOKE_CLEANER == null) {
                return;
            }
            for (ByteBuffer buffer : toFree) {
                if (buffer == null) {
                    continue; // an allocation or map that failed part way
                }
                try {
                    INVOKE_CLEANER.invoke(UNSAFE, buffer);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    return; // the garbage collector frees what is left
                }
            }
        }
    }
}
