package org.jv2v.model;

import java.util.HexFormat;
import java.util.UUID;

/**
 * The VM generation ID (Windows uses it to detect snapshots and clones). {@link #guid()} is the
 * value QEMU's {@code vmgenid} device and libvirt's {@code <genid>} take, so that the guest sees the
 * same 16 bytes it saw on VMware.
 *
 * <p>VMware stores it as two signed 64-bit decimals, {@code vm.genid} (low) and {@code vm.genidX}
 * (high). Written as 32 hex digits {@code lo || hi}, the guest-visible GUID is a reordering of those
 * digits (the reordering virt-v2v documents in docs/vm-generation-id-across-hypervisors.txt);
 * libvirt's VMware driver instead prints the digits in plain order ({@link #vmwareHex()}).
 */
public record VmGenId(UUID guid) {

    /**
     * For each of the 32 hex digits of the GUID (in the order they are printed), the index of the
     * digit of {@code hex(lo) || hex(hi)} it comes from.
     */
    private static final int[] FROM_VMWARE = buildPermutation();

    private static int[] buildPermutation() {
        // groups of (start, length) in hex(lo)||hex(hi), in GUID print order; byte pairs reversed
        // where the GUID's fields are little-endian on the guest side.
        int[] p = new int[32];
        int i = 0;
        for (int k = 8; k < 16; k++) p[i++] = k;                 // time_low  = lo bits 31..0
        for (int k = 4; k < 8; k++) p[i++] = k;                  // time_mid  = lo bits 47..32
        for (int k = 0; k < 4; k++) p[i++] = k;                  // time_hi   = lo bits 63..48
        for (int b : new int[] {30, 28}) { p[i++] = b; p[i++] = b + 1; }            // clock_seq: hi's last 2 bytes, swapped
        for (int b : new int[] {26, 24, 22, 20, 18, 16}) { p[i++] = b; p[i++] = b + 1; } // node: hi's first 6 bytes, reversed
        return p;
    }

    /** From VMware's {@code vm.genid} and {@code vm.genidX}. */
    public static VmGenId fromVmware(long lo, long hi) {
        String raw = String.format("%016x%016x", lo, hi);
        char[] out = new char[32];
        for (int i = 0; i < 32; i++) {
            out[i] = raw.charAt(FROM_VMWARE[i]);
        }
        return new VmGenId(uuidOfHex(new String(out)));
    }

    /** The GUID as printed by virt-v2v and used on the target. */
    @Override
    public String toString() {
        return guid.toString();
    }

    /** {@code hex(lo) || hex(hi)} formatted as a UUID: the form libvirt's VMware driver prints. */
    public String vmwareHex() {
        String g = guid.toString().replace("-", "");
        char[] raw = new char[32];
        for (int i = 0; i < 32; i++) {
            raw[FROM_VMWARE[i]] = g.charAt(i);
        }
        return uuidOfHex(new String(raw)).toString();
    }

    static UUID uuidOfHex(String hex32) {
        byte[] b = HexFormat.of().parseHex(hex32);
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = (msb << 8) | (b[i] & 0xff);
            lsb = (lsb << 8) | (b[i + 8] & 0xff);
        }
        return new UUID(msb, lsb);
    }
}
