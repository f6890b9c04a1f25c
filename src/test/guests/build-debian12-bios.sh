#!/usr/bin/env bash
# Builds the test guest "debian12-bios": Debian 12 as the Debian installer leaves it on ESXi.
#   MBR: sda1 ext4 root (bootable), sda2 extended, sda5 swap; BIOS GRUB in the MBR gap.
#   fstab names the root by UUID (as the installer does) but the swap as /dev/sda5 and resume=
#   on the kernel line as /dev/sda5: the device names a converter must follow to the new bus.
#   dracut initramfs with the VMware drivers and without any virtio module.
#   ifupdown: static 192.0.2.10/24 on ens192 (vmxnet3 in PCI slot 192, as ESXi places it).
# Output in OUT: debian12-bios.vmx, debian12-bios.vmdk (monolithicSparse), build.log.
# Usage: build-debian12-bios.sh OUT BASE APT_CACHE   (root; BASE is the shared Debian tree)
GUESTS_DIR=$(cd "$(dirname "$0")" && pwd)
source "$GUESTS_DIR/common.sh"
[ $# -eq 3 ] || die "usage: $0 OUT BASE APT_CACHE"
OUT=$1 BASE=$2 APT_CACHE=$3
NAME=debian12-bios
DISK_SIZE=3G
ROOT_UUID=5e1f0b1c-3b7a-4c38-9d0a-6a2f2c1d0e01
SWAP_UUID=ef13db7c-63af-46db-a74b-1c1b175efb64   # fixed too: fstab quotes it, and goldens hold fstab
MACHINE_ID=4a8c2e1f0b3d4e5f8a9b0c1d2e3f4a51
MAC=00:50:56:3a:12:01

require_tools debootstrap qemu-img sfdisk partx losetup mkfs.ext4 mkswap mount chroot
mkdir -p "$OUT"
WORK="$OUT/work"
clear_dir "$WORK"
rm -f "$OUT/$NAME.vmx" "$OUT/$NAME.vmdk"
mkdir -p "$WORK"

ensure_base "$BASE"

# Disk: 1 MiB gap for GRUB's core image, root, then an extended partition holding the swap.
RAW="$WORK/disk.raw"
truncate -s "$DISK_SIZE" "$RAW"
sfdisk -q "$RAW" <<'PARTS'
label: dos
start=2048, size=5767168, type=83, bootable
type=5
type=82
PARTS
LOOP=$(losetup -f --show "$RAW")
push_cleanup "losetup -d $LOOP"
partx -a "$LOOP"
push_cleanup "partx -d $LOOP"
mkfs.ext4 -q -U "$ROOT_UUID" -L "" "${LOOP}p1"
mkswap -q -U "$SWAP_UUID" "${LOOP}p5" >/dev/null
MNT="$WORK/mnt"
mkdir -p "$MNT"
mount "${LOOP}p1" "$MNT"
push_cleanup "umount -l '$MNT'"
log "copying the base tree into the ext4 root"
cp -a "$BASE/." "$MNT/"
ROOT=$MNT

chroot_mounts "$ROOT"
dev_links "$ROOT" "${LOOP}p1" "${LOOP}p5"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
log "installing grub-pc"
# grub-pc's own postinst would ask debconf for install devices; grub-install runs below instead.
apt_in_root "$ROOT" grub-pc
configure_common "$ROOT" "$NAME" "$MACHINE_ID"
cat >"$ROOT/etc/fstab" <<FSTAB
# /etc/fstab: static file system information.
#
# Use 'blkid' to print the universally unique identifier for a
# device; this may be used with UUID= as a more robust way to name devices
# that works even if disks are added and removed. See fstab(5).
#
# systemd generates mount units based on this file, see systemd.mount(5).
# Please run 'systemctl daemon-reload' after you make changes to this file.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
# / was on /dev/sda1 during installation
UUID=$ROOT_UUID /               ext4    errors=remount-ro 0       1
# swap was on /dev/sda5 during installation (UUID=$SWAP_UUID)
/dev/sda5       none            swap    sw              0       0
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
FSTAB
mkdir -p "$ROOT/media/cdrom0"

KVER=$(kernel_version "$ROOT")
# gzip, as dracut on Debian compresses by default (level 6 rather than 9: same format, faster build)
build_initramfs "$ROOT" "$KVER" "/boot/initrd.img-$KVER" --compress "gzip -n -6"

# GRUB as the installer configures it, plus the serial console the tests read. rd.retry shortens
# dracut's wait for a missing root (180 s by default) so the unconverted-on-virtio failure shows
# within a TCG boot; it changes nothing when the root is found.
sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \
  -e 's|^GRUB_CMDLINE_LINUX_DEFAULT=.*|GRUB_CMDLINE_LINUX_DEFAULT="resume=/dev/sda5"|' \
  -e 's|^GRUB_CMDLINE_LINUX=.*|GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8 rd.retry=40"|' \
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
