package org.jv2v.image;

import org.jv2v.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * The folders that file names found inside descriptors (VMDK extents, backing files, OVF
 * references, .vmx disk names) may point into. A name that resolves, after symbolic links, outside
 * all of them is refused: an image must never make jv2v open {@code /etc/shadow}.
 */
public record PathGuard(List<Path> allowedDirs) {

    public PathGuard {
        allowedDirs = allowedDirs.stream().map(PathGuard::real).toList();
    }

    /** Allows only the folder holding {@code file} (the usual case for a bare image). */
    public static PathGuard folderOf(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return new PathGuard(List.of(parent));
    }

    public PathGuard plus(Path dir) {
        var dirs = new java.util.ArrayList<>(allowedDirs);
        dirs.add(dir);
        return new PathGuard(dirs);
    }

    /**
     * Resolves {@code name} (as written in {@code referencingFile}, at {@code where}: "line 12" or
     * "offset 0x200") against the referencing file's folder and checks it stays inside.
     */
    public Path resolve(Path referencingFile, String name, String field, String where) {
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            throw BadInputException.inFile(referencingFile, field + " (" + where + "): invalid file name");
        }
        Path base = referencingFile.toAbsolutePath().getParent();
        Path candidate = base.resolve(name).normalize();
        check(candidate, () -> referencingFile + ": " + field + " (" + where + "): '" + name
                + "' is outside the allowed folders " + allowedDirs);
        return candidate;
    }

    /** Checks a path the user gave or that a mapping produced. */
    public Path check(Path path, java.util.function.Supplier<String> message) {
        Path real = real(path.toAbsolutePath().normalize());
        for (Path dir : allowedDirs) {
            if (real.startsWith(dir)) {
                return path;
            }
        }
        throw BadInputException.of(message.get());
    }

    /** The real path of {@code p}, or of its longest existing prefix with the rest appended. */
    static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }
}
