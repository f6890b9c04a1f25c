package org.jv2v.fs.ntfs;

/** {@code length} clusters from virtual cluster {@code vcn} stored at {@code lcn}, or a hole ({@code lcn < 0}). */
record Run(long vcn, long lcn, long length) {
    static final long SPARSE = -1;

    boolean sparse() {
        return lcn < 0;
    }

    long endVcn() {
        return vcn + length;
    }
}
