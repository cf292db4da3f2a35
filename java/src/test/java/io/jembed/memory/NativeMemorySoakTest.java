package io.jembed.memory;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Native memory has one owner and goes back when it is done: a million create/close cycles leave resident memory
 * flat, tensors dropped without {@code close()} are freed without the program ever asking for a collection, and a
 * closed tensor refuses use while a second close does nothing. Resident memory is the process's VmRSS (Linux).
 */
class NativeMemorySoakTest {
    private static final Path STATUS = Path.of("/proc/self/status");

    /** 1 KiB per tensor: a leak of a million would be a GiB, far above the allowed drift. */
    @Test
    void aMillionCreateCloseCyclesLeaveResidentMemoryFlat() throws IOException {
        assumeTrue(Files.isReadable(STATUS), "needs /proc/self/status");
        cycles(100_000); // warm-up: JIT, allocator arenas, heap sizing
        long before = residentBytes();
        long heapBefore = heapCommittedBytes();
        cycles(1_000_000);
        long growth = residentBytes() - before;
        // The Java heap may grow under a million small objects' churn; that is the JVM's, not a leak of jembed's.
        long heapGrowth = Math.max(0, heapCommittedBytes() - heapBefore);
        long nativeGrowth = growth - heapGrowth;
        System.out.printf("soak: 1,000,000 create/close cycles of 1 KiB tensors: resident memory %+.1f MiB, of which"
                + " Java heap growth %.1f MiB, the rest %+.1f MiB%n", growth / 1048576.0, heapGrowth / 1048576.0,
                nativeGrowth / 1048576.0);
        assertTrue(nativeGrowth < 64L << 20, "resident memory outside the Java heap grew by " + nativeGrowth
                + " bytes over a million cycles");
    }

    /**
     * 4,000 tensors of 1 MiB each, touched (zeroed) and dropped: 4 GiB if none were freed. The Java heap barely
     * notices them, so it is jembed's own accounting that has the Cleaner free them. A 1.5 GiB table opened and
     * closed first (never touched, so it costs no resident memory) must not leave a high threshold behind.
     */
    @Test
    void droppedTensorsAreFreedWithoutClose() throws IOException {
        assumeTrue(Files.isReadable(STATUS), "needs /proc/self/status");
        Torch.empty(DType.FLOAT32, 3L << 27).close();
        long before = residentBytes();
        long peak = before;
        for (int i = 0; i < 4_000; i++) {
            Tensor dropped = Torch.zeros(DType.FLOAT32, 256, 1024);
            dropped.set(i, 0, 0);
            if (i % 100 == 0) {
                peak = Math.max(peak, residentBytes());
            }
        }
        long growth = peak - before;
        System.out.printf("soak: 4,000 dropped 1 MiB tensors (4,000 MiB in all), peak resident growth %.1f MiB%n",
                growth / 1048576.0);
        assertTrue(growth < 1L << 30, "resident memory grew by " + growth + " bytes: dropped tensors were not freed");
    }

    @Test
    void closingTwiceIsHarmlessAndUseAfterCloseThrows() {
        Tensor t = Torch.ones(DType.FLOAT64, 3, 4);
        t.close();
        t.close();
        assertTrue(t.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.getDouble(0, 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    private static void cycles(int n) {
        for (int i = 0; i < n; i++) {
            try (Tensor t = Torch.zeros(DType.FLOAT32, 256)) {
                t.set(i, 0);
            }
        }
    }

    private static long heapCommittedBytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    }

    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(STATUS)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS line in " + STATUS);
    }
}
