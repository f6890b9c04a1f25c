package org.jv2v.model;

import java.util.Optional;

/**
 * A storage controller of the source.
 *
 * @param model as the source names it ("pvscsi", "lsilogic", "lsisas1068", "buslogic", "ahci"...)
 */
public record Controller(Bus bus, int index, Optional<String> model) {}
