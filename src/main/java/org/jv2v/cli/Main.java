package org.jv2v.cli;

import org.jv2v.Jv2vException;
import org.jv2v.image.raw.SparseFile;
import org.jv2v.pipeline.DiskTransfer;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;

/**
 * Entry point. Turns every failure into one line on stderr and an exit code: 1 for an error the
 * user can act on, 2 for bad usage, 3 for a bug in jv2v. {@code -v} adds the stack trace.
 */
public final class Main {
    public static final int EXIT_ERROR = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_BUG = 3;

    private Main() {}

    public static void main(String[] args) {
        // The first native call waits for the JDK's native linker to start (~15 ms); a copy's first
        // read makes one, so it is linked on another CPU while the command line is parsed.
        Thread.ofPlatform().daemon(true).name("jv2v-link-ahead").start(SparseFile::linkAhead);
        System.exit(run(args));
    }

    public static int run(String... args) {
        return run(System.out, System.err, args);
    }

    /** Runs jv2v with its output going to {@code out} and {@code err} (tests use this). */
    public static int run(PrintStream out, PrintStream err, String... args) {
        return run(out, err, DiskTransfer.installed(), args);
    }

    static int run(PrintStream out, PrintStream err, DiskTransfer transfer, String... args) {
        boolean verbose = Arrays.stream(args).anyMatch(a -> a.equals("-v") || a.equals("--verbose")
                || a.equals("-x"));
        CommandLine cli = args.length > 0 && args[0].equals("image") ? Jv2vCommand.imageCommandLine(out, err)
                : Jv2vCommand.commandLine(out, err, transfer);
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> report(err, ex, verbose));
        cli.setParameterExceptionHandler((ex, a) -> {
            err.println("jv2v: error: " + ex.getMessage().replace('\n', ' ') + " (see "
                    + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
            err.flush();
            return EXIT_USAGE;
        });
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** Prints the one-line error for {@code ex}; returns the exit code. */
    static int report(PrintStream err, Throwable ex, boolean verbose) {
        Throwable t = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        if (t instanceof Jv2vException j && j.printed() && !verbose) {
            return EXIT_ERROR;
        }
        String line;
        int code = EXIT_ERROR;
        if (t instanceof Jv2vException) {
            line = t.getMessage();
        } else if (t instanceof NoSuchFileException e) {
            line = e.getFile() + ": no such file";
        } else if (t instanceof AccessDeniedException e) {
            line = e.getFile() + ": permission denied";
        } else if (t instanceof IOException) {
            line = t.getMessage() == null ? t.toString() : t.getMessage();
        } else {
            line = "internal error (a bug in jv2v, please report it with the -v output): " + t;
            code = EXIT_BUG;
        }
        err.println("jv2v: error: " + line.replace('\n', ' '));
        if (verbose) {
            t.printStackTrace(err);
        } else if (code == EXIT_BUG) {
            err.println("jv2v: rerun with -v for the stack trace");
        }
        err.flush();
        return code;
    }
}
