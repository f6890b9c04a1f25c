package org.jv2v.convert.linux;

import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * VMware's guest software on a Debian 12 guest with systemd, built here with the reference tools
 * ({@link MiniGuest}), converted and read back with debugfs; e2fsck -fn finds it clean.
 *
 * <p>What systemd does with the result: a unit starts at boot because a link to it sits in a
 * target's {@code .wants} folder ({@code systemctl enable} made it); with the links of
 * open-vm-tools, vgauth and the vmblock mount gone, nothing starts them, while an alias link
 * ({@code vmtoolsd.service}) starts nothing by itself and other services' links stay. SysV start
 * links ({@code S01open-vm-tools}) go too; stop links stay. X.org's {@code Driver "vmware"} needs
 * VMware's SVGA adapter: it becomes modesetting, and the adapter's VendorName/BoardName go, and
 * its BusID (VMware's slot PCI:0:15:0: X would look for the adapter there and find none);
 * vmmouse stays (QEMU offers VMware's mouse port as well, and the driver falls back to a plain
 * mouse without it), with a warning.
 */
class VmwareLeftoversConversionTest {
    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img", "sfdisk", "mkfs.ext4", "debugfs", "e2fsck", "setfattr");
    }

    static final String XORG = """
            Section "ServerLayout"
            \tIdentifier "Layout0"
            \tScreen 0 "Screen0" 0 0
            \tInputDevice "Mouse0" "CorePointer"
            EndSection

            Section "InputDevice"
            \tIdentifier "Mouse0"
            \tDriver "vmmouse"
            \tOption "Device" "/dev/input/mice"
            EndSection

            Section "Device"
            \tIdentifier "Card0"
            \tDriver "vmware"
            \tVendorName "VMware Inc"
            \tBoardName "SVGA II Adapter"
            \tBusID "PCI:0:15:0"
            EndSection

            Section "Screen"
            \tIdentifier "Screen0"
            \tDevice "Card0"
            EndSection
            """;

    @Test
    void vmwareToolsNoLongerStartAndXorgUsesModesetting() throws Exception {
        MiniGuest g = new MiniGuest(dir, "tools", MiniGuest.Kind.DEBIAN12).nic(0, "00:50:56:8a:07:01", 192);
        String wants = "etc/systemd/system/multi-user.target.wants/";
        String lib = "/lib/systemd/system/";
        g.symlink(wants + "open-vm-tools.service", lib + "open-vm-tools.service");
        g.symlink(wants + "run-vmblock\\x2dfuse.mount", lib + "run-vmblock\\x2dfuse.mount");
        g.symlink(wants + "ssh.service", lib + "ssh.service");
        g.symlink("etc/systemd/system/open-vm-tools.service.requires/vgauth.service", lib + "vgauth.service");
        g.symlink("etc/systemd/system/vmtoolsd.service", lib + "open-vm-tools.service");
        g.symlink("etc/systemd/system/sshd.service", lib + "ssh.service");
        g.file("usr/bin/vmtoolsd", "not vmtoolsd\n");
        g.file("etc/init.d/open-vm-tools", "#!/bin/sh\n");
        g.symlink("etc/rc2.d/S01open-vm-tools", "../init.d/open-vm-tools");
        g.symlink("etc/rc2.d/S01ssh", "../init.d/ssh");
        g.symlink("etc/rc0.d/K01open-vm-tools", "../init.d/open-vm-tools");
        g.file("etc/X11/xorg.conf", XORG, 0644, 0, 0, Map.of("user.note", "set by the admin"));
        String apt = "deb https://packages.vmware.com/tools/releases/latest/ubuntu focal main\n"
                + "deb http://deb.debian.org/debian bookworm main\n";
        g.file("etc/apt/sources.list.d/vmware.list", apt);

        MiniGuest.Converted c = g.convert();

        c.assertClean();
        assertThat(c.list("/etc/systemd/system/multi-user.target.wants")).containsExactly("ssh.service");
        assertThat(c.list("/etc/systemd/system/open-vm-tools.service.requires")).isEmpty();
        assertThat(c.readlink("/etc/systemd/system/vmtoolsd.service")).isEqualTo(lib + "open-vm-tools.service");
        assertThat(c.list("/etc/rc2.d")).containsExactly("S01ssh");
        assertThat(c.list("/etc/rc0.d")).containsExactly("K01open-vm-tools");

        String xorg = c.cat("/etc/X11/xorg.conf");
        DebianGuestConversionTest.Golden.check("convert/vmware-leftovers/xorg.conf", xorg);
        assertThat(xorg).contains("\tDriver \"modesetting\"\n", "\tDriver \"vmmouse\"\n")
                .doesNotContain("\"vmware\"", "VendorName", "BoardName", "BusID");
        assertThat(c.owner("/etc/X11/xorg.conf")).isEqualTo("regular 0644 0:0\nuser.note = \"set by the admin\"");
        assertThat(c.cat("/etc/apt/sources.list.d/vmware.list")).isEqualTo("# disabled by jv2v (VMware's repository): "
                + apt);
        assertThat(c.run().all()).contains("the vmmouse input driver stays");
        DebianGuestConversionTest.Golden.check("convert/vmware-leftovers/plan.txt", g.plan());
    }
}
