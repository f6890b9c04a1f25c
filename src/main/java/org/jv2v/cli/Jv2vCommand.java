package org.jv2v.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** The {@code jv2v} command: converts a guest; {@code jv2v image ...} works on disk images alone. */
@Command(name = "jv2v", mixinStandardHelpOptions = true, versionProvider = Jv2vCommand.Version.class,
        description = "Convert a VMware guest to run on KVM.",
        subcommands = {ImageCommand.class})
final class Jv2vCommand implements Callable<Integer> {

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Jv2vCommand());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Jv2vCommand.class.getPackage().getImplementationVersion();
            return new String[] {"jv2v " + (v == null ? "(development build)" : v)};
        }
    }
}
