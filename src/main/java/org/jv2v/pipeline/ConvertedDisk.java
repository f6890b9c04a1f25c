package org.jv2v.pipeline;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.OpenedImage;
import org.jv2v.model.SourceDisk;

/**
 * A guest disk as the conversion left it, for the copy: {@link #device()} is the copy-on-write
 * overlay over the source image (its merged view is what the target gets; the source stays as it
 * was).
 *
 * @param source  the disk as the source describes it
 * @param image   the source image, opened read-only (its files identify the copy for resuming)
 * @param device  the overlay: the source with the conversion's writes on top
 * @param changes identifies what the conversion wrote, in this run ("" when it wrote nothing): a
 *                copy interrupted under one run's conversion is not resumed under another's
 */
public record ConvertedDisk(SourceDisk source, OpenedImage image, BlockDevice device, String changes) {}
