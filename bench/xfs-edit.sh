#!/usr/bin/env bash
# Benchmark: jv2v's XFS editor against the ways other tools edit an offline XFS image, doing the
# same edits on copies of the same mkfs.xfs image (v5 defaults), side by side:
#   1. replace a big file (an initramfs)
#   2. create many small files in one directory (a node directory by the end)
# References: guestfish (libguestfs's appliance, as virt-v2v edits guests; TCG here) and, as root,
# the host kernel through a loop mount (mount, cp, umount). Every result must pass xfs_repair -n
# and read back the new content. Prints wall-clock times (JVM start included) and the ratios.
# Usage: bench/xfs-edit.sh [INITRD_MB] [FILES]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
initrd_mb=${1:-60}
files=${2:-2000}
JAVA_HOME=$("$here/bin/find-jdk")
export JAVA_HOME LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
(cd "$here" && mvn -B -q -o test-compile >/dev/null)
cp="$here/target/classes:$here/target/test-classes"
work=$(mktemp -d)
trap 'umount "$work/mnt" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "building an XFS image with a ${initrd_mb} MiB initramfs and a directory of 1000 files"
mkdir -p "$work/tree/boot" "$work/tree/etc/many" "$work/mnt"
head -c "$((initrd_mb << 20))" /dev/urandom > "$work/tree/boot/initrd.img"
for i in $(seq 0 999); do echo "$i" > "$work/tree/etc/many/existing-$i"; done
truncate -s "$((initrd_mb * 4 + 300))M" "$work/fs.img"
{ echo "proto"; echo "0 0"; echo "d--755 0 0"; echo "boot d--755 0 0"; \
  echo "initrd.img ---644 0 0 $work/tree/boot/initrd.img"; echo '$'; echo "etc d--755 0 0"; echo "many d--755 0 0"; \
  for i in $(seq 0 999); do echo "existing-$i ---644 0 0 $work/tree/etc/many/existing-$i"; done; \
  echo '$'; echo '$'; echo '$'; } > "$work/proto"
mkfs.xfs -q -f -p "$work/proto" "$work/fs.img"
head -c "$(((initrd_mb + 2) << 20))" /dev/urandom > "$work/new-initrd"
echo "small file" > "$work/small"

now() { date +%s.%N; }
run() { local s; s=$(now); "$@" >/dev/null 2>&1; awk -v a="$(now)" -v b="$s" 'BEGIN { print a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
check() {
    if xfs_repair -n "$1" 2>&1 | grep -vE '^(Phase [0-9] - .*|\s+- .*|No modify flag set, .*|Cannot get host filesystem geometry\.|Repair may fail if there is a sector size mismatch between|the image and the host filesystem\.)$' | grep -q .; then
        echo "xfs_repair -n finds problems in $1" >&2; exit 1
    fi
}
readback() { # image path expected: guestfish (the kernel in its appliance) reads the file back
    rm -f "$work/back"
    guestfish --ro -a "$1" -m /dev/sda download "$2" "$work/back" >/dev/null 2>&1
    cmp -s "$work/back" "$3" || { echo "$1: $2 does not read back" >&2; exit 1; }
}

mkdir -p "$work/classes"
"$JAVA_HOME/bin/javac" -d "$work/classes" -cp "$cp" "$here/bench/FsEditBench.java"
cp="$cp:$work/classes"
root=no; [ "$(id -u)" = 0 ] && grep -q xfs /proc/filesystems && root=yes

report() { # what jv2v guestfish kernel
    if [ "$root" = yes ]; then
        printf '%s: guestfish %.2f s, kernel loop mount %.2f s, jv2v %.2f s: jv2v is %sx faster than guestfish, %sx the kernel'"'"'s time\n' \
            "$1" "$3" "$4" "$2" "$(ratio "$3" "$2")" "$(ratio "$2" "$4")"
    else
        printf '%s: guestfish %.2f s, jv2v %.2f s: jv2v is %sx faster\n' "$1" "$3" "$2" "$(ratio "$3" "$2")"
    fi
}

cp "$work/fs.img" "$work/gf.img"; cp "$work/fs.img" "$work/jv.img"; cp "$work/fs.img" "$work/k.img"; sync
t_gf=$(run guestfish -a "$work/gf.img" -m /dev/sda upload "$work/new-initrd" /boot/initrd.img)
t_jv=$(run "$JAVA_HOME/bin/java" -cp "$cp" FsEditBench rewrite "$work/jv.img" /boot/initrd.img "$work/new-initrd")
t_k=0
if [ "$root" = yes ]; then
    t_k=$(run sh -c "mount -o loop,nouuid '$work/k.img' '$work/mnt' && cp '$work/new-initrd' '$work/mnt/boot/initrd.img' && umount '$work/mnt'")
    check "$work/k.img"
fi
check "$work/gf.img"; check "$work/jv.img"; readback "$work/jv.img" /boot/initrd.img "$work/new-initrd"
report "replace a $((initrd_mb + 2)) MiB file" "$t_jv" "$t_gf" "$t_k"

cp "$work/fs.img" "$work/gf.img"; cp "$work/fs.img" "$work/jv.img"; cp "$work/fs.img" "$work/k.img"; sync
for i in $(seq 0 $((files - 1))); do echo "upload $work/small /etc/many/f$i"; done > "$work/create.gf"
t_gf=$(run guestfish -a "$work/gf.img" -m /dev/sda -f "$work/create.gf")
t_jv=$(run "$JAVA_HOME/bin/java" -cp "$cp" FsEditBench create "$work/jv.img" /etc/many "$work/small" "$files")
if [ "$root" = yes ]; then
    t_k=$(run sh -c "mount -o loop,nouuid '$work/k.img' '$work/mnt' && for i in \$(seq 0 $((files - 1))); do cp '$work/small' '$work/mnt/etc/many/f'\$i; done && umount '$work/mnt'")
    check "$work/k.img"
fi
check "$work/gf.img"; check "$work/jv.img"; readback "$work/jv.img" "/etc/many/f$((files - 1))" "$work/small"
report "create $files files in a directory" "$t_jv" "$t_gf" "$t_k"
