package org.jv2v.target;

import org.jv2v.Jv2vException;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceNic.VnetType;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** -n, -b and --mac with virt-v2v's precedence and error messages. */
class NetworkMapTest {
    private static SourceNic nic(String mac, VnetType type, String vnet) {
        return new SourceNic(0, Optional.empty(), Optional.ofNullable(mac), SourceNic.MacType.UNKNOWN, Optional.of(vnet),
                vnet, type, SourceNic.Connection.UNSPECIFIED, Optional.empty(), true);
    }

    @Test
    void precedenceIsMacThenNamedThenDefault() {
        NetworkMap m = NetworkMap.empty().addNetwork("john:network2").addNetwork("fallback")
                .addBridge("VM Network:br0").addMac("52:54:00:AA:BB:CC:bridge:macbr");
        assertThat(m.map(nic("52:54:00:aa:bb:cc", VnetType.NETWORK, "john")).vnet()).isEqualTo("macbr");
        assertThat(m.map(nic("52:54:00:aa:bb:cc", VnetType.NETWORK, "john")).vnetType()).isEqualTo(VnetType.BRIDGE);
        assertThat(m.map(nic(null, VnetType.NETWORK, "john")).vnet()).isEqualTo("network2");
        assertThat(m.map(nic(null, VnetType.NETWORK, "paul")).vnet()).isEqualTo("fallback");
        assertThat(m.map(nic(null, VnetType.BRIDGE, "VM Network")).vnet()).isEqualTo("br0");
        assertThat(m.map(nic(null, VnetType.BRIDGE, "other")).vnet()).isEqualTo("other");
    }

    @Test
    void onlyTheFirstColonSplitsAndNamesMayHaveSpaces() {
        NetworkMap m = NetworkMap.empty().addNetwork("VM Network:a:b");
        assertThat(m.map(nic(null, VnetType.NETWORK, "VM Network")).vnet()).isEqualTo("a:b");
        assertThat(NetworkMap.empty().addBridge(":br9").map(nic(null, VnetType.BRIDGE, "x")).vnet()).isEqualTo("br9");
    }

    @Test
    void duplicatesAndGarbageAreErrors() {
        assertThatThrownBy(() -> NetworkMap.empty().addNetwork("a").addNetwork("b"))
                .isInstanceOf(Jv2vException.class).hasMessageContaining("only one default mapping");
        assertThatThrownBy(() -> NetworkMap.empty().addBridge("x:1").addBridge("x:2"))
                .hasMessageContaining("'x' is mapped twice");
        assertThatThrownBy(() -> NetworkMap.empty().addNetwork(":")).hasMessageContaining("invalid -n/--network");
        assertThatThrownBy(() -> NetworkMap.empty().addMac("52:54:00:01:02:03:ip:1.2.3.4"))
                .hasMessageContaining("cannot parse --mac");
        assertThatThrownBy(() -> NetworkMap.empty().addMac("52:54:00:01:02:03:network:a").addMac("52:54:00:01:02:03:bridge:b"))
                .hasMessageContaining("mapped twice");
    }
}
