#!/usr/bin/env bash
# Reads the same dynamic VHD and VHDX images with jv2v's readers and with `qemu-img convert -O raw`,
# alternating runs, and prints each tool's median wall time, their ratio and peak memory.
#   SIZE=2G DATA_MIB=1024 RUNS=5 bench/vhd-vhdx-read.sh
# jv2v's side is org.jv2v.bench.ImageReadBench: it copies the DATA extents with two threads into a
# sparse raw file, skipping zero 4 KiB pages as qemu-img convert does; it measures the readers, not
# the copier.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
SIZE=${SIZE:-2G}
DATA_MIB=${DATA_MIB:-1024}
RUNS=${RUNS:-5}
JAVA_HOME=$("$here/bin/find-jdk")
(cd "$here" && JAVA_HOME=$JAVA_HOME mvn -B -q -o test-compile)
cp="$here/target/classes:$here/target/test-classes"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

for fmt in vpc vhdx; do
  img="$work/disk.$fmt"
  qemu-img create -q -f "$fmt" "$img" "$SIZE"
  # DATA_MIB MiB of data, one MiB in every two, so that half the disk stays sparse
  cmds=()
  for ((i = 0; i < DATA_MIB; i++)); do cmds+=(-c "write -P $((i % 250 + 1)) $((2 * i))M 1M"); done
  qemu-io -f "$fmt" "${cmds[@]}" "$img" >/dev/null
  : >"$work/q.times"; : >"$work/j.times"
  for ((r = 0; r < RUNS; r++)); do
    /usr/bin/time -f "%e %M" -o "$work/t" qemu-img convert -f "$fmt" -O raw "$img" "$work/q.raw"
    cat "$work/t" >>"$work/q.times"
    /usr/bin/time -f "%e %M" -o "$work/t" "$JAVA_HOME/bin/java" -Xmx256m -cp "$cp" \
      org.jv2v.bench.ImageReadBench "$img" "$work/j.raw"
    cat "$work/t" >>"$work/j.times"
  done
  cmp "$work/q.raw" "$work/j.raw" || { echo "$fmt: jv2v and qemu-img outputs differ" >&2; exit 1; }
  q=$(cut -d' ' -f1 "$work/q.times" | median)
  j=$(cut -d' ' -f1 "$work/j.times" | median)
  qm=$(cut -d' ' -f2 "$work/q.times" | sort -n | tail -1)
  jm=$(cut -d' ' -f2 "$work/j.times" | sort -n | tail -1)
  printf '%-5s %s virtual, %s MiB data, %s runs: qemu-img %ss (peak %s MiB), jv2v %ss (peak %s MiB): ratio jv2v/qemu-img %s\n' \
    "$fmt" "$SIZE" "$DATA_MIB" "$RUNS" "$q" "$((qm / 1024))" "$j" "$((jm / 1024))" \
    "$(awk -v a="$j" -v b="$q" 'BEGIN {printf "%.2f", a / b}')"
  rm -f "$img" "$work"/*.raw
done
