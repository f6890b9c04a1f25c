package org.jv2v.image;

import org.jv2v.BadInputException;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * What opening an image may do: which folders its descriptors may name, and how deep a backing
 * chain may go. Tracks the files already opened in this chain so a loop is an error, not a hang.
 */
public final class OpenContext {
    /** ESXi allows 32 snapshots; allow some slack for chains built by other tools. */
    public static final int MAX_CHAIN_DEPTH = 64;

    private final PathGuard guard;
    private final Set<Path> chain;

    private OpenContext(PathGuard guard, Set<Path> chain) {
        this.guard = guard;
        this.chain = chain;
    }

    public static OpenContext of(PathGuard guard) {
        return new OpenContext(guard, new HashSet<>());
    }

    public PathGuard guard() {
        return guard;
    }

    /**
     * The context for opening {@code backing}, named in {@code child}: fails on a loop or a chain
     * deeper than {@link #MAX_CHAIN_DEPTH}.
     */
    public OpenContext forBacking(Path child, Path backing) {
        Path key = PathGuard.real(backing);
        if (chain.contains(key) || key.equals(PathGuard.real(child))) {
            throw BadInputException.inFile(child, "backing file loop: '" + backing + "' is already in the chain");
        }
        if (chain.size() >= MAX_CHAIN_DEPTH) {
            throw BadInputException.inFile(child, "backing chain deeper than " + MAX_CHAIN_DEPTH);
        }
        Set<Path> next = new HashSet<>(chain);
        next.add(PathGuard.real(child));
        return new OpenContext(guard, next);
    }
}
