package org.jv2v.image.qcow2;

import org.jv2v.BadInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The header extensions that follow the fixed header in the first cluster (docs/interop/qcow2.txt,
 * "Header extensions"): each is a big-endian type, a length, the data, padding to 8 bytes.
 *
 * @param backingFormat the backing file's format name (0xe2792aca), if given
 * @param featureNames  names of feature bits (0x6803f857), keyed by {@link #featureKey}
 * @param cryptoHeader  a full disk encryption header pointer (0x0537be77) is present
 * @param dataFile      the external data file's name (0x44415441), if given
 * @param bitmaps       a bitmaps extension (0x23852875) is present
 */
record HeaderExtensions(Optional<String> backingFormat, Map<Integer, String> featureNames, boolean cryptoHeader,
                        Optional<String> dataFile, boolean bitmaps) {

    static final int END = 0;
    static final int BACKING_FORMAT = 0xe2792aca;
    static final int FEATURE_TABLE = 0x6803f857;
    static final int BITMAPS = 0x23852875;
    static final int CRYPTO_HEADER = 0x0537be77;
    static final int DATA_FILE = 0x44415441;

    /** Feature table types. */
    static final int INCOMPATIBLE = 0;
    static final int COMPATIBLE = 1;
    static final int AUTOCLEAR = 2;

    static int featureKey(int type, int bit) {
        return type << 8 | bit;
    }

    /** The name an image gives feature {@code bit} of {@code type}, or a description of the bit. */
    String featureName(int type, int bit) {
        String name = featureNames.get(featureKey(type, bit));
        return name != null ? "'" + name + "' (bit " + bit + ")" : "bit " + bit;
    }

    /**
     * Parses the extensions in {@code [start, end)} of {@code first} (the file's first bytes, where
     * index = file offset). {@code end} is the end of the first cluster, or the backing file name's
     * offset when that comes first.
     */
    static HeaderExtensions parse(ByteBuffer first, int start, int end, Path file) {
        ByteBuffer b = first.duplicate().order(ByteOrder.BIG_ENDIAN);
        Optional<String> backingFormat = Optional.empty();
        Optional<String> dataFile = Optional.empty();
        Map<Integer, String> features = new TreeMap<>();
        boolean crypto = false;
        boolean bitmaps = false;
        int at = start;
        // Each extension takes at least 8 bytes, so this ends within (end - start) / 8 rounds.
        while (at + 8 <= end) {
            int type = b.getInt(at);
            long len = Integer.toUnsignedLong(b.getInt(at + 4));
            if (type == END) {
                break;
            }
            int data = at + 8;
            if (len > end - data) {
                throw BadInputException.atOffset(file, String.format("header extension 0x%08x length", type), at + 4,
                        len + " bytes run past the end of the header area at offset 0x" + Integer.toHexString(end));
            }
            int n = (int) len;
            switch (type) {
                case BACKING_FORMAT -> {
                    if (n > Qcow2Limits.MAX_BACKING_FORMAT_BYTES) {
                        throw BadInputException.atOffset(file, "backing format extension length", at + 4,
                                n + " bytes is longer than any format name (at most "
                                        + Qcow2Limits.MAX_BACKING_FORMAT_BYTES + ")");
                    }
                    String name = ascii(b, data, n);
                    if (!name.matches("[A-Za-z0-9_.+-]+")) {
                        throw BadInputException.atOffset(file, "backing format extension", data,
                                "not a format name: '" + printable(name) + "'");
                    }
                    backingFormat = Optional.of(name);
                }
                case FEATURE_TABLE -> {
                    for (int e = 0; e + Qcow2Limits.FEATURE_ENTRY_BYTES <= n; e += Qcow2Limits.FEATURE_ENTRY_BYTES) {
                        int ftype = b.get(data + e) & 0xff;
                        int bit = b.get(data + e + 1) & 0xff;
                        String name = ascii(b, data + e + 2, Qcow2Limits.FEATURE_ENTRY_BYTES - 2);
                        int nul = name.indexOf('\0');
                        features.put(featureKey(ftype, bit), printable(nul >= 0 ? name.substring(0, nul) : name));
                    }
                }
                case CRYPTO_HEADER -> crypto = true;
                case BITMAPS -> bitmaps = true;
                case DATA_FILE -> dataFile = Optional.of(printable(new String(bytes(b, data, n),
                        StandardCharsets.UTF_8)));
                default -> {
                    // unknown extensions are safe to ignore (spec)
                }
            }
            at = data + (int) ((len + 7) & ~7L);
        }
        return new HeaderExtensions(backingFormat, Map.copyOf(features), crypto, dataFile, bitmaps);
    }

    private static byte[] bytes(ByteBuffer b, int at, int n) {
        byte[] out = new byte[n];
        b.get(at, out);
        return out;
    }

    private static String ascii(ByteBuffer b, int at, int n) {
        return new String(bytes(b, at, n), StandardCharsets.ISO_8859_1);
    }

    /** Keeps messages on one line whatever an image holds. */
    static String printable(String s) {
        StringBuilder out = new StringBuilder();
        s.codePoints().limit(200).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
