package org.jv2v.cli;

import org.jv2v.pipeline.ConversionRequest;
import org.jv2v.pipeline.DiskTransfer;
import org.jv2v.pipeline.Pipeline;
import org.jv2v.pipeline.StageLog;
import org.jv2v.source.DatastoreMap;
import org.jv2v.source.InputMode;
import org.jv2v.source.SourceOptions;
import org.jv2v.target.GuestCapabilities;
import org.jv2v.target.NetworkMap;
import org.jv2v.target.OutputMode;
import org.jv2v.target.TargetOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * The {@code jv2v} command: virt-v2v's options where the meaning is the same. It only turns the
 * command line into a {@link ConversionRequest}; the {@link Pipeline} does the work.
 */
@Command(name = "jv2v", versionProvider = Jv2vCommand.Version.class, sortOptions = false,
        usageHelpAutoWidth = true,
        headerHeading = "", synopsisHeading = "Usage: ",
        customSynopsis = {
            "jv2v -i vmx GUEST.vmx -o local -os FOLDER [OPTIONS]",
            "       jv2v -i ova GUEST.ova|FOLDER -o qemu -os FOLDER [OPTIONS]",
            "       jv2v -i disk IMAGE... -o json -os FOLDER [OPTIONS]",
            "       jv2v -i libvirtxml DOMAIN.xml --print-source",
            "       jv2v inspect [-i disk|vmx|ova|libvirtxml] SOURCE... [--format xml|json]",
        },
        // One string per paragraph: picocli wraps them to the terminal (80 columns when not one).
        description = {"",
            "Converts a VMware guest (.vmx with its .vmdk disks, or an OVA/OVF) to run on KVM. The source is "
                    + "only read, never changed. jv2v prints each stage as it goes, and why it chose each target "
                    + "device.",
            ""},
        optionListHeading = "Options:%n",
        footerHeading = "%n",
        footer = {
            "Examples:",
            "  Show what jv2v reads from a guest, and stop:",
            "    jv2v -i vmx /vms/web/web.vmx --print-source",
            "  Show every change the conversion would make to the guest, and stop:",
            "    jv2v -i vmx /vms/web/web.vmx --plan",
            "  A guest on a NAS whose .vmx names [nas1] or /vmfs/volumes/nas1/...:",
            "    jv2v -i vmx /mnt/nas1/web/web.vmx --datastore nas1=/mnt/nas1 \\",
            "         -o local -os /var/lib/libvirt/images",
            "  Rename the guest, qcow2 disks, its 'VM Network' on libvirt's 'default':",
            "    jv2v -i ova web.ova -on web2 -of qcow2 -n 'VM Network:default' \\",
            "         -o local -os /srv/kvm",
            "  Copy one disk on its own, like qemu-img convert:",
            "    jv2v image convert -p -O qcow2 web.vmdk web.qcow2",
            "",
            "Conversion: a Linux guest is converted in copy-on-write overlays over its disks: virtio modules "
                    + "in its initramfs, bootloader, fstab and NIC names, VMware tools off. Windows guests are not "
                    + "converted yet: their disks are copied unchanged and the target keeps the devices they "
                    + "already drive (pvscsi, LSI SAS, SATA/AHCI, vmxnet3, e1000e, e1000), with a warning.",
            "",
            "Disks are copied sparsely and in parallel; an interrupted copy continues when the same command "
                    + "is run again. --no-copy writes only the metadata (naming disk files NAME-sda, NAME-sdb ... "
                    + "that it does not create).",
            "",
            "Exit status: 0 success, 1 error (bad input, missing file), 2 bad command line, 3 internal error.",
            "Manual: doc/jv2v.1 (man -l doc/jv2v.1)."})
final class Jv2vCommand implements Callable<Integer> {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "-i", paramLabel = "vmx|ova|disk|libvirtxml", order = 1,
            description = "Input mode: a VMware .vmx, an OVA (tar or folder), bare disk images, or a libvirt domain XML.")
    InputMode input;

    @Parameters(paramLabel = "INPUT", arity = "0..*",
            description = "The .vmx, the OVA file or folder, the disk image(s), or the domain XML.")
    List<Path> inputs = new ArrayList<>();

    @Option(names = "-o", paramLabel = "local|qemu|json|null", order = 2,
            description = "Output mode: disks + libvirt XML (NAME.xml), disks + QEMU script (NAME.sh), "
                    + "disks + JSON description (NAME.json), or nothing.")
    OutputMode output;

    @Option(names = "-os", paramLabel = "FOLDER", order = 3,
            description = "Output folder (must exist). Disks are named NAME-sda, NAME-sdb ...")
    Path outputStorage;

    @Option(names = "-on", paramLabel = "NAME", order = 4, description = "Name the converted guest NAME.")
    String outputName;

    @Option(names = "-of", paramLabel = "raw|qcow2", order = 5, description = "Output disk format (default: raw).")
    String outputFormat = "raw";

    @Option(names = "-oa", paramLabel = "sparse|preallocated", order = 6,
            description = "Output allocation (default: sparse).")
    String outputAlloc = "sparse";

    @Option(names = {"-n", "--network"}, paramLabel = "[IN:]OUT", order = 7,
            description = "Map source network IN to OUT; OUT alone maps every network without a rule. Repeatable.")
    List<String> networks = new ArrayList<>();

    @Option(names = {"-b", "--bridge"}, paramLabel = "[IN:]OUT", order = 8,
            description = "Map source bridge IN to OUT; OUT alone maps every bridge without a rule. Repeatable.")
    List<String> bridges = new ArrayList<>();

    @Option(names = "--mac", paramLabel = "MAC:network|bridge:OUT", order = 9,
            description = "Put the NIC with this MAC on network or bridge OUT (wins over -n/-b). Repeatable.")
    List<String> macs = new ArrayList<>();

    @Option(names = "--datastore", paramLabel = "NAME=FOLDER", order = 10,
            description = "VMware datastore NAME is mounted at FOLDER, so '[NAME] dir/x.vmdk' and "
                    + "'/vmfs/volumes/NAME/dir/x.vmdk' are found there. NAME may also be an absolute folder as the "
                    + ".vmx writes it (e.g. /data/vms=/mnt/old/vms). Repeatable.")
    List<String> datastores = new ArrayList<>();

    @Option(names = "--allow-dir", paramLabel = "FOLDER", order = 11,
            description = "Also allow source files (disks, ISOs) under FOLDER. By default only the folder of the "
                    + ".vmx/.xml and the mapped datastores are read. Repeatable.")
    List<Path> allowDirs = new ArrayList<>();

    @Option(names = "--virtio", paramLabel = "yes|no", order = 12,
            description = "Whether the guest has virtio drivers, for a guest jv2v does not convert (Windows, "
                    + "--no-convert, no OS found); a converted Linux guest's drivers are known. Without "
                    + "it such a guest keeps devices it already drives.")
    String virtio;

    @Option(names = "--block-driver", paramLabel = "virtio-blk|virtio-scsi", order = 13,
            description = "Virtio disk bus when virtio is used (default: virtio-blk).")
    String blockDriver = "virtio-blk";

    @Option(names = "--no-copy", order = 14,
            description = "Write only the metadata; do not copy the disks (the files it names will not exist).")
    boolean noCopy;

    @Option(names = "--plan", order = 15,
            description = "Print every change the conversion would make to the guest, file by file, and stop: "
                    + "nothing is written and nothing copied (with --machine-readable: JSON).")
    boolean plan;

    @Option(names = "--no-convert", order = 15,
            description = "Copy the guest as it is: no driver is installed and no file in it is changed. The target "
                    + "keeps devices the guest already drives, unless --virtio yes says it has virtio drivers.")
    boolean noConvert;

    @Option(names = "--print-source", order = 15, description = "Print what was read from the source and stop.")
    boolean printSource;

    @Option(names = "--machine-readable", order = 16,
            description = "With --print-source: JSON. Alone: list this build's capabilities.")
    boolean machineReadable;

    @Option(names = {"-v", "--verbose"}, order = 17, description = "Debug messages; stack traces on errors.")
    boolean verbose;

    @Option(names = "-x", order = 18, description = "Same as -v (virt-v2v's trace option).")
    boolean trace;

    @Option(names = {"-q", "--quiet"}, order = 19, description = "No stage lines (warnings and errors still show).")
    boolean quiet;

    @Option(names = {"-V", "--version"}, versionHelp = true, order = 20, description = "Print the version and exit.")
    boolean versionRequested;

    @Option(names = {"-h", "--help"}, usageHelp = true, order = 21, description = "Show this help and exit.")
    boolean helpRequested;

    private final PrintStream out;
    private final PrintStream err;
    private final DiskTransfer transfer;

    Jv2vCommand(PrintStream out, PrintStream err, DiskTransfer transfer) {
        this.out = out;
        this.err = err;
        this.transfer = transfer;
    }

    static CommandLine commandLine(PrintStream out, PrintStream err, DiskTransfer transfer) {
        CommandLine cli = new CommandLine(new Jv2vCommand(out, err, transfer));
        cli.addSubcommand("image", ImageCommand.spec());
        cli.addSubcommand("inspect", new InspectCommand(out, err));
        return configure(cli, out, err);
    }

    /**
     * Only {@code jv2v image ...}: the tree {@link Main} builds when the first argument is
     * {@code image}, without the annotated commands' start-up cost.
     */
    static CommandLine imageCommandLine(PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(CommandLine.Model.CommandSpec.create().name("jv2v"));
        cli.addSubcommand("image", ImageCommand.spec());
        return configure(cli, out, err);
    }

    private static CommandLine configure(CommandLine cli, PrintStream out, PrintStream err) {
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setPosixClusteredShortOptionsAllowed(false);
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        return cli;
    }

    @Override
    public Integer call() throws Exception {
        if (input == null) {
            if (machineReadable) {
                for (String cap : capabilities()) {
                    out.println(cap);
                }
                return 0;
            }
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "no input mode: use -i vmx|ova|disk|libvirtxml (jv2v --help explains)");
        }
        if (output == null && !printSource && !plan) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "no output mode: use -o local|qemu|json|null, or --print-source");
        }
        if (!outputAlloc.equals("sparse") && !outputAlloc.equals("preallocated")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "-oa must be sparse or preallocated");
        }
        if (!blockDriver.equals("virtio-blk") && !blockDriver.equals("virtio-scsi")) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--block-driver must be virtio-blk or virtio-scsi");
        }
        GuestCapabilities caps;
        if (virtio == null) {
            caps = GuestCapabilities.unknown();
        } else if (virtio.equals("yes")) {
            caps = GuestCapabilities.virtio("--virtio yes");
        } else if (virtio.equals("no")) {
            caps = GuestCapabilities.noVirtio("--virtio no");
        } else {
            throw new CommandLine.ParameterException(spec.commandLine(), "--virtio must be yes or no");
        }
        NetworkMap nets = NetworkMap.empty();
        networks.forEach(nets::addNetwork);
        bridges.forEach(nets::addBridge);
        macs.forEach(nets::addMac);
        TargetOptions target = new TargetOptions(output == null ? OutputMode.NULL : output,
                Optional.ofNullable(outputStorage), Optional.ofNullable(outputName), outputFormat,
                outputAlloc.equals("preallocated"), blockDriver, nets, !noCopy);
        SourceOptions source = new SourceOptions(DatastoreMap.parse(datastores), allowDirs);
        ConversionRequest request = new ConversionRequest(input, inputs, source, target, caps, printSource,
                machineReadable, plan, noConvert);
        StageLog log = new StageLog(out, err, quiet || ((printSource || plan) && machineReadable), verbose || trace);
        new Pipeline(transfer).run(request, log);
        return 0;
    }

    /** What {@code --machine-readable} alone prints, like virt-v2v: one capability per line. */
    List<String> capabilities() {
        List<String> caps = new ArrayList<>(List.of("jv2v", "input:vmx", "input:ova", "input:disk",
                "input:libvirtxml", "output:local", "output:qemu", "output:json", "output:null", "convert:linux",
                "mac-option", "block-driver-option", "datastore-option", "print-source-json", "plan"));
        if (transfer.available()) {
            caps.add("disk-copy");
        }
        return caps;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Jv2vCommand.class.getPackage().getImplementationVersion();
            return new String[] {"jv2v " + (v == null ? "(development build)" : v)};
        }
    }
}
