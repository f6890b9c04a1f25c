#!/usr/bin/env bash
# Reads VMDKs with jv2v and with qemu-img side by side, alternating runs, and prints the ratio of
# the medians (jv2v time / qemu-img time; below 1 means jv2v is faster), the CPU seconds each used
# (user + sys: what a busy machine cannot hide) and jv2v's peak memory.
#
#   bench/vmdk-bench.sh [WORKDIR]      RUNS=5 SIZE_MIB=2048 DATA_MIB=1024 THREADS=<cores>
#
# The source is a SIZE_MIB disk holding DATA_MIB of data (half random, half text-like, in 64 MiB
# runs spread over the disk), converted by qemu-img to streamOptimized and to monolithicSparse.
# Each is converted to raw by `qemu-img convert -O raw` and by jv2v (VmdkConvertBench: block status,
# parallel reads, sparse raw output); the outputs are compared with cmp. Last, the block status of
# a whole 2 TiB sparse disk: `qemu-img map` against jv2v (VmdkStatusBench).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
JAVA_HOME=$("$here/bin/find-jdk"); export JAVA_HOME
work=${1:-$(mktemp -d /tmp/jv2v-vmdk-bench.XXXXXX)}
runs=${RUNS:-5}; size=${SIZE_MIB:-2048}; data=${DATA_MIB:-1024}; threads=${THREADS:-$(nproc)}
mkdir -p "$work"
cd "$here"
mvn -B -q -o test-compile >/dev/null
cp_file="$work/classpath"
[ -s "$cp_file" ] || mvn -B -q -o dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
cp="$here/target/classes:$here/target/test-classes:$(cat "$cp_file")"

if [ ! -s "$work/stream.vmdk" ]; then
  echo "making a ${size} MiB disk with ${data} MiB of data in $work ..."
  qemu-img create -q -f raw "$work/src.raw" "${size}M"
  runs64=$((data / 64)); step=$((size / runs64))
  for ((i = 0; i < runs64; i++)); do
    if ((i % 2 == 0)); then
      head -c 64M /dev/urandom >"$work/chunk"
    else
      head -c 48M /dev/urandom | base64 -w 100 >"$work/chunk"    # text-like: compresses to ~75%
      truncate -s 64M "$work/chunk"
    fi
    dd if="$work/chunk" of="$work/src.raw" bs=1M seek=$((i * step)) conv=notrunc status=none
  done
  qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$work/src.raw" "$work/stream.vmdk"
  qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse "$work/src.raw" "$work/sparse.vmdk"
  rm -f "$work/src.raw" "$work/chunk"
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for img in stream sparse; do
  : >"$work/$img.q.times"; : >"$work/$img.j.times"; : >"$work/$img.j.mem"; : >"$work/$img.q.cpu"; : >"$work/$img.j.cpu"
  for ((r = 1; r <= runs; r++)); do
    rm -f "$work/q.raw" "$work/j.raw"; sync
    /usr/bin/time -f "%e %M %U %S" -o "$work/t" qemu-img convert -f vmdk -O raw "$work/$img.vmdk" "$work/q.raw"
    cut -d' ' -f1 "$work/t" >>"$work/$img.q.times"; awk '{print $3 + $4}' "$work/t" >>"$work/$img.q.cpu"
    rm -f "$work/j.raw"; sync
    /usr/bin/time -f "%e %M %U %S" -o "$work/t" "$JAVA_HOME/bin/java" -Xmx256m -cp "$cp" \
      org.jv2v.image.vmdk.VmdkConvertBench "$work/$img.vmdk" "$work/j.raw" "$threads"
    cut -d' ' -f1 "$work/t" >>"$work/$img.j.times"; cut -d' ' -f2 "$work/t" >>"$work/$img.j.mem"
    awk '{print $3 + $4}' "$work/t" >>"$work/$img.j.cpu"
  done
  cmp "$work/q.raw" "$work/j.raw" || { echo "$img: OUTPUTS DIFFER"; exit 1; }
  # the reader alone: no output written (qemu-img to its null-co driver, jv2v discarding)
  : >"$work/$img.qn.times"; : >"$work/$img.jn.times"
  for ((r = 1; r <= runs; r++)); do
    /usr/bin/time -f "%e" -o "$work/t" qemu-img convert -n -f vmdk "$work/$img.vmdk" \
      --target-image-opts "driver=null-co,size=$((size * 1048576))"
    cat "$work/t" >>"$work/$img.qn.times"
    /usr/bin/time -f "%e" -o "$work/t" "$JAVA_HOME/bin/java" -Xmx256m -cp "$cp" \
      org.jv2v.image.vmdk.VmdkConvertBench "$work/$img.vmdk" null "$threads"
    cat "$work/t" >>"$work/$img.jn.times"
  done
  qn=$(median <"$work/$img.qn.times"); jn=$(median <"$work/$img.jn.times")
  q=$(median <"$work/$img.q.times"); j=$(median <"$work/$img.j.times"); mem=$(sort -n "$work/$img.j.mem" | tail -1)
  qc=$(median <"$work/$img.q.cpu"); jc=$(median <"$work/$img.j.cpu")
  printf '%-7s -> raw: qemu-img %6.2f s, jv2v %6.2f s, ratio %.2f (median of %d); CPU qemu-img %.2f s, jv2v %.2f s; jv2v peak RSS %d MiB\n' \
    "$img" "$q" "$j" "$(echo "$j / $q" | bc -l)" "$runs" "$qc" "$jc" $((mem / 1024))
  printf '%-7s -> nothing (reader only): qemu-img %6.2f s, jv2v %6.2f s, ratio %.2f\n' "$img" "$qn" "$jn" \
    "$(echo "$jn / $qn" | bc -l)"
  echo "  (load average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores: other work skews elapsed times)"
done
rm -f "$work/q.raw" "$work/j.raw"

# Block status of a whole 2 TiB monolithicSparse disk holding 1 MiB (qemu-img map vs jv2v).
if [ ! -s "$work/huge.vmdk" ]; then
  qemu-img create -q -f vmdk "$work/huge.vmdk" 2T
  qemu-io -f vmdk -c 'write -P 1 1T 1M' "$work/huge.vmdk" >/dev/null
fi
/usr/bin/time -f "%e" -o "$work/t" qemu-img map --output=json "$work/huge.vmdk" >/dev/null
q=$(cat "$work/t")
/usr/bin/time -f "%e %M" -o "$work/t" "$JAVA_HOME/bin/java" -Xmx256m -cp "$cp" \
  org.jv2v.image.vmdk.VmdkStatusBench "$work/huge.vmdk" >/dev/null
j=$(cut -d' ' -f1 "$work/t"); mem=$(cut -d' ' -f2 "$work/t")
printf 'block status of a 2 TiB sparse disk: qemu-img map %6.2f s, jv2v %6.2f s, ratio %.2f; jv2v peak RSS %d MiB\n' \
  "$q" "$j" "$(echo "$j / $q" | bc -l)" $((mem / 1024))
