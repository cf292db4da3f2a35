package io.jembed.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.backend.Backends;
import io.jembed.internal.NativeLibrary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The main jar on its own, without a classifier jar, as on a platform jembed ships no native library for: loading
 * fails quietly and the Java backend is chosen, with one log line. Runs only in the {@code verify} check that puts
 * the main jar (not target/classes) on the class path, since anywhere else the native library is there to find.
 */
@EnabledIfSystemProperty(named = "jembed.packaging.check", matches = "main-jar-alone")
class MainJarAloneFallsBackToJavaTest {

    @Test
    void classPathHoldsTheMainJarNotTheBuildDirectory() {
        String location = NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        assertTrue(location.endsWith(".jar"), "jembed's classes come from " + location);
    }

    @Test
    void missingNativeLibraryIsRecordedAsALinkErrorNotThrown() {
        assertFalse(NativeLibrary.isAvailable());
        Throwable cause = NativeLibrary.unavailableBecause();
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        assertInstanceOf(UnsatisfiedLinkError.class, cause);
        assertSame(Backends.java(), Backends.current());
    }

    @Test
    void freshJvmChoosesJavaBackendWithOneLogLine() throws IOException, InterruptedException {
        // A child JVM, because this one may have chosen (and logged) already in another test class.
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process probe = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                BackendProbe.class.getName()).start();
        assertTrue(probe.waitFor(60, TimeUnit.SECONDS), "the probe JVM finished");
        String out = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        List<String> jembedLines = new String(probe.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines().filter(line -> line.contains("jembed:")).collect(Collectors.toList());
        assertEquals(0, probe.exitValue());
        assertEquals("java", out);
        assertEquals(1, jembedLines.size(), "jembed's log lines: " + jembedLines);
        assertTrue(jembedLines.get(0).contains("native library unavailable")
                && jembedLines.get(0).contains("using the Java backend"), jembedLines.get(0));
    }
}
