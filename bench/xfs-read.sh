#!/usr/bin/env bash
# Reads every file of an XFS image and maps its used blocks, with jv2v and with the reference
# (libguestfs: the kernel's XFS in an appliance, tar-out of the whole tree; xfs_db freesp for the
# free space map), and prints the time ratios. Usage: bench/xfs-read.sh [files] [max-file-bytes]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
files=${1:-2000}
maxsize=${2:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export JAVA_HOME=${JAVA_HOME:-$("$here/bin/find-jdk")}
(cd "$here" && mvn -B -q -o test-compile >/dev/null)

# a tree of random files in nested directories, made into an image by mkfs.xfs -p
mkdir -p "$work/src"
python3 - "$work" "$files" "$maxsize" <<'PY'
import os, random, sys
work, n, maxsize = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
lines = ["bench", "0 0", "d--755 0 0"]
for d in range(n // 100 + 1):
    lines.append(f" dir{d} d--755 0 0")
    for f in range(min(100, n - d * 100)):
        path = os.path.join(work, "src", f"{d}-{f}")
        with open(path, "wb") as out:
            out.write(os.urandom(random.randint(0, maxsize)))
        lines.append(f"  file{f} ---644 0 0 {path}")
    lines.append(" $")
lines.append("$")
open(os.path.join(work, "proto"), "w").write("\n".join(lines) + "\n")
PY
truncate -s 2G "$work/xfs.img"
mkfs.xfs -q -f -K -p "$work/proto" "$work/xfs.img"
sync

(cd "$here" && JAVA_HOME=$JAVA_HOME mvn -B -q -o dependency:build-classpath -Dmdep.outputFile=target/bench.cp >/dev/null)
cp="$here/target/classes:$here/target/test-classes:$(cat "$here/target/bench.cp")"
s=$(date +%s.%N)
"$JAVA_HOME/bin/java" -cp "$cp" org.jv2v.bench.FsTreeReadBench "$work/xfs.img" sha256
e=$(date +%s.%N)
jv2v=$(echo "$e - $s" | bc)

s=$(date +%s.%N)
LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg \
  guestfish --ro -a "$work/xfs.img" -m /dev/sda tar-out / - | sha256sum >/dev/null
e=$(date +%s.%N)
ref=$(echo "$e - $s" | bc)

s=$(date +%s.%N)
xfs_db -r -c 'freesp -s' "$work/xfs.img" >/dev/null
e=$(date +%s.%N)
freesp=$(echo "$e - $s" | bc)

printf 'jv2v (JVM start, read+hash all files, used map): %.2f s\n' "$jv2v"
printf 'libguestfs tar-out of the whole tree (TCG):      %.2f s\n' "$ref"
printf 'xfs_db freesp -s (free space summary only):      %.2f s\n' "$freesp"
printf 'ratio reference/jv2v: %.1fx\n' "$(echo "$ref / $jv2v" | bc -l)"
