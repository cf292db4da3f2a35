package io.jembed.backend;

import java.lang.reflect.Field;

/**
 * The smallest gathers of the native backend done in Java, without a JNI call: a server's request of a few rows
 * from a table in cache costs less copied by the JIT's own copy stub ({@code Unsafe.copyMemory}, the intrinsic
 * behind {@code System.arraycopy}'s off-heap cousin) than the fixed price of a native call (the JNI transition and
 * the kernel's dispatch, ~20 ns of a 40 ns call measured by async-profiler, issue 13). Larger gathers go to the
 * kernels, whose vector copies and prefetches win once there are enough rows.
 *
 * <p>Same contract as the kernels: every index is validated before any row is written (a failed call changes
 * nothing) and the status is the flat position of the first bad index, or {@code -1}. Each index is read twice
 * (validated, then used), so an index that another thread rewrites in between is checked again before it is used:
 * {@link #RACED} then, and never an address outside the table.
 *
 * <p>Used only where {@code sun.misc.Unsafe} offers its memory methods without a warning: JDK 17 to 23 (JDK 24 warns
 * on their first use, JEP 498, and later releases will refuse them); elsewhere {@link #AVAILABLE} is false and every
 * gather goes to the kernels. The addresses come from open native tensors that the calling thread's
 * {@code MemoryGuard} holds, so they stay valid for the whole copy.
 */
final class SmallGather {
    /**
     * The most rows a gather done here may have: {@code -Djembed.smallGatherRows}. Per row, the copy stub costs
     * about what {@code System.arraycopy} does (2.7 ns at dim 16, 7.4 at dim 128 in docs/bench/full), a little more
     * than the kernel (1.9 and 6.7 ns); the native call's fixed price (~20 ns) is won back only after 20 to 30
     * rows. Measured with {@code ServingBenchmark} under {@code scripts/bench-ab}: docs/bench/serving/README.md.
     */
    static final long MAX_ROWS = Long.getLong("jembed.smallGatherRows", 16);
    /**
     * And the most bytes of rows: {@code -Djembed.smallGatherBytes}. Measured: 8 rows of 512 bytes (4 KB) took 148 ns
     * copied here against 99 in the kernel, 8 rows of 64 bytes 52 ns here against 77 in the kernel.
     */
    static final long MAX_BYTES = Long.getLong("jembed.smallGatherBytes", 2048);
    /** The status of a gather whose indices another thread rewrote between their validation and their use. */
    static final long RACED = -3;
    private static final sun.misc.Unsafe UNSAFE = unsafe();
    /** True if the Java copy is used at all (a constant to the JIT, so the branch folds away). */
    static final boolean AVAILABLE = UNSAFE != null && MAX_ROWS > 0 && MAX_BYTES > 0;

    private SmallGather() {}

    @SuppressWarnings("removal") // deprecated for removal in JDK 23; used only below JDK 24, where it is silent
    private static sun.misc.Unsafe unsafe() {
        if (Runtime.version().feature() >= 24) {
            return null;
        }
        try {
            Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (sun.misc.Unsafe) field.get(null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** True if a gather of {@code n} rows of {@code rowBytes} bytes is done here. */
    static boolean takes(long n, long rowBytes) {
        return AVAILABLE && n <= MAX_ROWS && n * rowBytes <= MAX_BYTES;
    }

    /** {@code n} int64 (or int32, {@code wide} false) indices at native address {@code idx}. */
    static long gather(long table, long rows, long rowBytes, long idx, boolean wide, long n, long out) {
        sun.misc.Unsafe u = UNSAFE;
        int shift = wide ? 3 : 2;
        for (long i = 0; i < n; i++) {
            long index = wide ? u.getLong(idx + (i << shift)) : u.getInt(idx + (i << shift));
            if (Long.compareUnsigned(index, rows) >= 0) {
                return i;
            }
        }
        for (long i = 0; i < n; i++) {
            long index = wide ? u.getLong(idx + (i << shift)) : u.getInt(idx + (i << shift));
            if (Long.compareUnsigned(index, rows) >= 0) {
                return RACED;
            }
            u.copyMemory(table + index * rowBytes, out + i * rowBytes, rowBytes);
        }
        return -1;
    }

    /** A request in a Java {@code long[]}. */
    static long gather(long table, long rows, long rowBytes, long[] idx, long out) {
        for (int i = 0; i < idx.length; i++) {
            if (Long.compareUnsigned(idx[i], rows) >= 0) {
                return i;
            }
        }
        sun.misc.Unsafe u = UNSAFE;
        for (int i = 0; i < idx.length; i++) {
            long index = idx[i];
            if (Long.compareUnsigned(index, rows) >= 0) {
                return RACED;
            }
            u.copyMemory(table + index * rowBytes, out + i * rowBytes, rowBytes);
        }
        return -1;
    }

    /** A request in a Java {@code int[]}. */
    static long gather(long table, long rows, long rowBytes, int[] idx, long out) {
        for (int i = 0; i < idx.length; i++) {
            if (Long.compareUnsigned(idx[i], rows) >= 0) {
                return i;
            }
        }
        sun.misc.Unsafe u = UNSAFE;
        for (int i = 0; i < idx.length; i++) {
            long index = idx[i];
            if (Long.compareUnsigned(index, rows) >= 0) {
                return RACED;
            }
            u.copyMemory(table + index * rowBytes, out + i * rowBytes, rowBytes);
        }
        return -1;
    }
}
