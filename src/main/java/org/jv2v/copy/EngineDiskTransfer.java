package org.jv2v.copy;

import org.jv2v.Jv2vException;
import org.jv2v.fs.ByteRange;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.ImageWriter;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.image.Preallocation;
import org.jv2v.image.SliceDevice;
import org.jv2v.image.raw.RawFormat;
import org.jv2v.image.vmdk.VmdkFormat;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.SourceDisk;
import org.jv2v.fs.ByteRange;
import org.jv2v.pipeline.ConvertedDisk;
import org.jv2v.pipeline.DiskTransfer;
import org.jv2v.target.TargetVm.TargetDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The pipeline's disk copies ({@code -o local}, {@code -o qemu} ...) through the {@link Copier}:
 * found by {@link java.util.ServiceLoader} (META-INF/services). Sources are opened read-only and
 * probed (a VMDK's descriptor, any registered format; a disk inside an uncompressed OVA is read in
 * place); targets are written sparsely, resumably, atomically and durably (fsync before rename).
 */
public final class EngineDiskTransfer implements DiskTransfer {
    private static final byte[] VMDK_SPARSE_MAGIC = {'K', 'D', 'M', 'V'};

    @Override
    public boolean available() {
        return true;
    }

    @Override
    public void copy(SourceDisk source, PathGuard guard, TargetDisk target, boolean preallocated, Progress progress)
            throws IOException {
        copy(source, guard, target, preallocated, java.util.List.of(), progress);
    }

    /** Skips {@code unused} (inspection's map of the bytes no filesystem uses): not read, zeros in the target. */
    @Override
    public void copy(SourceDisk source, PathGuard guard, TargetDisk target, boolean preallocated,
                     java.util.List<ByteRange> unused, Progress progress) throws IOException {
        ImageWriter writer = Images.writer(target.format());
        try (Opened in = open(source, guard)) {
            TargetCheck.refuseSourceFiles(in.files(), target.file());
            RangeSet.Builder skip = RangeSet.builder();
            for (ByteRange r : unused) {
                skip.add(r.offset(), r.length());
            }
            CopyOptions opts = CopyOptions.defaults()
                    .withPreallocation(!preallocated ? Preallocation.OFF
                            : target.format().equals("raw") ? Preallocation.FALLOC : Preallocation.METADATA)
                    .withUnused(skip.build())
                    .withSourceId(in.id());
            CopyResult r = Copier.copy(in.device(), writer, target.file(), opts,
                    p -> progress.update(p.done(), p.total()));
            progress.finished(r.virtualSize(), r.bytesRead(), r.bytesWritten(), r.unusedBytes(), r.zeroBytes());
        }
    }

    @Override
    public void copy(ConvertedDisk disk, TargetDisk target, boolean preallocated, List<ByteRange> unused,
                     Progress progress) throws IOException {
        ImageWriter writer = Images.writer(target.format());
        TargetCheck.refuseSourceFiles(TargetCheck.files(disk.image()), target.file());
        RangeSet.Builder b = RangeSet.builder();
        for (ByteRange r : unused) {
            b.add(r.offset(), r.length());
        }
        RangeSet skip = b.build();
        CopyOptions opts = CopyOptions.defaults()
                .withPreallocation(!preallocated ? Preallocation.OFF
                        : target.format().equals("raw") ? Preallocation.FALLOC : Preallocation.METADATA)
                .withUnused(skip)
                .withSourceId(identity(disk.image()) + (disk.changes().isEmpty() ? "" : "|converted:" + disk.changes()));
        CopyResult r = Copier.copy(disk.device(), writer, target.file(), opts,
                p -> progress.update(p.done(), p.total()));
        progress.finished(r.virtualSize(), r.bytesRead(), r.bytesWritten(), r.unusedBytes(), r.zeroBytes());
    }

    /** A source device and what to close after, with an identity for the copy journal. */
    private record Opened(BlockDevice device, AutoCloseable owner, String id, List<Path> files)
            implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                owner.close();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
    }

    private static Opened open(SourceDisk source, PathGuard guard) throws IOException {
        return switch (source.location()) {
            case DiskLocation.LocalFile f -> {
                OpenContext ctx = OpenContext.of(guard);
                // "raw" from the metadata is obeyed: probing a raw disk could find another format's
                // header inside the guest's own data
                OpenedImage img = source.format().orElse("").equals("raw")
                        ? new RawFormat().open(f.path(), ctx) : Images.open(f.path(), ctx);
                yield new Opened(img.device(), img, identity(img), TargetCheck.files(img));
            }
            case DiskLocation.ArchiveMember m -> openMember(m);
        };
    }

    private static Opened openMember(DiskLocation.ArchiveMember m) throws IOException {
        if (!m.compression().equals("none")) {
            throw new Jv2vException(m.archive() + ": " + m.member() + ": " + m.compression()
                    + "-compressed disks inside an OVA cannot be copied yet (decompress the OVA first)");
        }
        String id = m.archive().toRealPath() + "!" + m.member() + "@" + m.offset() + "+" + m.size() + ":"
                + Files.getLastModifiedTime(m.archive()).toMillis();
        byte[] magic = new byte[4];
        try (FileChannel ch = FileChannel.open(m.archive(), StandardOpenOption.READ)) {
            ch.read(ByteBuffer.wrap(magic), m.offset());
        }
        if (java.util.Arrays.equals(magic, VMDK_SPARSE_MAGIC)) {
            OpenedImage img = new VmdkFormat().openMember(m.archive(), m.offset(), m.size(), m.member());
            return new Opened(img.device(), img, id, List.of(m.archive()));
        }
        // anything else in an OVA is taken as a raw disk image, read in place
        OpenedImage tar = new RawFormat().open(m.archive(), OpenContext.of(PathGuard.folderOf(m.archive())));
        try {
            return new Opened(new SliceDevice(tar.device(), m.offset(), m.size(), m.archive() + ": " + m.member()),
                    tar, id, List.of(m.archive()));
        } catch (RuntimeException e) {
            tar.close();
            throw e;
        }
    }

    /**
     * Every file of the chain with its size and modification time, for {@link CopyOptions#sourceId()}:
     * a copy journal made for other or changed files is not resumed.
     */
    public static String identity(OpenedImage img) throws IOException {
        StringBuilder sb = new StringBuilder(img.format());
        for (OpenedImage layer : img.chain()) {
            for (Path f : layer.files()) {
                Path real = f.toRealPath();
                sb.append('|').append(real).append(':').append(Files.size(real)).append(':')
                        .append(Files.getLastModifiedTime(real).toMillis());
            }
        }
        return sb.toString();
    }
}
