package org.jv2v.image.vhdx;

import org.jv2v.BadInputException;
import org.jv2v.image.ImageFormat;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Microsoft VHDX (MS-VHDX): fixed, dynamic and differencing disks, as Hyper-V and qemu write them.
 *
 * <p>A file whose header names a log (it was not closed cleanly) is opened with its log replayed
 * into the read view in memory, never written back: see {@link VhdxLog}.
 */
public final class VhdxFormat implements ImageFormat {
    static final String FILE_SIGNATURE = "vhdxfile";
    static final long HEADER1 = 64 * Structs.KIB;
    static final long HEADER2 = 128 * Structs.KIB;
    static final long REGION_TABLE1 = 192 * Structs.KIB;
    static final long REGION_TABLE2 = 256 * Structs.KIB;

    /** The specification's bounds on the payload block size. */
    static final long MIN_BLOCK_SIZE = Structs.MIB;
    static final long MAX_BLOCK_SIZE = 256 * Structs.MIB;
    /** The specification's maximum virtual disk size, 64 TiB. */
    static final long MAX_VIRTUAL_SIZE = 64L << 40;
    /** The specification caps a metadata item at 1 MiB; the parent locator is read whole. */
    static final long MAX_METADATA_ITEM = Structs.MIB;

    @Override
    public String name() {
        return "vhdx";
    }

    @Override
    public int probe(ByteBuffer head, Path file, long fileSize) {
        return head.remaining() >= 8 && Structs.ascii(head, head.position(), 8).equals(FILE_SIGNATURE) ? 100 : 0;
    }

    @Override
    public OpenedImage open(Path file, OpenContext context) throws IOException {
        VhdxFile f = VhdxFile.open(file);
        try {
            return open(f, context);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private record Params(long blockSize, boolean leaveAllocated, boolean hasParent) {}

    private OpenedImage open(VhdxFile f, OpenContext context) throws IOException {
        Path file = f.path();
        ByteBuffer id = f.readStruct(0, 8, "file type identifier");
        String sig = Structs.ascii(id, 0, 8);
        if (!sig.equals(FILE_SIGNATURE)) {
            throw BadInputException.atOffset(file, "file type identifier", 0, "expected \"vhdxfile\", found \""
                    + Structs.printable(sig) + "\"");
        }

        VhdxHeader h1 = VhdxHeader.read(f.readStruct(HEADER1, VhdxHeader.SIZE, "header 1"));
        VhdxHeader h2 = VhdxHeader.read(f.readStruct(HEADER2, VhdxHeader.SIZE, "header 2"));
        VhdxHeader header;
        long headerOffset;
        if (h1.valid() && (!h2.valid() || Long.compareUnsigned(h1.sequenceNumber(), h2.sequenceNumber()) >= 0)) {
            header = h1;
            headerOffset = HEADER1;
        } else if (h2.valid()) {
            header = h2;
            headerOffset = HEADER2;
        } else {
            throw BadInputException.atOffset(file, "header checksum", HEADER1 + VhdxHeader.CHECKSUM_OFFSET,
                    "neither header (at 0x10000 and 0x20000) has a valid signature and CRC-32C: "
                            + why(h1) + "; " + why(h2));
        }
        if (header.version() != 1) {
            throw BadInputException.atOffset(file, "header version", headerOffset + 0x42, "unsupported VHDX version "
                    + header.version() + " (only 1 exists)");
        }
        if (header.hasLog()) {
            if (header.logVersion() != 0) {
                throw BadInputException.atOffset(file, "header log version", headerOffset + 0x40,
                        "unsupported log version " + header.logVersion() + ": cannot replay the pending log");
            }
            VhdxLog.replay(f, header, headerOffset);
        }

        Map<UUID, VhdxRegionTable.Entry> regions = regions(f);
        VhdxRegionTable.Entry batRegion = regions.get(VhdxRegionTable.BAT);
        VhdxRegionTable.Entry metaRegion = regions.get(VhdxRegionTable.METADATA);
        if (batRegion == null || metaRegion == null) {
            throw BadInputException.atOffset(file, "region table", REGION_TABLE1, "no "
                    + (batRegion == null ? "BAT" : "metadata") + " region");
        }
        long meta = metaRegion.fileOffset();
        if (metaRegion.length() < VhdxMetadataTable.SIZE) {
            throw BadInputException.atOffset(file, "metadata region length", regionEntryOffset(metaRegion) + 0x18,
                    "region of " + metaRegion.length() + " bytes cannot hold the 64 KiB metadata table");
        }
        VhdxMetadataTable table = VhdxMetadataTable.read(f.readStruct(meta, VhdxMetadataTable.SIZE, "metadata table"));
        if (!table.signature().equals(VhdxMetadataTable.SIGNATURE)) {
            throw BadInputException.atOffset(file, "metadata table signature", meta, "expected \"metadata\", found \""
                    + Structs.printable(table.signature()) + "\"");
        }
        if (table.entryCount() > VhdxMetadataTable.MAX_ENTRIES) {
            throw BadInputException.atOffset(file, "metadata entry count", meta + 0x0a, table.entryCount()
                    + " entries, more than the limit of " + VhdxMetadataTable.MAX_ENTRIES);
        }
        Map<UUID, ByteBuffer> items = new HashMap<>();
        Map<UUID, Long> itemOffsets = new HashMap<>();
        for (VhdxMetadataTable.Entry e : table.entries()) {
            long entryAt = meta + VhdxMetadataTable.ENTRIES_OFFSET + (long) e.index() * VhdxMetadataTable.ENTRY_SIZE;
            boolean known = e.itemId().equals(VhdxMetadataTable.FILE_PARAMETERS)
                    || e.itemId().equals(VhdxMetadataTable.VIRTUAL_DISK_SIZE)
                    || e.itemId().equals(VhdxMetadataTable.VIRTUAL_DISK_ID)
                    || e.itemId().equals(VhdxMetadataTable.LOGICAL_SECTOR_SIZE)
                    || e.itemId().equals(VhdxMetadataTable.PHYSICAL_SECTOR_SIZE)
                    || e.itemId().equals(VhdxMetadataTable.PARENT_LOCATOR);
            if (!known) {
                if (e.isRequired()) {
                    throw BadInputException.atOffset(file, "metadata entry " + e.index(), entryAt,
                            "unknown required metadata item " + e.itemId() + ": this VHDX needs a feature jv2v lacks");
                }
                continue;
            }
            if (e.length() > MAX_METADATA_ITEM || (e.length() > 0 && (e.offset() < VhdxMetadataTable.SIZE
                    || e.offset() > metaRegion.length() - e.length()))) {
                throw BadInputException.atOffset(file, "metadata entry " + e.index() + " offset", entryAt + 0x10,
                        "item of " + e.length() + " bytes at region offset " + e.offset()
                                + " is not inside the metadata region (after its table) or exceeds 1 MiB");
            }
            if (items.containsKey(e.itemId())) {
                throw BadInputException.atOffset(file, "metadata entry " + e.index(), entryAt, "metadata item "
                        + e.itemId() + " appears twice");
            }
            items.put(e.itemId(), f.readStruct(meta + e.offset(), (int) e.length(), "metadata item " + e.itemId()));
            itemOffsets.put(e.itemId(), meta + e.offset());
        }

        ByteBuffer fp = item(items, itemOffsets, VhdxMetadataTable.FILE_PARAMETERS, 8, "file parameters", file, meta);
        long fpAt = itemOffsets.get(VhdxMetadataTable.FILE_PARAMETERS);
        Params params = new Params(Integer.toUnsignedLong(fp.getInt(0)), (fp.getInt(4) & 1) != 0,
                (fp.getInt(4) & 2) != 0);
        long blockSize = params.blockSize();
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Long.bitCount(blockSize) != 1) {
            throw BadInputException.atOffset(file, "block size", fpAt, "block size " + blockSize
                    + " is not a power of two from 1 MiB to 256 MiB");
        }
        ByteBuffer ls = item(items, itemOffsets, VhdxMetadataTable.LOGICAL_SECTOR_SIZE, 4, "logical sector size",
                file, meta);
        long logicalSector = Integer.toUnsignedLong(ls.getInt(0));
        if (logicalSector != 512 && logicalSector != 4096) {
            throw BadInputException.atOffset(file, "logical sector size",
                    itemOffsets.get(VhdxMetadataTable.LOGICAL_SECTOR_SIZE), "logical sector size " + logicalSector
                            + " (must be 512 or 4096)");
        }
        ByteBuffer ps = item(items, itemOffsets, VhdxMetadataTable.PHYSICAL_SECTOR_SIZE, 4, "physical sector size",
                file, meta);
        long physicalSector = Integer.toUnsignedLong(ps.getInt(0));
        if (physicalSector != 512 && physicalSector != 4096) {
            throw BadInputException.atOffset(file, "physical sector size",
                    itemOffsets.get(VhdxMetadataTable.PHYSICAL_SECTOR_SIZE), "physical sector size "
                            + physicalSector + " (must be 512 or 4096)");
        }
        ByteBuffer vs = item(items, itemOffsets, VhdxMetadataTable.VIRTUAL_DISK_SIZE, 8, "virtual disk size", file,
                meta);
        long size = vs.getLong(0);
        if (size <= 0 || size > MAX_VIRTUAL_SIZE || size % logicalSector != 0) {
            throw BadInputException.atOffset(file, "virtual disk size",
                    itemOffsets.get(VhdxMetadataTable.VIRTUAL_DISK_SIZE), "virtual size "
                            + Long.toUnsignedString(size) + " is not a positive multiple of the " + logicalSector
                            + "-byte sector up to 64 TiB");
        }

        long chunkRatio = (1L << 23) * logicalSector / blockSize;
        long payloadBlocks = (size + blockSize - 1) / blockSize;
        long bitmapBlocks = (payloadBlocks + chunkRatio - 1) / chunkRatio;
        long batEntries = params.hasParent() ? bitmapBlocks * (chunkRatio + 1)
                : payloadBlocks + (payloadBlocks - 1) / chunkRatio;
        if (batEntries * 8 > batRegion.length()) {
            throw BadInputException.atOffset(file, "BAT region length", regionEntryOffset(batRegion) + 0x18,
                    "region of " + batRegion.length() + " bytes cannot hold the " + batEntries
                            + " entries a " + size + "-byte disk in " + blockSize + "-byte blocks needs");
        }
        VhdxBat bat = new VhdxBat(f, batRegion.fileOffset(), batEntries);
        validateBat(f, bat, size, blockSize, chunkRatio, params.hasParent());

        String subformat = params.hasParent() ? "differencing" : params.leaveAllocated() ? "fixed" : "dynamic";
        OpenedImage parent = null;
        if (params.hasParent()) {
            ByteBuffer pl = items.get(VhdxMetadataTable.PARENT_LOCATOR);
            if (pl == null) {
                throw BadInputException.atOffset(file, "parent locator", meta, "differencing disk (has_parent set at "
                        + Structs.hex(fpAt + 4) + ") without a parent locator metadata item");
            }
            parent = openParent(f, VhdxParentLocator.read(pl, file, itemOffsets.get(VhdxMetadataTable.PARENT_LOCATOR)),
                    itemOffsets.get(VhdxMetadataTable.PARENT_LOCATOR), context);
        }
        try {
            VhdxDevice dev = new VhdxDevice(f, subformat, size, blockSize, (int) logicalSector, chunkRatio, bat,
                    params.hasParent(), parent == null ? null : parent.device(), header.dataWriteGuid());
            return new OpenedImage(name(), subformat, file, List.of(file), dev, Optional.ofNullable(parent));
        } catch (RuntimeException | IOException e) {
            if (parent != null) {
                parent.close();
            }
            throw e;
        }
    }

    private static String why(VhdxHeader h) {
        if (!h.signature().equals(VhdxHeader.SIGNATURE)) {
            return "signature \"" + Structs.printable(h.signature()) + "\"";
        }
        return "CRC-32C stored 0x" + Integer.toHexString(h.checksum()) + ", computed 0x"
                + Integer.toHexString(h.computedChecksum());
    }

    private static long regionEntryOffset(VhdxRegionTable.Entry e) {
        return REGION_TABLE1 + VhdxRegionTable.ENTRIES_OFFSET + (long) e.index() * VhdxRegionTable.ENTRY_SIZE;
    }

    /** The regions of the first valid region table (the second is its copy). */
    private static Map<UUID, VhdxRegionTable.Entry> regions(VhdxFile f) throws IOException {
        Path file = f.path();
        VhdxRegionTable t1 = VhdxRegionTable.read(f.readStruct(REGION_TABLE1, VhdxRegionTable.SIZE, "region table 1"));
        VhdxRegionTable table = t1;
        long at = REGION_TABLE1;
        if (!t1.valid()) {
            VhdxRegionTable t2 = VhdxRegionTable.read(f.readStruct(REGION_TABLE2, VhdxRegionTable.SIZE,
                    "region table 2"));
            if (!t2.valid()) {
                throw BadInputException.atOffset(file, "region table checksum", REGION_TABLE1
                        + VhdxRegionTable.CHECKSUM_OFFSET, "neither region table (at 0x30000 and 0x40000) has a"
                        + " valid signature and CRC-32C (stored 0x" + Integer.toHexString(t1.checksum())
                        + ", computed 0x" + Integer.toHexString(t1.computedChecksum()) + ")");
            }
            table = t2;
            at = REGION_TABLE2;
        }
        if (table.entryCount() > VhdxRegionTable.MAX_ENTRIES) {
            throw BadInputException.atOffset(file, "region entry count", at + 0x08, table.entryCount()
                    + " regions, more than the limit of " + VhdxRegionTable.MAX_ENTRIES);
        }
        Map<UUID, VhdxRegionTable.Entry> out = new HashMap<>();
        for (VhdxRegionTable.Entry e : table.entries()) {
            long entryAt = at + VhdxRegionTable.ENTRIES_OFFSET + (long) e.index() * VhdxRegionTable.ENTRY_SIZE;
            boolean known = e.guid().equals(VhdxRegionTable.BAT) || e.guid().equals(VhdxRegionTable.METADATA);
            if (!known) {
                if (e.required()) {
                    throw BadInputException.atOffset(file, "region entry " + e.index(), entryAt,
                            "unknown required region " + e.guid() + ": this VHDX needs a feature jv2v lacks");
                }
                continue;
            }
            if (e.fileOffset() < Structs.MIB || e.fileOffset() % Structs.MIB != 0 || e.length() == 0
                    || e.length() % Structs.MIB != 0 || e.fileOffset() > f.size() - e.length()) {
                throw BadInputException.atOffset(file, "region entry " + e.index() + " file offset", entryAt + 0x10,
                        "region at " + Structs.hex(e.fileOffset()) + " of " + e.length() + " bytes is not 1 MiB-aligned"
                                + " after the headers and inside the file of " + f.size() + " bytes");
            }
            if (out.putIfAbsent(e.guid(), e) != null) {
                throw BadInputException.atOffset(file, "region entry " + e.index(), entryAt, "region " + e.guid()
                        + " appears twice");
            }
        }
        return out;
    }

    private static ByteBuffer item(Map<UUID, ByteBuffer> items, Map<UUID, Long> offsets, UUID id, int minLength,
                                   String name, Path file, long meta) {
        ByteBuffer b = items.get(id);
        if (b == null) {
            throw BadInputException.atOffset(file, "metadata table", meta, "required metadata item '" + name
                    + "' (" + id + ") is missing");
        }
        if (b.remaining() < minLength) {
            throw BadInputException.atOffset(file, name, offsets.get(id), "item of " + b.remaining()
                    + " bytes, " + minLength + " needed");
        }
        return b;
    }

    /**
     * Checks every BAT entry once, streaming through the table: states valid for this kind of
     * disk, blocks inside the file and clear of the headers, a sector bitmap for each chunk that
     * has partially present blocks.
     */
    private static void validateBat(VhdxFile f, VhdxBat bat, long size, long blockSize, long chunkRatio,
                                    boolean differencing) throws IOException {
        Path file = f.path();
        boolean chunkHasPartial = false;
        for (long i = 0; i < bat.entries(); i++) {
            long entry = bat.get(i);
            int state = VhdxBat.state(entry);
            long at = VhdxBat.fileOffset(entry);
            long group = i / (chunkRatio + 1);
            long inGroup = i % (chunkRatio + 1);
            if (inGroup == chunkRatio) {
                if (differencing && state == VhdxBat.SB_PRESENT) {
                    if (at < Structs.MIB || at > f.size() - Structs.MIB) {
                        throw BadInputException.atOffset(file, "BAT entry " + i, bat.entryOffset(i), "sector bitmap block at "
                                + Structs.hex(at) + " is not inside the file of " + f.size() + " bytes");
                    }
                } else if (differencing && state != VhdxBat.SB_NOT_PRESENT) {
                    throw BadInputException.atOffset(file, "BAT entry " + i, bat.entryOffset(i), "reserved sector bitmap state "
                            + state);
                } else if (chunkHasPartial) {
                    throw BadInputException.atOffset(file, "BAT entry " + i, bat.entryOffset(i), "chunk " + group
                            + " has partially present blocks but no sector bitmap block");
                }
                chunkHasPartial = false;
                continue;
            }
            long block = group * chunkRatio + inGroup;
            if (block * blockSize >= size) {
                continue; // padding past the last block of a differencing disk's last chunk
            }
            switch (state) {
                case VhdxBat.PAYLOAD_NOT_PRESENT, VhdxBat.PAYLOAD_UNDEFINED, VhdxBat.PAYLOAD_ZERO,
                     VhdxBat.PAYLOAD_UNMAPPED, VhdxBat.PAYLOAD_UNMAPPED_V095 -> { }
                case VhdxBat.PAYLOAD_FULLY_PRESENT, VhdxBat.PAYLOAD_PARTIALLY_PRESENT -> {
                    if (state == VhdxBat.PAYLOAD_PARTIALLY_PRESENT) {
                        if (!differencing) {
                            throw BadInputException.atOffset(file, "BAT entry " + i, bat.entryOffset(i),
                                    "partially present block in a disk without a parent");
                        }
                        chunkHasPartial = true;
                    }
                    long need = Math.min(blockSize, size - block * blockSize);
                    if (at < Structs.MIB || at > f.size() - need) {
                        throw BadInputException.atOffset(file, "BAT entry " + i, bat.entryOffset(i), "block " + block + " at "
                                + Structs.hex(at) + " (" + need + " bytes) is not inside the file of " + f.size()
                                + " bytes (truncated?)");
                    }
                }
                default -> throw BadInputException.atOffset(file, "BAT entry " + i, bat.entryOffset(i), "reserved payload state "
                        + state);
            }
        }
        if (chunkHasPartial) {
            throw BadInputException.atOffset(file, "BAT", bat.offset(), "last chunk has partially present blocks but"
                    + " no sector bitmap entry");
        }
    }

    private OpenedImage openParent(VhdxFile f, VhdxParentLocator locator, long locatorAt, OpenContext context)
            throws IOException {
        Path file = f.path();
        if (!locator.locatorType().equals(VhdxParentLocator.VHDX_LOCATOR)) {
            throw BadInputException.atOffset(file, "parent locator type", locatorAt, "unsupported locator type "
                    + locator.locatorType() + " (only VHDX parents are defined)");
        }
        Map<String, String> kv = locator.entries();
        String linkage = kv.get("parent_linkage");
        if (linkage == null) {
            throw BadInputException.atOffset(file, "parent locator", locatorAt, "no parent_linkage entry");
        }
        List<String> keys = List.of("relative_path", "absolute_win32_path", "volume_path");
        Path parentPath = null;
        BadInputException refused = null;
        List<String> tried = new ArrayList<>();
        for (String key : keys) {
            String value = kv.get(key);
            if (value == null) {
                continue;
            }
            String local = localName(value, key.equals("relative_path"));
            if (local.isEmpty()) {
                continue;
            }
            Path p;
            try {
                p = context.guard().resolve(file, local, "parent locator " + key, "offset " + Structs.hex(locatorAt));
            } catch (BadInputException e) {
                if (refused == null) {
                    refused = e;
                }
                continue;
            }
            tried.add(key + " '" + value + "'");
            if (Files.isRegularFile(p)) {
                parentPath = p;
                break;
            }
        }
        if (parentPath == null) {
            if (refused != null) {
                throw refused;
            }
            throw BadInputException.atOffset(file, "parent locator", locatorAt, tried.isEmpty()
                    ? "no relative_path, absolute_win32_path or volume_path entry"
                    : "parent disk not found (tried " + String.join(", ", tried) + ")");
        }
        OpenContext next;
        try {
            next = context.forBacking(file, parentPath);
        } catch (BadInputException e) {
            // a loop or too deep a chain: say which locator led there
            String problem = e.getMessage().startsWith(file + ": ")
                    ? e.getMessage().substring(file.toString().length() + 2) : e.getMessage();
            throw BadInputException.atOffset(file, "parent locator", locatorAt, problem);
        }
        OpenedImage parent = open(parentPath, next);
        UUID actual = ((VhdxDevice) parent.device()).dataWriteGuid();
        if (!linkageMatches(linkage, actual) && !linkageMatches(kv.get("parent_linkage2"), actual)) {
            parent.close();
            throw BadInputException.atOffset(file, "parent locator parent_linkage", locatorAt, "expects parent data"
                    + " write GUID " + linkage + " but " + parentPath + " has {" + actual
                    + "} (the parent was modified or replaced)");
        }
        return parent;
    }

    private static boolean linkageMatches(String linkage, UUID actual) {
        if (linkage == null) {
            return false;
        }
        String s = linkage.trim();
        if (s.startsWith("{") && s.endsWith("}")) {
            s = s.substring(1, s.length() - 1);
        }
        try {
            return UUID.fromString(s).equals(actual);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * A Windows path from the locator as a name to look up here: a relative path keeps its
     * folders; an absolute one (drive letter, UNC, \\?\Volume{...}) cannot name a file on this
     * machine, so only its file name is looked up beside the child.
     */
    static String localName(String windowsPath, boolean relative) {
        String p = windowsPath.replace('\\', '/');
        if (p.startsWith("//?/")) {
            p = p.substring(4);
        }
        boolean absolute = !relative || p.startsWith("/") || (p.length() >= 2 && p.charAt(1) == ':');
        if (absolute) {
            p = p.substring(p.lastIndexOf('/') + 1);
            if (p.length() >= 2 && p.charAt(1) == ':') {
                p = p.substring(2);
            }
        }
        return p;
    }
}
