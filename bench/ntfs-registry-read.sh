#!/usr/bin/env bash
# Reads the same NTFS volume and registry hive with jv2v and with the reference tools, alternating
# runs, and prints each side's median wall time and the ratio.
#   FILES=40 FILE_MIB=4 SMALL=500 KEYS=20000 RUNS=5 bench/ntfs-registry-read.sh
# NTFS: jv2v (org.jv2v.bench.NtfsReadBench: walk the tree, read and hash every file) against
# ntfs-3g's tools without FUSE (ntfsls -R for the tree, one ntfscat per file, sha256sum).
# Registry: jv2v reading every key and value against hivexregedit --export of the whole hive.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
FILES=${FILES:-40}
FILE_MIB=${FILE_MIB:-4}
SMALL=${SMALL:-500}
KEYS=${KEYS:-20000}
RUNS=${RUNS:-5}
JAVA_HOME=$("$here/bin/find-jdk")
(cd "$here" && JAVA_HOME=$JAVA_HOME mvn -B -q -o test-compile)
cp="$here/target/classes:$here/target/test-classes"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# --- NTFS volume: big files and many small ones, written by ntfscp ---
img="$work/ntfs.img"
truncate -s $((FILES * FILE_MIB + SMALL / 64 + 64))M "$img"
mkntfs -F -Q -q "$img" 2>/dev/null
for ((i = 0; i < FILES; i++)); do
  head -c $((FILE_MIB << 20)) /dev/urandom >"$work/src"
  ntfscp -q "$img" "$work/src" "/big$i.bin"
done
for ((i = 0; i < SMALL; i++)); do
  printf 'small file %d\n' "$i" >"$work/src"
  ntfscp -q "$img" "$work/src" "/small$i.txt"
done
reference_ntfs() {
  ntfsls -R "$img" >/dev/null
  ntfsls "$img" | while read -r f; do ntfscat "$img" "/$f"; done | sha256sum >/dev/null
}
: >"$work/r.times"; : >"$work/j.times"
for ((r = 0; r < RUNS; r++)); do
  /usr/bin/time -f "%e" -o "$work/t" bash -c "$(declare -f reference_ntfs); img=$img; reference_ntfs"
  cat "$work/t" >>"$work/r.times"
  /usr/bin/time -f "%e" -o "$work/t" "$JAVA_HOME/bin/java" -Xmx256m -cp "$cp" org.jv2v.bench.NtfsReadBench ntfs "$img" >"$work/j.out"
  cat "$work/t" >>"$work/j.times"
done
r=$(median <"$work/r.times"); j=$(median <"$work/j.times")
printf 'ntfs  %s files (%s x %s MiB + %s small), %s runs: ntfsls+ntfscat %ss, jv2v %ss: ratio reference/jv2v %s (jv2v read: %s)\n' \
  "$((FILES + SMALL))" "$FILES" "$FILE_MIB" "$SMALL" "$RUNS" "$r" "$j" "$(ratio "$r" "$j")" "$(cut -d' ' -f1,2 "$work/j.out")"

# --- registry hive: KEYS keys with three values each, merged by hivexregedit into a minimal hive ---
hive="$work/bench.hive"
(cd "$here" && "$JAVA_HOME/bin/java" -cp "$cp" org.jv2v.registry.EmptyHiveTool "$hive")
{
  # 100 keys per group: hivex rewrites a whole subkey list for every key it adds
  printf 'Windows Registry Editor Version 5.00\r\n\r\n[\\Bench]\r\n\r\n'
  for ((i = 0; i < KEYS; i++)); do
    ((i % 100 == 0)) && printf '[\\Bench\\group%04d]\r\n\r\n' "$((i / 100))"
    printf '[\\Bench\\group%04d\\key%06d]\r\n"n"=dword:%08x\r\n"s"=hex(1):41,00,42,00,00,00\r\n"b"=hex(3):01,02,03,04,05,06,07,08\r\n\r\n' "$((i / 100))" "$i" "$i"
  done
} >"$work/bench.reg"
hivexregedit --merge "$hive" "$work/bench.reg"
: >"$work/r.times"; : >"$work/j.times"
for ((r = 0; r < RUNS; r++)); do
  /usr/bin/time -f "%e" -o "$work/t" hivexregedit --export "$hive" '\' >/dev/null
  cat "$work/t" >>"$work/r.times"
  /usr/bin/time -f "%e" -o "$work/t" "$JAVA_HOME/bin/java" -Xmx256m -cp "$cp" org.jv2v.bench.NtfsReadBench hive "$hive" >"$work/j.out"
  cat "$work/t" >>"$work/j.times"
done
r=$(median <"$work/r.times"); j=$(median <"$work/j.times")
printf 'hive  %s keys, %s runs: hivexregedit --export %ss, jv2v %ss: ratio reference/jv2v %s (jv2v read: %s)\n' \
  "$KEYS" "$RUNS" "$r" "$j" "$(ratio "$r" "$j")" "$(cat "$work/j.out")"
