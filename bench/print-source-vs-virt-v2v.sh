#!/usr/bin/env bash
# Runs `--print-source` of jv2v and of virt-v2v side by side on virt-v2v's test-i-vmx-1..7 (from
# ../shared/corpus, set up as upstream's test does) and prints the wall time of each and the ratio.
# It also diffs the two outputs (stage lines and virt-v2v 2.2's missing "UEFI secureboot" line
# aside), so the comparison is of equal work. Needs virt-v2v and qemu-img; uses bin/jv2v.
#   bench/print-source-vs-virt-v2v.sh [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=""
for d in "$here/.." "$here/../.."; do
  [ -d "$d/shared/corpus/virt-v2v" ] && corpus=$(cd "$d/shared/corpus/virt-v2v" && pwd) && break
done
[ -n "$corpus" ] || { echo "corpus not found beside the project" >&2; exit 1; }
command -v virt-v2v >/dev/null || { echo "virt-v2v is not installed" >&2; exit 1; }
rounds=${1:-3}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
for i in 1 2 3 4 5 6 7; do cp "$corpus/test-i-vmx-$i.vmx" .; done
for f in $(grep -ho '^[a-z0-9:]*\.fileName = "[^"/]*\.vmdk"' test-i-vmx-*.vmx | sed 's/.*"\(.*\)"/\1/' | sort -u); do
  qemu-img create -q -f vmdk "$f" 512
done
"$here/bin/jv2v" --version >/dev/null   # build once, outside the timing
export LIBGUESTFS_BACKEND=direct
now() { date +%s.%N; }
normalise() { grep -v -e 'Setting up the source' -e 'Opening the source' -e 'UEFI secureboot' -e 'removable media' \
  -e 'CD-ROM \[sata\]' | grep -v '^$' || true; }
t_jv2v=0; t_v2v=0
for r in $(seq "$rounds"); do
  for i in 1 2 3 4 5 6 7; do
    s=$(now); "$here/bin/jv2v" -i vmx "test-i-vmx-$i.vmx" --print-source >"j$i.txt" 2>/dev/null; e=$(now)
    t_jv2v=$(echo "$t_jv2v + $e - $s" | bc)
    s=$(now); virt-v2v -i vmx "test-i-vmx-$i.vmx" --print-source >"v$i.txt" 2>/dev/null; e=$(now)
    t_v2v=$(echo "$t_v2v + $e - $s" | bc)
    if ! diff <(normalise <"j$i.txt") <(normalise <"v$i.txt") >/dev/null; then
      echo "test-i-vmx-$i: outputs differ:"; diff <(normalise <"j$i.txt") <(normalise <"v$i.txt") || true
    fi
  done
done
n=$((rounds * 7))
printf 'jv2v     --print-source: %6.3f s per guest (%d runs, JVM start included)\n' "$(echo "$t_jv2v / $n" | bc -l)" "$n"
printf 'virt-v2v --print-source: %6.3f s per guest (%d runs)\n' "$(echo "$t_v2v / $n" | bc -l)" "$n"
printf 'ratio virt-v2v / jv2v: %.2f\n' "$(echo "$t_v2v / $t_jv2v" | bc -l)"
