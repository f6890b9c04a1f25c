package org.jv2v.copy;

import org.jv2v.pipeline.DiskTransfer;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Corpus;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The pipeline's disk copies go through this engine: whole conversions, checked by qemu-img. */
class EngineDiskTransferTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void theEngineIsWhatThePipelineFinds() {
        assertThat(DiskTransfer.installed()).isInstanceOf(EngineDiskTransfer.class);
        assertThat(DiskTransfer.installed().available()).isTrue();
    }

    @Test
    void diskInputsOfTwoFormatsAreCopiedIdentically() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path raw = src.resolve("boot.img");
        QemuImg.create(raw, "raw", 16 * MIB);
        QemuImg.io(raw, "raw", List.of("write -P 0x55 0 1M", "write -P 0x66 9M 512k"));
        Path vmdk = src.resolve("data.vmdk");
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicSparse",
                raw.toString(), vmdk.toString());
        var before = Checksums.of(src);
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.run("-i", "disk", raw.toString(), vmdk.toString(), "-o", "local", "-os",
                out.toString());
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(Checksums.of(src)).isEqualTo(before);
        assertThat(QemuImg.compare(raw, out.resolve("boot-sda")).exitCode()).isZero();
        assertThat(QemuImg.compare(vmdk, out.resolve("boot-sdb")).exitCode()).isZero();
        try (var files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .as("no .part or journal left").noneMatch(n -> n.contains(".part"));
        }
    }

    /**
     * A guest disk that is a snapshot chain (base <- mid <- top, hosted sparse, made by qemu-img and
     * qemu-io as Workstation makes them): -o local copies the merged view through the engine into one
     * image, raw and qcow2, that qemu-img compare finds identical to the chain qemu reads.
     */
    @ParameterizedTest(name = "-of {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"raw", "qcow2"})
    void aSnapshotChainIsCopiedAsOneMergedDisk(String format) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path base = src.resolve("disk.vmdk");
        QemuImg.create(base, "vmdk", 16 * MIB, "subformat=monolithicSparse");
        QemuImg.io(base, "vmdk", List.of("write -P 0x11 0 2M", "write -P 0x12 10M 1M"));
        Path mid = src.resolve("disk-000001.vmdk");
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", "-b", "disk.vmdk", "-F", "vmdk", mid.toString());
        QemuImg.io(mid, "vmdk", List.of("write -P 0x21 1M 64k", "write -z 10M 512k"));
        Path top = src.resolve("disk-000002.vmdk");
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", "-b", "disk-000001.vmdk", "-F", "vmdk", top.toString());
        QemuImg.io(top, "vmdk", List.of("write -P 0x31 1M 4k", "write -P 0x32 15M 1M"));
        var before = Checksums.of(src);
        Path out = Files.createDirectories(dir.resolve("out"));
        org.jv2v.testing.OpenFiles.Watch watch = org.jv2v.testing.OpenFiles.watch(src);
        Jv2vRun.Result r;
        try (watch) {
            r = Jv2vRun.run("-i", "disk", top.toString(), "-o", "local", "-os", out.toString(), "-of", format);
        }
        assertThat(r.exitCode()).as(r.all()).isZero();
        watch.assertSawOnlyReadOnly();
        assertThat(Checksums.of(src)).isEqualTo(before);
        Path copy;
        try (var files = Files.list(out)) {
            copy = files.filter(p -> p.getFileName().toString().endsWith("-sda")).findFirst().orElseThrow();
        }
        Run.Result cmp = Run.run(List.of("qemu-img", "compare", "-f", "vmdk", "-F", format, top.toString(),
                copy.toString()));
        assertThat(cmp.exitCode()).as(cmp.all()).isZero();
        assertThat(QemuImg.info(copy).get("format").asString()).isEqualTo(format);
        assertThat(QemuImg.info(copy).has("backing-filename")).as("one image, no chain").isFalse();
        if (format.equals("qcow2")) {
            Tools.run("qemu-img", "check", "-q", copy.toString());
        }
    }

    /**
     * Converting a disk again into its own folder under its own name (jv2v's own output, guest-sda,
     * converted with -on guest -os the same folder) must not replace the source with the copy.
     */
    @Test
    void aTargetThatIsTheSourceFileIsRefusedAndTheSourceKept() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path out = Files.createDirectories(dir.resolve("out"));
        Path disk = out.resolve("guest-sda");
        QemuImg.create(disk, "raw", 4 * MIB);
        QemuImg.io(disk, "raw", List.of("write -P 0x44 0 1M"));
        var before = Checksums.of(out);
        Jv2vRun.Result r = Jv2vRun.run("-i", "disk", disk.toString(), "-on", "guest", "-o", "local", "-os",
                out.toString(), "-of", "qcow2");
        assertThat(r.exitCode()).as(r.all()).isNotZero();
        assertThat(r.stderr()).contains(disk + ": is the source file " + disk).doesNotContain("\tat ");
        assertThat(Checksums.of(out)).as("the source is still the raw disk it was").isEqualTo(before);
    }

    @Test
    void anOvaDiskIsReadInPlaceFromTheTar() throws Exception {
        Tools.require("qemu-img", "qemu-io", "tar");
        Path corpus = Corpus.require("virt-v2v");
        Path d = Files.createDirectories(dir.resolve("ova"));
        Files.copy(corpus.resolve("test-i-ova-checksums.ovf"), d.resolve("test.ovf"));
        Path raw = dir.resolve("content.raw");
        QemuImg.create(raw, "raw", 4 * MIB);
        QemuImg.io(raw, "raw", List.of("write -P 0x77 64k 1M", "write -P 0x78 3M 4k"));
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                raw.toString(), d.resolve("disk.vmdk").toString());
        Path ova = dir.resolve("test.ova");
        Run.Result t = Run.run(List.of("tar", "-cf", ova.toString(), "test.ovf", "disk.vmdk"), d, Map.of(), 60);
        assertThat(t.exitCode()).as(t.all()).isZero();
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.run("-i", "ova", ova.toString(), "-o", "local", "-os", out.toString());
        assertThat(r.exitCode()).as(r.all()).isZero();
        Path disk;
        try (var files = Files.list(out)) {
            disk = files.filter(p -> p.getFileName().toString().endsWith("-sda")).findFirst().orElseThrow();
        }
        assertThat(QemuImg.compare(raw, disk).exitCode()).isZero();
    }

    /**
     * An OVA as OVF Tool lays it out, made here: an OVF written by this test, two streamOptimized
     * disks qemu-img made, a SHA256 manifest, all in a GNU tar. The disks are read in place from
     * the tar (no extraction) and copied through the engine for each output mode and format.
     */
    @ParameterizedTest(name = "-o {0} -of {1} -oa {2}")
    @CsvSource({"local, raw, sparse", "qemu, qcow2, preallocated", "local, qcow2, sparse", "qemu, raw, preallocated"})
    void anOvaMadeAtTestTimeIsCopiedThroughTheEngine(String mode, String format, String alloc) throws Exception {
        Tools.require("qemu-img", "qemu-io", "tar");
        Path d = Files.createDirectories(dir.resolve("ova"));
        Path work = Files.createDirectories(dir.resolve("work"));
        Path raw1 = work.resolve("system.raw");
        QemuImg.create(raw1, "raw", 6 * MIB);
        QemuImg.io(raw1, "raw", List.of("write -P 0x21 0 1M", "write -P 0x22 3M 64k", "write -P 0x23 6143k 1k"));
        Path raw2 = work.resolve("data.raw");
        QemuImg.create(raw2, "raw", 3 * MIB + 512);
        QemuImg.io(raw2, "raw", List.of("write -P 0x31 512k 512k", "write -P 0x32 3M 512"));
        for (String[] disk : List.of(new String[] {raw1.toString(), "guest-disk1.vmdk"},
                new String[] {raw2.toString(), "guest-disk2.vmdk"})) {
            Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                    disk[0], d.resolve(disk[1]).toString());
        }
        Files.writeString(d.resolve("guest.ovf"), ovf(Files.size(raw1), Files.size(raw2),
                Files.size(d.resolve("guest-disk1.vmdk")), Files.size(d.resolve("guest-disk2.vmdk"))));
        StringBuilder mf = new StringBuilder();
        for (String f : List.of("guest.ovf", "guest-disk1.vmdk", "guest-disk2.vmdk")) {
            mf.append("SHA256(").append(f).append(")= ").append(Checksums.sha256(d.resolve(f))).append('\n');
        }
        Files.writeString(d.resolve("guest.mf"), mf.toString());
        Path ova = dir.resolve("guest.ova");
        Run.Result t = Run.run(List.of("tar", "-cf", ova.toString(), "guest.ovf", "guest-disk1.vmdk",
                "guest-disk2.vmdk", "guest.mf"), d, Map.of(), 60);
        assertThat(t.exitCode()).as(t.all()).isZero();
        String before = Checksums.sha256(ova);

        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.run("-i", "ova", ova.toString(), "-o", mode, "-os", out.toString(), "-of", format,
                "-oa", alloc);
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.all()).contains("Copying disk 1/2", "Copying disk 2/2");
        assertThat(Checksums.sha256(ova)).as("the OVA is unchanged").isEqualTo(before);
        Path sda = out.resolve("guest-sda");
        Path sdb = out.resolve("guest-sdb");
        for (Path[] pair : List.of(new Path[] {raw1, sda}, new Path[] {raw2, sdb})) {
            Run.Result cmp = Run.run(List.of("qemu-img", "compare", "-f", "raw", "-F", format, pair[0].toString(),
                    pair[1].toString()));
            assertThat(cmp.exitCode()).as(pair[1] + ": " + cmp.all()).isZero();
            assertThat(QemuImg.info(pair[1]).get("format").asString()).isEqualTo(format);
            if (format.equals("qcow2")) {
                Run.Result check = Run.run(List.of("qemu-img", "check", pair[1].toString()));
                assertThat(check.exitCode()).as(check.all()).isZero();
            }
        }
        long sdaAllocated = QemuImg.info(sda).get("actual-size").asLong();
        if (alloc.equals("preallocated")) {
            if (format.equals("raw")) {
                assertThat(sdaAllocated).as("falloc: every block reserved").isGreaterThanOrEqualTo(6L * MIB);
            } else {
                // metadata preallocation: every cluster has its place in the file (qemu-img map: no hole)
                assertThat(QemuImg.map(sda, "qcow2")).allMatch(e -> e.data() || e.zero())
                        .noneMatch(e -> !e.data() && !e.zero());
                assertThat(Tools.run("qemu-img", "map", "--output=json", sda.toString()).stdout())
                        .doesNotContain("\"offset\": null").contains("\"offset\"");
            }
        } else {
            assertThat(sdaAllocated).as("sparse: about the 1 MiB + 65 KiB of data").isLessThan(3L * MIB);
        }
        String meta = mode.equals("local") ? "guest.xml" : "guest.sh";
        assertThat(Files.readString(out.resolve(meta))).as("the metadata names both disks in their format")
                .contains(sda.getFileName().toString(), sdb.getFileName().toString())
                .containsPattern("(type='|format=)" + format + "[',]");
        try (var files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".part"));
        }
    }

    /** A small OVF 1.0 descriptor as VMware writes them: 2 vCPUs, 1 GiB, one SCSI controller, two disks. */
    private static String ovf(long cap1, long cap2, long size1, long size2) {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <Envelope vmw:buildId="build-0" xmlns="http://schemas.dmtf.org/ovf/envelope/1"
                    xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
                    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
                    xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
                    xmlns:vmw="http://www.vmware.com/schema/ovf">
                  <References>
                    <File ovf:href="guest-disk1.vmdk" ovf:id="file1" ovf:size="%d"/>
                    <File ovf:href="guest-disk2.vmdk" ovf:id="file2" ovf:size="%d"/>
                  </References>
                  <DiskSection>
                    <Info>Virtual disk information</Info>
                    <Disk ovf:capacity="%d" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1"
                        ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
                    <Disk ovf:capacity="%d" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk2" ovf:fileRef="file2"
                        ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
                  </DiskSection>
                  <VirtualSystem ovf:id="guest">
                    <Info>A virtual machine</Info>
                    <Name>guest</Name>
                    <OperatingSystemSection ovf:id="96" vmw:osType="debian12_64Guest">
                      <Info>The kind of installed guest operating system</Info>
                    </OperatingSystemSection>
                    <VirtualHardwareSection>
                      <Info>Virtual hardware requirements</Info>
                      <Item>
                        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
                        <rasd:ElementName>2 virtual CPU(s)</rasd:ElementName>
                        <rasd:InstanceID>1</rasd:InstanceID>
                        <rasd:ResourceType>3</rasd:ResourceType>
                        <rasd:VirtualQuantity>2</rasd:VirtualQuantity>
                      </Item>
                      <Item>
                        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
                        <rasd:ElementName>1024MB of memory</rasd:ElementName>
                        <rasd:InstanceID>2</rasd:InstanceID>
                        <rasd:ResourceType>4</rasd:ResourceType>
                        <rasd:VirtualQuantity>1024</rasd:VirtualQuantity>
                      </Item>
                      <Item>
                        <rasd:Address>0</rasd:Address>
                        <rasd:ElementName>SCSI controller 0</rasd:ElementName>
                        <rasd:InstanceID>3</rasd:InstanceID>
                        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>
                        <rasd:ResourceType>6</rasd:ResourceType>
                      </Item>
                      <Item>
                        <rasd:AddressOnParent>0</rasd:AddressOnParent>
                        <rasd:ElementName>Hard disk 1</rasd:ElementName>
                        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
                        <rasd:InstanceID>4</rasd:InstanceID>
                        <rasd:Parent>3</rasd:Parent>
                        <rasd:ResourceType>17</rasd:ResourceType>
                      </Item>
                      <Item>
                        <rasd:AddressOnParent>1</rasd:AddressOnParent>
                        <rasd:ElementName>Hard disk 2</rasd:ElementName>
                        <rasd:HostResource>ovf:/disk/vmdisk2</rasd:HostResource>
                        <rasd:InstanceID>5</rasd:InstanceID>
                        <rasd:Parent>3</rasd:Parent>
                        <rasd:ResourceType>17</rasd:ResourceType>
                      </Item>
                    </VirtualHardwareSection>
                  </VirtualSystem>
                </Envelope>
                """.formatted(size1, size2, cap1, cap2);
    }
}
