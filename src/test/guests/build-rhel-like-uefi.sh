#!/usr/bin/env bash
# Builds the test guest "rhel-like-uefi": the disk layout of RHEL 8/9 as anaconda leaves it on
# ESXi with EFI firmware, made of Debian 12 packages (see README.md for what differs from RHEL).
#   GPT: p1 ESP (FAT32), p2 /boot (XFS), p3 LVM PV of VG "rhel" with LVs root (XFS) and swap.
#   /boot/loader/entries/<machine-id>-<kver>.conf (BLS), /boot/initramfs-<kver>.img (dracut,
#   with LVM, without any virtio module), GRUB on the ESP at EFI/redhat and EFI/BOOT.
#   ifupdown: static 192.0.2.10/24 on ens192 (vmxnet3 in PCI slot 192, as ESXi places it).
# Output in OUT: rhel-like-uefi.vmx, rhel-like-uefi.vmdk (monolithicSparse), build.log.
# Usage: build-rhel-like-uefi.sh OUT BASE APT_CACHE   (root; BASE is the shared Debian tree)
GUESTS_DIR=$(cd "$(dirname "$0")" && pwd)
source "$GUESTS_DIR/common.sh"
[ $# -eq 3 ] || die "usage: $0 OUT BASE APT_CACHE"
OUT=$1 BASE=$2 APT_CACHE=$3
NAME=rhel-like-uefi
DISK_SIZE=4G
BOOT_UUID=8d3b6f2a-1c4e-4f7b-9a2d-0e5c7b9f1a02
ROOT_UUID=2f7c9e1b-6a3d-4b8e-8c1f-3d5a7e9b0c02
SWAP_UUID=6b1e4d2c-7f3a-4e9b-8d5c-1a2b3c4d5e02   # fixed like the others: reproducible guests
ESP_ID=4A2F1C03          # FAT volume id, shown as UUID=4A2F-1C03
MACHINE_ID=9c1e5a7b3d2f4e6a8b0c2d4e6f8a0b02
MAC=00:50:56:3a:12:02
LVM_CONF='global { activation = 0 } backup { backup = 0 archive = 0 } devices { obtain_device_list_from_udev = 0 }'
export LVM_SUPPRESS_FD_WARNINGS=1

require_tools debootstrap qemu-img sgdisk partx losetup mkfs.xfs mkfs.vfat mcopy mmd lvm mkswap mount chroot
mkdir -p "$OUT"
WORK="$OUT/work"
clear_dir "$WORK"
rm -f "$OUT/$NAME.vmx" "$OUT/$NAME.vmdk"
mkdir -p "$WORK"

ensure_base "$BASE"

RAW="$WORK/disk.raw"
truncate -s "$DISK_SIZE" "$RAW"
sgdisk -n1:2048:+100M -t1:EF00 -c1:"EFI System Partition" -n2:0:+320M -t2:8300 -n3:0:0 -t3:8E00 "$RAW" >/dev/null
LOOP=$(losetup -f --show "$RAW")
push_cleanup "losetup -d $LOOP"
partx -a "$LOOP"
push_cleanup "partx -d $LOOP"
PV="${LOOP}p3"

# LVM made by the real lvm2 tools. The host kernel has no device-mapper, so nothing is activated:
# the LVs are linear, and their bytes are reached through loop devices at the offsets the
# metadata gives (checked below: one segment each).
lvmc() { lvm "$@" --config "$LVM_CONF devices { filter = [ \"a|^$PV\$|\", \"r|.*|\" ] }"; }
log "LVM: PV $PV, VG rhel, LVs root and swap"
lvmc pvcreate -q -y -ff "$PV" >/dev/null 2>&1
lvmc vgcreate -q rhel "$PV" >/dev/null 2>&1
lvmc lvcreate -q -an -Zn -y -L 3200M -n root rhel >/dev/null 2>&1
lvmc lvcreate -q -an -Zn -y -L 256M -n swap rhel >/dev/null 2>&1
PE_START=$(lvmc pvs --noheadings --units b --nosuffix -o pe_start "$PV" 2>/dev/null | tr -d ' ')
EXTENT=$(lvmc vgs --noheadings --units b --nosuffix -o vg_extent_size rhel 2>/dev/null | tr -d ' ')
P3_START=$(( $(partx -g -o START -n 3 "$RAW" | tr -d ' ') * 512 ))
lv_loop() {   # prints a loop device over the LV's bytes
  local lv=$1 ranges first last
  ranges=$(lvmc lvs --noheadings -o seg_pe_ranges "rhel/$lv" 2>/dev/null | tr -d ' ')
  [[ $ranges =~ ^$PV:([0-9]+)-([0-9]+)$ ]] || die "LV $lv is not one linear segment on $PV: $ranges"
  first=${BASH_REMATCH[1]} last=${BASH_REMATCH[2]}
  losetup -f --show -o $((P3_START + PE_START + first * EXTENT)) --sizelimit $(((last - first + 1) * EXTENT)) "$RAW"
}
ROOT_LV=$(lv_loop root)
push_cleanup "losetup -d $ROOT_LV"
SWAP_LV=$(lv_loop swap)
push_cleanup "losetup -d $SWAP_LV"
mkswap -q -U "$SWAP_UUID" "$SWAP_LV" >/dev/null
mkfs.xfs -q -m uuid="$ROOT_UUID" "$ROOT_LV"
mkfs.xfs -q -m uuid="$BOOT_UUID" "${LOOP}p2"

MNT="$WORK/mnt"
mkdir -p "$MNT"
mount "$ROOT_LV" "$MNT"
push_cleanup "umount -l '$MNT'"
mkdir -p "$MNT/boot"
mount "${LOOP}p2" "$MNT/boot"
push_cleanup "umount -l '$MNT/boot'"
log "copying the base tree into the XFS root and /boot"
cp -a "$BASE/." "$MNT/"
ROOT=$MNT
chroot_mounts "$ROOT"
dev_links "$ROOT" "$ROOT_LV" "${LOOP}p2" "$SWAP_LV"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
log "installing lvm2, xfsprogs, dosfstools, grub-efi-amd64-bin"
apt_in_root "$ROOT" lvm2 xfsprogs dosfstools grub-efi-amd64-bin
configure_common "$ROOT" "$NAME" "$MACHINE_ID"
mkdir -p "$ROOT/boot/efi"
cat >"$ROOT/etc/fstab" <<FSTAB

#
# /etc/fstab
# Created by anaconda
#
# Accessible filesystems, by reference, are maintained under '/dev/disk/'.
# See man pages fstab(5), findfs(8), mount(8) and/or blkid(8) for more info.
#
# After editing this file, run 'systemctl daemon-reload' to update systemd
# units generated from this file.
#
/dev/mapper/rhel-root   /                       xfs     defaults        0 0
UUID=$BOOT_UUID /boot                   xfs     defaults        0 0
UUID=${ESP_ID:0:4}-${ESP_ID:4:4}          /boot/efi               vfat    umask=0077,shortname=winnt 0 2
/dev/mapper/rhel-swap   none                    swap    defaults        0 0
FSTAB

KVER=$(kernel_version "$ROOT")
# RHEL's names in /boot: initramfs-KVER.img, no /vmlinuz or /initrd.img links at the top.
rm -f "$ROOT/boot/initrd.img-$KVER" "$ROOT"/vmlinuz* "$ROOT"/initrd.img*
# zstd: the converter meets a second compressor (the Debian guest's is gzip)
build_initramfs "$ROOT" "$KVER" "/boot/initramfs-$KVER.img" --add lvm --add-drivers "xfs dm_mod" \
  --compress "zstd -q -T0 -9"
grep -q 'sbin/lvm$' <<<"$(in_root "$ROOT" lsinitrd "/boot/initramfs-$KVER.img")" || die "lvm missing from the initramfs"

# Boot Loader Specification entry as RHEL 9's kernel-install writes it. rd.retry: see the
# Debian guest (a shorter wait for a missing root; no effect when the root is found).
OPTIONS="root=/dev/mapper/rhel-root ro resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap console=tty0 console=ttyS0,115200n8 rd.retry=40"
TITLE="Debian GNU/Linux 12 (bookworm) ($KVER)"
ENTRY="$MACHINE_ID-$KVER"
mkdir -p "$ROOT/boot/loader/entries"
cat >"$ROOT/boot/loader/entries/$ENTRY.conf" <<BLS
title $TITLE
version $KVER
linux /vmlinuz-$KVER
initrd /initramfs-$KVER.img
options $OPTIONS
grub_users \$grub_users
grub_arg --unrestricted
grub_class debian
BLS
cat >"$ROOT/etc/default/grub" <<DEFGRUB
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR="\$(sed 's, release .*\$,,g' /etc/system-release 2>/dev/null || echo Debian)"
GRUB_DEFAULT=saved
GRUB_DISABLE_SUBMENU=true
GRUB_TERMINAL_OUTPUT="console"
GRUB_CMDLINE_LINUX="resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap console=tty0 console=ttyS0,115200n8 rd.retry=40"
GRUB_DISABLE_RECOVERY="true"
GRUB_ENABLE_BLSCFG=true
DEFGRUB

# RHEL's /boot/grub2/grub.cfg calls "blscfg", which reads the entries at boot. Debian's GRUB has
# no blscfg, so each entry becomes a menuentry here, written from the entry file itself.
mkdir -p "$ROOT/boot/grub2"
{
  cat <<HEAD
# jv2v test guest. On RHEL this file runs "blscfg" to read /boot/loader/entries/*.conf at boot;
# Debian's GRUB 2.06 has no blscfg module, so the guest builder wrote one menuentry per BLS entry.
set timeout=1
search --no-floppy --fs-uuid --set=root $BOOT_UUID
load_env -f (\$root)/grub2/grubenv
if [ "\${saved_entry}" ]; then set default="\${saved_entry}"; fi
HEAD
  for f in "$ROOT"/boot/loader/entries/*.conf; do
    awk -v id="$(basename "$f" .conf)" '
      $1 == "title" { sub(/^title[ \t]+/, ""); title = $0 }
      $1 == "linux" { linux = $2 }
      $1 == "initrd" { initrd = $2 }
      $1 == "options" { sub(/^options[ \t]+/, ""); options = $0 }
      END {
        printf "menuentry '\''%s'\'' --id '\''%s'\'' {\n", title, id
        printf "\tlinux %s %s\n\tinitrd %s\n}\n", linux, options, initrd
      }' "$f"
  done
} >"$ROOT/boot/grub2/grub.cfg"
in_root "$ROOT" grub-editenv /boot/grub2/grubenv set "saved_entry=$ENTRY" boot_success=0

# GRUB for the ESP: one EFI image with its modules inside and prefix /EFI/redhat, as RHEL's
# grubx64.efi; the same image at the removable-media path (RHEL puts shim there).
log "grub-mkimage x86_64-efi; ESP (FAT32) with mtools"
in_root "$ROOT" grub-mkimage -O x86_64-efi -o /tmp/grubx64.efi -p /EFI/redhat \
  part_gpt part_msdos fat xfs ext2 lvm normal linux boot configfile search search_fs_uuid search_fs_file \
  search_label echo test true cat ls loadenv gzio efi_gop all_video video font gfxterm serial terminal sleep \
  reboot halt chain probe regexp minicmd
ESPDIR="$WORK/esp"
mkdir -p "$ESPDIR/EFI/BOOT" "$ESPDIR/EFI/redhat"
mv "$ROOT/tmp/grubx64.efi" "$ESPDIR/EFI/redhat/grubx64.efi"
cp "$ESPDIR/EFI/redhat/grubx64.efi" "$ESPDIR/EFI/BOOT/BOOTX64.EFI"
cat >"$ESPDIR/EFI/redhat/grub.cfg" <<STUB
search --no-floppy --fs-uuid --set=dev $BOOT_UUID
set prefix=(\$dev)/grub2
export \$prefix
configfile \$prefix/grub.cfg
STUB
rm -f "$ROOT/etc/resolv.conf"
unmount_root "$ROOT"
xfs_repair -n "$ROOT_LV" >"$WORK/fsck.log" 2>&1 && xfs_repair -n "${LOOP}p2" >>"$WORK/fsck.log" 2>&1 \
  || { cat "$WORK/fsck.log" >&2; die "xfs_repair found errors"; }

ESP_IMG="$WORK/esp.img"
rm -f "$ESP_IMG"
mkfs.vfat -C -F 32 -i "$ESP_ID" "$ESP_IMG" $((100 * 1024)) >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$ESP_IMG" "$ESPDIR/EFI" ::/
fsck.vfat -n "$ESP_IMG" >/dev/null
dd if="$ESP_IMG" of="${LOOP}p1" bs=1M conv=fsync status=none
run_cleanup

make_vmdk "$RAW" "$OUT/$NAME.vmdk"
write_vmx "$OUT/$NAME.vmx" "$NAME" debian12-64 efi "$MAC"
clear_dir "$WORK"
log "built $OUT/$NAME.vmx"
