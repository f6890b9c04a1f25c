# Sourced by the qcow2 benchmarks: builds the classes, sets $JAVA_HOME, $cp and $work; make_source
# makes $src = $work/source.raw (2 GiB virtual, 1 GiB of data in 4 MiB runs, every other run
# compressible text, the others random) unless it exists.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
JAVA_HOME=$("$here/bin/find-jdk")
export JAVA_HOME
echo "building ..." >&2
(cd "$here" && mvn -B -q -o test-compile >/dev/null 2>&1 || mvn -B -q test-compile >/dev/null)
deps=$(cd "$here" && mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=runtime \
  -Dmdep.outputFile=/dev/stdout 2>/dev/null)
cp="$here/target/classes:$here/target/test-classes:$deps"
work=${WORK:-$(mktemp -d /tmp/jv2v-bench.XXXXXX)}
mkdir -p "$work"
java_opts=(-Xmx256m -XX:+UseSerialGC --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED)

src="$work/source.raw"
make_source() {
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
}

# measure CMD...: prints "seconds peakKiB cpuSeconds", starting with no dirty pages from a previous run
measure() {
  sync
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >/dev/null
  awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$work/time"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
