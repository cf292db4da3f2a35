/**
 * Tables in and out of files: one subpackage per format ({@code safetensors}, {@code numpy}, {@code wordvectors},
 * {@code torch}). Every reader treats its file as hostile: a truncated or lying file gives a
 * {@link io.jembed.io.MalformedFileException} naming the file and what is wrong, never an over-read or an allocation
 * larger than the file justifies.
 */
package io.jembed.io;
