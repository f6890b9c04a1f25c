package org.jv2v.fs;

/** One name in a directory ("." and ".." are never listed). */
public record DirEntry(String name, long inode, FileKind kind) {}
