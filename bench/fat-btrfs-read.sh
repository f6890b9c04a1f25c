#!/usr/bin/env bash
# Reads every file of a FAT32 and of a btrfs image with jv2v and with the reference readers
# (mtools `mcopy -s`, `btrfs restore`), alternating runs, and prints each side's median wall time
# and the ratio. The images hold the same host tree (FILES files of up to MAX_KIB KiB, plus one
# directory of 2000 small files), made by mkfs.fat + mcopy and mkfs.btrfs --rootdir.
# jv2v checksums what it reads (CRC-32C; JVM start included); the reference tools write into a tmpfs folder.
#   FILES=400 MAX_KIB=2048 RUNS=3 bench/fat-btrfs-read.sh
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
FILES=${FILES:-400}
MAX_KIB=${MAX_KIB:-2048}
RUNS=${RUNS:-3}
JAVA_HOME=$("$here/bin/find-jdk")
(cd "$here" && JAVA_HOME=$JAVA_HOME mvn -B -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp >/dev/null)
cp="$here/target/classes:$here/target/test-classes:$(cat "$here/target/bench.cp")"
work=$(mktemp -d)
shm=$(mktemp -d -p /dev/shm)
trap 'rm -rf "$work" "$shm"' EXIT
export MTOOLS_SKIP_CHECK=1 TZ=UTC
src="$work/src"; mkdir -p "$src/many"
for i in $(seq "$FILES"); do head -c $(( (RANDOM * 32768 + RANDOM) % (MAX_KIB * 1024) )) /dev/urandom > "$src/f$i.bin"; done
for i in $(seq 2000); do echo "$i" > "$src/many/entry-$i.txt"; done
kib=$(( $(du -sk "$src" | cut -f1) * 3 / 2 + 65536 ))
mkfs.fat -F 32 -C "$work/fat.img" "$kib" >/dev/null
mcopy -s -m -i "$work/fat.img" "$src"/* ::/
truncate -s "$((kib * 1024))" "$work/btrfs.img"
mkfs.btrfs -q --rootdir "$src" "$work/btrfs.img" >/dev/null 2>&1
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bench() { # name image reference-command...
  local name=$1 img=$2; shift 2
  local tj=() tr=()
  for r in $(seq "$RUNS"); do
    s=$(now); "$JAVA_HOME/bin/java" -cp "$cp" org.jv2v.bench.FsTreeReadBench "$img" >"$work/j.txt"; e=$(now)
    tj+=("$(echo "$e - $s" | bc)")
    rm -rf "$shm/out"; mkdir "$shm/out"
    s=$(now); "$@" >/dev/null 2>&1; e=$(now)
    tr+=("$(echo "$e - $s" | bc)")
  done
  cat "$work/j.txt"
  mj=$(printf '%s\n' "${tj[@]}" | median); mr=$(printf '%s\n' "${tr[@]}" | median)
  printf '%-6s jv2v %6.3f s, reference %6.3f s, ratio reference/jv2v %.2f\n' "$name" "$mj" "$mr" \
    "$(echo "$mr / $mj" | bc -l)"
}
bench fat32 "$work/fat.img" mcopy -s -n -i "$work/fat.img" '::/*' "$shm/out"
bench btrfs "$work/btrfs.img" btrfs restore "$work/btrfs.img" "$shm/out"
