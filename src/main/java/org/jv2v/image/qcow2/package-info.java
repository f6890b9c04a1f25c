/**
 * qcow2, QEMU's image format (docs/interop/qcow2.txt in QEMU's sources).
 *
 * <p>{@link org.jv2v.image.qcow2.Qcow2Format} is both the {@link org.jv2v.image.ImageFormat} (found
 * by {@link org.jv2v.image.Images#probe}: the "QFI\xfb" magic) and the
 * {@link org.jv2v.image.ImageWriter} ({@code -O qcow2}):
 * <ul>
 *   <li>reading: versions 2 and 3, zlib and zstd compressed clusters, zero clusters, extended L2
 *       entries (subclusters), backing chains of any format jv2v reads; encryption and external
 *       data files are refused. Every header value is capped ({@code Qcow2Limits}) and every table
 *       entry checked against the file before use. Block status also asks the file for holes
 *       under uncompressed data clusters (a {@code preallocation=metadata} image maps every
 *       cluster but has written few), as qemu does for such images, so a copy skips them.</li>
 *   <li>writing: version 3 (compat 1.1), 64 KiB clusters, 16-bit refcounts, optional deflate
 *       compression, qemu-img's preallocation modes; safe for concurrent writers, valid for
 *       {@code qemu-img check} after every flush, resumable with {@code reopen}.</li>
 * </ul>
 * Everything else is package-private.
 */
package org.jv2v.image.qcow2;
