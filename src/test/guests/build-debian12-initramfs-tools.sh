#!/usr/bin/env bash
# Builds the test guest "debian12-initramfs-tools": Debian 12 as most real VMware guests are, with
# Debian's own initramfs-tools (MODULES=most, the default) rather than dracut. Such an initramfs
# ALREADY holds virtio_pci, virtio_blk, virtio_scsi and virtio_net (MODULES=most takes the whole
# drivers/net and block trees), and udev with 80-net-setup-link.rules and the .link files of
# /lib/systemd/network and /etc/systemd/network: on KVM the NIC is named in the initramfs, by the
# default policy, before the real root's udev and its .link files see it.
#   MBR: sda1 ext4 root (bootable); BIOS GRUB in the MBR gap; no swap (not the subject here).
#   ifupdown: static 192.0.2.10/24 on ens192 (vmxnet3 in PCI slot 192, as ESXi places it).
#   Same hardware and MAC as debian12-bios (the two are never booted on one network).
# Output in OUT: debian12-initramfs-tools.vmx, .vmdk (monolithicSparse), build.log.
# Usage: build-debian12-initramfs-tools.sh OUT BASE APT_CACHE   (root; BASE is the shared Debian tree)
GUESTS_DIR=$(cd "$(dirname "$0")" && pwd)
source "$GUESTS_DIR/common.sh"
[ $# -eq 3 ] || die "usage: $0 OUT BASE APT_CACHE"
OUT=$1 BASE=$2 APT_CACHE=$3
NAME=debian12-initramfs-tools
DISK_SIZE=3G
ROOT_UUID=5e1f0b1c-3b7a-4c38-9d0a-6a2f2c1d0e03
MACHINE_ID=4a8c2e1f0b3d4e5f8a9b0c1d2e3f4a53
MAC=00:50:56:3a:12:01

require_tools debootstrap qemu-img sfdisk partx losetup mkfs.ext4 mount chroot
mkdir -p "$OUT"
WORK="$OUT/work"
clear_dir "$WORK"
rm -f "$OUT/$NAME.vmx" "$OUT/$NAME.vmdk" "$OUT/kernel-version" "$OUT/initrd.img" "$OUT/initrd.sha256"
mkdir -p "$WORK"

ensure_base "$BASE"

RAW="$WORK/disk.raw"
truncate -s "$DISK_SIZE" "$RAW"
sfdisk -q "$RAW" <<'PARTS'
label: dos
start=2048, type=83, bootable
PARTS
LOOP=$(losetup -f --show "$RAW")
push_cleanup "losetup -d $LOOP"
partx -a "$LOOP"
push_cleanup "partx -d $LOOP"
mkfs.ext4 -q -U "$ROOT_UUID" -L "" "${LOOP}p1"
MNT="$WORK/mnt"
mkdir -p "$MNT"
mount "${LOOP}p1" "$MNT"
push_cleanup "umount -l '$MNT'"
log "copying the base tree into the ext4 root"
cp -a "$BASE/." "$MNT/"
ROOT=$MNT

chroot_mounts "$ROOT"
dev_links "$ROOT" "${LOOP}p1"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# initramfs-tools conflicts with dracut: apt replaces one with the other, as on a stock Debian.
log "installing grub-pc and initramfs-tools (in place of dracut)"
apt_in_root "$ROOT" grub-pc initramfs-tools
[ -x "$ROOT/usr/sbin/update-initramfs" ] || die "initramfs-tools is not installed"
configure_common "$ROOT" "$NAME" "$MACHINE_ID"
cat >"$ROOT/etc/fstab" <<FSTAB
# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
# / was on /dev/sda1 during installation
UUID=$ROOT_UUID /               ext4    errors=remount-ro 0       1
FSTAB

KVER=$(kernel_version "$ROOT")
# Debian's defaults, as the installer leaves them: MODULES=most, COMPRESS=zstd. Checked, not set.
grep -qx 'MODULES=most' "$ROOT/etc/initramfs-tools/initramfs.conf" || die "initramfs.conf: MODULES is not most"
# No swap to resume from; without this the resume hook would look at the build machine's swaps.
echo "RESUME=none" >"$ROOT/etc/initramfs-tools/conf.d/resume"
log "update-initramfs -c -k $KVER (MODULES=most)"
rm -f "$ROOT/boot/initrd.img-$KVER"
in_root "$ROOT" update-initramfs -c -k "$KVER" >"$WORK/initramfs.log" 2>&1 \
  || { tail -30 "$WORK/initramfs.log" >&2; die "update-initramfs failed"; }
LISTING=$(in_root "$ROOT" lsinitramfs "/boot/initrd.img-$KVER")
# what makes this guest the case under test: virtio drivers and a naming udev in the initramfs
for f in /virtio_pci.ko /virtio_blk.ko /virtio_scsi.ko /virtio_net.ko /vmxnet3.ko /vmw_pvscsi.ko \
  lib/systemd/systemd-udevd lib/udev/rules.d/80-net-setup-link.rules lib/udev/rules.d/80-drivers.rules \
  lib/systemd/network/99-default.link; do
  grep -q -- "$f" <<<"$LISTING" || die "$f missing from /boot/initrd.img-$KVER"
done

# for the tests: which kernel, and a copy of the image as update-initramfs wrote it (to compare the
# converted guest's with), with its checksum
echo "$KVER" >"$OUT/kernel-version"
cp "$ROOT/boot/initrd.img-$KVER" "$OUT/initrd.img"
(cd "$ROOT/boot" && sha256sum "initrd.img-$KVER") >"$OUT/initrd.sha256"

sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \
  -e 's|^GRUB_CMDLINE_LINUX_DEFAULT=.*|GRUB_CMDLINE_LINUX_DEFAULT=""|' \
  -e 's|^GRUB_CMDLINE_LINUX=.*|GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"|' \
  "$ROOT/etc/default/grub"
log "grub-install --target=i386-pc $LOOP; update-grub"
in_root "$ROOT" grub-install --target=i386-pc --modules="part_msdos ext2" "$LOOP" >"$WORK/grub.log" 2>&1 \
  || { cat "$WORK/grub.log" >&2; die "grub-install failed"; }
in_root "$ROOT" update-grub >>"$WORK/grub.log" 2>&1 || { cat "$WORK/grub.log" >&2; die "update-grub failed"; }
grep -q "root=UUID=$ROOT_UUID" "$ROOT/boot/grub/grub.cfg" || die "grub.cfg does not name the root by UUID"
rm -f "$ROOT/etc/resolv.conf"

unmount_root "$ROOT"
e2fsck -fn "${LOOP}p1" >"$WORK/fsck.log" 2>&1 || { cat "$WORK/fsck.log" >&2; die "e2fsck found errors"; }
run_cleanup

make_vmdk "$RAW" "$OUT/$NAME.vmdk"
write_vmx "$OUT/$NAME.vmx" "$NAME" debian12-64 bios "$MAC"
clear_dir "$WORK"
log "built $OUT/$NAME.vmx"
