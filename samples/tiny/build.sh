#!/usr/bin/env bash
# Rebuilds tiny.vmdk, the sample guest's disk, with the reference tools:
#   an 8 MiB disk, an MBR with one Linux partition (sfdisk), an ext4 filesystem filled from a folder
#   (mkfs.ext4 -d), converted to a streamOptimized VMDK (qemu-img), the format vSphere exports.
# Needs: qemu-img (qemu-utils), sfdisk (fdisk), mkfs.ext4 (e2fsprogs). UUIDs, hash seed and times are
# fixed so that a rebuild gives the same filesystem; the VMDK's embedded timestamps may still differ.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export E2FSPROGS_FAKE_TIME=1700000000   # e2fsprogs: use this instead of the clock
root="$work/root"
mkdir -p "$root/etc" "$root/boot" "$root/home/guest"
printf 'NAME="jv2v sample"\nID=jv2v-sample\nPRETTY_NAME="jv2v tiny sample guest"\n' > "$root/etc/os-release"
printf 'tiny\n' > "$root/etc/hostname"
printf 'UUID=6f1a3c8e-2b7d-4e59-9a10-3c5d7e9f1b24 / ext4 defaults 0 1\n' > "$root/etc/fstab"
printf 'This disk is the sample guest of jv2v. It has no kernel: it shows conversion, not booting.\n' \
    > "$root/home/guest/README"
find "$root" -exec touch -h -d @1700000000 {} +

# 8 MiB disk: partition 1 from 1 MiB to the end, type Linux
raw="$work/tiny.raw"
truncate -s 8M "$raw"
printf 'label: dos\nlabel-id: 0x6a763276\nstart=2048, type=83\n' | sfdisk -q "$raw"

# the filesystem, built apart and written into the partition
part="$work/part.ext4"
truncate -s 7M "$part"
mkfs.ext4 -q -F -L tiny-root -U 6f1a3c8e-2b7d-4e59-9a10-3c5d7e9f1b24 \
    -E hash_seed=0b4a1f2e-3c5d-4e6f-8a9b-1c2d3e4f5a6b,lazy_itable_init=0,lazy_journal_init=0 \
    -d "$root" "$part"
dd if="$part" of="$raw" bs=1M seek=1 conv=notrunc status=none

qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized,adapter_type=lsilogic "$raw" tiny.vmdk
echo "wrote $(pwd)/tiny.vmdk ($(stat -c %s tiny.vmdk) bytes)"
