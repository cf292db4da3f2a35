package io.jembed.concurrency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, section 2: closing a table while another thread looks rows up in it must never crash the JVM. The
 * reproduction ({@link CloseDuringLookup}) runs in a child JVM, so that the crash it used to cause (SIGSEGV in
 * {@code jembed::avx512::gather_f32_i64}) fails this test instead of killing the test run.
 */
class CloseDuringLookupTest {
    @Test
    void closingAndReloadingATableUnderRunningLookupsNeverCrashesTheJvm() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-XX:-CreateCoredumpOnCrash",
                "-XX:ErrorFile=" + System.getProperty("java.io.tmpdir") + "/jembed-close-during-lookup-%p.log",
                "-cp", System.getProperty("java.class.path")));
        for (String property : new String[] {"jembed.backend", "jembed.kernels"}) {
            if (System.getProperty(property) != null) {
                command.add("-D" + property + "=" + System.getProperty(property));
            }
        }
        command.addAll(List.of(CloseDuringLookup.class.getName(), "3"));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
        System.out.println("close during lookup (child JVM): " + output.trim().lines().reduce((a, b) -> b).orElse(""));
        assertEquals(0, child.exitValue(), "the child JVM failed (exit " + child.exitValue() + "; 134 is a crash):\n"
                + output);
        assertTrue(output.contains("lookups ") && !output.contains("lookups 0 "), output);
    }
}
