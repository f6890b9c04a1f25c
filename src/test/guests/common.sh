# Shared steps of the test-guest builders (sourced, not run). Needs root: loop devices, mount,
# chroot. Everything is written below the output folder given to the builder; nothing else on
# the host is touched (LVM runs with backups and archives off and a filter that sees one device).
set -euo pipefail

SUITE=bookworm
MIRROR=${JV2V_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The static address every guest gives its NIC: TEST-NET-1 (RFC 5737), reachable from nowhere.
GUEST_IP=192.0.2.10/24
GUEST_GW=192.0.2.1
# The virtio family: none of it may be in a VMware guest's initramfs, or converting would prove
# nothing. Names as modules.dep spells them (dracut matches either spelling).
VIRTIO_DRIVERS="virtio virtio_ring virtio_pci virtio_pci_legacy_dev virtio_pci_modern_dev virtio_blk \
virtio_scsi virtio_net virtio_console virtio_balloon virtio_input virtio_mmio virtio_gpu virtio_rng \
virtio_dma_buf virtio_mem virtio_iommu virtio_vdpa virtio_crypto virtio_fs virtio_pmem \
virtiofs vmw_vsock_virtio_transport vmw_vsock_virtio_transport_common net_failover failover"
# What an initramfs built by dracut's host-only mode on ESXi holds for its disk and NIC, plus the
# other VMware controllers (LSI Logic SPI/SAS, SATA, IDE) a VMware guest may be given.
VMWARE_DRIVERS="vmw_pvscsi mptspi mptsas mptscsih mptbase ahci ata_piix sd_mod sr_mod vmxnet3 \
scsi_transport_spi scsi_transport_sas"

START_MS=$(( $(date +%s%N) / 1000000 ))
log() { local t=$(( $(date +%s%N) / 1000000 - START_MS )); printf '[%4d.%d] %s\n' $((t / 1000)) $((t % 1000 / 100)) "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# Undo stack, run on any exit: unmounts and loop detaches in reverse order.
CLEANUP=()
push_cleanup() { CLEANUP+=("$*"); }
run_cleanup() {
  local i
  for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[i]}" >/dev/null 2>&1 || true; done
  CLEANUP=()
}
trap run_cleanup EXIT

require_tools() {
  local t missing=()
  for t in "$@"; do command -v "$t" >/dev/null || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || die "building test guests needs root (loop devices, mount, chroot)"
}

# chroot with the kernel file systems the package scripts expect; never starts services. /dev is
# a private copy, so the by-uuid links udev would make (grub-mkconfig needs them to write
# root=UUID=) are added without touching the host's /dev.
chroot_mounts() {
  local root=$1 d
  for d in proc sys; do
    mount --bind "/$d" "$root/$d"
    push_cleanup "umount -l '$root/$d'"
  done
  mount -t tmpfs -o mode=755 jv2v-dev "$root/dev"
  push_cleanup "umount -l '$root/dev'"
  cp -a /dev/. "$root/dev/" 2>/dev/null || true
  mkdir -p "$root/dev/pts" "$root/dev/disk/by-uuid"
  mount --bind /dev/pts "$root/dev/pts"
  push_cleanup "umount -l '$root/dev/pts'"
}
# /dev/disk/by-uuid/UUID links in the chroot for the given block devices
dev_links() {
  local root=$1 dev uuid; shift
  for dev in "$@"; do
    uuid=$(blkid -s UUID -o value "$dev") || continue
    [ -n "$uuid" ] && ln -sf "$dev" "$root/dev/disk/by-uuid/$uuid"
  done
}
# unmounts everything below and at ROOT (chroot binds first), leaving the loop devices
unmount_root() {
  local root=$1 m
  sync
  for m in $(awk -v r="$(realpath "$root")" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount "$m" || umount -l "$m"
  done
}
# rm -rf for a build folder, safe against mounts a killed build left behind (a chroot's /dev,
# /proc, /sys bound inside it): unmounts them first, never crosses into another file system.
clear_dir() {
  local dir=$1
  [ -e "$dir" ] || return 0
  unmount_root "$dir" || true
  if awk -v r="$(realpath "$dir")" '$2 == r || index($2, r "/") == 1 {found = 1} END {exit !found}' /proc/self/mounts; then
    die "$dir still has mounts; unmount them first"
  fi
  rm -rf --one-file-system "$dir"
}
in_root() {
  local root=$1; shift
  # INITRD=No: the kernel hook builds no initramfs; each guest builds its own below.
  LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive INITRD=No chroot "$root" "$@"
}
apt_in_root() {
  local root=$1; shift
  mkdir -p "$APT_CACHE/partial"
  mount --bind "$APT_CACHE" "$root/var/cache/apt/archives"
  push_cleanup "umount -l '$root/var/cache/apt/archives'"
  in_root "$root" apt-get -o Dpkg::Use-Pty=0 -o APT::Keep-Downloaded-Packages=true -qq \
    install -y --no-install-recommends "$@" >/dev/null
  umount "$root/var/cache/apt/archives"
}

# The Debian 12 tree both guests start from: minbase, systemd, udev, ifupdown, the kernel and
# dracut (in place of initramfs-tools), made once per build folder and copied per guest.
ensure_base() {
  local base=$1
  if [ -f "$base.done" ]; then return; fi
  clear_dir "$base"
  mkdir -p "$base" "$APT_CACHE"
  log "debootstrap $SUITE (minbase) from $MIRROR"
  debootstrap --variant=minbase --cache-dir="$APT_CACHE" "$SUITE" "$base" "$MIRROR" >"$base.log" 2>&1 \
    || { tail -20 "$base.log" >&2; die "debootstrap failed (log: $base.log)"; }
  printf '#!/bin/sh\nexit 101\n' >"$base/usr/sbin/policy-rc.d"   # no daemons start in the chroot
  chmod 755 "$base/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$base/etc/resolv.conf" 2>/dev/null || true
  (
    trap run_cleanup EXIT
    CLEANUP=()
    chroot_mounts "$base"
    log "installing the kernel, systemd, udev, ifupdown, iproute2 and dracut"
    apt_in_root "$base" linux-image-amd64 systemd-sysv udev ifupdown iproute2 kmod dracut dracut-core \
      zstd procps
  )
  touch "$base.done"
}

kernel_version() {
  local root=$1 k
  k=$(cd "$root/lib/modules" && ls | sort -V | tail -1)
  [ -n "$k" ] && [ -f "$root/boot/vmlinuz-$k" ] || die "no kernel in $root"
  echo "$k"
}

# The configuration every guest shares: hostname, machine id, the static IP on the name the
# vmxnet3 NIC gets on ESXi (PCI slot 192), and the boot marker for the tests.
configure_common() {
  local root=$1 name=$2 machine_id=$3
  echo "$name" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$name" >"$root/etc/hosts"
  echo "$machine_id" >"$root/etc/machine-id"
  # As the Debian installer writes it on ESXi: the NIC by its predictable name, hot-plugged.
  cat >"$root/etc/network/interfaces" <<IFACES
# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug ens192
iface ens192 inet static
	address $GUEST_IP
	gateway $GUEST_GW
IFACES
  install -m 755 "$GUESTS_DIR/jv2v-boot-marker" "$root/usr/local/sbin/jv2v-boot-marker"
  install -m 644 "$GUESTS_DIR/jv2v-boot-marker.service" "$root/etc/systemd/system/jv2v-boot-marker.service"
  ln -sf /etc/systemd/system/jv2v-boot-marker.service \
    "$root/etc/systemd/system/multi-user.target.wants/jv2v-boot-marker.service"
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
  # No root password; the marker needs no login. Keep the tree's apt lists small.
  rm -rf "$root/var/lib/apt/lists/"*_Packages "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb
}

# dracut in the guest, generic (not host-only: host-only would describe the build machine) but
# with the whole virtio family left out, as on a guest built on ESXi; then checks with lsinitrd.
build_initramfs() {
  local root=$1 kver=$2 out=$3; shift 3
  log "dracut $kver -> $out (no virtio)"
  in_root "$root" dracut --force --no-hostonly --kver "$kver" \
    --omit "qemu qemu-net virtiofs" --omit-drivers "$VIRTIO_DRIVERS" --add-drivers "$VMWARE_DRIVERS" "$@" \
    "$out" "$kver" >"$WORK/dracut.log" 2>&1 || { tail -30 "$WORK/dracut.log" >&2; die "dracut failed"; }
  local listing
  listing=$(in_root "$root" lsinitrd "$out")
  if grep -qE '/virtio[^/]*\.ko|/virtio_[a-z_]*\.ko|/net_failover\.ko' <<<"$listing"; then
    grep -E 'virtio|failover' <<<"$listing" >&2
    die "virtio modules found in $out"
  fi
  for m in vmw_pvscsi mptspi ahci sd_mod vmxnet3; do
    grep -q "/$m\.ko" <<<"$listing" || die "$m missing from $out"
  done
}

# qemu-img converts the raw disk to the VMware disk and the raw file goes away.
make_vmdk() {
  local raw=$1 vmdk=$2
  log "qemu-img convert -> $(basename "$vmdk") (monolithicSparse)"
  qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse,adapter_type=lsilogic "$raw" "$vmdk"
  rm -f "$raw"
}

# An ESXi-style .vmx (hardware version 19): pvscsi disk, vmxnet3 NIC in PCI slot 192.
write_vmx() {
  local vmx=$1 name=$2 guest_os=$3 firmware=$4 mac=$5
  {
    cat <<VMX
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "19"
displayName = "$name"
guestOS = "$guest_os"
VMX
    [ "$firmware" = efi ] && echo 'firmware = "efi"'
    cat <<VMX
memSize = "1024"
numvcpus = "1"
cpuid.coresPerSocket = "1"
nvram = "$name.nvram"
pciBridge0.present = "TRUE"
pciBridge4.present = "TRUE"
pciBridge4.virtualDev = "pcieRootPort"
pciBridge4.functions = "8"
pciBridge5.present = "TRUE"
pciBridge5.virtualDev = "pcieRootPort"
pciBridge5.functions = "8"
pciBridge6.present = "TRUE"
pciBridge6.virtualDev = "pcieRootPort"
pciBridge6.functions = "8"
pciBridge7.present = "TRUE"
pciBridge7.virtualDev = "pcieRootPort"
pciBridge7.functions = "8"
vmci0.present = "TRUE"
hpet0.present = "TRUE"
tools.syncTime = "FALSE"
scsi0.virtualDev = "pvscsi"
scsi0.present = "TRUE"
scsi0.pciSlotNumber = "160"
scsi0:0.deviceType = "scsi-hardDisk"
scsi0:0.fileName = "$name.vmdk"
scsi0:0.present = "TRUE"
sata0.present = "TRUE"
sata0.pciSlotNumber = "33"
sata0:0.deviceType = "cdrom-raw"
sata0:0.fileName = "auto detect"
sata0:0.startConnected = "FALSE"
sata0:0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "static"
ethernet0.address = "$mac"
ethernet0.pciSlotNumber = "192"
ethernet0.present = "TRUE"
svga.present = "TRUE"
svga.vramSize = "8388608"
floppy0.present = "FALSE"
uuid.bios = "56 4d 6a 1c 2b 3e 4f 50-61 72 83 94 a5 b6 c7 $(printf '%s' "$name" | cksum | cut -c1-2)"
VMX
  } >"$vmx"
}
