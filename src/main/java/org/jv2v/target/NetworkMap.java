package org.jv2v.target;

import org.jv2v.Jv2vException;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceNic.VnetType;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code -n/--network}, {@code -b/--bridge} and {@code --mac}, with virt-v2v's meaning: a
 * {@code --mac} rule for the NIC's MAC wins; else a network (bridge) NIC is renamed by the
 * {@code IN:OUT} rule for its name, else by the default ({@code OUT} alone); else it is kept.
 */
public final class NetworkMap {
    private static final Pattern MAC_RULE = Pattern.compile(
            "([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}):(network|bridge):(.+)");

    private record Target(VnetType type, String name) {}

    private final Map<String, Target> macs = new LinkedHashMap<>();
    private final Map<String, String> networks = new LinkedHashMap<>();
    private final Map<String, String> bridges = new LinkedHashMap<>();
    private Optional<String> defaultNetwork = Optional.empty();
    private Optional<String> defaultBridge = Optional.empty();

    public static NetworkMap empty() {
        return new NetworkMap();
    }

    /** {@code -n [IN:]OUT}. */
    public NetworkMap addNetwork(String spec) {
        add(spec, "-n/--network", networks, true);
        return this;
    }

    /** {@code -b [IN:]OUT}. */
    public NetworkMap addBridge(String spec) {
        add(spec, "-b/--bridge", bridges, false);
        return this;
    }

    private void add(String spec, String option, Map<String, String> map, boolean network) {
        int colon = spec.indexOf(':');
        String in = colon < 0 ? "" : spec.substring(0, colon);
        String out = colon < 0 ? spec : spec.substring(colon + 1);
        if (in.isEmpty() && out.isEmpty()) {
            throw new Jv2vException("invalid " + option + " parameter '" + spec + "'");
        }
        if (in.isEmpty() || out.isEmpty()) {
            String dflt = in.isEmpty() ? out : in;
            if ((network ? defaultNetwork : defaultBridge).isPresent()) {
                throw new Jv2vException("duplicate " + option + " parameter: only one default mapping is allowed");
            }
            if (network) {
                defaultNetwork = Optional.of(dflt);
            } else {
                defaultBridge = Optional.of(dflt);
            }
            return;
        }
        if (map.putIfAbsent(in, out) != null) {
            throw new Jv2vException("duplicate " + option + " parameter: '" + in + "' is mapped twice");
        }
    }

    /** {@code --mac MAC:network|bridge:OUT}. */
    public NetworkMap addMac(String spec) {
        Matcher m = MAC_RULE.matcher(spec);
        if (!m.matches()) {
            throw new Jv2vException("cannot parse --mac \"" + spec + "\": expected MAC:network:OUT or MAC:bridge:OUT");
        }
        String mac = m.group(1).toLowerCase(Locale.ROOT);
        VnetType type = m.group(2).equals("network") ? VnetType.NETWORK : VnetType.BRIDGE;
        if (macs.putIfAbsent(mac, new Target(type, m.group(3))) != null) {
            throw new Jv2vException("duplicate --mac parameter: MAC address " + mac + " is mapped twice");
        }
        return this;
    }

    /** The NIC with its network or bridge as it will be on the target. */
    public SourceNic map(SourceNic nic) {
        if (nic.mac().isPresent()) {
            Target t = macs.get(nic.mac().get().toLowerCase(Locale.ROOT));
            if (t != null) {
                return nic.withVnet(t.type(), t.name());
            }
        }
        if (nic.vnetType() == VnetType.NETWORK) {
            String out = networks.get(nic.vnet());
            if (out != null) {
                return nic.withVnet(VnetType.NETWORK, out);
            }
            return defaultNetwork.map(d -> nic.withVnet(VnetType.NETWORK, d)).orElse(nic);
        }
        String out = bridges.get(nic.vnet());
        if (out != null) {
            return nic.withVnet(VnetType.BRIDGE, out);
        }
        return defaultBridge.map(d -> nic.withVnet(VnetType.BRIDGE, d)).orElse(nic);
    }
}
