package org.jv2v.fs;

import org.jv2v.Jv2vException;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * The time the filesystem editors write into what they create or change (a new file's times, a
 * changed folder's mtime, the superblock's write time): now, so the guest sees when it was
 * converted, which is what a file's times mean. Where {@code SOURCE_DATE_EPOCH} is set (the
 * reproducible-builds convention: seconds since 1970), that time instead, and new inodes'
 * generation numbers from a sequence seeded by it, so that two conversions of the same source
 * write byte-identical disks (ext and XFS).
 */
public final class EditClock {
    /** 9999-12-31T23:59:59Z: beyond what ext4 (2446) and XFS (2486) store, and any real build date. */
    static final long MAX_EPOCH_SECONDS = 253_402_300_799L;

    private EditClock() {}

    /** The clock the editors use, from the environment. */
    public static Clock clock() {
        return clock(System.getenv("SOURCE_DATE_EPOCH"));
    }

    /**
     * Where new inodes' generation numbers come from: random, as the kernel makes them (NFS file
     * handles carry them); under {@code SOURCE_DATE_EPOCH} a sequence seeded by that time, so that
     * a repeated conversion repeats them too.
     */
    public static java.util.Random generations() {
        String v = System.getenv("SOURCE_DATE_EPOCH");
        if (v == null || v.isEmpty()) {
            return new java.util.Random();
        }
        return new java.util.Random(clock(v).instant().getEpochSecond());
    }

    /** {@code sourceDateEpoch}: the variable's value, or null when it is not set. */
    static Clock clock(String sourceDateEpoch) {
        if (sourceDateEpoch == null || sourceDateEpoch.isEmpty()) {
            return Clock.systemUTC();
        }
        // the convention asks tools to refuse a malformed value rather than silently ignore it
        if (!sourceDateEpoch.matches("\\d{1,12}") || Long.parseLong(sourceDateEpoch) > MAX_EPOCH_SECONDS) {
            throw new Jv2vException("SOURCE_DATE_EPOCH='" + sourceDateEpoch + "' is not a number of seconds since "
                    + "1970 (0 to " + MAX_EPOCH_SECONDS + "): unset it, or set it to such a number");
        }
        return Clock.fixed(Instant.ofEpochSecond(Long.parseLong(sourceDateEpoch)), ZoneOffset.UTC);
    }
}
