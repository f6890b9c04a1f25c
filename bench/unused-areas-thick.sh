#!/usr/bin/env bash
# "A thick 100 GiB disk holding 8 GiB of files copies about 8 GiB", at a scale this machine allows:
# a thick (monolithicFlat) VMDK of SIZE_GIB whose every byte holds old non-zero data (as a disk
# that was written over for years), with an MBR partition and an ext4 filesystem (made with
# nodiscard, so the old data stays under the free blocks) holding DATA_MIB of files. Then
#   jv2v -i disk thick.vmdk -o local      (inspection maps the unused areas, the copier skips them)
#   qemu-img convert -O raw thick.vmdk    (what a copy without the map costs: every byte)
# Prints the bytes jv2v read and wrote against the disk's size, both wall times and their ratio,
# and checks the copy: e2fsck -fn clean, every file identical (debugfs rdump, not jv2v).
#   bench/unused-areas-thick.sh [SIZE_GIB [DATA_MIB]]      (default 4 GiB holding 320 MiB, 8%)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
size_gib=${1:-4}
data_mib=${2:-320}
for t in qemu-img sfdisk mkfs.ext4 e2fsck debugfs; do
  command -v "$t" >/dev/null || { echo "$t is not installed" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/var/tmp}/jv2v-thick.XXXXXX"); trap 'rm -rf "$work"' EXIT
src="$work/src"; mkdir -p "$src" "$work/out" "$work/tree/data"
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"

qemu-img create -q -f vmdk -o subformat=monolithicFlat "$src/thick.vmdk" "${size_gib}G"
flat="$src/thick-flat.vmdk"
# old data everywhere: a repeated non-zero line, so no block of the disk reads as zeros
# (yes ends by SIGPIPE, which pipefail would take for a failure)
{ yes "old data of a long-used thick disk, never discarded" || true; } | head -c "$((size_gib << 30))" | \
  dd of="$flat" conv=notrunc bs=4M status=none iflag=fullblock
printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$flat"
for i in $(seq 0 $((data_mib / 16 - 1))); do
  head -c $((16 << 20)) /dev/urandom >"$work/tree/data/file$i"
done
mkfs.ext4 -q -F -E offset=1048576,nodiscard -d "$work/tree" "$flat" "$(( (size_gib << 20) - 1024 ))k"
echo "source: $(( size_gib )) GiB thick VMDK, $(du -sm "$work/tree" | cut -f1) MiB of files in ext4 (every other byte old data)"

"$here/bin/jv2v" --version >/dev/null   # build once, outside the timing
# a snapshot of the launcher and the built jar: edits to the sources during the run cannot start a
# rebuild inside a timed command
mkdir -p "$work/jv2v/target"; cp -r "$here/bin" "$work/jv2v/"; cp -r "$here/target/jv2v.jar" "$here/target/lib" "$work/jv2v/target/"
jv2v="$work/jv2v/bin/jv2v"
"$jv2v" --version >/dev/null   # its own AOT cache (one is tied to its jar's path), made outside the timing
s=$(date +%s.%N)
"$jv2v" -i disk "$src/thick.vmdk" -o local -os "$work/out" >"$work/jv2v.log"
e=$(date +%s.%N)
tj=$(echo "$e - $s" | bc)
report=$(grep -E 'MiB read, .* MiB written of' "$work/jv2v.log" | head -1)
echo "jv2v:      ${report# *}"
printf 'jv2v:      %.1f s for the whole conversion (inspection, map, copy)\n' "$tj"

s=$(date +%s.%N)
qemu-img convert -f vmdk -O raw "$src/thick.vmdk" "$work/qemu.raw"
e=$(date +%s.%N)
tq=$(echo "$e - $s" | bc)
printf 'qemu-img:  %.1f s to convert every byte (%s MiB allocated in its copy)\n' "$tq" "$(du -m "$work/qemu.raw" | cut -f1)"
rm -f "$work/qemu.raw"

read_mib=$(echo "$report" | sed -E 's/^ *([0-9.]+) MiB read.*/\1/')
printf 'read / disk size: %.3f (%.1f of %d MiB); files / disk size: %.3f\n' \
  "$(echo "$read_mib / ($size_gib * 1024)" | bc -l)" "$read_mib" "$((size_gib << 10))" \
  "$(echo "$data_mib / ($size_gib * 1024)" | bc -l)"
printf 'time: qemu-img / jv2v = %.1fx; jv2v copy allocated %s MiB on disk\n' "$(echo "$tq / $tj" | bc -l)" \
  "$(du -m "$work/out/thick-sda" | cut -f1)"

# the copy is whole: checker clean and every file identical
part="$work/part.img"
dd if="$work/out/thick-sda" of="$part" bs=1M skip=1 status=none
e2fsck -fn "$part" >"$work/fsck.log" 2>&1 || { cat "$work/fsck.log"; echo "e2fsck -fn: NOT clean" >&2; exit 1; }
mkdir "$work/rdump"
debugfs -R "rdump /data $work/rdump" "$part" >/dev/null 2>&1
diff -r "$work/tree/data" "$work/rdump/data" && echo "copy checked: e2fsck -fn clean, all $(ls "$work/tree/data" | wc -l) files identical"
