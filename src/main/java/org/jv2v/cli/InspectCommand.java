package org.jv2v.cli;

import org.jv2v.Jv2vException;
import org.jv2v.inspect.InspectOptions;
import org.jv2v.inspect.Inspection;
import org.jv2v.inspect.Inspector;
import org.jv2v.inspect.InspectorJson;
import org.jv2v.inspect.InspectorXml;
import org.jv2v.model.SourceVm;
import org.jv2v.pipeline.GuestDisks;
import org.jv2v.source.DatastoreMap;
import org.jv2v.source.InputMode;
import org.jv2v.source.SourceOptions;
import org.jv2v.source.Sources;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jv2v inspect}: what virt-inspector prints about a guest (its XML, or JSON with more),
 * read straight from the disks: no appliance, nothing written.
 */
@Command(name = "inspect", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Finds the operating systems on a guest's disks and prints what virt-inspector prints "
                + "(--format xml, the default) or that and more (--format json: kernels and their virtio drivers, "
                + "boot loader, init system, network style, firmware, every volume). The disks are only read."},
        footer = {"", "Examples:",
            "  jv2v inspect disk.vmdk",
            "  jv2v inspect -i vmx /vms/web/web.vmx --format json",
            "", "Exit status: 0 an OS was found, 1 none was (or the input is bad), 2 bad command line."})
final class InspectCommand implements Callable<Integer> {

    @Option(names = "-i", paramLabel = "disk|vmx|ova|libvirtxml", order = 1,
            description = "What SOURCE is: disk images (the default), a .vmx, an OVA folder, a libvirt domain XML.")
    InputMode input = InputMode.DISK;

    @Parameters(paramLabel = "SOURCE", arity = "1..*", description = "The disk image(s), or the .vmx/OVA/XML.")
    List<Path> inputs = new ArrayList<>();

    @Option(names = "--format", paramLabel = "xml|json", order = 2, description = "Output format (default: xml).")
    String format = "xml";

    @Option(names = "--no-applications", order = 3, description = "Do not list installed packages (as virt-inspector).")
    boolean noApplications;

    @Option(names = "--datastore", paramLabel = "NAME=FOLDER", order = 4,
            description = "VMware datastore NAME is mounted at FOLDER (see jv2v --help). Repeatable.")
    List<String> datastores = new ArrayList<>();

    @Option(names = "--allow-dir", paramLabel = "FOLDER", order = 5,
            description = "Also allow source files under FOLDER. Repeatable.")
    List<Path> allowDirs = new ArrayList<>();

    @Option(names = {"-v", "--verbose"}, order = 6, description = "Print what inspection skipped, on stderr.")
    boolean verbose;

    @Option(names = {"-h", "--help"}, usageHelp = true, order = 7, description = "Show this help and exit.")
    boolean help;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;

    InspectCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() throws Exception {
        if (!format.equals("xml") && !format.equals("json")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--format must be xml or json");
        }
        SourceOptions options = new SourceOptions(DatastoreMap.parse(datastores), allowDirs);
        SourceVm vm = Sources.open(input, inputs, options, w -> err.println("jv2v: warning: " + w));
        boolean apps = !noApplications;
        try (GuestDisks disks = GuestDisks.open(vm, Sources.guard(input, inputs, options))) {
            Inspection in = Inspector.inspect(disks.devices(), new InspectOptions(apps));
            if (verbose) {
                in.notes().forEach(n -> err.println("jv2v: inspect: " + n));
                in.roots().forEach(g -> g.notes().forEach(n -> err.println("jv2v: inspect: " + g.root() + ": " + n)));
            }
            if (in.roots().isEmpty()) {
                throw new Jv2vException("no operating system could be detected on "
                        + String.join(" ", inputs.stream().map(Path::toString).toList())
                        + (in.notes().isEmpty() ? "" : " (" + String.join("; ", in.notes()) + ")"));
            }
            out.print(format.equals("json") ? InspectorJson.write(in, apps) : InspectorXml.write(in.roots(), apps));
            out.flush();
        }
        return 0;
    }
}
