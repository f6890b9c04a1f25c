package org.jv2v;

/**
 * A failure the user can act on: printed as one line ("jv2v: error: MESSAGE") with a non-zero exit
 * code and no stack trace unless {@code -v}. Anything else escaping to the CLI is a bug in jv2v.
 */
public class Jv2vException extends RuntimeException {
    private boolean printed;

    public Jv2vException(String message) {
        super(message);
    }

    /**
     * Prints this failure's line on stderr now, for a shutdown hook: once the JVM is shutting down,
     * the thread that would print it may not get to before the JVM halts. The CLI then prints
     * nothing more for it.
     */
    public Jv2vException printNow() {
        System.err.println("jv2v: error: " + getMessage().replace('\n', ' '));
        System.err.flush();
        printed = true;
        return this;
    }

    /** True when {@link #printNow} has printed it. */
    public boolean printed() {
        return printed;
    }

    public Jv2vException(String message, Throwable cause) {
        super(message, cause);
    }
}
