package org.jv2v;

/**
 * A failure the user can act on: printed as one line ("jv2v: error: MESSAGE") with a non-zero exit
 * code and no stack trace unless {@code -v}. Anything else escaping to the CLI is a bug in jv2v.
 */
public class Jv2vException extends RuntimeException {
    public Jv2vException(String message) {
        super(message);
    }

    public Jv2vException(String message, Throwable cause) {
        super(message, cause);
    }
}
