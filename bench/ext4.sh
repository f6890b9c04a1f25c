#!/usr/bin/env bash
# Benchmark: jv2v's ext4 reader against e2fsprogs on the same image, side by side.
#   1. read every file: jv2v vs `debugfs -f CMDS` with one `cat FILE` per file, into /dev/null
#   2. copy every file out of the image into tmpfs: jv2v vs `debugfs -R "rdump / DIR"`
#   3. the used-block map: jv2v vs `dumpe2fs` (which prints every group's free blocks)
# Prints wall-clock times (JVM start included, so the in-process time jv2v prints is what an
# inspection that has the JVM running anyway pays) and the ratios. Usage: bench/ext4.sh [TOTAL_MB] [FILES]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
total_mb=${1:-512}
files=${2:-4000}
JAVA_HOME=$("$here/bin/find-jdk")
export JAVA_HOME
(cd "$here" && mvn -B -q -o test-compile >/dev/null)
cp="$here/target/classes:$here/target/test-classes"
work=$(mktemp -d)
out=$(mktemp -d -p /dev/shm)
trap 'rm -rf "$work" "$out"' EXIT

echo "building a tree of $files files, about $total_mb MiB, and an ext4 image of it"
python3 - "$work/tree" "$total_mb" "$files" <<'PY'
import os, random, sys
root, total, n = sys.argv[1], int(sys.argv[2]) << 20, int(sys.argv[3])
rnd = random.Random(1)
sizes = [rnd.expovariate(1.0) for _ in range(n)]
scale = total / sum(sizes)
for i, s in enumerate(sizes):
    d = os.path.join(root, "d%02d" % (i % 50), "e%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%d" % i), "wb") as f:
        f.write(os.urandom(int(s * scale)))
PY
img_mb=$(( total_mb * 3 / 2 + 64 ))
mkfs.ext4 -q -F -d "$work/tree" "$work/fs.img" "${img_mb}M"
cat "$work/fs.img" > /dev/null  # warm the page cache for both sides

now() { date +%s.%N; }
run() { local s; s=$(now); "$@"; awk -v a="$(now)" -v b="$s" 'BEGIN { print a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

mkdir -p "$work/classes" "$out/ref"
(cd "$work/tree" && find . -type f | sed 's|^\.|cat |') > "$work/cat.cmds"
"$JAVA_HOME/bin/javac" -d "$work/classes" -cp "$cp" "$here/bench/ExtBench.java"
cp="$cp:$work/classes"
t_ref=$(run sh -c "debugfs -f '$work/cat.cmds' '$work/fs.img' >/dev/null 2>&1")
t_jv=$(run "$JAVA_HOME/bin/java" -cp "$cp" ExtBench read "$work/fs.img")
printf 'read all files: debugfs cat %.2f s, jv2v %.2f s: jv2v is %sx faster\n' "$t_ref" "$t_jv" \
    "$(ratio "$t_ref" "$t_jv")"
t_ref=$(run debugfs -R "rdump / $out/ref" "$work/fs.img" 2>/dev/null)
t_jv=$(run "$JAVA_HOME/bin/java" -cp "$cp" ExtBench rdump "$work/fs.img" "$out/jv2v")
diff -rq -x lost+found "$work/tree" "$out/jv2v" || { echo "jv2v's copy differs from the tree" >&2; exit 1; }
printf 'copy all files: debugfs rdump %.2f s, jv2v %.2f s: jv2v is %sx faster\n' "$t_ref" "$t_jv" \
    "$(ratio "$t_ref" "$t_jv")"
t_ref=$(run sh -c "dumpe2fs '$work/fs.img' >/dev/null 2>&1")
t_jv=$(run "$JAVA_HOME/bin/java" -cp "$cp" ExtBench used "$work/fs.img")
printf 'used-block map: dumpe2fs %.2f s, jv2v %.2f s: jv2v is %sx faster\n' "$t_ref" "$t_jv" \
    "$(ratio "$t_ref" "$t_jv")"
