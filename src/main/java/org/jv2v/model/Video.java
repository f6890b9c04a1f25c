package org.jv2v.model;

import java.util.OptionalLong;

/**
 * The source's video adapter.
 *
 * @param model     "vmvga" (VMware SVGA), "vga", "qxl" ...
 * @param vramBytes video memory, if stated
 */
public record Video(String model, OptionalLong vramBytes) {}
