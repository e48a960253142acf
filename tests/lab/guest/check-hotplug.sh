#!/usr/bin/env bash
# Runs inside the lab guest (e1000x2 with --root-ports): each NIC sits on its
# own PCIe root port, and QEMU's monitor, reached from inside the guest, takes
# one away (device_del) as a hot-unplug would.
#   check-hotplug.sh e1000x2 on|off
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
a=0000:01:00.0 b=0000:02:00.0
drv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
[ "$(drv $a)" = e1000 ] && [ "$(drv $b)" = e1000 ] && ok "the NICs sit behind root ports at $a and $b" ||
	fail "the NICs sit behind root ports" "$(ls /sys/bus/pci/devices)"
out=$("$bypass" lab monitor device_del nic1 2>&1); rc=$?
gone=0
for ((i = 0; i < 100; i++)); do
	[ -e /sys/bus/pci/devices/$b ] || { gone=1; break; }
	sleep 0.1
done
[ $rc = 0 ] && [ $gone = 1 ] && [ "$(drv $a)" = e1000 ] && ! "$bypass" status | grep -q $b &&
	ok "device_del from inside the guest unplugs nic1 ($b), nic0 stays" ||
	fail "device_del unplugs nic1" "exit $rc: $out; $b still there: $((1 - gone))"
out=$("$bypass" lab monitor set_link nic7 off 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "not found" && ok "the monitor's errors come back with exit 1" ||
	fail "monitor errors" "exit $rc: $out"
summary
