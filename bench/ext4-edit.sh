#!/usr/bin/env bash
# Benchmark: jv2v's ext4 editor against debugfs -w (e2fsprogs' offline editor) doing the same
# edits on copies of the same image, side by side:
#   1. replace a big file (an initramfs): jv2v rewrite vs debugfs "rm" + "write"
#   2. create many small files in one indexed directory: jv2v create vs one debugfs "write" each
# Both results must pass e2fsck -fn. Prints wall-clock times (JVM start included) and the ratios.
# Usage: bench/ext4-edit.sh [INITRD_MB] [FILES]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
initrd_mb=${1:-64}
files=${2:-3000}
JAVA_HOME=$("$here/bin/find-jdk")
export JAVA_HOME
(cd "$here" && mvn -B -q -o test-compile >/dev/null)
cp="$here/target/classes:$here/target/test-classes"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building an ext4 image with a ${initrd_mb} MiB initramfs and a directory of 2000 files"
mkdir -p "$work/tree/boot" "$work/tree/etc/many"
head -c "$((initrd_mb << 20))" /dev/urandom > "$work/tree/boot/initrd.img"
for i in $(seq 0 1999); do echo "$i" > "$work/tree/etc/many/existing-$i"; done
mkfs.ext4 -q -F -d "$work/tree" "$work/fs.img" "$((initrd_mb * 3 + 64))M"
e2fsck -fyD "$work/fs.img" >/dev/null 2>&1 || true   # index the directory
head -c "$(((initrd_mb + 2) << 20))" /dev/urandom > "$work/new-initrd"
echo "small file" > "$work/small"

now() { date +%s.%N; }
run() { local s; s=$(now); "$@"; awk -v a="$(now)" -v b="$s" 'BEGIN { print a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
check() { e2fsck -fn "$1" >/dev/null 2>&1 || { echo "e2fsck -fn finds problems in $1" >&2; exit 1; }; }

mkdir -p "$work/classes"
"$JAVA_HOME/bin/javac" -d "$work/classes" -cp "$cp" "$here/bench/FsEditBench.java"
cp="$cp:$work/classes"

cp "$work/fs.img" "$work/ref.img"; cp "$work/fs.img" "$work/jv.img"
sync
t_ref=$(run sh -c "debugfs -w -f - '$work/ref.img' >/dev/null 2>&1 <<CMDS
rm /boot/initrd.img
write $work/new-initrd /boot/initrd.img
CMDS")
t_jv=$(run "$JAVA_HOME/bin/java" -cp "$cp" FsEditBench rewrite "$work/jv.img" /boot/initrd.img "$work/new-initrd")
check "$work/ref.img"; check "$work/jv.img"
cmp <(debugfs -R "cat /boot/initrd.img" "$work/jv.img" 2>/dev/null) "$work/new-initrd"
printf 'replace a %d MiB file: debugfs -w %.2f s, jv2v %.2f s: jv2v is %sx faster\n' "$((initrd_mb + 2))" \
    "$t_ref" "$t_jv" "$(ratio "$t_ref" "$t_jv")"

cp "$work/fs.img" "$work/ref.img"; cp "$work/fs.img" "$work/jv.img"
for i in $(seq 0 $((files - 1))); do echo "write $work/small /etc/many/f$i"; done > "$work/create.cmds"
t_ref=$(run sh -c "debugfs -w -f '$work/create.cmds' '$work/ref.img' >/dev/null 2>&1")
t_jv=$(run "$JAVA_HOME/bin/java" -cp "$cp" FsEditBench create "$work/jv.img" /etc/many "$work/small" "$files")
check "$work/ref.img"; check "$work/jv.img"
printf 'create %d files in an indexed directory: debugfs -w %.2f s, jv2v %.2f s: jv2v is %sx faster\n' "$files" \
    "$t_ref" "$t_jv" "$(ratio "$t_ref" "$t_jv")"
