package org.jv2v.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * The options of a command declared through picocli's programmatic API, each returned as a
 * supplier of its parsed value. Reading picocli's annotations costs every run ~40 ms of
 * reflection (annotation proxies, reflective field setters), a tenth of copying a 1 GiB disk:
 * the commands people time against cp and qemu-img ({@code jv2v image}) are declared this way.
 */
final class CliOptions {
    private final CommandSpec spec;

    private CliOptions(CommandSpec spec) {
        this.spec = spec;
    }

    /** A command running {@code body}, with -h/--help and -V/--version. */
    static CliOptions command(String name, Callable<Integer> body, String... description) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(body).name(name);
        spec.usageMessage().description(description);
        spec.versionProvider(new Jv2vCommand.Version());
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
        return new CliOptions(spec);
    }

    CommandSpec spec() {
        return spec;
    }

    /** {@code -x VALUE}; {@code fallback} when absent. */
    Supplier<String> string(String name, String label, String fallback, String description) {
        return typed(String.class, name, label, fallback, description);
    }

    <T> Supplier<T> typed(Class<T> type, String name, String label, T fallback, String description) {
        OptionSpec o = add(OptionSpec.builder(names(name)).type(type).paramLabel(label).description(description));
        return () -> {
            T v = o.getValue();
            return v != null ? v : fallback;
        };
    }

    Supplier<Boolean> flag(String name, String description) {
        OptionSpec o = add(OptionSpec.builder(names(name)).type(boolean.class).description(description));
        return () -> Boolean.TRUE.equals(o.getValue());
    }

    /**
     * {@code --[no-]name}: true for {@code --name}, false for {@code --no-name}, {@code fallback}
     * when neither is given. (Given a default of true, picocli itself reads {@code --name} as the
     * opposite of the default: false.)
     */
    Supplier<Boolean> negatable(String name, boolean fallback, String description) {
        OptionSpec o = add(OptionSpec.builder(name).negatable(true).type(boolean.class).description(description));
        return () -> spec.commandLine().getParseResult().hasMatchedOption(o) ? Boolean.TRUE.equals(o.getValue())
                : fallback;
    }

    Supplier<List<String>> repeatable(String name, String label, String description) {
        OptionSpec o = add(OptionSpec.builder(names(name)).type(List.class).auxiliaryTypes(String.class)
                .paramLabel(label).description(description));
        return () -> {
            List<String> v = o.getValue();
            return v != null ? v : List.of();
        };
    }

    Supplier<List<Path>> repeatablePath(String name, String label, String description) {
        Supplier<List<String>> s = repeatable(name, label, description);
        return () -> s.get().stream().map(Path::of).toList();
    }

    /** The {@code index}th positional parameter, required. */
    Supplier<Path> path(int index, String label, String description) {
        PositionalParamSpec p = PositionalParamSpec.builder().index(String.valueOf(index)).type(String.class)
                .paramLabel(label).description(description).required(true).build();
        spec.addPositional(p);
        return () -> Path.of(p.<String>getValue());
    }

    private OptionSpec add(OptionSpec.Builder b) {
        OptionSpec o = b.build();
        spec.addOption(o);
        return o;
    }

    /** "-m|--workers" names both spellings. */
    private static String[] names(String name) {
        return name.split("\\|");
    }
}
