package org.jv2v.fs.ntfs;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes mapping pairs: a header byte (low nibble: bytes of the run length, high nibble: bytes
 * of the signed LCN delta; no delta bytes means a hole), then the two numbers, until a zero byte.
 */
final class Runlist {
    private Runlist() {}

    /**
     * @param b          the MFT record
     * @param off        the first mapping pair
     * @param end        the end of the attribute record
     * @param clusters   clusters in the volume: every run must lie inside
     * @param diskOffset where {@code b[0]} lies on the device (for errors)
     */
    static List<Run> decode(ByteBuffer b, int off, int end, long lowestVcn, long highestVcn, long clusters,
                            String device, String what, long diskOffset) {
        List<Run> runs = new ArrayList<>();
        long vcn = lowestVcn;
        long lcn = 0;
        int p = off;
        while (true) {
            if (p >= end) {
                throw Ntfs.bad(device, what + " runlist", diskOffset + p, "runs past the end of the attribute");
            }
            int h = Ntfs.u8(b, p);
            if (h == 0) {
                break;
            }
            int lenBytes = h & 0x0F;
            int offBytes = h >>> 4;
            if (lenBytes == 0 || lenBytes > 8 || offBytes > 8 || p + 1 + lenBytes + offBytes > end) {
                throw Ntfs.bad(device, what + " runlist", diskOffset + p,
                        "bad mapping pair header 0x" + Integer.toHexString(h));
            }
            long length = signed(b, p + 1, lenBytes);
            if (length <= 0 || length > clusters) {
                throw Ntfs.bad(device, what + " runlist", diskOffset + p, "run length " + length
                        + " outside 1.." + clusters + " clusters");
            }
            long runLcn;
            if (offBytes == 0) {
                runLcn = Run.SPARSE;
            } else {
                lcn += signed(b, p + 1 + lenBytes, offBytes);
                if (lcn < 0 || lcn > clusters - length) {
                    throw Ntfs.bad(device, what + " runlist", diskOffset + p, "run of " + length
                            + " clusters at cluster " + lcn + " lies past the volume's " + clusters + " clusters");
                }
                runLcn = lcn;
            }
            if (vcn > highestVcn + 1 - length) {
                throw Ntfs.bad(device, what + " runlist", diskOffset + p, "runs go past the last VCN " + highestVcn);
            }
            runs.add(new Run(vcn, runLcn, length));
            vcn += length;
            p += 1 + lenBytes + offBytes;
        }
        if (vcn != highestVcn + 1 && !(runs.isEmpty() && highestVcn <= 0)) {
            throw Ntfs.bad(device, what + " runlist", diskOffset + off, "runs end at VCN " + vcn
                    + " but the header says the last VCN is " + highestVcn);
        }
        return runs;
    }

    private static long signed(ByteBuffer b, int off, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b.get(off + i) & 0xFF);
        }
        int shift = 64 - 8 * n;
        return shift == 0 ? v : (v << shift) >> shift;
    }
}
