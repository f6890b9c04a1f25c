package org.jv2v.convert.linux.kmod;

import org.jv2v.BadInputException;
import org.jv2v.convert.linux.compress.Codecs;
import org.jv2v.convert.linux.compress.Compression;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a kernel module (an ELF relocatable object, possibly xz/zstd/gzip compressed) the way
 * libkmod does for depmod: the {@code .modinfo} strings, the exported symbols ({@code __crc_NAME}
 * symbols when the kernel has symbol versions, else the {@code __ksymtab_strings} section) and the
 * undefined symbols (plus {@code __versions} entries no undefined symbol claimed, such as
 * {@code module_layout}). 32- and 64-bit, either byte order.
 */
public final class ElfModule {
    /**
     * Largest unpacked module accepted: the biggest in-tree modules are tens of MiB (amdgpu,
     * debug builds); anything beyond is not a module.
     */
    public static final int MAX_MODULE_BYTES = 512 << 20;
    private static final int SHN_UNDEF = 0;
    /** struct modversion_info is 64 bytes on 32- and 64-bit kernels alike: a CRC then the name. */
    private static final int MODVERSION_SIZE = 64;

    private final ByteBuffer b;
    private final String where;
    private final boolean is64;
    private final int shoff;
    private final int shnum;
    private final int shentsize;
    private final int shstrOffset;
    private final int shstrSize;

    private ElfModule(byte[] elf, String where) {
        this.where = where;
        if (elf.length < 0x34 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F') {
            throw bad(0, "e_ident", "no ELF magic");
        }
        int cls = elf[4];                          // 0x04 EI_CLASS
        int data = elf[5];                         // 0x05 EI_DATA
        if (cls != 1 && cls != 2) {
            throw bad(4, "EI_CLASS", "is " + cls + " (1 or 2 expected)");
        }
        if (data != 1 && data != 2) {
            throw bad(5, "EI_DATA", "is " + data + " (1 or 2 expected)");
        }
        is64 = cls == 2;
        b = ByteBuffer.wrap(elf).order(data == 1 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        if (is64 && elf.length < 0x40) {
            throw bad(0, "ELF header", "truncated");
        }
        long off = is64 ? b.getLong(0x28) : u32(0x20);            // e_shoff
        shentsize = u16(is64 ? 0x3a : 0x2e);                        // e_shentsize
        shnum = u16(is64 ? 0x3c : 0x30);                            // e_shnum
        int shstrndx = u16(is64 ? 0x3e : 0x32);                     // e_shstrndx
        if (shentsize != (is64 ? 64 : 40)) {
            throw bad(is64 ? 0x3a : 0x2e, "e_shentsize", "is " + shentsize);
        }
        if (shnum == 0 || off < 0 || off + (long) shnum * shentsize > elf.length) {
            throw bad(is64 ? 0x28 : 0x20, "e_shoff", "section headers (" + shnum + " at 0x" + Long.toHexString(off)
                    + ") run past the end of the file");
        }
        shoff = (int) off;
        if (shstrndx >= shnum) {
            throw bad(is64 ? 0x3e : 0x32, "e_shstrndx", "is " + shstrndx + " of " + shnum + " sections");
        }
        int[] str = sectionRange(shstrndx);
        shstrOffset = str[0];
        shstrSize = str[1];
    }

    /** Reads a module file as found on disk: ELF, or an xz/zstd/gzip-compressed ELF. */
    public static ModuleInfo read(byte[] file, String where) {
        byte[] elf = file;
        if (!(file.length >= 4 && file[0] == 0x7f && file[1] == 'E' && file[2] == 'L' && file[3] == 'F')) {
            Compression c = Compression.detect(file, 0, file.length);
            if (c == null || c == Compression.NONE) {
                throw BadInputException.of(where + ": neither an ELF module nor a compressed one (magic at offset 0x0)");
            }
            elf = Codecs.decode(c, file, 0, file.length, MAX_MODULE_BYTES, where).data();
        }
        return new ElfModule(elf, where).info();
    }

    /** The module's own bytes, decompressed if needed (for tests and for modinfo-like use). */
    public static byte[] unpack(byte[] file, String where) {
        if (file.length >= 4 && file[0] == 0x7f && file[1] == 'E' && file[2] == 'L' && file[3] == 'F') {
            return file;
        }
        Compression c = Compression.detect(file, 0, file.length);
        if (c == null || c == Compression.NONE) {
            throw BadInputException.of(where + ": neither an ELF module nor a compressed one (magic at offset 0x0)");
        }
        return Codecs.decode(c, file, 0, file.length, MAX_MODULE_BYTES, where).data();
    }

    private ModuleInfo info() {
        List<String> modinfo = strings(section(".modinfo"));
        int[] symtab = section(".symtab");
        int[] strtab = section(".strtab");
        List<String> exported = symtab != null && strtab != null ? crcSymbols(symtab, strtab) : List.of();
        if (exported.isEmpty()) {
            exported = strings(section("__ksymtab_strings"));
        }
        List<String> needed = symtab != null && strtab != null ? undefinedSymbols(symtab, strtab) : List.of();
        return new ModuleInfo(modinfo, exported, needed);
    }

    /** Exported symbols as {@code __crc_NAME} symbols (kernels with CONFIG_MODVERSIONS). */
    private List<String> crcSymbols(int[] symtab, int[] strtab) {
        int symSize = is64 ? 24 : 16;
        List<String> out = new ArrayList<>();
        if (symtab[1] % symSize != 0) {
            return out;                            // libkmod falls back to __ksymtab_strings
        }
        for (int p = symtab[0] + symSize; p < symtab[0] + symtab[1]; p += symSize) {
            long nameOff = u32(p);                 // st_name at 0x00 in both layouts
            if (nameOff >= strtab[1]) {
                return List.of();
            }
            String name = cString(strtab[0] + (int) nameOff, strtab[0] + strtab[1]);
            if (name.startsWith("__crc_")) {
                out.add(name.substring(6));
            }
        }
        return out;
    }

    private List<String> undefinedSymbols(int[] symtab, int[] strtab) {
        int symSize = is64 ? 24 : 16;
        if (symtab[1] % symSize != 0) {
            throw bad(symtab[0], ".symtab", "size " + symtab[1] + " is not a multiple of " + symSize);
        }
        List<String> out = new ArrayList<>();
        for (int p = symtab[0] + symSize; p < symtab[0] + symtab[1]; p += symSize) {
            int shndx = u16(p + (is64 ? 6 : 14));  // st_shndx
            if (shndx != SHN_UNDEF) {
                continue;
            }
            long nameOff = u32(p);
            if (nameOff >= strtab[1]) {
                throw bad(p, ".symtab entry", "name offset " + nameOff + " is past .strtab (" + strtab[1] + " bytes)");
            }
            String name = cString(strtab[0] + (int) nameOff, strtab[0] + strtab[1]);
            if (!name.isEmpty()) {
                out.add(name);
            }
        }
        int[] versions = section("__versions");
        if (versions != null && versions[1] % MODVERSION_SIZE == 0) {
            Set<String> claimed = new HashSet<>(out);
            int crcSize = is64 ? 8 : 4;
            for (int p = versions[0]; p < versions[0] + versions[1]; p += MODVERSION_SIZE) {
                String name = cString(p + crcSize, p + MODVERSION_SIZE);
                if (!claimed.contains(name)) {
                    out.add(name);
                }
            }
        }
        return out;
    }

    /** The NUL-separated strings of a section, runs of NULs (padding) skipped, as libkmod splits them. */
    private List<String> strings(int[] sec) {
        List<String> out = new ArrayList<>();
        if (sec == null) {
            return out;
        }
        int end = sec[0] + sec[1];
        int p = sec[0];
        while (p < end) {
            if (b.get(p) == 0) {
                p++;
                continue;
            }
            int q = p;
            while (q < end && b.get(q) != 0) {
                q++;
            }
            out.add(new String(b.array(), p, q - p, StandardCharsets.ISO_8859_1));
            p = q;
        }
        return out;
    }

    /** The file range {offset, size} of the first section with this name, or null. */
    private int[] section(String name) {
        for (int i = 1; i < shnum; i++) {
            int h = shoff + i * shentsize;
            long nameOff = u32(h);                 // sh_name at 0x00
            if (nameOff >= shstrSize) {
                throw bad(h, "sh_name of section " + i, "offset " + nameOff + " is past the section name table");
            }
            if (cString(shstrOffset + (int) nameOff, shstrOffset + shstrSize).equals(name)) {
                return sectionRange(i);
            }
        }
        return null;
    }

    private int[] sectionRange(int i) {
        int h = shoff + i * shentsize;
        long off = is64 ? b.getLong(h + 0x18) : u32(h + 0x10);     // sh_offset
        long size = is64 ? b.getLong(h + 0x20) : u32(h + 0x14);    // sh_size
        if (off < 0 || size < 0 || off + size > b.capacity()) {
            throw bad(h, "section " + i + " header", "data at 0x" + Long.toHexString(off) + " (" + size
                    + " bytes) runs past the end of the file");
        }
        return new int[] {(int) off, (int) size};
    }

    private String cString(int p, int limit) {
        int q = p;
        while (q < limit && b.get(q) != 0) {
            q++;
        }
        if (q >= limit) {
            throw bad(p, "string", "is not NUL-terminated within its table");
        }
        return new String(b.array(), p, q - p, StandardCharsets.ISO_8859_1);
    }

    private int u16(int p) {
        return b.getShort(p) & 0xffff;
    }

    private long u32(int p) {
        return b.getInt(p) & 0xffffffffL;
    }

    private BadInputException bad(int offset, String field, String problem) {
        return BadInputException.of(where + ": " + field + " at offset 0x" + Integer.toHexString(offset) + ": " + problem);
    }
}
