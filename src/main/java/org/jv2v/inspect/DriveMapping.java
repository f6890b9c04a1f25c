package org.jv2v.inspect;

/** A Windows drive letter ("C") and the device it is on, from HKLM\SYSTEM\MountedDevices. */
public record DriveMapping(String letter, String device) {}
