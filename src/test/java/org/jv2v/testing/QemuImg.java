package org.jv2v.testing;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** qemu-img and qemu-io as oracles: make images, write into them, compare, map, check. */
public final class QemuImg {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private QemuImg() {}

    /** A data extent as qemu-img map reports it. */
    public record MapEntry(long start, long length, boolean data, boolean zero) {
        public long end() {
            return start + length;
        }
    }

    public static void create(Path file, String format, long size, String... options)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", format));
        for (String o : options) {
            cmd.add("-o");
            cmd.add(o);
        }
        cmd.add(file.toString());
        cmd.add(Long.toString(size));
        Tools.run(cmd.toArray(String[]::new));
    }

    /**
     * Runs qemu-io commands ("write -P 0x41 0 64k", "write -z 1M 64k") on {@code file} in one
     * process, failing the test if it exits non-zero or reports a failed command (which older
     * qemu-io does with exit status 0).
     */
    public static void io(Path file, String format, List<String> commands) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(file.toString());
        Run.Result r = Tools.run(cmd.toArray(String[]::new));
        if (r.all().contains("failed") || r.all().contains("error")) {
            throw new AssertionError("qemu-io reported a failure: " + r.all());
        }
    }

    /** True when qemu-img compare says the two images hold the same bytes. */
    public static Run.Result compare(Path a, Path b) throws IOException, InterruptedException {
        Tools.require("qemu-img");
        return Run.run(List.of("qemu-img", "compare", a.toString(), b.toString()));
    }

    public static List<MapEntry> map(Path file, String format) throws IOException, InterruptedException {
        String out = Tools.run("qemu-img", "map", "--output=json", "-f", format, file.toString()).stdout();
        List<MapEntry> entries = new ArrayList<>();
        for (JsonNode n : JSON.readTree(out)) {
            entries.add(new MapEntry(n.get("start").asLong(), n.get("length").asLong(), n.get("data").asBoolean(),
                    n.get("zero").asBoolean()));
        }
        return entries;
    }

    public static JsonNode info(Path file) throws IOException, InterruptedException {
        return JSON.readTree(Tools.run("qemu-img", "info", "--output=json", file.toString()).stdout());
    }
}
