package org.jv2v.inspect.rpm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The installed packages in an RPM database: kept in SQLite (rpmdb.sqlite, RHEL 9, Fedora 33 and
 * later: the table "Packages" holds one header blob per package, columns hnum, blob), or in a
 * Berkeley DB hash file (Packages, RHEL and CentOS 5 to 8: the key is the header's instance number
 * in the host's byte order, the value its header blob; instance 0 holds the next free number).
 */
public final class RpmPackages {
    /** More packages than any distribution installs: a bigger table is not a real guest's. */
    public static final int MAX_PACKAGES = 200_000;

    private RpmPackages() {}

    /** Every package's header in a Berkeley DB Packages file, in the file's order. */
    public static List<RpmHeader> readBerkeleyDb(SqliteTable.Source src, long size, String name) throws IOException {
        List<RpmHeader> out = new ArrayList<>();
        BerkeleyDbHash.forEachPair(src, size, name, (key, value, at) -> {
            if (key.length != 4) {
                throw SqliteTable.badAt(name, "key", at, key.length + " bytes, not a 4-byte header number");
            }
            if (key[0] == 0 && key[1] == 0 && key[2] == 0 && key[3] == 0) {
                return; // instance 0: the next free instance number, not a package
            }
            if (out.size() >= MAX_PACKAGES) {
                throw SqliteTable.badAt(name, "key", at, "more than " + MAX_PACKAGES + " packages");
            }
            out.add(RpmHeader.read(value, name, "item at offset 0x" + Long.toHexString(at)));
        });
        return out;
    }

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
