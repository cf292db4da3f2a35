package io.jembed.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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

    /**
     * 1 KiB per tensor: a leak of a million would be a GiB, far above the allowed drift. The cycles run in a child
     * JVM with a fixed 64 MiB heap touched at start-up, because in this JVM the heap's young generation keeps growing
     * into pages it had reserved but not touched, and resident memory cannot tell those from a leak.
     */
    @Test
    void aMillionCreateCloseCyclesLeaveResidentMemoryFlat() throws IOException, InterruptedException {
        assumeTrue(Files.isReadable(STATUS), "needs /proc/self/status");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "--enable-native-access=ALL-UNNAMED", "-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch",
                "-cp", System.getProperty("java.class.path")));
        for (String property : new String[] {"jembed.backend", "jembed.kernels"}) {
            if (System.getProperty(property) != null) {
                command.add("-D" + property + "=" + System.getProperty(property));
            }
        }
        command.addAll(List.of(CreateCloseCycles.class.getName(), "200000", "1000000"));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, child.waitFor(), output);
        long before = valueAfter(output, "rss-before ");
        long growth = valueAfter(output, "rss-after ") - before;
        System.out.printf("soak: 1,000,000 create/close cycles of 1 KiB tensors (child JVM, 64 MiB pre-touched heap):"
                + " resident memory %+.1f MiB%n", growth / 1048576.0);
        assertTrue(growth < 32L << 20, "resident memory grew by " + growth + " bytes over a million cycles");
    }

    private static long valueAfter(String output, String key) {
        for (String line : output.split("\\R")) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).trim());
            }
        }
        throw new AssertionError("no '" + key + "' line in the child's output:\n" + output);
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

    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(STATUS)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS line in " + STATUS);
    }
}
