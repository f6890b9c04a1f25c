#!/usr/bin/env bash
# Benchmark (issue 5): jv2v against virt-v2v converting the same VMware-like Linux guest from the
# test-guest factory (src/test/guests), both to `-o local -of qcow2`. Prints each tool's wall time
# (JVM start included for jv2v), the ratio jv2v/virt-v2v, and then boots each result the same way
# the tests do (org.jv2v.testing.QemuBoot through BootCli: TCG, q35, virtio-blk disk, virtio-net NIC
# with the guest's MAC on a root port without a slot number, as libvirt places it) and prints
# whether it reached the guest's marker and with which address (the guest's static 192.0.2.10/24
# means its network configuration applied on the new NIC).
#
#   bench/linux-convert-vs-virt-v2v.sh [debian12-bios|rhel-like-uefi]
#
# Environment: V2V_DIR=DIR reuses an earlier virt-v2v result (DIR holds NAME-sda, NAME.xml and the
# `seconds` file this script wrote) instead of running virt-v2v again (~6 min under TCG);
# NO_BOOT=1 skips the boots; WORK=DIR keeps the outputs there (default target/bench/NAME-DATE).
# Needs root to build the guest (first run only), virt-v2v (Debian's package, run with
# LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg: /dev/kvm hangs here) with nbdkit
# and nbdcopy (Debian: nbdkit, libnbd-bin; virt-v2v 2.2 copies its output through them, and without
# them fails only at the very end, after the whole conversion), qemu-system-x86 and ovmf to boot.
#
# Measured (2 cores shared with other builds; load averages as printed by the script):
#   see the "Linux conversion against virt-v2v" section of bench/README.md
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
guest=${1:-debian12-bios}
case $guest in
  debian12-bios) firmware=BIOS; mac=00:50:56:3a:12:01 ;;
  rhel-like-uefi) firmware=UEFI; mac=00:50:56:3a:12:02 ;;
  *) echo "usage: $0 [debian12-bios|rhel-like-uefi]" >&2; exit 2 ;;
esac
JAVA_HOME=$("$here/bin/find-jdk")
export JAVA_HOME
work=${WORK:-$here/target/bench/$guest-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }

if [ -z "${V2V_DIR:-}" ]; then
  for t in virt-v2v:virt-v2v nbdkit:nbdkit nbdcopy:libnbd-bin; do
    command -v "${t%%:*}" >/dev/null || { echo "${t%%:*} is not installed (Debian: apt-get install ${t#*:})" >&2; exit 1; }
  done
fi

# 1. the guest: built once by the factory (as TestGuests does, with the same stamp), else reused
groot=$here/target/guests
vmx=$groot/$guest/$guest.vmx
if [ ! -f "$vmx" ]; then
  echo "building the test guest $guest (needs root; minutes) ..."
  mkdir -p "$groot/$guest"
  bash "$here/src/test/guests/build-$guest.sh" "$groot/$guest" "$groot/base" "$groot/apt-cache" \
    >"$groot/$guest/build.log" 2>&1 || { tail -20 "$groot/$guest/build.log"; exit 1; }
  # the stamp TestGuests writes (SHA-256 over "NAME SHA256" of each factory file), so tests reuse it
  (cd "$here/src/test/guests" && for f in $(ls | LC_ALL=C sort); do
     [ -f "$f" ] && echo "$f $(sha256sum "$f" | cut -d' ' -f1)"; done) | sha256sum | cut -d' ' -f1 \
    >"$groot/$guest/stamp"
fi
echo "guest: $vmx ($(du -h "${vmx%.vmx}.vmdk" | cut -f1) VMDK)"

# jv2v built (and its AOT cache trained) outside the timing; the boot helper's classes too
"$here/bin/jv2v" --version >/dev/null
(cd "$here" && mvn -B -q -o test-compile >/dev/null 2>&1)

# 2. virt-v2v
if [ -n "${V2V_DIR:-}" ]; then
  v2v=$(cd "$V2V_DIR" && pwd)
  t_v2v=$(cat "$v2v/seconds")
  echo "virt-v2v: reusing $v2v: $t_v2v s (load then: $(cat "$v2v/load" 2>/dev/null || echo unknown))"
else
  v2v=$work/virt-v2v
  mkdir -p "$v2v"
  echo "virt-v2v: converting (load average $(load)) ..."
  s=$(now)
  LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg \
    virt-v2v -i vmx "$vmx" -o local -os "$v2v" -of qcow2 >"$v2v/log" 2>&1 || { tail -20 "$v2v/log"; exit 1; }
  t_v2v=$(awk -v a="$(now)" -v b="$s" 'BEGIN { printf "%.1f", a - b }')
  echo "$t_v2v" >"$v2v/seconds"
  load >"$v2v/load"
  echo "virt-v2v: $t_v2v s (load average after: $(load))"
fi

# 3. jv2v
jv=$work/jv2v
rm -rf "$jv"; mkdir -p "$jv"
echo "jv2v: converting (load average $(load)) ..."
s=$(now)
"$here/bin/jv2v" -i vmx "$vmx" -o local -os "$jv" -of qcow2 >"$jv/log" 2>&1 || { tail -20 "$jv/log"; exit 1; }
t_jv=$(awk -v a="$(now)" -v b="$s" 'BEGIN { printf "%.1f", a - b }')
echo "$t_jv" >"$jv/seconds"
echo "jv2v: $t_jv s (load average after: $(load))"
printf '%s: jv2v %.1f s, virt-v2v %.1f s: jv2v/virt-v2v = %.3f\n' "$guest" "$t_jv" "$t_v2v" \
  "$(awk -v a="$t_jv" -v b="$t_v2v" 'BEGIN { print a / b }')"

# 4. boot each result on virtio-blk + virtio-net
[ -n "${NO_BOOT:-}" ] && exit 0
boot() {
  local name=$1 dir=$2 line
  line=$("$JAVA_HOME/bin/java" -cp "$here/target/jv2v.jar:$here/target/test-classes" org.jv2v.testing.BootCli \
    --disk "$dir/$guest-sda" --format qcow2 --firmware "$firmware" --bus VIRTIO_BLK --nic VIRTIO_NET \
    --mac "$mac" --work "$dir/boot") || true
  local verdict="did not reach the marker"
  case $line in
    *outcome=MARKER*ip=192.0.2.10/24\ *) verdict="reached the marker WITH its static IP" ;;
    *outcome=MARKER*) verdict="reached the marker WITHOUT its static IP" ;;
  esac
  echo "$name result on virtio-blk + virtio-net: $verdict ($line)"
}
boot virt-v2v "$v2v"
boot jv2v "$jv"
