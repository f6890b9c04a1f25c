#!/usr/bin/env bash
# Throughput of jv2v's qcow2 writer against `qemu-img convert -f raw -O qcow2`, both copying the
# same raw file (2 GiB virtual, 1 GiB of data). jv2v's side is org.jv2v.bench.Qcow2WriteBench: it
# reads the file's data ranges (lseek SEEK_DATA, as qemu-img) with THREADS threads and writes them
# through the writer, whose close() makes the image durable (fsync). Runs alternate, each after a
# sync; prints every run, the medians of wall and cpu time and their ratios, and peak memory.
#
#   bench/qcow2-write.sh [runs]
#   QEMU_CACHE=writeback ...  qemu-img fsyncs too (its convert default, unsafe, does not)
#   COMPRESS=1 ...            compressed images (-c for both)
#   THREADS=4 WORK=/tmp/dir ...
#   BASELINE=0 ...            skip the third side: the same reads and writes to a plain file from Java
# On a busy machine wall times swing widely from run to run; cpu time is the steadier comparison.
. "$(dirname "$(readlink -f "$0")")/qcow2-common.sh"
make_source
runs=${1:-5}
c=(); jc=()
if [ "${COMPRESS:-0}" = 1 ]; then c=(-c); jc=(-c); fi
qemu_t=(); [ -n "${QEMU_CACHE:-}" ] && qemu_t=(-t "$QEMU_CACHE")
threads=${THREADS:-4}

jv=(); qm=(); jmem=(); qmem=(); jcpu=(); qcpu=(); bl=(); blcpu=()
for i in $(seq "$runs"); do
  rm -f "$work/q.qcow2" "$work/j.qcow2"
  read -r t m u < <(measure qemu-img convert "${c[@]}" "${qemu_t[@]}" -f raw -O qcow2 "$src" "$work/q.qcow2")
  qm+=("$t"); qmem+=("$m"); qcpu+=("$u")
  read -r t2 m2 u2 < <(measure "$JAVA_HOME/bin/java" "${java_opts[@]}" -cp "$cp" org.jv2v.bench.Qcow2WriteBench \
      "$src" "$work/j.qcow2" "$threads" 2 "${jc[@]}")
  jv+=("$t2"); jmem+=("$m2"); jcpu+=("$u2")
  line="run $i: qemu-img ${t}s (cpu ${u}s, ${m} KiB peak)   jv2v ${t2}s (cpu ${u2}s, ${m2} KiB peak)"
  if [ "${BASELINE:-1}" = 1 ] && [ ${#jc[@]} -eq 0 ]; then
    read -r t3 m3 u3 < <(measure "$JAVA_HOME/bin/java" "${java_opts[@]}" -cp "$cp" org.jv2v.bench.Qcow2WriteBench \
        "$src" "$work/plain.raw" "$threads" 2 --raw)
    bl+=("$t3"); blcpu+=("$u3"); rm -f "$work/plain.raw"
    line="$line   same I/O to a plain file from Java ${t3}s (cpu ${u3}s)"
  fi
  echo "$line"
done
qemu-img check "$work/j.qcow2" | head -1
qemu-img compare -q "$work/q.qcow2" "$work/j.qcow2" && echo "images identical"
echo "sizes: qemu-img $(stat -c %s "$work/q.qcow2") bytes, jv2v $(stat -c %s "$work/j.qcow2") bytes"
mq=$(median "${qm[@]}"); mj=$(median "${jv[@]}"); mqc=$(median "${qcpu[@]}"); mjc=$(median "${jcpu[@]}")
echo "median wall: qemu-img ${mq}s, jv2v ${mj}s, ratio jv2v/qemu-img $(ratio "$mj" "$mq")"
echo "median cpu (user+sys): qemu-img ${mqc}s, jv2v ${mjc}s, ratio $(ratio "$mjc" "$mqc")"
echo "peak RSS median: qemu-img $(median "${qmem[@]}") KiB, jv2v $(median "${jmem[@]}") KiB"
if [ ${#bl[@]} -gt 0 ]; then
  echo "baseline (plain file, same JVM and I/O): median wall $(median "${bl[@]}")s, cpu $(median "${blcpu[@]}")s:" \
    "the qcow2 layer's share is jv2v minus this"
fi
rm -f "$work/q.qcow2" "$work/j.qcow2"
