package io.jembed.packaging;

import io.jembed.backend.Backends;

/** Prints the backend a fresh JVM chooses, for {@link MainJarAloneFallsBackToJavaTest} to run as a child process. */
public final class BackendProbe {
    private BackendProbe() {}

    public static void main(String[] args) {
        System.out.println(Backends.current().name());
    }
}
