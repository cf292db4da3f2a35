package io.jembed.internal.memory;

import io.jembed.internal.NativeLibrary;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A block of off-heap memory with one owner.
 *
 * <p>Java code reads and writes it through direct {@link ByteBuffer} windows of at most 1 GiB each, so that a block
 * may exceed the 2 GiB limit of a single buffer; every element of size 1, 2, 4 or 8 bytes lies inside one window.
 * Native code reads it through {@link #address()} when the block is {@link #isNative() native}.
 *
 * <p>{@link #close()} frees the memory and is harmless when repeated; a block that is dropped without being closed
 * is freed by a {@link Cleaner} after it becomes unreachable. Accessors do not check for closure (they are the hot
 * path): every operation that reads or writes a block, in Java or native code, holds it in a {@link MemoryGuard} for
 * its duration, which fails if the block is closed and makes {@code close()} wait until the operation is over.
 *
 * <p>Thread safety: concurrent reads and writes of distinct bytes are safe (all window access is absolute).
 * {@code close()} may race with guarded operations on other threads: they either fail with
 * {@link IllegalStateException} (if they start after it) or finish before the memory is freed.
 */
public abstract class Memory implements AutoCloseable {
    static final int WINDOW_SHIFT = 30;
    static final long WINDOW_BYTES = 1L << WINDOW_SHIFT;
    static final long WINDOW_MASK = WINDOW_BYTES - 1;
    static final Cleaner CLEANER = Cleaner.create();
    /** Acquire/release access to elements of window and view arrays that are filled on demand. */
    static final VarHandle VIEWS = MethodHandles.arrayElementVarHandle(Buffer[].class);
    static final VarHandle WINDOWS = MethodHandles.arrayElementVarHandle(ByteBuffer[].class);
    /** Every block's bytes, native or buffer, until freed. */
    static final LiveMemoryBudget LIVE_MEMORY = new LiveMemoryBudget();

    private static final java.util.concurrent.atomic.AtomicLong NEXT_ID = new java.util.concurrent.atomic.AtomicLong();
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 16);

    private final long byteSize;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean closed;
    /**
     * This block's number, unique in the JVM (never reused, never 0): what a {@link MemoryGuard} records for closing
     * threads to find, a {@code long} store rather than a reference store (which costs the garbage collector's
     * write barrier, with G1 a full fence, on every call that passes a new block, e.g. each request's indices).
     */
    final long id = NEXT_ID.incrementAndGet();
    /**
     * Typed views of the windows, four per window (float, double, long, int), made on first use. Read and written
     * with acquire/release: a view seen by another thread must be seen whole, or it could use an address of 0.
     */
    private final Buffer[] typedViews;

    Memory(long byteSize, Runnable release) {
        this.byteSize = byteSize;
        this.typedViews = new Buffer[4 * windowCount(byteSize)];
        this.cleanable = CLEANER.register(this, release);
    }

    /**
     * Allocates {@code bytes} uninitialised bytes: native memory when jembed's JNI library is available, direct byte
     * buffers otherwise.
     *
     * @throws IllegalArgumentException if {@code bytes} is negative
     * @throws OutOfMemoryError if the memory cannot be had
     */
    public static Memory allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes: the size must be >= 0");
        }
        return NativeLibrary.isAvailable() ? NativeMemory.allocateNative(bytes) : BufferMemory.allocateBuffers(bytes);
    }

    /** Allocates {@code bytes} bytes set to zero. */
    public static Memory allocateZeroed(long bytes) {
        Memory memory = allocate(bytes);
        memory.fillZero(0, bytes);
        return memory;
    }

    public final long byteSize() {
        return byteSize;
    }

    /**
     * Maps bytes {@code [offset, offset + length)} of a file read-only, without reading them: native memory maps when
     * jembed's JNI library is available (one mapping, huge pages advised), {@code FileChannel.map} windows of 1 GiB
     * otherwise. The open costs the same for any length; pages are read on first touch and shared, through the page
     * cache, with every process that maps the file. Writes through the block are refused ({@link #checkWritable()}).
     *
     * <p>The file must not be truncated while mapped: touching a page past its new end raises SIGBUS, which kills
     * the JVM when native code touches it. Replace mapped files by renaming a new file over them.
     *
     * @throws IOException if the file cannot be opened or mapped, or holds fewer than {@code offset + length} bytes
     * @throws IllegalArgumentException if {@code offset} or {@code length} is negative, or their sum overflows
     */
    public static Memory mapReadOnly(Path file, long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException("cannot map " + length + " bytes at offset " + offset + " of " + file
                    + ": the offset and length must be >= 0 and their sum at most " + Long.MAX_VALUE);
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " is not a regular file" + (Files.exists(file) ? "" : " (it does not exist)"));
        }
        long size = Files.size(file);
        if (offset + length > size) {
            throw new IOException(file + " holds " + size + " bytes, too few for bytes " + offset + " to "
                    + (offset + length) + " of a mapped tensor (a truncated file, or a header that lies)");
        }
        return NativeLibrary.isAvailable() ? MappedNativeMemory.map(file, offset, length)
                : MappedBufferMemory.map(file, offset, length);
    }

    /**
     * {@code null} for ordinary memory; for read-only memory, what it is, for error messages, e.g.
     * {@code "a read-only memory map of bytes 128 to 4128 of /data/table.safetensors"}.
     */
    public String readOnlySource() {
        return null;
    }

    /** True when writes are refused: a read-only memory map of a file. */
    public final boolean isReadOnly() {
        return readOnlySource() != null;
    }

    /**
     * Refuses writes into read-only memory before they reach it (native code would fault on it).
     *
     * @throws UnsupportedOperationException naming the file, if this block is read-only
     */
    public final void checkWritable() {
        String source = readOnlySource();
        if (source != null) {
            throw new UnsupportedOperationException("cannot write into a tensor that is " + source
                    + ": writes (training steps, max_norm renorm, in-place operations) are refused; "
                    + "clone() it for a writable copy in memory");
        }
    }

    /** True when native code may use {@link #address()}. */
    public abstract boolean isNative();

    /** The address of byte 0 for native code; only meaningful when {@link #isNative()}. */
    public abstract long address();

    /** The window holding byte {@code w << 30}; its byte 0 is that byte. Absolute access only. */
    abstract ByteBuffer window(int w);

    public final float getFloat(long offset) {
        return window((int) (offset >>> WINDOW_SHIFT)).getFloat((int) (offset & WINDOW_MASK));
    }

    public final void putFloat(long offset, float value) {
        window((int) (offset >>> WINDOW_SHIFT)).putFloat((int) (offset & WINDOW_MASK), value);
    }

    public final double getDouble(long offset) {
        return window((int) (offset >>> WINDOW_SHIFT)).getDouble((int) (offset & WINDOW_MASK));
    }

    public final void putDouble(long offset, double value) {
        window((int) (offset >>> WINDOW_SHIFT)).putDouble((int) (offset & WINDOW_MASK), value);
    }

    public final long getLong(long offset) {
        return window((int) (offset >>> WINDOW_SHIFT)).getLong((int) (offset & WINDOW_MASK));
    }

    public final void putLong(long offset, long value) {
        window((int) (offset >>> WINDOW_SHIFT)).putLong((int) (offset & WINDOW_MASK), value);
    }

    public final int getInt(long offset) {
        return window((int) (offset >>> WINDOW_SHIFT)).getInt((int) (offset & WINDOW_MASK));
    }

    public final void putInt(long offset, int value) {
        window((int) (offset >>> WINDOW_SHIFT)).putInt((int) (offset & WINDOW_MASK), value);
    }

    public final short getShort(long offset) {
        return window((int) (offset >>> WINDOW_SHIFT)).getShort((int) (offset & WINDOW_MASK));
    }

    public final void putShort(long offset, short value) {
        window((int) (offset >>> WINDOW_SHIFT)).putShort((int) (offset & WINDOW_MASK), value);
    }

    /**
     * Copies {@code count} elements of a primitive array ({@code float[]}, {@code double[]}, {@code long[]} or
     * {@code int[]}) starting at {@code from} into this block at byte {@code offset}, in bulk.
     */
    public final void copyFromArray(Object array, int from, int count, long offset) {
        bulk(array, from, count, offset, true);
    }

    /** Copies {@code count} elements from byte {@code offset} of this block into a primitive array, in bulk. */
    public final void copyToArray(long offset, Object array, int from, int count) {
        bulk(array, from, count, offset, false);
    }

    private void bulk(Object array, int from, int count, long offset, boolean in) {
        int itemSize = array instanceof float[] || array instanceof int[] ? 4 : 8;
        while (count > 0) {
            int w = (int) (offset >>> WINDOW_SHIFT);
            int pos = (int) (offset & WINDOW_MASK);
            int n = (int) Math.min(count, (WINDOW_BYTES - pos) / itemSize);
            Buffer view = typedView(w, array);
            // Absolute bulk transfers leave the view's position alone, so one view serves every thread.
            if (array instanceof float[]) {
                if (in) {
                    ((FloatBuffer) view).put(pos / 4, (float[]) array, from, n);
                } else {
                    ((FloatBuffer) view).get(pos / 4, (float[]) array, from, n);
                }
            } else if (array instanceof double[]) {
                if (in) {
                    ((DoubleBuffer) view).put(pos / 8, (double[]) array, from, n);
                } else {
                    ((DoubleBuffer) view).get(pos / 8, (double[]) array, from, n);
                }
            } else if (array instanceof long[]) {
                if (in) {
                    ((LongBuffer) view).put(pos / 8, (long[]) array, from, n);
                } else {
                    ((LongBuffer) view).get(pos / 8, (long[]) array, from, n);
                }
            } else {
                if (in) {
                    ((IntBuffer) view).put(pos / 4, (int[]) array, from, n);
                } else {
                    ((IntBuffer) view).get(pos / 4, (int[]) array, from, n);
                }
            }
            from += n;
            count -= n;
            offset += (long) n * itemSize;
        }
    }

    /**
     * The window {@code w} as a buffer of the array's element type, made once and kept: a view made per call is
     * usually removed by escape analysis, but not always, and then every copy into an index tensor allocated one
     * (56 bytes per lookup in the benchmarks' allocation profile).
     */
    private Buffer typedView(int w, Object array) {
        int kind = array instanceof float[] ? 0 : array instanceof double[] ? 1 : array instanceof long[] ? 2
                : array instanceof int[] ? 3 : -1;
        if (kind < 0) {
            throw new IllegalArgumentException("not a float[], double[], long[] or int[]: " + array);
        }
        int slot = 4 * w + kind;
        Buffer view = (Buffer) VIEWS.getAcquire(typedViews, slot);
        if (view == null) {
            // A race makes two equivalent views of the same bytes, which is harmless.
            ByteBuffer window = window(w);
            view = kind == 0 ? window.asFloatBuffer() : kind == 1 ? window.asDoubleBuffer()
                    : kind == 2 ? window.asLongBuffer() : window.asIntBuffer();
            VIEWS.setRelease(typedViews, slot, view);
        }
        return view;
    }

    /** One byte (for byte-addressed layouts such as row-wise quantized tables). */
    public final byte getByte(long offset) {
        return window((int) (offset >>> WINDOW_SHIFT)).get((int) (offset & WINDOW_MASK));
    }

    public final void putByte(long offset, byte value) {
        window((int) (offset >>> WINDOW_SHIFT)).put((int) (offset & WINDOW_MASK), value);
    }

    /** Copies {@code count} bytes of {@code array} from {@code from} into this block at byte {@code offset}. */
    public final void copyFromBytes(byte[] array, int from, int count, long offset) {
        while (count > 0) {
            int pos = (int) (offset & WINDOW_MASK);
            int n = (int) Math.min(count, WINDOW_BYTES - pos);
            window((int) (offset >>> WINDOW_SHIFT)).put(pos, array, from, n);
            from += n;
            count -= n;
            offset += n;
        }
    }

    /** Copies {@code count} bytes from byte {@code offset} of this block into {@code array} at {@code from}. */
    public final void copyToBytes(long offset, byte[] array, int from, int count) {
        while (count > 0) {
            int pos = (int) (offset & WINDOW_MASK);
            int n = (int) Math.min(count, WINDOW_BYTES - pos);
            window((int) (offset >>> WINDOW_SHIFT)).get(pos, array, from, n);
            from += n;
            count -= n;
            offset += n;
        }
    }

    /** Copies {@code length} bytes from this block at {@code offset} to {@code target} at {@code targetOffset}. */
    public final void copyTo(long offset, Memory target, long targetOffset, long length) {
        while (length > 0) {
            int sourcePos = (int) (offset & WINDOW_MASK);
            int targetPos = (int) (targetOffset & WINDOW_MASK);
            long chunk = Math.min(length, Math.min(WINDOW_BYTES - sourcePos, WINDOW_BYTES - targetPos));
            target.window((int) (targetOffset >>> WINDOW_SHIFT))
                    .put(targetPos, window((int) (offset >>> WINDOW_SHIFT)), sourcePos, (int) chunk);
            offset += chunk;
            targetOffset += chunk;
            length -= chunk;
        }
    }

    /** Sets {@code length} bytes from {@code offset} to zero. */
    public final void fillZero(long offset, long length) {
        while (length > 0) {
            int pos = (int) (offset & WINDOW_MASK);
            int chunk = (int) Math.min(Math.min(length, ZEROS.capacity()), WINDOW_BYTES - pos);
            window((int) (offset >>> WINDOW_SHIFT)).put(pos, ZEROS, 0, chunk);
            offset += chunk;
            length -= chunk;
        }
    }

    public final boolean isClosed() {
        return closed;
    }

    /** @throws IllegalStateException if this block has been closed */
    public final void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the tensor's memory has been closed");
        }
    }

    /**
     * Frees the memory; later calls do nothing. Every later {@link MemoryGuard#enter} of this block fails with
     * {@link IllegalStateException}; calls that hold it already (on any thread) finish first: this waits for them, so
     * memory is never freed under a running call.
     *
     * @throws IllegalStateException if a call on this very thread holds the block (waiting would never end); the
     *     block stays open
     */
    @Override
    public final void close() {
        if (closed) {
            return;
        }
        if (MemoryGuard.heldByCurrentThread(this)) {
            throw new IllegalStateException("cannot close a tensor inside a call that is using it");
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        MemoryGuard.awaitRelease(this);
        for (int slot = 0; slot < typedViews.length; slot++) {
            VIEWS.setRelease(typedViews, slot, (Buffer) null);
        }
        released();
        cleanable.clean();
    }

    /** Drops references to the memory before it is freed. */
    abstract void released();

    static int windowCount(long bytes) {
        return (int) ((bytes + WINDOW_BYTES - 1) >>> WINDOW_SHIFT);
    }
}
