#!/usr/bin/env bash
# Speed of jv2v's qcow2 reader against `qemu-img convert -O raw`, on images qemu-img made from the
# same raw file (2 GiB virtual, 1 GiB of data): plain, zlib-compressed and zstd-compressed. jv2v's
# side is org.jv2v.bench.ImageReadBench (copies the DATA extents with THREADS threads into a sparse
# raw file, skipping zero 4 KiB pages as qemu-img does). Runs alternate, each after a sync.
#   bench/qcow2-read.sh [runs]       THREADS=2 WORK=/tmp/dir ...
. "$(dirname "$(readlink -f "$0")")/qcow2-common.sh"
make_source
runs=${1:-5}
threads=${THREADS:-2}
for kind in plain zlib zstd; do
  img="$work/$kind.qcow2"
  case $kind in
    plain) qemu-img convert -f raw -O qcow2 "$src" "$img" ;;
    *) qemu-img convert -c -f raw -O qcow2 -o compression_type=$kind "$src" "$img" ;;
  esac
  jv=(); qm=(); jcpu=(); qcpu=(); jmem=()
  for i in $(seq "$runs"); do
    rm -f "$work/q.raw" "$work/j.raw"
    read -r t m u < <(measure qemu-img convert -f qcow2 -O raw "$img" "$work/q.raw")
    qm+=("$t"); qcpu+=("$u")
    read -r t2 m2 u2 < <(measure "$JAVA_HOME/bin/java" "${java_opts[@]}" -cp "$cp" org.jv2v.bench.ImageReadBench \
        "$img" "$work/j.raw" "$threads")
    jv+=("$t2"); jcpu+=("$u2"); jmem+=("$m2")
  done
  cmp "$work/q.raw" "$work/j.raw" || { echo "$kind: jv2v and qemu-img outputs differ" >&2; exit 1; }
  mq=$(median "${qm[@]}"); mj=$(median "${jv[@]}"); mqc=$(median "${qcpu[@]}"); mjc=$(median "${jcpu[@]}")
  printf '%-5s %s runs: wall qemu-img %ss, jv2v %ss (ratio %s); cpu qemu-img %ss, jv2v %ss (ratio %s); jv2v peak %s MiB\n' \
    "$kind" "$runs" "$mq" "$mj" "$(ratio "$mj" "$mq")" "$mqc" "$mjc" "$(ratio "$mjc" "$mqc")" \
    "$(( $(median "${jmem[@]}") / 1024 ))"
  rm -f "$img" "$work/q.raw" "$work/j.raw"
done
