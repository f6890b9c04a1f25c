#!/usr/bin/env bash
# How the qcow2 writer's memory scales with the virtual disk: org.jv2v.bench.Qcow2MemoryBench
# touches every L2 table of disks from 64 GiB to 8 TiB under a 64 MiB heap (HEAP=...) and prints
# the heap's use and the peak RSS. Without the writer's budget (32 MiB of L2 tables, 8 MiB of
# refcount blocks) the 8 TiB run would need 1 GiB of tables and fail with OutOfMemoryError.
#   bench/qcow2-memory.sh           WORK=/tmp/dir ...
. "$(dirname "$(readlink -f "$0")")/qcow2-common.sh"
for gib in 64 512 2048 8192; do
  rm -f "$work/m.qcow2"
  /usr/bin/time -f "  peak RSS %M KiB" "$JAVA_HOME/bin/java" -Xmx"${HEAP:-64m}" -XX:+UseSerialGC \
      --sun-misc-unsafe-memory-access=allow -cp "$cp" org.jv2v.bench.Qcow2MemoryBench "$work/m.qcow2" "$gib" 512
  qemu-img check "$work/m.qcow2" | head -1 | sed 's/^/  qemu-img check: /'
done
rm -f "$work/m.qcow2"
