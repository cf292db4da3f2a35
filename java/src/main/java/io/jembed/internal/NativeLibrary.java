package io.jembed.internal;

import io.jembed.internal.nativebinding.JembedNative;

/**
 * Whether jembed's JNI library is usable in this JVM, decided once.
 *
 * <p>{@code -Djembed.backend=java} keeps the library from loading at all, so that the pure-Java path (memory and
 * kernels) is what runs, exactly as on a platform with no native build. Otherwise the library is loaded on first use
 * and any failure to load is recorded, not thrown: callers fall back to Java.
 *
 * <p>Thread-safe: decided once, when the class initialises.
 */
public final class NativeLibrary {
    /** System property choosing the backend: {@code native}, {@code java}, or unset for "native when it loads". */
    public static final String BACKEND_PROPERTY = "jembed.backend";

    private static final Throwable UNAVAILABLE_BECAUSE = tryLoad();

    private NativeLibrary() {}

    private static Throwable tryLoad() {
        if ("java".equalsIgnoreCase(System.getProperty(BACKEND_PROPERTY, "").trim())) {
            return new IllegalStateException("native code disabled by -D" + BACKEND_PROPERTY + "=java");
        }
        try {
            JembedNative.activeVariant();
            return null;
        } catch (Throwable t) { // LinkageError, or an ExceptionInInitializerError wrapping the loader's failure
            return t;
        }
    }

    /** True when the JNI library loaded and native memory and kernels may be used. */
    public static boolean isAvailable() {
        return UNAVAILABLE_BECAUSE == null;
    }

    /** Why the library is unavailable, or {@code null} when it is available. */
    public static Throwable unavailableBecause() {
        return UNAVAILABLE_BECAUSE;
    }
}
