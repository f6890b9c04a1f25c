package org.jv2v.registry;

/** The registry value types (winnt.h REG_*), by their numeric code. */
public enum ValueType {
    NONE(0),
    SZ(1),
    EXPAND_SZ(2),
    BINARY(3),
    DWORD(4),
    DWORD_BIG_ENDIAN(5),
    LINK(6),
    MULTI_SZ(7),
    RESOURCE_LIST(8),
    FULL_RESOURCE_DESCRIPTOR(9),
    RESOURCE_REQUIREMENTS_LIST(10),
    QWORD(11),
    /** Any other code: applications may store their own; the raw code is kept in the value. */
    UNKNOWN(-1);

    private final int code;

    ValueType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static ValueType of(int code) {
        for (ValueType t : values()) {
            if (t.code == code && t != UNKNOWN) {
                return t;
            }
        }
        return UNKNOWN;
    }
}
