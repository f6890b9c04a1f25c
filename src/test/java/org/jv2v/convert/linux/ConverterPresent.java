package org.jv2v.convert.linux;

import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Assumptions;

/**
 * The end-to-end conversion tests need jv2v's Linux converter, which lands separately from them:
 * until jv2v advertises {@code convert:linux} among its capabilities ({@code jv2v
 * --machine-readable}, as virt-v2v does), they are skipped with a visible notice rather than
 * failing on a jv2v that only copies. Once it is advertised they run and can fail. The converter
 * is in main now: in CI its absence is a failure, not a skip.
 */
final class ConverterPresent {
    static final String CAPABILITY = "convert:linux";

    private ConverterPresent() {}

    static void require() {
        Jv2vRun.Result r = Jv2vRun.ok("--machine-readable");
        boolean present = r.stdout().lines().anyMatch(CAPABILITY::equals);
        if (!present) {
            String msg = "jv2v does not advertise " + CAPABILITY + " (no Linux converter yet)";
            if (Tools.inCi()) {
                throw new AssertionError(msg);
            }
            System.err.println("NOTICE: skipping: " + msg);
            Assumptions.abort(msg);
        }
    }
}
