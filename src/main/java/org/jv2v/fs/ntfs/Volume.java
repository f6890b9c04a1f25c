package org.jv2v.fs.ntfs;

import org.jv2v.LruMap;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The NTFS volume's core: boot sector, the MFT (itself a file, possibly fragmented), $UpCase, inodes. */
final class Volume {
    /** Windows keeps $ATTRIBUTE_LIST under 256 KiB (it cannot grow a non-resident list past that). */
    static final int MAX_ATTRIBUTE_LIST_BYTES = 256 << 10;
    /** Inodes kept decoded; a directory walk revisits few, a lookup touches one per path component. */
    static final int INODE_CACHE = 4096;
    static final long MREF_MASK = 0x0000_FFFF_FFFF_FFFFL;

    final BlockDevice device;
    final String name;
    final BootSector boot;
    final MftRecord.Geometry geometry;
    private Stream mft;
    private long mftRecords;
    UpCase upcase;

    private final Map<Long, Inode> cache = new LruMap<>(INODE_CACHE);

    private Volume(BlockDevice device, BootSector boot) {
        this.device = device;
        this.name = device.describe();
        this.boot = boot;
        this.geometry = new MftRecord.Geometry(name, boot.mftRecordSize(), boot.clusterCount());
    }

    static Volume open(BlockDevice device) throws IOException {
        if (device.size() < BootSector.SIZE) {
            throw Ntfs.bad(device.describe(), "too small for an NTFS boot sector");
        }
        ByteBuffer bs = ByteBuffer.allocate(BootSector.SIZE);
        device.read(bs, 0);
        Volume v = new Volume(device, BootSector.read(bs.flip(), device.describe(), device.size()));
        v.bootstrapMft();
        Inode up = v.inode(Ntfs.FILE_UPCASE);
        Stream s = up.stream(Ntfs.AT_DATA, "");
        if (s == null) {
            throw Ntfs.bad(v.name, "$UpCase (MFT record 10) has no data");
        }
        v.upcase = UpCase.of(s.readAll(UpCase.BYTES));
        return v;
    }

    /**
     * Reads $MFT's own record from the cluster the boot sector names, then its runlist; when the MFT
     * is so fragmented that record 0 needs an attribute list, the extension records are found
     * through the part of the runlist already known.
     */
    private void bootstrapMft() throws IOException {
        int rs = boot.mftRecordSize();
        long off = boot.mftLcn() * boot.clusterSize();
        byte[] raw = new byte[rs];
        device.read(ByteBuffer.wrap(raw), off);
        MftRecord rec0 = MftRecord.parse(raw, 0, off, geometry);
        if (!rec0.inUse()) {
            throw Ntfs.bad(name, "MFT record 0 ($MFT)", off, "not in use");
        }
        List<Attr> segs = new ArrayList<>();
        for (Attr a : rec0.attrs()) {
            if (a.is(Ntfs.AT_DATA, "")) {
                segs.add(a);
            }
        }
        if (segs.isEmpty() || segs.getFirst().resident()) {
            throw Ntfs.bad(name, "MFT record 0 ($MFT)", off, "no non-resident $DATA");
        }
        Attr head = segs.stream().filter(a -> a.lowestVcn() == 0).findFirst()
                .orElseThrow(() -> Ntfs.bad(name, "MFT record 0 ($MFT)", off, "no $DATA segment at VCN 0"));
        if (head.dataSize() > boot.volumeBytes() || head.dataSize() < 16L * rs) {
            throw Ntfs.bad(name, "$MFT data size", head.diskOffset() + 0x30, head.dataSize() + " bytes ("
                    + head.dataSize() / rs + " records) for a volume of " + boot.volumeBytes() + " bytes");
        }
        mftRecords = head.dataSize() / rs;
        mft = Stream.of(device, name, boot.clusterSize(), segs);
        for (Attr a : rec0.attrs()) {
            if (a.type() == Ntfs.AT_ATTRIBUTE_LIST) {
                Stream listStream = Stream.of(device, name, boot.clusterSize(), List.of(a));
                for (AttrListEntry e : AttrListEntry.parse(listStream.readAll(MAX_ATTRIBUTE_LIST_BYTES), name, a)) {
                    long rec = e.ref() & MREF_MASK;
                    if (e.type() == Ntfs.AT_DATA && e.name().isEmpty() && rec != 0) {
                        MftRecord ext = record(rec);
                        checkExtension(ext, 0, e);
                        for (Attr x : ext.attrs()) {
                            if (x.is(Ntfs.AT_DATA, "") && x.instance() == e.instance()) {
                                segs.add(x);
                            }
                        }
                        // Each segment extends the map, so the next extension record becomes reachable.
                        mft = Stream.of(device, name, boot.clusterSize(), segs);
                    }
                }
            }
        }
    }

    long mftRecordCount() {
        return mftRecords;
    }

    /** Where MFT record {@code n} starts on the device (-1 if its runlist does not map it). */
    long recordDiskOffset(long n) {
        return mft.deviceOffset(n * boot.mftRecordSize());
    }

    /** Reads MFT record {@code n} (fixups applied). */
    MftRecord record(long n) throws IOException {
        if (n < 0 || n >= mftRecords) {
            throw Ntfs.bad(name, "MFT record " + n + " is past the end of the MFT (" + mftRecords + " records)");
        }
        int rs = boot.mftRecordSize();
        long pos = n * rs;
        long disk = mft.deviceOffset(pos);
        if (disk < 0) {
            throw Ntfs.bad(name, "MFT record " + n + " lies in a part of $MFT that its runlist does not map");
        }
        byte[] raw = new byte[rs];
        ByteBuffer b = ByteBuffer.wrap(raw);
        mft.read(pos, b);
        return MftRecord.parse(raw, n, disk, geometry);
    }

    /** The file whose base record is {@code n}, with its extension records merged. */
    Inode inode(long n) throws IOException {
        synchronized (cache) {
            Inode i = cache.get(n);
            if (i != null) {
                return i;
            }
        }
        Inode i = load(n);
        synchronized (cache) {
            cache.put(n, i);
        }
        return i;
    }

    private Inode load(long n) throws IOException {
        MftRecord r = record(n);
        if (!r.inUse()) {
            throw Ntfs.bad(name, "MFT record " + n + " is not in use (a stale reference)");
        }
        if (r.baseRef() != 0) {
            throw Ntfs.bad(name, "MFT record " + n + " is an extension of record " + (r.baseRef() & MREF_MASK)
                    + ", not a file");
        }
        Attr listAttr = null;
        for (Attr a : r.attrs()) {
            if (a.type() == Ntfs.AT_ATTRIBUTE_LIST) {
                listAttr = a;
            }
        }
        if (listAttr == null) {
            return new Inode(this, n, r, r.attrs());
        }
        Stream ls = Stream.of(device, name, boot.clusterSize(), List.of(listAttr));
        List<AttrListEntry> entries = AttrListEntry.parse(ls.readAll(MAX_ATTRIBUTE_LIST_BYTES), name, listAttr);
        Map<Long, MftRecord> records = new LinkedHashMap<>();
        records.put(n, r);
        List<Attr> attrs = new ArrayList<>();
        for (AttrListEntry e : entries) {
            long rec = e.ref() & MREF_MASK;
            MftRecord holder = records.get(rec);
            if (holder == null) {
                holder = record(rec);
                checkExtension(holder, n, e);
                records.put(rec, holder);
            }
            Attr found = null;
            for (Attr a : holder.attrs()) {
                if (a.type() == e.type() && a.instance() == e.instance() && a.name().equals(e.name())) {
                    found = a;
                    break;
                }
            }
            if (found == null) {
                throw Ntfs.bad(name, "$ATTRIBUTE_LIST of MFT record " + n, listAttr.diskOffset(), Ntfs.typeName(e.type())
                        + " instance " + e.instance() + " is not in MFT record " + rec);
            }
            attrs.add(found);
        }
        if (attrs.stream().noneMatch(a -> a.type() == Ntfs.AT_ATTRIBUTE_LIST)) {
            attrs.add(listAttr);
        }
        return new Inode(this, n, r, List.copyOf(attrs));
    }

    private void checkExtension(MftRecord ext, long base, AttrListEntry e) {
        if (!ext.inUse() || (ext.baseRef() & MREF_MASK) != base) {
            throw Ntfs.bad(name, "MFT record " + ext.number() + ", named by the attribute list of record " + base
                    + ", is not an extension of it (in use: " + ext.inUse() + ", base " + (ext.baseRef() & MREF_MASK) + ")");
        }
        int seq = (int) (e.ref() >>> 48);
        if (seq != 0 && seq != ext.sequence()) {
            throw Ntfs.bad(name, "MFT record " + ext.number() + " has sequence " + ext.sequence()
                    + ", but the attribute list of record " + base + " expects " + seq + " (stale reference)");
        }
    }

    /** One entry of an $ATTRIBUTE_LIST value. */
    record AttrListEntry(int type, String name, long lowestVcn, long ref, int instance) {
        static List<AttrListEntry> parse(byte[] v, String device, Attr list) {
            ByteBuffer b = Ntfs.le(v);
            List<AttrListEntry> out = new ArrayList<>();
            int p = 0;
            while (p + 0x1A <= v.length) {
                int type = b.getInt(p);                        // 0x00 type
                int len = Ntfs.u16(b, p + 0x04);               // 0x04 entry length
                int nameLen = Ntfs.u8(b, p + 0x06);            // 0x06 name length
                int nameOff = Ntfs.u8(b, p + 0x07);            // 0x07 name offset
                if (len < 0x1A || p + len > v.length || nameOff + 2 * nameLen > len) {
                    throw Ntfs.bad(device, list.describe() + " entry", list.diskOffset(), "entry at +" + p
                            + " has a bad length " + len);
                }
                String n = nameLen == 0 ? "" : Ntfs.utf16(b, p + nameOff, nameLen);
                out.add(new AttrListEntry(type, n,
                        b.getLong(p + 0x08),                   // 0x08 lowest VCN
                        b.getLong(p + 0x10),                   // 0x10 MFT reference of the holding record
                        Ntfs.u16(b, p + 0x18)));               // 0x18 attribute instance
                p += len;
            }
            return out;
        }
    }
}
