package org.jv2v.inspect;

/**
 * An installed package or program, with libguestfs's application2 fields ("" when unknown).
 *
 * @param epoch the package epoch, 0 when none
 */
public record Application(String name, String displayName, int epoch, String version, String release,
                          String arch, String installPath, String publisher, String url, String sourcePackage,
                          String summary, String description) {}
