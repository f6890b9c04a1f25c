package org.jv2v.inspect.rpm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The installed packages in an RPM database kept in SQLite (rpmdb.sqlite, RHEL 9, Fedora 33 and
 * later): the table "Packages" holds one header blob per package (columns hnum, blob).
 */
public final class RpmPackages {
    /** More packages than any distribution installs: a bigger table is not a real guest's. */
    public static final int MAX_PACKAGES = 200_000;

    private RpmPackages() {}

    /** Every package's header, in the database's order; {@code name} names the file in errors. */
    public static List<RpmHeader> read(SqliteTable.Source src, long size, String name) throws IOException {
        List<RpmHeader> out = new ArrayList<>();
        boolean found = SqliteTable.forEachRow(src, size, name, "Packages", row -> {
            if (out.size() >= MAX_PACKAGES) {
                throw SqliteTable.badAt(name, "table Packages", 0, "more than " + MAX_PACKAGES + " rows");
            }
            if (row.values().size() < 2 || !(row.values().get(1) instanceof byte[] blob)) {
                throw SqliteTable.badAt(name, "table Packages", 0, "row " + row.rowid() + " has no header blob");
            }
            out.add(RpmHeader.read(blob, name, "row " + row.rowid()));
        });
        if (!found) {
            throw SqliteTable.badAt(name, "schema", 0, "no table Packages: not an RPM database");
        }
        return out;
    }
}
