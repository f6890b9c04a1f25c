package org.jv2v.fs.ntfs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One file: its base MFT record and every attribute, including those an $ATTRIBUTE_LIST places in
 * extension records.
 */
final class Inode {
    final long number;
    final MftRecord base;
    final List<Attr> attrs;
    final StandardInformation si;
    private final Volume volume;
    private final Map<String, Stream> streams = new ConcurrentHashMap<>();
    /** Decoded once: the directory index, and what ntfs-3g would show the file as. */
    volatile Index index;
    volatile org.jv2v.fs.FileKind kind;

    Inode(Volume volume, long number, MftRecord base, List<Attr> attrs) {
        this.volume = volume;
        this.number = number;
        this.base = base;
        this.attrs = attrs;
        Attr siAttr = attrs.stream().filter(a -> a.type() == Ntfs.AT_STANDARD_INFORMATION).findFirst()
                .orElseThrow(() -> Ntfs.bad(volume.name, "MFT record " + number + " has no $STANDARD_INFORMATION"));
        if (!siAttr.resident()) {
            throw Ntfs.bad(volume.name, siAttr.describe(), siAttr.diskOffset(), "must be resident");
        }
        this.si = StandardInformation.read(siAttr.value(), volume.name, siAttr.describe(), siAttr.diskOffset());
    }

    boolean directory() {
        return base.directory();
    }

    int fileAttributes() {
        return si.attributes();
    }

    List<Attr> find(int type, String name) {
        List<Attr> out = new ArrayList<>();
        for (Attr a : attrs) {
            if (a.is(type, name)) {
                out.add(a);
            }
        }
        return out;
    }

    boolean has(int type, String name) {
        for (Attr a : attrs) {
            if (a.is(type, name)) {
                return true;
            }
        }
        return false;
    }

    /** The value of attribute {@code type} named {@code name} ("" for unnamed), or null if absent. */
    Stream stream(int type, String name) {
        String key = type + ":" + name;
        Stream s = streams.get(key);
        if (s == null) {
            List<Attr> segs = find(type, name);
            if (segs.isEmpty()) {
                return null;
            }
            s = Stream.of(volume.device, volume.name, volume.boot.clusterSize(), segs);
            streams.put(key, s);
        }
        return s;
    }

    /** Names of the $DATA streams other than the unnamed one (alternate data streams). */
    List<String> namedStreams() {
        List<String> out = new ArrayList<>();
        for (Attr a : attrs) {
            if (a.type() == Ntfs.AT_DATA && !a.name().isEmpty() && (a.resident() || a.lowestVcn() == 0)) {
                out.add(a.name());
            }
        }
        return out;
    }

    List<FileName> fileNames() {
        List<FileName> out = new ArrayList<>();
        for (Attr a : attrs) {
            if (a.type() == Ntfs.AT_FILE_NAME) {
                if (!a.resident()) {
                    throw Ntfs.bad(volume.name, a.describe(), a.diskOffset(), "must be resident");
                }
                out.add(FileName.read(Ntfs.le(a.value()), 0, a.value().length, volume.name, a.describe(), a.diskOffset()));
            }
        }
        return out;
    }
}
