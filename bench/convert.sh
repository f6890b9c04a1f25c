#!/usr/bin/env bash
# Benchmark: jv2v image convert against the reference tools, on the same ~2 GiB disk holding ~1 GiB
# of data (4 MiB pieces every 8 MiB, alternately random and base64 text, every fourth text piece
# with 1 MiB of written zeros; holes between), runs alternating, medians compared.
#
#   bench/convert.sh [raw-raw] [vmdk-qcow2] [stream-raw] [thin] [prealloc]     (default: all five)
#
# Cases and goals (issue 3):
#   raw-raw     jv2v -O raw        vs  cp --sparse=always   goal: ratio <= 1.1
#   vmdk-qcow2  monolithicSparse VMDK -> qcow2, vs qemu-img convert   goal: ratio <= 0.8
#   stream-raw  streamOptimized VMDK -> raw,    vs qemu-img convert   goal: ratio <= 0.8
#   prealloc    2 GiB qcow2 made with preallocation=metadata holding 256 MiB of data (every cluster
#               mapped, the file's holes under the rest) -> qcow2, vs qemu-img convert (no goal set;
#               both should skip the holes: qemu's block status asks the file, and so does jv2v's)
# and jv2v's peak RSS (from /usr/bin/time -v's "Maximum resident set size") < 256 MiB.
#
# Environment: RUNS (default 5), BENCH_DIR (scratch folder for the sources, default
# ${TMPDIR:-/var/tmp}/jv2v-bench; about 4 GiB of space), BENCH_OUT (where every tool writes its copy;
# default /dev/shm when it has 3 GiB free, so the disk's writeback, shared with whatever else runs,
# does not decide the race; BENCH_OUT=$BENCH_DIR to include the disk), BENCH_SYNC=1 to make every tool's copy durable (jv2v's default --flush;
# the references followed by `sync FILE`) instead of comparing page-cache copies (qemu-img's default
# cache=unsafe, cp's default), JV2V_OPTS (extra image convert options, e.g. "-m 2").
# The source stays in the page cache for every run of every tool (warm-up run first), so the
# comparison is of the copy engines, not of the disk.
#
# Measured (2 CPUs shared with six other sessions' builds, tests and QEMU boots: the load average
# was 18 to 31 throughout, so a process gets a small and varying share of a CPU and wall times
# swing 2-5x between runs; the CPU-time ratio is the steadier figure). Ratios are jv2v / reference:
#
#   2026-12-03 19:12 UTC, load 7.4-7.6, copies on tmpfs, 3 runs each (bench/convert.sh prealloc)
#     2 GiB metadata-preallocated qcow2, 256 MiB data -> qcow2 vs qemu-img   3.19         2.93       70 MiB
#       (jv2v's read-bytes: 256 MiB. The same case run just before with main at 57210be, whose qcow2
#       reader did not ask the file for holes: read-bytes 2 GiB, ratio 3.94, CPU ratio 4.29. Of
#       jv2v's 0.44 s of CPU about 0.25 s is the JVM start and image open (`image info` alone:
#       0.24-0.27 s); qemu-img convert takes 0.15 s in all. A plain qcow2 holding the same data
#       costs jv2v the same CPU as the preallocated one: the holes are no longer read.)
#   2026-12-03 17:01 UTC, quiet machine (load 1.6), copies on tmpfs, 7 runs each, after start-up
#   work (picocli compiled into the AOT cache, lazy native calls, launcher without forks)
#     raw -> raw vs cp --sparse=always                                   1.25         2.33       69 MiB
#       (jv2v 0.55 s: JVM start and image open ~0.13 s, the copy 0.42 s; cp 0.44 s. Both copies
#       are bound by the target's write lock: tmpfs and ext4 take the file's lock for each write,
#       perf shows jv2v's second worker spinning on it, and -m 1/2/3, --io-size 128K-1M and
#       --chunk-size 32M all land at 0.53-0.72 s. The 1.1 goal needs the JVM start under 0.05 s.)
#     raw -> raw vs qemu-img convert (for reference)                     1.22         1.72       69 MiB
#   2026-12-03 16:40 UTC, load 5.6-6.5, copies on tmpfs, 3 runs each (bench/convert.sh thin)
#     1 TiB thin qcow2 -> qcow2 vs qemu-img convert                      0.64         0.41       76 MiB
#     1 TiB thin monolithicSparse VMDK -> qcow2 vs qemu-img convert      0.11         0.11       98 MiB
#       (before this session's cache and heap changes: 1 TiB thin disks peaked at 216-467 MiB)
#   2026-12-03 14:30 UTC, quiet machine (load 0.4-1.3), copies on tmpfs, 5 runs each
#     raw -> raw vs cp --sparse=always                                   1.26         2.18       60 MiB
#       (rerun, 7 runs, load ~1: 1.06, CPU 1.87: the copy takes 0.5-0.7 s, JVM start is a large share)
#     raw -> raw vs qemu-img convert (for reference)                     1.35 / 1.33  1.89       60 MiB
#     monolithicSparse -> qcow2 vs qemu-img convert                      0.59         0.88       61 MiB
#     streamOptimized -> raw vs qemu-img convert                         0.64         1.06       70 MiB
#   2026-12-03 12:57 UTC, load 20-31, copies on tmpfs, 5 runs each     wall ratio   CPU ratio   jv2v RSS
#     raw -> raw vs cp --sparse=always                                   1.05         1.55       61 MiB
#     raw -> raw vs qemu-img convert (for reference)                     1.78         1.76       61 MiB
#     monolithicSparse -> qcow2 vs qemu-img convert                      2.59         1.19       62 MiB
#     streamOptimized -> raw vs qemu-img convert                         1.86         1.09       79 MiB
#   2026-12-03 12:22 UTC, load 11-25, copies on disk, before --no-flush stopped fsyncing the
#   qcow2 target on close (8.05 for sparse -> qcow2), 2 workers: raw -> raw 1.46 (CPU 2.21),
#   sparse -> qcow2 8.05 (CPU 1.78), stream -> raw 2.33 (CPU 1.86)
#   (the 12:57 run used 4 copy workers; three later alternating stream -> raw pairs, -m 2 against
#   -m 4, took 9.7/9.6/7.4 s against 10.3/11.9/8.8 s, so the default went back to 1 per CPU, 2-4)
#
# On the quiet machine both 0.8 goals are met (0.59 and 0.64); raw -> raw is not (1.06, 1.26 and,
# after the start-up work, a steady 1.25: seven runs within 0.49-0.56 s against cp's 0.42-0.46 s). Under the heavy load of the 12:57 run, only raw -> raw was met: jv2v's
# CPU time is close to qemu-img's for the VMDK cases (1.09-1.19x, of which ~0.3 s is the JVM
# starting), but under this load its wall time is 1.9-2.6x: the run is split over more threads
# (the copy workers, the parallel inflaters) that each wait for a turn on a CPU. An idle machine
# with more cores is needed to tell whether the parallel inflation reaches 0.8x; rerun there.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
jv2v="$here/bin/jv2v"
work=${BENCH_DIR:-${TMPDIR:-/var/tmp}/jv2v-bench}
runs=${RUNS:-5}
sync_mode=${BENCH_SYNC:-0}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(raw-raw vmdk-qcow2 stream-raw thin prealloc)
mkdir -p "$work"
out=${BENCH_OUT:-}
if [ -z "$out" ]; then
  out=$work
  if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -gt $((3 << 20)) ]; then
    out=/dev/shm/jv2v-bench-out
  fi
fi
mkdir -p "$out"
for t in qemu-img /usr/bin/time cp; do
  command -v "$t" >/dev/null || { echo "bench: $t is required" >&2; exit 1; }
done

# v2: the layout below; a changed layout gets a new name so a stale cached source is not reused
src_raw="$work/src-v2.raw"
make_source() {
  [ -f "$src_raw" ] && return
  rm -f "$work"/src.raw "$work"/src-*.vmdk
  echo "bench: making $src_raw (2 GiB, 1 GiB of data in 4 MiB pieces every 8 MiB) ..." >&2
  head -c $((64 << 20)) /dev/urandom >"$work/random.bin"
  (set +o pipefail; base64 -w 100 /dev/urandom | head -c $((64 << 20)) >"$work/text.bin")
  qemu-img create -q -f raw "$src_raw.tmp" 2G
  for i in $(seq 0 255); do
    # pieces alternate random (incompressible) and text (compresses ~4:1, like logs and binaries);
    # every fourth text piece has 1 MiB of written (allocated) zeros in its middle, as a disk has
    # freed blocks a filesystem zeroed; the other 4 MiB of each 8 MiB are holes
    piece=$work/random.bin; [ $((i % 2)) -eq 1 ] && piece=$work/text.bin
    dd if="$piece" of="$src_raw.tmp" bs=4M count=1 skip=$((i % 16)) seek=$((i * 2)) conv=notrunc,sparse \
      status=none
    if [ $((i % 4)) -eq 3 ]; then
      dd if=/dev/zero of="$src_raw.tmp" bs=1M count=1 seek=$((i * 8 + 1)) conv=notrunc status=none
    fi
  done
  rm -f "$work/random.bin" "$work/text.bin"
  mv "$src_raw.tmp" "$src_raw"
}
make_vmdk() {  # subformat file
  [ -f "$2" ] && return
  echo "bench: making $2 ($1) ..." >&2
  qemu-img convert -f raw -O vmdk -o subformat="$1" "$src_raw" "$2.tmp.vmdk"
  mv "$2.tmp.vmdk" "$2"
}

make_thin() {
  [ -f "$work/thin-1t.vmdk" ] && return
  echo "bench: making $work/thin-1t.qcow2 and .vmdk (1 TiB, 64 KiB of data every 512 MiB) ..." >&2
  qemu-img create -q -f qcow2 "$work/thin-1t.qcow2" 1T
  local cmds=() i
  for i in $(seq 0 2047); do cmds+=(-c "write -P $((i % 250 + 1)) $((i * 512))M 64k"); done
  qemu-io -f qcow2 "${cmds[@]}" "$work/thin-1t.qcow2" >/dev/null
  qemu-img convert -f qcow2 -O vmdk "$work/thin-1t.qcow2" "$work/thin-1t.tmp.vmdk"
  mv "$work/thin-1t.tmp.vmdk" "$work/thin-1t.vmdk"
}

make_prealloc() {
  [ -f "$work/prealloc-2g.qcow2" ] && return
  echo "bench: making $work/prealloc-2g.qcow2 (2 GiB, preallocation=metadata, 4 MiB of data every 32 MiB) ..." >&2
  head -c $((4 << 20)) /dev/urandom >"$work/random.bin"
  (set +o pipefail; base64 -w 100 /dev/urandom | head -c $((4 << 20)) >"$work/text.bin")
  qemu-img create -q -f qcow2 -o preallocation=metadata "$work/prealloc.tmp.qcow2" 2G
  local cmds=() i piece
  for i in $(seq 0 63); do
    piece=$work/random.bin; [ $((i % 2)) -eq 1 ] && piece=$work/text.bin
    cmds+=(-c "write -s $piece $((i * 32))M 4M")
  done
  qemu-io -f qcow2 "${cmds[@]}" "$work/prealloc.tmp.qcow2" >/dev/null
  rm -f "$work/random.bin" "$work/text.bin"
  mv "$work/prealloc.tmp.qcow2" "$work/prealloc-2g.qcow2"
}

# time_run OUT CMD... : runs CMD, prints "SECONDS MAXRSS_KB CPU_SECONDS"
time_run() {
  local out=$1; shift
  rm -f "$out" "$out.part" "$out.part.journal"
  if ! /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$@" >"$work/run.out" 2>"$work/run.err"; then
    echo "bench: failed: $*" >&2; cat "$work/run.err" >&2; return 1
  fi
  tail -1 "$work/time.txt" | awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}'
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# bench_case NAME GOAL JV2V_OUT REF_LABEL REF_OUT SRC_FORMAT -- JV2V_ARGS... -- REF_CMD...
bench_case() {
  local name=$1 goal=$2 jout=$3 rlabel=$4 rout=$5 sfmt=$6; shift 6
  [ "$1" = "--" ] && shift
  local jargs=() ref=()
  while [ "$1" != "--" ]; do jargs+=("$1"); shift; done
  shift
  ref=("$@")
  local flush=(--no-flush)
  [ "$sync_mode" = 1 ] && flush=()
  local jcmd=("$jv2v" image convert "${flush[@]}" ${JV2V_OPTS:-} "${jargs[@]}")
  if [ "$sync_mode" = 1 ]; then ref=(sh -c "$(printf '%q ' "${ref[@]}") && sync $(printf '%q' "$rout")"); fi

  # jv2v must read the source as the format it is, and write the target format
  local info
  info=$("$jv2v" image info --output=json "${jargs[-2]}" 2>&1 || true)
  if ! grep -q "\"format\" : \"$sfmt\"" <<<"$info"; then
    echo "$name: SKIPPED: this jv2v does not read $sfmt yet (image info says: $(grep -o '"format" : "[a-z0-9]*"' <<<"$info" || echo "$info"))"
    return
  fi
  # warm-up (page cache, AOT cache) and correctness: both outputs must equal the source
  if ! time_run "$jout" "${jcmd[@]}" >/dev/null; then
    echo "$name: SKIPPED: jv2v cannot do this conversion yet ($(head -1 "$work/run.err"))"
    return
  fi
  qemu-img compare -q "${jargs[-2]}" "$jout" || { echo "$name: FAILED: jv2v's output differs from the source"; return 1; }
  if [ "${jout##*.}" = qcow2 ]; then
    qemu-img check -q "$jout" || { echo "$name: FAILED: qemu-img check on jv2v's output"; return 1; }
  fi
  time_run "$rout" "${ref[@]}" >/dev/null
  qemu-img compare -q "${jargs[-2]}" "$rout"

  local jt=() rt=() jc=() rc=() rss=0 r f
  for i in $(seq 1 "$runs"); do
    read -r -a f <<<"$(time_run "$jout" "${jcmd[@]}")"; jt+=("${f[0]}"); jc+=("${f[2]}")
    [ "${f[1]}" -gt "$rss" ] && rss=${f[1]}
    read -r -a f <<<"$(time_run "$rout" "${ref[@]}")"; rt+=("${f[0]}"); rc+=("${f[2]}")
  done
  local jm rm_ jcm rcm
  jm=$(printf '%s\n' "${jt[@]}" | median)
  rm_=$(printf '%s\n' "${rt[@]}" | median)
  jcm=$(printf '%s\n' "${jc[@]}" | median)
  rcm=$(printf '%s\n' "${rc[@]}" | median)
  printf '%s: jv2v %.2f s, %s %.2f s (medians of %d, alternating%s): ratio %.2f (goal <= %s); jv2v peak RSS %d MiB (goal < 256)\n' \
    "$name" "$jm" "$rlabel" "$rm_" "$runs" "$([ "$sync_mode" = 1 ] && echo ', durable' || echo '')" \
    "$(awk -v a="$jm" -v b="$rm_" 'BEGIN {print a / b}')" "$goal" $((rss / 1024))
  echo "  load average after the case: $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '  CPU time (user+sys) medians: jv2v %.2f s, %s %.2f s: ratio %.2f\n' "$jcm" "$rlabel" "$rcm" \
    "$(awk -v a="$jcm" -v b="$rcm" 'BEGIN {print (b > 0 ? a / b : 0)}')"
  echo "  wall times: jv2v ${jt[*]} | $rlabel ${rt[*]}"
  rm -f "$jout" "$rout"
}

make_source
echo "bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), copies written to $out, jv2v $("$jv2v" --version 2>&1 | tail -1)"
for c in "${cases[@]}"; do
  case $c in
    raw-raw)
      bench_case "raw -> raw" 1.1 "$out/out-jv2v.raw" "cp --sparse=always" "$out/out-cp.raw" raw \
        -- -O raw "$src_raw" "$out/out-jv2v.raw" -- cp --sparse=always "$src_raw" "$out/out-cp.raw"
      bench_case "raw -> raw (vs qemu-img, for reference)" - "$out/out-jv2v.raw" "qemu-img convert" \
        "$out/out-qemu.raw" raw -- -O raw "$src_raw" "$out/out-jv2v.raw" \
        -- qemu-img convert -f raw -O raw "$src_raw" "$out/out-qemu.raw"
      ;;
    vmdk-qcow2)
      make_vmdk monolithicSparse "$work/src-v2-sparse.vmdk"
      bench_case "monolithicSparse VMDK -> qcow2" 0.8 "$out/out-jv2v.qcow2" "qemu-img convert" \
        "$out/out-qemu.qcow2" vmdk -- -O qcow2 "$work/src-v2-sparse.vmdk" "$out/out-jv2v.qcow2" \
        -- qemu-img convert -f vmdk -O qcow2 "$work/src-v2-sparse.vmdk" "$out/out-qemu.qcow2"
      ;;
    stream-raw)
      make_vmdk streamOptimized "$work/src-v2-stream.vmdk"
      bench_case "streamOptimized VMDK -> raw" 0.8 "$out/out-jv2v.raw" "qemu-img convert" \
        "$out/out-qemu.raw" vmdk -- -O raw "$work/src-v2-stream.vmdk" "$out/out-jv2v.raw" \
        -- qemu-img convert -f vmdk -O raw "$work/src-v2-stream.vmdk" "$out/out-qemu.raw"
      ;;
    thin)
      # memory whatever the disk size: 1 TiB thin disks with 64 KiB of data every 512 MiB (2048 L2
      # tables, 2048 grain-table reads), copied to qcow2; jv2v's peak RSS is what this case is for
      make_thin
      bench_case "1 TiB thin qcow2 -> qcow2" - "$out/out-jv2v.qcow2" "qemu-img convert" "$out/out-qemu.qcow2" \
        qcow2 -- -O qcow2 "$work/thin-1t.qcow2" "$out/out-jv2v.qcow2" \
        -- qemu-img convert -f qcow2 -O qcow2 "$work/thin-1t.qcow2" "$out/out-qemu.qcow2"
      bench_case "1 TiB thin monolithicSparse VMDK -> qcow2" - "$out/out-jv2v.qcow2" "qemu-img convert" \
        "$out/out-qemu.qcow2" vmdk -- -O qcow2 "$work/thin-1t.vmdk" "$out/out-jv2v.qcow2" \
        -- qemu-img convert -f vmdk -O qcow2 "$work/thin-1t.vmdk" "$out/out-qemu.qcow2"
      ;;
    prealloc)
      # a metadata-preallocated source: 2 GiB mapped, 256 MiB written; jv2v's read-bytes (image
      # convert's machine-readable result) shows whether the holes were read
      make_prealloc
      bench_case "2 GiB metadata-preallocated qcow2 -> qcow2" - "$out/out-jv2v.qcow2" "qemu-img convert" \
        "$out/out-qemu.qcow2" qcow2 -- -O qcow2 "$work/prealloc-2g.qcow2" "$out/out-jv2v.qcow2" \
        -- qemu-img convert -f qcow2 -O qcow2 "$work/prealloc-2g.qcow2" "$out/out-qemu.qcow2"
      rm -f "$out/out-jv2v.qcow2"
      "$jv2v" image convert --no-flush --machine-readable -O qcow2 "$work/prealloc-2g.qcow2" "$out/out-jv2v.qcow2" \
        | grep '"result"' | grep -o '"\(virtual-size\|read-bytes\|written-bytes\)" *: *[0-9]*' | tr -d '"' \
        | tr '\n' ' ' | sed 's/^/  jv2v: /; s/ $/\n/'
      rm -f "$out/out-jv2v.qcow2"
      ;;
    *) echo "bench: unknown case $c (raw-raw, vmdk-qcow2, stream-raw, thin, prealloc)" >&2; exit 2 ;;
  esac
done
