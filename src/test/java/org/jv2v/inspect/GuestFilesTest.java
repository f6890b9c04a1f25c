package org.jv2v.inspect;

import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Path resolution inside a guest, on two ext4 filesystems made by mkfs.ext4 -d (a root, and a /usr
 * mounted on it): relative, absolute and cross-mount links, "..", loops, long chains, files used as
 * folders, names in the wrong case.
 */
class GuestFilesTest {
    @TempDir
    static Path dir;
    static FileDevice rootDev;
    static FileDevice usrDev;
    static GuestFiles g;

    @BeforeAll
    static void build() throws Exception {
        Tools.require("mkfs.ext4");
        GuestTree root = new GuestTree()
                .dir("usr", "c")
                .file("c/x", "x in c\n")
                .file("etc/hostname", "host\n")
                .link("etc/os-release", "../usr/lib/os-release")
                .link("a", "b").link("b", "/c")
                .link("loop1", "loop2").link("loop2", "loop1").link("self", "self")
                .link("escape", "/../../../c/x")
                .link("dangling", "/nowhere")
                .link("bin", "usr/bin")
                .file("Windows/System32/CMD.EXE", "MZ");
        for (int i = 0; i < 41; i++) {
            root.link("chain" + i, "chain" + (i + 1));
        }
        root.file("chain41", "end of the chain\n");
        GuestTree usr = new GuestTree()
                .file("lib/os-release", "ID=test\n")
                .link("lib/up", "../../etc/hostname")
                .file("bin/tool", "tool\n");
        rootDev = image(root, "root.img");
        usrDev = image(usr, "usr.img");
        FileSystem rootFs = FileSystems.open(rootDev).orElseThrow();
        FileSystem usrFs = FileSystems.open(usrDev).orElseThrow();
        g = GuestFiles.of(List.of(new GuestFiles.Mount("/", rootFs, ""), new GuestFiles.Mount("/usr", usrFs, "")));
    }

    private static FileDevice image(GuestTree t, String name) throws Exception {
        Path tree = dir.resolve(name + ".tree");
        t.writeTo(tree);
        Path img = dir.resolve(name);
        Run.Result r = Run.run(List.of("mkfs.ext4", "-q", "-F", "-d", tree.toString(), img.toString(), "4M"), dir,
                Map.of(), 60);
        assertThat(r.exitCode()).as(r.all()).isZero();
        return FileDevice.open(img);
    }

    @AfterAll
    static void close() throws Exception {
        rootDev.close();
        usrDev.close();
    }

    private static String read(String path) throws Exception {
        return new String(g.readSmall(path, 1000).orElseThrow(), StandardCharsets.UTF_8);
    }

    @Test
    void relativeLinkIntoAnotherMount() throws Exception {
        assertThat(read("/etc/os-release")).isEqualTo("ID=test\n");
        assertThat(g.realPath("/etc/os-release")).contains("/usr/lib/os-release");
        assertThat(g.isFile("/etc/os-release")).as("lstat: a link").isFalse();
        assertThat(g.isFileFollowing("/etc/os-release")).isTrue();
    }

    @Test
    void dotDotOutOfAMountReturnsToTheParentFilesystem() throws Exception {
        assertThat(read("/usr/lib/up")).isEqualTo("host\n");
        assertThat(g.realPath("/usr/lib/up")).contains("/etc/hostname");
        assertThat(read("/usr/lib/../../etc/hostname")).isEqualTo("host\n");
    }

    @Test
    void absoluteLinksAreRelativeToTheGuestRoot() throws Exception {
        assertThat(read("/a/x")).isEqualTo("x in c\n");
        assertThat(g.realPath("/a")).contains("/c");
        assertThat(read("/escape")).as("'..' above / stays at /").isEqualTo("x in c\n");
        assertThat(read("/bin/tool")).as("/bin -> usr/bin, on the /usr filesystem").isEqualTo("tool\n");
    }

    @Test
    void missingAndMisusedPaths() throws Exception {
        assertThat(g.stat("/dangling")).isEmpty();
        assertThat(g.lstat("/dangling")).hasValueSatisfying(s -> assertThat(s.isSymlink()).isTrue());
        assertThat(g.stat("/etc/hostname/more")).as("a file used as a folder").isEmpty();
        assertThat(g.stat("/no/such/thing")).isEmpty();
        assertThat(g.readSmall("/etc", 100)).as("a folder is not read").isEmpty();
        assertThat(g.readSmall("/etc/hostname", 2)).as("bigger than the cap").isEmpty();
        assertThat(g.list("/etc/hostname")).isEmpty();
    }

    @Test
    void loopsAreErrorsNotHangs() {
        assertThatThrownBy(() -> g.stat("/loop1")).isInstanceOf(FileSystemLoopException.class);
        assertThatThrownBy(() -> g.stat("/self")).isInstanceOf(FileSystemLoopException.class);
        assertThatThrownBy(() -> g.stat("/loop1/x")).isInstanceOf(FileSystemLoopException.class);
    }

    @Test
    void chainsOfFortyLinksResolveAndLongerOnesFail() throws Exception {
        assertThat(read("/chain1")).as("40 links").isEqualTo("end of the chain\n");
        assertThatThrownBy(() -> g.stat("/chain0")).as("41 links").isInstanceOf(FileSystemLoopException.class);
    }

    @Test
    void namesFoundIgnoringCase() throws Exception {
        assertThat(g.findIgnoringCase("/windows/system32/cmd.exe")).contains("/Windows/System32/CMD.EXE");
        assertThat(g.findIgnoringCase("/windows/system32/notepad.exe")).isEmpty();
        List<String> names = new ArrayList<>();
        g.list("/").forEach(e -> names.add(e.name()));
        assertThat(names).contains("etc", "usr", "Windows");
    }
}
