package org.jv2v.cli;

import org.jv2v.copy.CopyProgress;
import org.jv2v.copy.ProgressListener;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * How copy progress is shown.
 *
 * <ul>
 * <li>{@link #bar}: on a terminal, one line redrawn in place:
 *     {@code [#########...........]  45% 0.9 GiB of 2 GiB, 350 MiB/s}
 * <li>{@link #lines}: for logs and pipes, one line per whole percent reached:
 *     {@code progress: 45% (966367641/2147483648 bytes)}
 * <li>{@link #json}: under {@code --machine-readable}, one JSON object per line, per whole percent:
 *     {@code {"type":"progress","percent":45,"done":966367641,"total":2147483648}}
 * </ul>
 */
public final class ProgressDisplay {
    private static final int BAR_WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private ProgressDisplay() {}

    /** The bar when {@code out} is a terminal (System.console() says so), lines otherwise. */
    public static ProgressListener auto(PrintWriter out) {
        return isTerminal() ? bar(out) : lines(out);
    }

    public static boolean isTerminal() {
        var console = System.console();
        return console != null && console.isTerminal();
    }

    public static ProgressListener bar(PrintWriter out) {
        return new ProgressListener() {
            private long lastDraw;
            private boolean finished;

            @Override
            public synchronized void progress(CopyProgress p) {
                long now = System.nanoTime();
                boolean end = p.done() >= p.total();
                if (finished || (!end && now - lastDraw < REDRAW_NANOS)) {
                    return;
                }
                lastDraw = now;
                int filled = (int) (BAR_WIDTH * p.percent() / 100);
                double seconds = p.elapsedNanos() / 1e9;
                String speed = seconds > 0.2 ? ", " + Sizes.human((long) (p.bytesRead() / seconds)) + "/s read" : "";
                out.print("\r[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] "
                        + String.format(Locale.ROOT, "%3d%%", (int) p.percent()) + " " + Sizes.human(p.done())
                        + " of " + Sizes.human(p.total()) + speed + "   ");
                if (end) {
                    out.println();
                    finished = true;
                }
                out.flush();
            }
        };
    }

    public static ProgressListener lines(PrintWriter out) {
        return perPercent(p -> {
            out.println("progress: " + (int) p.percent() + "% (" + p.done() + "/" + p.total() + " bytes)");
            out.flush();
        });
    }

    public static ProgressListener json(PrintWriter out) {
        return perPercent(p -> {
            out.println("{\"type\":\"progress\",\"percent\":" + (int) p.percent() + ",\"done\":" + p.done()
                    + ",\"total\":" + p.total() + "}");
            out.flush();
        });
    }

    private static ProgressListener perPercent(ProgressListener print) {
        return new ProgressListener() {
            private int last = -1;

            @Override
            public synchronized void progress(CopyProgress p) {
                int pct = (int) p.percent();
                if (pct != last) {
                    last = pct;
                    print.progress(p);
                }
            }
        };
    }
}
