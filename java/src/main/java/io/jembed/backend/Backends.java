package io.jembed.backend;

import io.jembed.internal.NativeLibrary;
import java.lang.System.Logger.Level;
import java.util.Locale;
import java.util.Optional;

/**
 * Chooses the {@link Backend} once per JVM, in the manner of Lucene's vectorization providers: the native kernels
 * when jembed's JNI library loads, else the Java reference, with one log line saying why.
 *
 * <p>{@code -Djembed.backend=native} insists on native (using it fails with the loader's error if it can't load);
 * {@code -Djembed.backend=java} uses Java and does not load native code at all.
 *
 * <p>Thread-safe.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("io.jembed");

    private Backends() {}

    private static volatile Backend current;

    /**
     * The backend every operator uses.
     *
     * @throws IllegalStateException if {@code -Djembed.backend=native} was asked for and the library cannot load
     */
    public static Backend current() {
        Backend chosen = current;
        if (chosen == null) {
            synchronized (Backends.class) {
                chosen = current;
                if (chosen == null) {
                    chosen = choose();
                    current = chosen;
                }
            }
        }
        return chosen;
    }

    /** The pure-Java reference backend, available everywhere. */
    public static Backend java() {
        return JavaBackend.INSTANCE;
    }

    /** The native backend, or empty when jembed's JNI library is unavailable (or disabled). */
    public static Optional<Backend> nativeBackend() {
        Backend current = current();
        if (current instanceof NativeBackend) {
            return Optional.of(current);
        }
        return NativeLibrary.isAvailable() ? Optional.of(new NativeBackend()) : Optional.empty();
    }

    /**
     * The loader's error and, when it wraps an earlier one, the first: JavaCPP reports its last attempt ("no ... in
     * java.library.path") and chains the failure to load the library it extracted from the jar, which names the real
     * problem (a missing glibc version, a library for another architecture).
     */
    private static String describe(Throwable failure) {
        Throwable first = failure;
        while (first.getCause() != null && first.getCause() != first) {
            first = first.getCause();
        }
        return first == failure ? failure.toString() : failure + "; first: " + first;
    }

    private static Backend choose() {
        String wanted = System.getProperty(NativeLibrary.BACKEND_PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        switch (wanted) {
            case "java":
                LOG.log(Level.INFO, "jembed: using the Java backend (-D" + NativeLibrary.BACKEND_PROPERTY + "=java)");
                return JavaBackend.INSTANCE;
            case "native":
                return new NativeBackend();
            default:
                if (!wanted.isEmpty()) {
                    LOG.log(Level.WARNING, "jembed: ignoring -D" + NativeLibrary.BACKEND_PROPERTY + "=" + wanted
                            + " (expected native or java)");
                }
                if (NativeLibrary.isAvailable()) {
                    return new NativeBackend();
                }
                LOG.log(Level.WARNING, "jembed: native library unavailable ("
                        + describe(NativeLibrary.unavailableBecause()) + "); using the Java backend");
                return JavaBackend.INSTANCE;
        }
    }
}
