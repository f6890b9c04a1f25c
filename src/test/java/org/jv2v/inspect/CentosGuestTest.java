package org.jv2v.inspect;

import org.jv2v.image.BlockDevice;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CentOS 8 guest ({@link CentosGuest}): its packages come from a Berkeley DB Packages file.
 * virt-inspector (librpm's bdb_ro backend, in its appliance) lists the same packages with the same
 * fields in {@link VirtInspectorComparisonTest}.
 */
class CentosGuestTest {
    @Test
    void packagesFromABerkeleyDbDatabase() throws Exception {
        try (FileDevice disk = FileDevice.open(CentosGuest.centos8().image())) {
            Inspection in = Inspector.inspect(List.<BlockDevice>of(disk), InspectOptions.defaults());
            assertThat(in.roots()).hasSize(1);
            GuestInfo g = in.roots().getFirst();
            assertThat(g.distro()).contains("centos");
            assertThat(g.packageManagement()).contains("dnf");
            assertThat(g.notes()).noneMatch(n -> n.contains("rpm"));
            assertThat(g.applications()).extracting(Application::name)
                    .containsExactly("bash", "centos-release", "openssh-server");
            Application ssh = g.applications().get(2);
            assertThat(ssh.epoch()).isEqualTo(1);
            assertThat(ssh.version()).isEqualTo("8.0p1");
            assertThat(ssh.release()).isEqualTo("10.el8");
            assertThat(ssh.url()).isEqualTo("http://www.openssh.com/portable.html");
        }
    }
}
