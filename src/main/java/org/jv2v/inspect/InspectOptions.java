package org.jv2v.inspect;

/**
 * What {@link Inspector#inspect} reads beyond the basics.
 *
 * @param applications list installed packages (virt-inspector's default; --no-applications turns it off)
 */
public record InspectOptions(boolean applications) {
    public static InspectOptions defaults() {
        return new InspectOptions(true);
    }
}
