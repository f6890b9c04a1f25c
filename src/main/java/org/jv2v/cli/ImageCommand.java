package org.jv2v.cli;

import org.jv2v.Jv2vException;
import org.jv2v.copy.Copier;
import org.jv2v.copy.CopyOptions;
import org.jv2v.copy.CopyResult;
import org.jv2v.copy.EngineDiskTransfer;
import org.jv2v.copy.ProgressListener;
import org.jv2v.copy.TargetCheck;
import org.jv2v.image.ImageFormat;
import org.jv2v.image.ImageWriter;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.image.Preallocation;
import org.jv2v.image.raw.SparseFile;
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
import java.util.function.Supplier;

/**
 * {@code jv2v image info|convert}: the disk engine on its own, like qemu-img. Declared through
 * {@link CliOptions}, not picocli's annotations, for a short start-up: {@link Main} builds only this
 * tree when the first argument is {@code image}.
 */
final class ImageCommand {
    private ImageCommand() {}

    static CommandSpec spec() {
        CommandSpec image = new Usage().options.spec();
        image.addSubcommand("info", new Info().options.spec());
        image.addSubcommand("convert", new Convert().options.spec());
        return image;
    }

    /** {@code jv2v image} alone: its usage. */
    private static final class Usage implements Callable<Integer> {
        final CliOptions options = CliOptions.command("image", this,
                "Inspect and convert disk images (the engine jv2v copies guests' disks with).");

        @Override
        public Integer call() {
            CommandSpec spec = options.spec();
            spec.commandLine().usage(spec.commandLine().getOut());
            return 0;
        }
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

    static final class Info implements Callable<Integer> {
        final CliOptions options = CliOptions.command("info", this,
                "Show an image's format, virtual size, allocation and backing chain.");
        final Supplier<Path> image = options.path(0, "IMAGE", "The image file (a VMDK descriptor for split VMDKs).");
        final Supplier<String> format = options.string("-f", "FMT", null,
                "The image's format (default: probe its content).");
        final Supplier<String> output = options.string("--output", "text|json", "text", "Output format (default: text).");
        final Supplier<Boolean> machineReadable = options.flag("--machine-readable", "The same as --output=json.");
        final Supplier<List<Path>> allowDirs = options.repeatablePath("--allow-dir", "DIR",
                "Another folder that backing files and extents may be in (repeatable).");

        @Override
        public Integer call() throws IOException {
            String output = this.output.get();
            boolean json = machineReadable.get() || output.equalsIgnoreCase("json");
            if (!json && !output.equalsIgnoreCase("text")) {
                throw new Jv2vException("--output " + output + ": use text or json");
            }
            CommandSpec spec = options.spec();
            try (OpenedImage img = open(image.get(), format.get(), allowDirs.get())) {
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

    static final class Convert implements Callable<Integer> {
        final CliOptions options = CliOptions.command("convert", this,
                "Copy an image into a new one, sparsely and in parallel, like qemu-img convert.",
                "The copy is written as DST.part with a journal (DST.part.journal); if it is interrupted, "
                        + "running the same command again continues where it stopped. DST appears only "
                        + "when the copy is complete.");
        final Supplier<Path> source = options.path(0, "SRC", "The source image (opened read-only).");
        final Supplier<Path> target = options.path(1, "DST", "The image to write.");
        final Supplier<String> sourceFormat = options.string("-f", "FMT", null,
                "The source's format (default: probe its content).");
        final Supplier<String> outputFormat = options.string("-O", "FMT", "raw",
                "The output format: raw (default) or qcow2.");
        final Supplier<Boolean> compress = options.flag("-c", "Compress the output (qcow2).");
        final Supplier<List<String>> outputOptions = options.repeatable("-o", "OPTIONS",
                "Output options, comma-separated: preallocation=off|metadata|falloc|full.");
        final Supplier<Boolean> progress = options.flag("-p", "Show progress (a bar on a terminal, lines otherwise).");
        final Supplier<Boolean> verify = options.flag("--verify",
                "Re-read the copy and compare it with what was read (CRC32C per chunk).");
        final Supplier<Boolean> flush = options.negatable("--flush", true,
                "fsync the copy before renaming it into place (default: on).");
        final Supplier<Boolean> noResume = options.flag("--no-resume",
                "Start over even if an interrupted copy's DST.part exists.");
        final Supplier<String> rateLimit = options.string("-r", "RATE", null,
                "Limit reading to RATE bytes per second (e.g. 50M).");
        final Supplier<Integer> workers = options.typed(int.class, "-m|--workers", "N", CopyOptions.defaults().workers(),
                "Parallel reader/writer threads (default: CPUs, 2 to 4).");
        final Supplier<String> chunkSize = options.string("--chunk-size", "SIZE", null,
                "Bytes per unit of work (default 8M).");
        final Supplier<String> ioSize = options.string("--io-size", "SIZE", null,
                "Bytes per read and write (default 256K).");
        final Supplier<Double> checkpointSeconds = options.typed(double.class, "--checkpoint-interval", "SECONDS",
                CopyOptions.defaults().checkpointInterval().toMillis() / 1000.0,
                "How often the copy is flushed and journaled for resuming (default 10).");
        final Supplier<Boolean> machineReadable = options.flag("--machine-readable",
                "Progress (with -p) and the result as JSON lines on stdout.");
        final Supplier<String> output = options.string("--output", "text|json", "text",
                "--output=json is --machine-readable.");
        final Supplier<List<Path>> allowDirs = options.repeatablePath("--allow-dir", "DIR",
                "Another folder that the source's backing files and extents may be in (repeatable).");

        @Override
        public Integer call() throws IOException {
            boolean json = machineReadable.get() || output.get().equalsIgnoreCase("json");
            CopyOptions opts = copyOptions();
            ImageWriter writer = Images.writer(outputFormat.get());
            if (opts.compress() && !writer.name().equals("qcow2")) {
                // as qemu-img: a flag that would silently do nothing is refused
                throw new Jv2vException("-c: " + writer.name() + " images cannot be compressed (use -O qcow2)");
            }
            CommandSpec spec = options.spec();
            try (OpenedImage src = open(source.get(), sourceFormat.get(), allowDirs.get())) {
                TargetCheck.refuseSourceFiles(TargetCheck.files(src), target.get());
                opts = opts.withSourceId(EngineDiskTransfer.identity(src));
                var out = spec.commandLine().getOut();
                ProgressListener listener = !progress.get() ? ProgressListener.NONE
                        : json ? ProgressDisplay.json(out) : ProgressDisplay.auto(spec.commandLine().getErr());
                CopyResult r = Copier.copy(src.device(), writer, target.get(), opts, listener);
                if (json) {
                    out.println(JsonMapper.builder().build().writeValueAsString(result(r)));
                    out.flush();
                }
            }
            return 0;
        }

        /** The copy options the parsed command line asks for. */
        CopyOptions copyOptions() {
            Preallocation prealloc = Preallocation.OFF;
            for (String group : outputOptions.get()) {
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
            CopyOptions o = CopyOptions.defaults().withPreallocation(prealloc).withCompress(compress.get())
                    .withVerify(verify.get()).withFlush(flush.get()).withResume(!noResume.get());
            try {
                o = o.withWorkers(workers.get());
                if (chunkSize.get() != null) {
                    long c = Sizes.parse(chunkSize.get());
                    o = o.withChunkSize(c > Integer.MAX_VALUE ? -1 : (int) c);
                }
                if (ioSize.get() != null) {
                    long n = Sizes.parse(ioSize.get());
                    o = o.withIoSize(n > Integer.MAX_VALUE ? -1 : (int) n);
                }
                if (rateLimit.get() != null) {
                    o = o.withRateLimit(Sizes.parse(rateLimit.get()));
                }
                o = o.withCheckpointInterval(Duration.ofMillis((long) (checkpointSeconds.get() * 1000)));
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
