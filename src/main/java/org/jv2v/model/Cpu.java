package org.jv2v.model;

import java.util.List;
import java.util.Optional;

/**
 * The guest's virtual CPUs.
 *
 * @param vcpus    number of vCPUs
 * @param topology sockets/cores/threads if the source states them
 * @param vendor   CPU vendor if the source pins one (libvirt input only)
 * @param model    CPU model if the source pins one (libvirt input only)
 * @param features machine features of the source (acpi, apic, pae ...), sorted
 */
public record Cpu(int vcpus, Optional<CpuTopology> topology, Optional<String> vendor, Optional<String> model,
                  List<String> features) {
    public Cpu {
        if (vcpus < 1) {
            throw new IllegalArgumentException("vCPUs must be at least 1: " + vcpus);
        }
        features = features.stream().sorted().toList();
    }

    public static Cpu of(int vcpus, Optional<CpuTopology> topology) {
        return new Cpu(vcpus, topology, Optional.empty(), Optional.empty(), List.of());
    }
}
