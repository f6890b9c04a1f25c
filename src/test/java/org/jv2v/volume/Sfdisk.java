package org.jv2v.volume;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** sfdisk as the oracle for partition tables: its --json dump compared with what jv2v read. */
public final class Sfdisk {
    private Sfdisk() {}

    public static JsonNode dump(Path disk) throws Exception {
        Tools.require("sfdisk");
        return new ObjectMapper().readTree(Run.checked(List.of("sfdisk", "--json", disk.toString())).stdout())
                .get("partitiontable");
    }

    /** Every partition sfdisk lists is in {@code table} with the same number, place, type and name. */
    public static void assertSameAs(Path disk, PartitionTable table) throws Exception {
        JsonNode t = dump(disk);
        assertThat(table.scheme()).isEqualTo(t.get("label").asString().replace("dos", "mbr"));
        JsonNode parts = t.get("partitions");
        assertThat(table.partitions()).hasSize(parts.size());
        for (int i = 0; i < parts.size(); i++) {
            JsonNode p = parts.get(i);
            Partition mine = table.partitions().get(i);
            String node = p.get("node").asString();
            assertThat(mine.number()).isEqualTo(Integer.parseInt(node.substring(disk.toString().length())));
            assertThat(mine.start()).isEqualTo(p.get("start").asLong() * 512);
            assertThat(mine.size()).isEqualTo(p.get("size").asLong() * 512);
            if (table.scheme().equals("mbr")) {
                assertThat(table.diskId()).isEqualTo(t.get("id").asString().substring(2));
                assertThat(mine.mbrType()).isEqualTo(Integer.parseInt(p.get("type").asString(), 16));
                assertThat(mine.bootable()).isEqualTo(p.has("bootable") && p.get("bootable").asBoolean());
            } else {
                assertThat(table.diskId()).isEqualTo(t.get("id").asString());
                assertThat(mine.typeGuid()).contains(p.get("type").asString());
                assertThat(mine.uniqueGuid()).contains(p.get("uuid").asString());
                assertThat(mine.name()).isEqualTo(p.has("name") ? p.get("name").asString() : "");
                assertThat(mine.bootable()).isEqualTo(p.has("attrs")
                        && p.get("attrs").asString().contains("LegacyBIOSBootable"));
            }
        }
    }
}
