#!/usr/bin/env bash
# How the qcow2 writer's memory scales with the virtual disk: touches every L2 table of disks from
# 64 GiB to 8 TiB under a 64 MiB heap (HEAP=...) and prints the heap's use and the peak RSS.
# Without the writer's budget (32 MiB of L2 tables, 8 MiB of refcount blocks) the 8 TiB run would
# need 1 GiB of tables and fail with OutOfMemoryError.
#   bench/qcow2-memory.sh [work-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/jv2v-bench.XXXXXX)}
mkdir -p "$work/classes"
JAVA_HOME=$("$here/bin/find-jdk")
(cd "$here" && mvn -B -q -o package -DskipTests >/dev/null 2>&1 || mvn -B -q package -DskipTests >/dev/null)
cp="$here/target/classes:$(ls "$here"/target/lib/*.jar | tr '\n' ':')"
"$JAVA_HOME/bin/javac" -d "$work/classes" -cp "$cp" "$here/bench/Qcow2MemoryBench.java"
for gib in 64 512 2048 8192; do
  rm -f "$work/m.qcow2"
  /usr/bin/time -f "  peak RSS %M KiB" "$JAVA_HOME/bin/java" -Xmx${HEAP:-64m} -XX:+UseSerialGC \
      --sun-misc-unsafe-memory-access=allow -cp "$work/classes:$cp" Qcow2MemoryBench "$work/m.qcow2" "$gib" 512
  qemu-img check "$work/m.qcow2" | head -1 | sed 's/^/  qemu-img check: /'
done
rm -f "$work/m.qcow2"
