package org.jv2v.registry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A minimal valid hive, built byte by byte from the format (independently of the reader under
 * test): hivexregedit can only merge into an existing hive, and no Debian package ships an empty
 * one. It holds a base block and one 4 KiB bin with the root key "ROOT", the security (sk) cell
 * every new key inherits, and one free cell. hivex validates it when it opens it for the merge.
 */
final class EmptyHive {
    /** 2020-01-02T03:04:05.1234567Z as a FILETIME: the root key's (and so every new key's) time. */
    static final long ROOT_TIME = (1_577_934_245L + 11_644_473_600L) * 10_000_000L + 1_234_567L;

    private EmptyHive() {}

    static byte[] bytes() {
        ByteBuffer f = ByteBuffer.allocate(0x2000).order(ByteOrder.LITTLE_ENDIAN);
        // base block
        f.put(0, "regf".getBytes(StandardCharsets.US_ASCII));
        f.putInt(0x04, 1).putInt(0x08, 1).putLong(0x0C, ROOT_TIME);
        f.putInt(0x14, 1).putInt(0x18, 5).putInt(0x1C, 0).putInt(0x20, 1);
        f.putInt(0x24, 0x20).putInt(0x28, 0x1000).putInt(0x2C, 1);
        f.put(0x30, "emptyhive".getBytes(StandardCharsets.UTF_16LE));
        int sum = 0;
        for (int i = 0; i < 0x1FC; i += 4) {
            sum ^= f.getInt(i);
        }
        f.putInt(0x1FC, sum);
        // hbin header
        int bin = 0x1000;
        f.put(bin, "hbin".getBytes(StandardCharsets.US_ASCII));
        f.putInt(bin + 4, 0).putInt(bin + 8, 0x1000);
        // root nk at bin + 0x20: 4-byte size, 0x4C header, 4-byte name -> 0x54, rounded to 0x58
        int nk = bin + 0x20;
        int nkSize = 0x58;
        int sk = nk + nkSize;
        f.putInt(nk, -nkSize);
        int n = nk + 4;
        f.put(n, (byte) 'n').put(n + 1, (byte) 'k');
        f.putShort(n + 0x02, (short) 0x2C);                    // hive entry, no delete, compressed name
        f.putLong(n + 0x04, ROOT_TIME);
        f.putInt(n + 0x10, -1);                                 // parent: none (Windows points it outside the hive)
        f.putInt(n + 0x1C, -1).putInt(n + 0x20, -1);            // subkey lists
        f.putInt(n + 0x28, -1);                                 // value list
        f.putInt(n + 0x2C, sk - bin);                           // security cell
        f.putInt(n + 0x30, -1);                                 // class name
        f.putShort(n + 0x48, (short) 4);
        f.put(n + 0x4C, "ROOT".getBytes(StandardCharsets.US_ASCII));
        // sk: self-relative security descriptor with an empty DACL, referenced once, alone in its list
        byte[] sd = {1, 0, 4, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0, 0};
        int skBody = 0x14 + sd.length;
        int skSize = (4 + skBody + 7) & ~7;
        f.putInt(sk, -skSize);
        int s = sk + 4;
        f.put(s, (byte) 's').put(s + 1, (byte) 'k');
        f.putInt(s + 0x04, sk - bin).putInt(s + 0x08, sk - bin).putInt(s + 0x0C, 1).putInt(s + 0x10, sd.length);
        f.put(s + 0x14, sd);
        int free = sk + skSize;
        f.putInt(free, 0x2000 - free);                          // the rest: one free cell
        return f.array();
    }
}
