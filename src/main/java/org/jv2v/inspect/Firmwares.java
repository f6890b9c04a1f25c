package org.jv2v.inspect;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileSystem;
import org.jv2v.volume.DeviceReads;
import org.jv2v.volume.Disk;
import org.jv2v.volume.Partition;
import org.jv2v.volume.VolumeScan;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** BIOS or UEFI, from the partitions (virt-v2v's rule), with the facts that show it. */
final class Firmwares {
    static final String ESP_GUID = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    static final String BIOS_BOOT_GUID = "21686148-6449-6E6F-744E-656564454649";
    static final int MBR_TYPE_ESP = 0xef;
    /** The MBR's boot code area: the 440 bytes before the disk signature. */
    static final int MBR_CODE_BYTES = 440;

    private Firmwares() {}

    static FirmwareInfo detect(VolumeScan scan, Map<String, FileSystem> opened) throws IOException {
        List<String> esps = new ArrayList<>();
        List<String> gptEsps = new ArrayList<>();
        List<String> biosBoot = new ArrayList<>();
        List<String> bootCode = new ArrayList<>();
        List<String> evidence = new ArrayList<>();
        for (Disk d : scan.disks()) {
            if (d.device().size() >= 512) {
                ByteBuffer s0 = DeviceReads.read(d.device(), 0, 512, "MBR");
                boolean code = false;
                for (int i = 0; i < MBR_CODE_BYTES && !code; i++) {
                    code = s0.get(i) != 0;
                }
                if (code) {
                    bootCode.add(d.name());
                    evidence.add(d.name() + ": the MBR holds boot code");
                }
            }
            if (d.table().isEmpty()) {
                continue;
            }
            for (Partition p : d.table().get().partitions()) {
                String name = d.name() + p.number();
                if (p.typeGuid().map(ESP_GUID::equals).orElse(false)) {
                    esps.add(name);
                    gptEsps.add(name);
                    evidence.add(name + ": EFI system partition" + espContent(opened.get(name)));
                } else if (p.scheme().equals("mbr") && p.mbrType() == MBR_TYPE_ESP) {
                    esps.add(name);
                    evidence.add(name + ": EFI system partition (MBR type 0xef; virt-v2v counts only GPT ones)"
                            + espContent(opened.get(name)));
                } else if (p.typeGuid().map(BIOS_BOOT_GUID::equals).orElse(false)) {
                    biosBoot.add(name);
                    evidence.add(name + ": BIOS boot partition (grub's core image on a GPT disk)");
                }
            }
        }
        FirmwareInfo.Kind kind = !gptEsps.isEmpty() && biosBoot.isEmpty() ? FirmwareInfo.Kind.UEFI
                : FirmwareInfo.Kind.BIOS;
        return new FirmwareInfo(kind, esps, biosBoot, bootCode, evidence);
    }

    /** ", with EFI/debian EFI/BOOT" when the ESP could be read. */
    private static String espContent(FileSystem fs) {
        if (fs == null) {
            return "";
        }
        try {
            for (DirEntry e : fs.list("/")) {
                if (e.name().equalsIgnoreCase("EFI")) {
                    List<String> vendors = fs.list("/" + e.name()).stream().map(v -> e.name() + "/" + v.name()).sorted()
                            .toList();
                    return vendors.isEmpty() ? ", with an empty EFI folder" : ", with " + String.join(" ", vendors);
                }
            }
            return ", without an EFI folder";
        } catch (IOException e) {
            return ", unreadable (" + e.getMessage() + ")";
        }
    }
}
