package org.jv2v.inspect;

import java.util.List;
import java.util.Optional;

/**
 * What the registry says about a Windows guest.
 *
 * @param systemRoot        %SystemRoot% as a path in the guest ("/Windows")
 * @param currentControlSet "ControlSet001" (from HKLM\SYSTEM\Select\Current)
 * @param editionId         SOFTWARE\Microsoft\Windows NT\CurrentVersion\EditionID ("ServerStandard")
 * @param installationType  ...\InstallationType ("Server", "Client"): libguestfs's product variant
 * @param currentBuild      ...\CurrentBuildNumber (or CurrentBuild)
 * @param services          every service and driver of the current control set
 * @param virtioDrivers     the names of the virtio drivers among them (viostor, vioscsi, netkvm ...)
 */
public record WindowsInfo(String systemRoot, Optional<String> currentControlSet, Optional<String> editionId,
                          Optional<String> installationType, Optional<String> currentBuild,
                          List<WindowsService> services, List<String> virtioDrivers) {

    /**
     * A key under CurrentControlSet\Services.
     *
     * @param type      the Type value: 1 kernel driver, 2 filesystem driver, 16/32 services (-1 if absent)
     * @param start     the Start value: 0 boot, 1 system, 2 automatic, 3 manual, 4 disabled (-1 if absent)
     * @param imagePath the ImagePath value, if any
     */
    public record WindowsService(String name, int type, int start, Optional<String> imagePath) {
        public boolean isDriver() {
            return type == 1 || type == 2;
        }
    }
}
