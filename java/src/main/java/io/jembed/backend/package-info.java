/**
 * Where the arithmetic runs: native kernels or the Java reference, chosen once per JVM by
 * {@link io.jembed.backend.Backends}.
 */
package io.jembed.backend;
