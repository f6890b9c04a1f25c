package org.jv2v.pipeline;

import org.jv2v.Jv2vException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceVm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The source's disks opened read-only, in the guest's order (the first is /dev/sda), for
 * inspection. Closing closes every image.
 */
public final class GuestDisks implements AutoCloseable {
    private final List<OpenedImage> images;

    private GuestDisks(List<OpenedImage> images) {
        this.images = images;
    }

    /** Opens every disk of {@code vm}; the files may only lie in {@code guard}'s folders. */
    public static GuestDisks open(SourceVm vm, PathGuard guard) throws IOException {
        List<OpenedImage> opened = new ArrayList<>();
        try {
            for (SourceDisk d : vm.disks()) {
                if (!(d.location() instanceof DiskLocation.LocalFile f)) {
                    throw new Jv2vException(d.location().describe() + ": a disk inside an archive cannot be "
                            + "inspected yet: extract the OVA into a folder and use that");
                }
                opened.add(Images.open(guard.check(f.path(), () -> f.path() + ": outside the allowed folders"),
                        OpenContext.of(guard)));
            }
        } catch (IOException | RuntimeException e) {
            for (OpenedImage i : opened) {
                i.close();
            }
            throw e;
        }
        return new GuestDisks(opened);
    }

    public List<BlockDevice> devices() {
        return images.stream().map(OpenedImage::device).toList();
    }

    public List<OpenedImage> images() {
        return List.copyOf(images);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (OpenedImage i : images) {
            try {
                i.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
