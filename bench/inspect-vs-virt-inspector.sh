#!/usr/bin/env bash
# Times `jv2v inspect` against `virt-inspector` (libguestfs's appliance, TCG: LIBGUESTFS_BACKEND=direct,
# LIBGUESTFS_BACKEND_SETTINGS=force_tcg) on the inspection tests' guests: Debian 12 (ext4, MBR),
# Rocky 9 (XFS on LVM, GPT + ESP, RPM database), Windows Server 2022 (NTFS + registry hives), Fedora 39 (btrfs),
# openSUSE-like and Fedora-like roots in btrfs subvolumes, and CentOS 8 (Berkeley DB RPM database),
# as VMDKs made by qemu-img from the raw images the tests build in target/inspect-guests (built
# here first if missing). Runs alternate (jv2v, virt-inspector, jv2v ...) so both see the same
# machine load; each is a whole command (jv2v's JVM start included). Prints every run, the mean
# per tool and guest, and the ratio virt-inspector / jv2v.
#   bench/inspect-vs-virt-inspector.sh [ROUNDS]
#   GUESTS="opensuse centos8" bench/inspect-vs-virt-inspector.sh 1     (some of them only)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
read -r -a guests <<<"${GUESTS:-debian rocky windows fedora opensuse fedora-subvol centos8}"
command -v virt-inspector >/dev/null || { echo "virt-inspector is not installed (guestfs-tools)" >&2; exit 1; }
command -v qemu-img >/dev/null || { echo "qemu-img is not installed" >&2; exit 1; }
images="$here/target/inspect-guests"
need=0
for g in "${guests[@]}"; do [ -f "$images/$g/$g.img" ] || need=1; done
if [ "$need" = 1 ]; then
  echo "building the test guests (one guestfish run) ..."
  (cd "$here" && JAVA_HOME=$("$here/bin/find-jdk") mvn -B -q -o test -Dtest='VirtInspectorComparisonTest' >/dev/null)
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for g in "${guests[@]}"; do
  qemu-img convert -q -f raw -O vmdk "$images/$g/$g.img" "$work/$g.vmdk"
done
"$here/bin/jv2v" --version >/dev/null   # build once, outside the timing
# a snapshot of the launcher and the built jar: edits to the sources during the run cannot start a
# rebuild inside a timed command
mkdir -p "$work/jv2v/target"; cp -r "$here/bin" "$work/jv2v/"; cp -r "$here/target/jv2v.jar" "$here/target/lib" "$work/jv2v/target/"
jv2v="$work/jv2v/bin/jv2v"
"$jv2v" --version >/dev/null   # its own AOT cache (one is tied to its jar's path), made outside the timing
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
now() { date +%s.%N; }
declare -A tj tv
for g in "${guests[@]}"; do tj[$g]=0; tv[$g]=0; done
for r in $(seq "$rounds"); do
  for g in "${guests[@]}"; do
    s=$(now); "$jv2v" inspect "$work/$g.vmdk" >"$work/j-$g.xml"; e=$(now)
    dj=$(echo "$e - $s" | bc); tj[$g]=$(echo "${tj[$g]} + $dj" | bc)
    s=$(now); virt-inspector -a "$work/$g.vmdk" >"$work/v-$g.xml" 2>"$work/v-$g.err"; e=$(now)
    dv=$(echo "$e - $s" | bc); tv[$g]=$(echo "${tv[$g]} + $dv" | bc)
    printf 'round %d %-8s jv2v %7.3f s   virt-inspector %7.2f s   (XML lines differing: %s)\n' "$r" "$g" "$dj" "$dv" \
      "$(diff "$work/j-$g.xml" "$work/v-$g.xml" | grep -c '^[<>]' || true)"
  done
done
total_j=0; total_v=0
for g in "${guests[@]}"; do
  mj=$(echo "${tj[$g]} / $rounds" | bc -l); mv=$(echo "${tv[$g]} / $rounds" | bc -l)
  printf '%-8s jv2v inspect %7.3f s   virt-inspector %7.2f s   ratio %6.1fx\n' "$g" "$mj" "$mv" "$(echo "$mv / $mj" | bc -l)"
  total_j=$(echo "$total_j + ${tj[$g]}" | bc); total_v=$(echo "$total_v + ${tv[$g]}" | bc)
done
printf 'all guests: virt-inspector / jv2v = %.1fx (goal: at least 20x)\n' "$(echo "$total_v / $total_j" | bc -l)"
echo "(XML lines differing: ordering and the documented differences, e.g. fstab PARTUUID= lines jv2v resolves; VirtInspectorComparisonTest compares field by field)"
