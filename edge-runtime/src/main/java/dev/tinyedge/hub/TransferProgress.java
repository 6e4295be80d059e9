package dev.tinyedge.hub;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.util.Locale;

/**
 * How far a download is: a bar redrawn in place on a terminal, a log line every few seconds otherwise (a
 * service's journal, a CI log).
 */
public final class TransferProgress {
    private static final Logger log = LoggerFactory.getLogger(TransferProgress.class);
    private static final long BAR_INTERVAL_NANOS = 200_000_000L;
    private static final long LOG_INTERVAL_NANOS = 5_000_000_000L;
    private static final int BAR_WIDTH = 30;

    private final PrintStream terminal;
    private String name;
    private long total;
    private long done;
    private long startBytes;
    private long startNanos;
    private long lastShown;

    /** @param terminal where to draw the bar, or null to log lines instead */
    public TransferProgress(PrintStream terminal) {
        this.terminal = terminal;
    }

    /** A bar on stderr when both ends of the console are a terminal, log lines otherwise. */
    public static TransferProgress forConsole() {
        java.io.Console console = System.console();
        return new TransferProgress(console != null && console.isTerminal() ? System.err : null);
    }

    void start(String name, long total, long alreadyThere) {
        this.name = name;
        this.total = total;
        this.done = alreadyThere;
        this.startBytes = alreadyThere;
        this.startNanos = System.nanoTime();
        this.lastShown = startNanos;
        if (terminal == null) {
            log.info("{}: {} of {} MB{}", name, mb(alreadyThere), mb(total), alreadyThere > 0 ? ", resuming" : "");
        }
    }

    void advance(long bytes) {
        done += bytes;
        long now = System.nanoTime();
        if (now - lastShown >= (terminal != null ? BAR_INTERVAL_NANOS : LOG_INTERVAL_NANOS)) {
            lastShown = now;
            show(now);
        }
    }

    /** The transfer restarted from {@code at} bytes (after a lost connection, or from zero). */
    void restartAt(long at) {
        done = at;
    }

    void finish() {
        show(System.nanoTime());
        if (terminal != null) {
            terminal.println();
        }
    }

    private void show(long now) {
        double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
        double rate = (done - startBytes) / seconds / 1e6;
        int percent = total <= 0 ? 100 : (int) Math.min(100, done * 100 / total);
        if (terminal != null) {
            int filled = percent * BAR_WIDTH / 100;
            terminal.printf(Locale.ROOT, "\r%s [%s%s] %3d%% %s/%s MB %.1f MB/s ", name, "#".repeat(filled),
                    ".".repeat(BAR_WIDTH - filled), percent, mb(done), mb(total), rate);
            terminal.flush();
        } else {
            log.info("{}: {}% ({} of {} MB, {} MB/s)", name, percent, mb(done), mb(total),
                    String.format(Locale.ROOT, "%.1f", rate));
        }
    }

    private static long mb(long bytes) {
        return bytes / 1_000_000;
    }
}
