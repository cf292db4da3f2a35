package io.jembed.memory;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The soak's child JVM: {@code CreateCloseCycles WARMUP CYCLES} creates and closes 1 KiB tensors and prints the
 * resident memory (VmRSS, bytes) before and after the measured cycles as {@code rss-before N} and {@code rss-after N}.
 * Run with a fixed, pre-touched heap, so that the Java heap's own growth cannot show up as resident memory.
 */
public final class CreateCloseCycles {
    private CreateCloseCycles() {}

    public static void main(String[] args) throws IOException {
        cycles(Integer.parseInt(args[0]));
        System.out.println("rss-before " + residentBytes());
        cycles(Integer.parseInt(args[1]));
        System.out.println("rss-after " + residentBytes());
    }

    private static void cycles(int n) {
        for (int i = 0; i < n; i++) {
            try (Tensor t = Torch.zeros(DType.FLOAT32, 256)) {
                t.set(i, 0);
            }
        }
    }

    static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS line in /proc/self/status");
    }
}
