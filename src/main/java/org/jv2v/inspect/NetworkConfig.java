package org.jv2v.inspect;

/**
 * One way the guest configures its network; a guest may use several.
 *
 * @param style    "ifupdown", "netplan", "networkmanager", "ifcfg" (Red Hat network-scripts),
 *                 "wicked" (SUSE ifcfg), "systemd-networkd" or "windows"
 * @param evidence the file or folder that shows it
 */
public record NetworkConfig(String style, String evidence) {}
