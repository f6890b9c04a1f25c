#!/usr/bin/env bash
# Throughput of jv2v's qcow2 writer against `qemu-img convert -O qcow2`, both copying the same raw
# image (2 GiB virtual, ~1 GiB of data in 4 MiB runs, half of it compressible text, half random).
# Runs alternate, each after a sync; prints each time, the medians and their ratio, and each side's
# peak memory. jv2v's close() makes the image durable (fsync); qemu-img convert's default cache mode
# (unsafe) does not, so QEMU_CACHE=writeback gives the like-for-like comparison.
#
#   bench/qcow2-write.sh [runs] [work-dir]        (QEMU_CACHE=writeback makes qemu-img fsync too)
#   COMPRESS=1 bench/qcow2-write.sh               (compressed: -c for both)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
work=${2:-$(mktemp -d /tmp/jv2v-bench.XXXXXX)}
mkdir -p "$work"
JAVA_HOME=$("$here/bin/find-jdk")
export JAVA_HOME

echo "building ..." >&2
(cd "$here" && mvn -B -q -o package -DskipTests >/dev/null 2>&1 || mvn -B -q package -DskipTests >/dev/null)
cp="$here/target/classes:$(ls "$here"/target/lib/*.jar | tr '\n' ':')"
mkdir -p "$work/classes"
"$JAVA_HOME/bin/javac" -d "$work/classes" -cp "$cp" "$here/bench/Qcow2WriteBench.java"

src="$work/source.raw"
if [ ! -f "$src" ]; then
  echo "making $src ..." >&2
  truncate -s 2G "$src"
  python3 - "$src" <<'PY'
import os, random, sys
random.seed(1)
words = [b"kernel ", b"initrd ", b"/usr/lib/x86_64-linux-gnu/", b"ext4 ", b"\x00" * 64, b"systemd "]
text = b"".join(random.choice(words) for _ in range(300000))[:4 << 20]
with open(sys.argv[1], "r+b") as f:
    for i in range(256):                      # 256 runs of 4 MiB = 1 GiB of data, every other 8 MiB
        f.seek(i * (8 << 20))
        f.write(os.urandom(4 << 20) if i % 2 else text)
PY
fi

c=(); jc=()
if [ "${COMPRESS:-0}" = 1 ]; then c=(-c); jc=(-c); fi
qemu_t=(); [ -n "${QEMU_CACHE:-}" ] && qemu_t=(-t "$QEMU_CACHE")
threads=${THREADS:-4}

measure() { # prints "seconds peakKiB cpuSeconds"; starts with no dirty pages left by the previous run
  sync
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >/dev/null
  awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$work/time"
}

jv=(); qm=(); jmem=(); qmem=(); jcpu=(); qcpu=()
for i in $(seq "$runs"); do
  rm -f "$work/q.qcow2" "$work/j.qcow2"
  read -r t m u < <(measure qemu-img convert "${c[@]}" "${qemu_t[@]}" -f raw -O qcow2 "$src" "$work/q.qcow2")
  qm+=("$t"); qmem+=("$m"); qcpu+=("$u")
  read -r t2 m2 u2 < <(measure "$JAVA_HOME/bin/java" -Xmx1g -XX:+UseSerialGC --sun-misc-unsafe-memory-access=allow \
      --enable-native-access=ALL-UNNAMED -cp "$work/classes:$cp" Qcow2WriteBench "$src" "$work/j.qcow2" "$threads" 2 \
      "${jc[@]}")
  jv+=("$t2"); jmem+=("$m2"); jcpu+=("$u2")
  echo "run $i: qemu-img ${t}s (cpu ${u}s, ${m} KiB peak)   jv2v ${t2}s (cpu ${u2}s, ${m2} KiB peak)"
done
qemu-img check "$work/j.qcow2" | head -1
qemu-img compare -q "$work/q.qcow2" "$work/j.qcow2" && echo "images identical"
echo "sizes: qemu-img $(stat -c %s "$work/q.qcow2") bytes, jv2v $(stat -c %s "$work/j.qcow2") bytes"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mq=$(median "${qm[@]}"); mj=$(median "${jv[@]}")
echo "median: qemu-img ${mq}s, jv2v ${mj}s, ratio jv2v/qemu-img = $(awk -v a="$mj" -v b="$mq" 'BEGIN {printf "%.2f", a/b}')"
mqc=$(median "${qcpu[@]}"); mjc=$(median "${jcpu[@]}")
echo "median cpu (user+sys): qemu-img ${mqc}s, jv2v ${mjc}s, ratio $(awk -v a="$mjc" -v b="$mqc" 'BEGIN {printf "%.2f", a/b}')"
echo "peak RSS median: qemu-img $(median "${qmem[@]}") KiB, jv2v $(median "${jmem[@]}") KiB"
echo "(on a busy machine elapsed times swing widely; cpu time is the steadier comparison)"
