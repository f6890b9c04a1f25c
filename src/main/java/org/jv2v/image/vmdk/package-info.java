/**
 * VMware VMDK, read-only, every layout.
 *
 * <ul>
 *   <li>{@link org.jv2v.image.vmdk.VmdkFormat}: the {@code ImageFormat} registered in
 *       {@code Images}; {@code open} gives the merged device of a disk and its snapshot chain.</li>
 *   <li>{@link org.jv2v.image.vmdk.VmdkDescriptor}: {@code read(path)} parses a descriptor (text
 *       file or embedded) without opening the data: size, extents, CID, parent, adapter, geometry.</li>
 * </ul>
 *
 * Internals: {@code SparseHeader} (KDMV), {@code CowdHeader} (COWD), {@code SeSparseHeader}
 * (SEsparse) are the on-disk headers; {@code GrainExtent}, {@code FlatExtent} and
 * {@code ZeroExtent} read one extent each; {@code VmdkDevice} puts a layer's extents end to end
 * over its parent; {@code GrainTableCache} bounds the memory spent on grain tables.
 */
package org.jv2v.image.vmdk;
