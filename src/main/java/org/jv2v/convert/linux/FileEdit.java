package org.jv2v.convert.linux;

import java.util.List;

/**
 * One change the conversion makes to one file of the guest, with the reasons for it as printed by
 * {@code --plan}. Paths are guest paths with links resolved (the file actually changed).
 */
public sealed interface FileEdit {

    String path();

    /** Why, one line each ("line 12: /dev/sda5 -> /dev/vda5 (disk 1 scsi0:0 moves from pvscsi to virtio-blk)"). */
    List<String> reasons();

    /** "rewrite", "create", ... as the plan prints it. */
    String action();

    /**
     * Whether the conversion may go on without this edit (the EFI fallback path: the guest may
     * still boot where its boot entry is recreated), so that a filesystem jv2v cannot edit skips it
     * with a warning instead of stopping the conversion.
     */
    default boolean optional() {
        return false;
    }

    /** Replaces the content of an existing file. */
    record Rewrite(String path, byte[] before, byte[] after, List<String> reasons) implements FileEdit {
        public Rewrite {
            reasons = List.copyOf(reasons);
        }

        @Override
        public String action() {
            return "rewrite";
        }
    }

    /** Creates a new regular file (root-owned). */
    record Create(String path, byte[] content, int mode, List<String> reasons) implements FileEdit {
        public Create {
            reasons = List.copyOf(reasons);
        }

        @Override
        public String action() {
            return "create";
        }
    }

    /** Removes a file or symbolic link. */
    record Unlink(String path, List<String> reasons) implements FileEdit {
        public Unlink {
            reasons = List.copyOf(reasons);
        }

        @Override
        public String action() {
            return "remove";
        }
    }

    /** Creates a directory (root-owned). */
    record Mkdir(String path, int mode, boolean optional, List<String> reasons) implements FileEdit {
        public Mkdir {
            reasons = List.copyOf(reasons);
        }

        @Override
        public String action() {
            return "mkdir";
        }
    }

    /** Copies a file of the guest to a new name (the EFI fallback boot loader). */
    record Copy(String from, String path, boolean optional, List<String> reasons) implements FileEdit {
        public Copy {
            reasons = List.copyOf(reasons);
        }

        @Override
        public String action() {
            return "copy";
        }
    }

    /**
     * Rewrites a kernel's initramfs with drivers added from its module folder; the new content is
     * made when the plan is applied (it is large, and needs the initramfs editor).
     */
    record RebuildInitramfs(String path, String kernelVersion, String modulesDir, List<String> modules,
                            java.util.Map<String, byte[]> nicLinks, List<String> reasons) implements FileEdit {
        /**
         * @param nicLinks systemd .link files (file name -> content) to put into the image as well,
         *                 where the image names NICs itself (its udev runs net_setup_link and it
         *                 holds virtio_net); empty for none
         */
        public RebuildInitramfs {
            modules = List.copyOf(modules);
            nicLinks = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(nicLinks));
            reasons = List.copyOf(reasons);
        }

        public RebuildInitramfs(String path, String kernelVersion, String modulesDir, List<String> modules,
                                List<String> reasons) {
            this(path, kernelVersion, modulesDir, modules, java.util.Map.of(), reasons);
        }

        @Override
        public String action() {
            return "rebuild initramfs";
        }
    }
}
