package org.jv2v.pipeline;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The run's voice: timestamped stage lines on stdout ({@code [   0.0] Opening the source ...},
 * as virt-v2v prints them), warnings on stderr, and debug lines with {@code -v}.
 */
public final class StageLog {
    private final PrintStream out;
    private final PrintStream err;
    private final boolean quiet;
    private final boolean verbose;
    private final long start = System.nanoTime();

    public StageLog(PrintStream out, PrintStream err, boolean quiet, boolean verbose) {
        this.out = out;
        this.err = err;
        this.quiet = quiet;
        this.verbose = verbose;
    }

    public PrintStream out() {
        return out;
    }

    /** {@code [   1.2] message}, unless {@code -q}. */
    public void stage(String message) {
        if (!quiet) {
            double secs = (System.nanoTime() - start) / 1e9;
            out.println(String.format(Locale.ROOT, "[%6.1f] %s", secs, message));
            out.flush();
        }
    }

    /** An indented detail under the last stage line, unless {@code -q}. */
    public void detail(String message) {
        if (!quiet) {
            out.println("        " + message);
        }
    }

    /** Always shown: something the user should know or act on. */
    public void warn(String message) {
        out.flush();
        err.println("jv2v: warning: " + message.replace('\n', ' '));
        err.flush();
    }

    /** Only with {@code -v}. */
    public void debug(String message) {
        if (verbose) {
            err.println("jv2v: " + message);
        }
    }

    public boolean quiet() {
        return quiet;
    }
}
