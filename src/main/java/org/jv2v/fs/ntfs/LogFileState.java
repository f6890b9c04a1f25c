package org.jv2v.fs.ntfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * What the $LogFile restart pages say about the last shutdown, judged as ntfs-3g does before a
 * read-write mount: a log with an in-use client and no "clean" flag was not shut down cleanly; a
 * restart page of version 2.0 means Windows kept metadata cached (fast startup).
 */
record LogFileState(boolean unclean, boolean cachedMetadata) {
    /** Restart pages are a system page (4 KiB, up to 64 KiB on some platforms). */
    static final int MAX_PAGE = 64 << 10;
    static final int RESTART_VOLUME_IS_CLEAN = 0x0002;
    static final int LOGFILE_NO_CLIENT = 0xFFFF;

    static LogFileState check(Volume vol) throws IOException {
        Stream s = vol.inode(Ntfs.FILE_LOGFILE).stream(Ntfs.AT_DATA, "");
        if (s == null || s.dataSize < 2 * 4096) {
            throw Ntfs.bad(vol.name, "$LogFile (MFT record 2) is missing or smaller than two restart pages");
        }
        Page best = null;
        // The two restart pages sit at 0 and at the page size; ntfs-3g probes the powers of two between.
        for (long pos = 0; pos < Math.min(s.dataSize, 2L * MAX_PAGE); pos = pos == 0 ? 512 : pos << 1) {
            Page p = page(vol, s, pos);
            if (p != null && (best == null || p.lsn > best.lsn)) {
                best = p;
            }
        }
        if (best == null) {
            return new LogFileState(false, false);              // an empty log was clean before it was emptied
        }
        return new LogFileState(best.clientInUse != LOGFILE_NO_CLIENT && (best.flags & RESTART_VOLUME_IS_CLEAN) == 0,
                best.major == 2 && best.minor == 0);
    }

    private record Page(long lsn, int clientInUse, int flags, int major, int minor) {}

    private static Page page(Volume vol, Stream s, long pos) throws IOException {
        ByteBuffer head = Ntfs.le(ByteBuffer.allocate(Ntfs.FIXUP_STRIDE));
        s.read(pos, head);
        String magic = new String(head.array(), 0, 4, StandardCharsets.US_ASCII);
        if (!magic.equals("RSTR") && !magic.equals("CHKD")) {
            return null;
        }
        long size = Ntfs.u32(head, 0x10);                      // 0x10 system page size
        if (size < 512 || size > MAX_PAGE || Long.bitCount(size) != 1 || pos + size > s.dataSize) {
            return null;                                        // not a usable restart page (ntfs-3g skips it too)
        }
        ByteBuffer page = Ntfs.le(ByteBuffer.allocate((int) size));
        s.read(pos, page);
        Fixups.apply(page, (int) size, vol.name, "$LogFile restart page at +" + pos, s.deviceOffset(pos));
        int raOff = Ntfs.u16(page, 0x18);                      // 0x18 restart area offset
        int minor = page.getShort(0x1A);                       // 0x1A minor version
        int major = page.getShort(0x1C);                       // 0x1C major version
        if ((raOff & 7) != 0 || raOff + 0x10 > size) {
            throw Ntfs.bad(vol.name, "$LogFile restart area offset", s.deviceOffset(pos) + 0x18,
                    "0x" + Integer.toHexString(raOff) + " outside the restart page");
        }
        return new Page(page.getLong(raOff),                   // +0x00 current LSN
                Ntfs.u16(page, raOff + 0x0C),                   // +0x0C client in-use list
                Ntfs.u16(page, raOff + 0x0E),                   // +0x0E flags
                major, minor);
    }
}
