package io.jembed.io;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** The committed file-format fixtures (made by scripts/make-io-fixtures with the real producers). */
public final class Fixtures {
    private Fixtures() {}

    public static Path path(String name) {
        URL url = Fixtures.class.getResource("/io/jembed/io/fixtures/" + name);
        if (url == null) {
            throw new IllegalStateException("missing fixture " + name + "; run scripts/make-io-fixtures");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** value(r, c) = (r * cols + c - 5) / 8: the table every fixture format carries (see make_io_fixtures.py). */
    public static float[] table(int rows, int cols) {
        float[] out = new float[rows * cols];
        for (int i = 0; i < out.length; i++) {
            out[i] = (i - 5) / 8f;
        }
        return out;
    }

    /** Debian's Python, where python3-numpy, python3-torch and python3-gensim install (a PATH python3 may be another). */
    static String python3() {
        return java.nio.file.Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    /** Whether a Python module (numpy, torch, gensim) can be imported, for the tests in which the real tool reads. */
    public static boolean pythonHas(String module) {
        try {
            Process p = new ProcessBuilder(python3(), "-c", "import " + module).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** Runs python3 with a script and arguments; returns its standard output, failing on a non-zero exit. */
    public static String python(String script, String... args) throws Exception {
        String[] command = new String[args.length + 3];
        command[0] = python3();
        command[1] = "-c";
        command[2] = script;
        System.arraycopy(args, 0, command, 3, args.length);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError("python3 failed:\n" + output);
        }
        return output;
    }
}
