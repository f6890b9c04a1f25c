package org.jv2v.model;

/**
 * The source's sound card.
 *
 * @param model     as the source names it ("hdaudio", "es1371", "sb16", "ich6" ...)
 * @param qemuModel the libvirt/QEMU model that emulates it ("ich6", "es1370", "sb16"), or "" if none
 */
public record Sound(String model, String qemuModel) {}
