package org.jv2v;

import java.nio.file.Path;

/**
 * Input that jv2v refuses: a malformed, malicious or unsupported file. The message always names the
 * file and where in it the problem is (line, or field and byte offset), so the user can look.
 */
public final class BadInputException extends Jv2vException {
    private BadInputException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /**
     * Control characters escaped (a newline becomes backslash-n, ESC backslash-x1b): messages
     * quote names and strings from the untrusted input, which must not break the message over
     * lines or into terminal escapes.
     */
    static String oneLine(String message) {
        if (message == null || message.chars().noneMatch(c -> c < 0x20 || c == 0x7F)) {
            return message;
        }
        StringBuilder b = new StringBuilder(message.length() + 16);
        for (char c : message.toCharArray()) {
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7F) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    /** {@code FILE:LINE: problem}, as compilers print it. */
    public static BadInputException atLine(Path file, int line, String problem) {
        return new BadInputException(file + ":" + line + ": " + problem, null);
    }

    /** {@code FILE: FIELD at offset 0xOFF: problem}, for binary structures. */
    public static BadInputException atOffset(Path file, String field, long offset, String problem) {
        return new BadInputException(
                file + ": " + field + " at offset 0x" + Long.toHexString(offset) + ": " + problem, null);
    }

    /** {@code FILE: problem}, when no finer position makes sense (a missing file, a bad archive). */
    public static BadInputException inFile(Path file, String problem) {
        return new BadInputException(file + ": " + problem, null);
    }

    /** A message already formatted with its file and position. */
    public static BadInputException of(String message) {
        return new BadInputException(message, null);
    }

    public static BadInputException inFile(Path file, String problem, Throwable cause) {
        return new BadInputException(file + ": " + problem, cause);
    }
}
