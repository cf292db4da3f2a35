package io.jembed.cli;

import io.jembed.io.ProgressListener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on a terminal, redrawn in place: {@code loading glove.txt [#######.....]  58%  412 MiB}.
 * Redraws at most every 100 ms and once at the end; writes nothing when the stream is not a terminal (unless forced),
 * so that logs and pipes stay clean. Not thread-safe: the readers call it from the loading thread.
 */
final class ProgressBar implements ProgressListener {
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String label;
    private final boolean enabled;
    private long lastDraw;
    private boolean drawn;

    ProgressBar(PrintStream out, String label, boolean enabled) {
        this.out = out;
        this.label = label;
        this.enabled = enabled;
    }

    /** A bar on standard error when it is a terminal. */
    static ProgressBar onTerminal(String label) {
        return new ProgressBar(System.err, label, System.console() != null);
    }

    @Override
    public void progress(long done, long total) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        boolean finished = total >= 0 && done >= total;
        if (!finished && drawn && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        drawn = true;
        out.print('\r' + render(done, total));
        if (finished) {
            out.println();
        }
        out.flush();
    }

    /** The bar's text for {@code done} of {@code total} bytes ({@code total} -1 when unknown). */
    String render(long done, long total) {
        if (total <= 0) {
            return String.format(Locale.ROOT, "%s %s", label, TableFile.bytes(done));
        }
        double fraction = Math.min(1.0, (double) done / total);
        int filled = (int) Math.round(fraction * WIDTH);
        return String.format(Locale.ROOT, "%s [%s%s] %3d%%  %s", label, "#".repeat(filled), ".".repeat(WIDTH - filled),
                Math.round(fraction * 100), TableFile.bytes(done));
    }
}
