package org.jv2v.cli;

import org.jv2v.Jv2vException;
import org.jv2v.copy.Copier;
import org.jv2v.copy.CopyOptions;
import org.jv2v.copy.CopyResult;
import org.jv2v.copy.EngineDiskTransfer;
import org.jv2v.copy.ProgressListener;
import org.jv2v.image.ImageFormat;
import org.jv2v.image.ImageWriter;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.image.Preallocation;
import org.jv2v.image.raw.SparseFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code jv2v image info|convert}: the disk engine on its own, like qemu-img. */
@Command(name = "image", mixinStandardHelpOptions = true,
        description = "Inspect and convert disk images (the engine jv2v copies guests' disks with).",
        subcommands = {ImageCommand.Info.class, ImageCommand.Convert.class})
final class ImageCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** Opens {@code file} read-only, probing its format unless {@code format} names one. */
    static OpenedImage open(Path file, String format, List<Path> allowDirs) throws IOException {
        PathGuard guard = PathGuard.folderOf(file);
        for (Path d : allowDirs) {
            guard = guard.plus(d);
        }
        OpenContext ctx = OpenContext.of(guard);
        if (!Files.exists(file)) {
            throw org.jv2v.BadInputException.inFile(file, "no such file");
        }
        if (format == null) {
            return Images.open(file, ctx);
        }
        ImageFormat f;
        try {
            f = Images.format(format);
        } catch (IllegalArgumentException e) {
            throw new Jv2vException("-f " + format + ": unknown image format (known: "
                    + String.join(", ", Images.formats().stream().map(ImageFormat::name).toList()) + ")");
        }
        return f.open(file, ctx);
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Show an image's format, virtual size, allocation and backing chain.")
    static final class Info implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "IMAGE", description = "The image file (a VMDK descriptor for split VMDKs).")
        Path image;

        @Option(names = "-f", paramLabel = "FMT", description = "The image's format (default: probe its content).")
        String format;

        @Option(names = "--output", paramLabel = "text|json", description = "Output format (default: text).")
        String output = "text";

        @Option(names = "--machine-readable", description = "The same as --output=json.")
        boolean machineReadable;

        @Option(names = "--allow-dir", paramLabel = "DIR",
                description = "Another folder that backing files and extents may be in (repeatable).")
        List<Path> allowDirs = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            boolean json = machineReadable || output.equalsIgnoreCase("json");
            if (!json && !output.equalsIgnoreCase("text")) {
                throw new Jv2vException("--output " + output + ": use text or json");
            }
            try (OpenedImage img = open(image, format, allowDirs)) {
                List<Map<String, Object>> layers = new ArrayList<>();
                for (OpenedImage layer : img.chain()) {
                    layers.add(describe(layer));
                }
                if (json) {
                    Map<String, Object> top = new LinkedHashMap<>(layers.getFirst());
                    top.put("backing-chain", layers.subList(1, layers.size()));
                    spec.commandLine().getOut().println(JsonMapper.builder().build().writerWithDefaultPrettyPrinter()
                            .writeValueAsString(top));
                } else {
                    StringBuilder sb = new StringBuilder();
                    for (Map<String, Object> layer : layers) {
                        sb.append(sb.isEmpty() ? "" : "\n").append(text(layer));
                    }
                    spec.commandLine().getOut().print(sb);
                    spec.commandLine().getOut().flush();
                }
            }
            return 0;
        }

        private static Map<String, Object> describe(OpenedImage layer) throws IOException {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("filename", layer.file().toString());
            m.put("format", layer.format());
            if (!layer.subformat().isEmpty()) {
                m.put("subformat", layer.subformat());
            }
            m.put("virtual-size", layer.device().size());
            long allocation = 0;
            for (Path f : new LinkedHashSet<>(layer.files())) {
                allocation += SparseFile.allocatedBytes(f);
            }
            m.put("allocation", allocation);
            m.put("files", layer.files().stream().map(Path::toString).toList());
            layer.backing().ifPresent(b -> {
                m.put("backing-filename", b.file().toString());
                m.put("backing-format", b.format());
            });
            return m;
        }

        private static String text(Map<String, Object> m) {
            StringBuilder sb = new StringBuilder();
            sb.append("image: ").append(m.get("filename")).append('\n');
            sb.append("file format: ").append(m.get("format")).append('\n');
            if (m.containsKey("subformat")) {
                sb.append("subformat: ").append(m.get("subformat")).append('\n');
            }
            long vs = (Long) m.get("virtual-size");
            long al = (Long) m.get("allocation");
            sb.append("virtual size: ").append(Sizes.human(vs)).append(" (").append(vs).append(" bytes)\n");
            sb.append("allocation: ").append(Sizes.human(al)).append(" (").append(al).append(" bytes)\n");
            @SuppressWarnings("unchecked")
            List<String> files = (List<String>) m.get("files");
            sb.append("files: ").append(String.join(", ", files)).append('\n');
            if (m.containsKey("backing-filename")) {
                sb.append("backing file: ").append(m.get("backing-filename")).append('\n');
                sb.append("backing file format: ").append(m.get("backing-format")).append('\n');
            }
            return sb.toString();
        }
    }

    @Command(name = "convert", mixinStandardHelpOptions = true,
            description = {"Copy an image into a new one, sparsely and in parallel, like qemu-img convert.",
                "The copy is written as DST.part with a journal (DST.part.journal); if it is interrupted, "
                        + "running the same command again continues where it stopped. DST appears only "
                        + "when the copy is complete."})
    static final class Convert implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "SRC", description = "The source image (opened read-only).")
        Path source;

        @Parameters(index = "1", paramLabel = "DST", description = "The image to write.")
        Path target;

        @Option(names = "-f", paramLabel = "FMT", description = "The source's format (default: probe its content).")
        String sourceFormat;

        @Option(names = "-O", paramLabel = "FMT", description = "The output format: raw (default) or qcow2.")
        String outputFormat = "raw";

        @Option(names = "-c", description = "Compress the output (qcow2).")
        boolean compress;

        @Option(names = "-o", paramLabel = "OPTIONS",
                description = "Output options, comma-separated: preallocation=off|metadata|falloc|full.")
        List<String> outputOptions = new ArrayList<>();

        @Option(names = "-p", description = "Show progress (a bar on a terminal, lines otherwise).")
        boolean progress;

        @Option(names = "--verify", description = "Re-read the copy and compare it with what was read (CRC32C per chunk).")
        boolean verify;

        @Option(names = "--flush", negatable = true,
                description = "fsync the copy before renaming it into place (default: on).")
        boolean flush = true;

        @Option(names = "--no-resume", description = "Start over even if an interrupted copy's DST.part exists.")
        boolean noResume;

        @Option(names = "-r", paramLabel = "RATE", description = "Limit reading to RATE bytes per second (e.g. 50M).")
        String rateLimit;

        @Option(names = {"-m", "--workers"}, paramLabel = "N", description = "Parallel reader/writer threads (default: CPUs, 2 to 4).")
        int workers = CopyOptions.defaults().workers();

        @Option(names = "--chunk-size", paramLabel = "SIZE", description = "Bytes per unit of work (default 8M).")
        String chunkSize;

        @Option(names = "--io-size", paramLabel = "SIZE", description = "Bytes per read and write (default 256K).")
        String ioSize;

        @Option(names = "--checkpoint-interval", paramLabel = "SECONDS",
                description = "How often the copy is flushed and journaled for resuming (default 10).")
        double checkpointSeconds = CopyOptions.defaults().checkpointInterval().toMillis() / 1000.0;

        @Option(names = "--machine-readable", description = "Progress (with -p) and the result as JSON lines on stdout.")
        boolean machineReadable;

        @Option(names = "--output", paramLabel = "text|json", description = "--output=json is --machine-readable.")
        String output = "text";

        @Option(names = "--allow-dir", paramLabel = "DIR",
                description = "Another folder that the source's backing files and extents may be in (repeatable).")
        List<Path> allowDirs = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            boolean json = machineReadable || output.equalsIgnoreCase("json");
            CopyOptions opts = options();
            ImageWriter writer = Images.writer(outputFormat);
            try (OpenedImage src = open(source, sourceFormat, allowDirs)) {
                opts = opts.withSourceId(EngineDiskTransfer.identity(src));
                var out = spec.commandLine().getOut();
                ProgressListener listener = !progress ? ProgressListener.NONE
                        : json ? ProgressDisplay.json(out) : ProgressDisplay.auto(spec.commandLine().getErr());
                CopyResult r = Copier.copy(src.device(), writer, target, opts, listener);
                if (json) {
                    out.println(JsonMapper.builder().build().writeValueAsString(result(r)));
                    out.flush();
                }
            }
            return 0;
        }

        private CopyOptions options() {
            Preallocation prealloc = Preallocation.OFF;
            for (String group : outputOptions) {
                for (String kv : group.split(",")) {
                    String[] p = kv.split("=", 2);
                    if (p.length == 2 && p[0].equals("preallocation")) {
                        try {
                            prealloc = Preallocation.valueOf(p[1].toUpperCase(Locale.ROOT));
                        } catch (IllegalArgumentException e) {
                            throw new Jv2vException("-o " + kv + ": use off, metadata, falloc or full");
                        }
                    } else {
                        throw new Jv2vException("-o " + kv + ": unknown output option (known: preallocation=...)");
                    }
                }
            }
            CopyOptions o = CopyOptions.defaults().withPreallocation(prealloc).withCompress(compress)
                    .withVerify(verify).withFlush(flush).withResume(!noResume);
            try {
                o = o.withWorkers(workers);
                if (chunkSize != null) {
                    long c = Sizes.parse(chunkSize);
                    o = o.withChunkSize(c > Integer.MAX_VALUE ? -1 : (int) c);
                }
                if (ioSize != null) {
                    long n = Sizes.parse(ioSize);
                    o = o.withIoSize(n > Integer.MAX_VALUE ? -1 : (int) n);
                }
                if (rateLimit != null) {
                    o = o.withRateLimit(Sizes.parse(rateLimit));
                }
                o = o.withCheckpointInterval(Duration.ofMillis((long) (checkpointSeconds * 1000)));
            } catch (IllegalArgumentException e) {
                throw new Jv2vException(e.getMessage());
            }
            return o;
        }

        private static Map<String, Object> result(CopyResult r) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "result");
            m.put("target", r.target().toString());
            m.put("virtual-size", r.virtualSize());
            m.put("read-bytes", r.bytesRead());
            m.put("written-bytes", r.bytesWritten());
            m.put("zero-bytes", r.zeroBytes());
            m.put("unused-bytes", r.unusedBytes());
            m.put("resumed-bytes", r.resumedBytes());
            m.put("verified", r.verified());
            m.put("seconds", r.elapsed().toMillis() / 1000.0);
            return m;
        }
    }
}
