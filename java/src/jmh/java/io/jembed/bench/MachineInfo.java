package io.jembed.bench;

import io.jembed.backend.Backends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Instant;

/** What the report records about the machine: JDK, CPU, threads, load, backend. */
final class MachineInfo {
    final String when;
    final String jdk;
    final String cpu;
    final int threads;
    final String load;
    final String backend;

    private MachineInfo(String when, String jdk, String cpu, int threads, String load, String backend) {
        this.when = when;
        this.jdk = jdk;
        this.cpu = cpu;
        this.threads = threads;
        this.load = load;
        this.backend = backend;
    }

    static MachineInfo now() {
        return new MachineInfo(Instant.now().toString(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                cpuModel(), Runtime.getRuntime().availableProcessors(), read("/proc/loadavg"),
                Backends.current().name() + " (supported kernels " + io.jembed.backend.NativeBackend.supportedKernels()
                        + ")");
    }

    private static String cpuModel() {
        try {
            String flags = "";
            String model = "unknown";
            for (String line : Files.readAllLines(Paths.get("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && model.equals("unknown")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                }
                if (line.startsWith("flags") && flags.isEmpty()) {
                    flags = (line.contains(" avx2") ? "AVX2 " : "") + (line.contains(" fma") ? "FMA " : "")
                            + (line.contains(" avx512f") ? "AVX-512F" : "no AVX-512");
                }
            }
            return model + " (" + flags.trim() + ")";
        } catch (IOException e) {
            return System.getProperty("os.arch");
        }
    }

    private static String read(String file) {
        try {
            return Files.readString(Paths.get(file)).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
