package org.jv2v.inspect;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * The processor architecture an executable was built for, from its header: ELF (Linux) or PE
 * (Windows), named as libguestfs names architectures ("x86_64", "i386", "aarch64" ...).
 */
final class Executables {
    /** Enough for the ELF header (64 bytes) and a PE's DOS header; the PE header is read at e_lfanew. */
    static final int HEAD_BYTES = 64;
    /** Where a PE header may start: real linkers put it in the first few hundred bytes. */
    static final int MAX_PE_OFFSET = 64 * 1024;

    private Executables() {}

    /** The architecture of an ELF file, or empty when {@code head} is not one (or the machine is unknown). */
    static Optional<String> elf(byte[] head) {
        if (head.length < 20 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') {
            return Optional.empty();
        }
        int elfClass = head[4];     // 0x04 EI_CLASS: 1 32-bit, 2 64-bit
        int data = head[5];         // 0x05 EI_DATA: 1 little-endian, 2 big-endian
        if ((elfClass != 1 && elfClass != 2) || (data != 1 && data != 2)) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(data == 1 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        int machine = b.getShort(0x12) & 0xffff; // 0x12 e_machine
        boolean is64 = elfClass == 2;
        String arch = switch (machine) {
            case 3, 6 -> "i386";                          // EM_386, EM_486
            case 62 -> "x86_64";                          // EM_X86_64
            case 183 -> "aarch64";                        // EM_AARCH64
            case 40 -> "arm";                             // EM_ARM
            case 2 -> "sparc";                            // EM_SPARC
            case 18 -> "sparc";                           // EM_SPARC32PLUS
            case 43 -> "sparc64";                         // EM_SPARCV9
            case 50 -> "ia64";                            // EM_IA_64
            case 20 -> "ppc";                             // EM_PPC
            case 21 -> data == 1 ? "ppc64le" : "ppc64";   // EM_PPC64
            case 22 -> is64 ? "s390x" : "s390";           // EM_S390
            case 243 -> is64 ? "riscv64" : "riscv32";     // EM_RISCV
            case 258 -> "loongarch64";                    // EM_LOONGARCH
            default -> null;
        };
        return Optional.ofNullable(arch);
    }

    /** Where the PE header starts ("MZ" file's e_lfanew at 0x3c), or -1 when {@code head} is no MZ file. */
    static long peOffset(byte[] head) {
        if (head.length < 0x40 || head[0] != 'M' || head[1] != 'Z') {
            return -1;
        }
        long off = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt(0x3c) & 0xffffffffL;
        return off >= 0x40 && off <= MAX_PE_OFFSET ? off : -1;
    }

    /** The architecture from the 26 bytes at the PE header: "PE\0\0", the COFF machine, then the optional header's magic. */
    static Optional<String> pe(byte[] peHeader) {
        if (peHeader.length < 26 || peHeader[0] != 'P' || peHeader[1] != 'E' || peHeader[2] != 0 || peHeader[3] != 0) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(peHeader).order(ByteOrder.LITTLE_ENDIAN);
        int machine = b.getShort(4) & 0xffff;   // +0x04 COFF Machine
        int magic = b.getShort(24) & 0xffff;    // +0x18 optional header Magic: 0x10b PE32, 0x20b PE32+
        String arch = switch (machine) {
            case 0x8664 -> "x86_64";
            case 0x14c -> "i386";
            case 0xaa64 -> "aarch64";
            case 0x1c4 -> "arm";
            case 0x200 -> "ia64";
            default -> magic == 0x20b ? "x86_64" : magic == 0x10b ? "i386" : null;
        };
        return Optional.ofNullable(arch);
    }
}
