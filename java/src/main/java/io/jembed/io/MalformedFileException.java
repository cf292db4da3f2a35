package io.jembed.io;

import java.io.IOException;

/**
 * A file that does not hold what its format promises: truncated, a header that lies about sizes or offsets, a shape
 * whose size overflows, a dtype jembed cannot read, duplicate names, a pickle naming a forbidden global, a zip bomb.
 * The message is {@code "<source>: <problem>"}, where the source is the path (or name) the caller gave.
 *
 * <p>PyTorch equivalent: the {@code RuntimeError} / {@code UnpicklingError} / {@code SafetensorError} that
 * {@code torch.load}, {@code safetensors} and {@code numpy.load} raise on such files.
 */
public class MalformedFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String problem;

    public MalformedFileException(String source, String problem) {
        super(source + ": " + problem);
        this.source = source;
        this.problem = problem;
    }

    public MalformedFileException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
        this.problem = problem;
    }

    /** The path or name of the file, as the caller gave it. */
    public String source() {
        return source;
    }

    /** What is wrong with it, without the source. */
    public String problem() {
        return problem;
    }
}
