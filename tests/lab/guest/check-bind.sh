#!/usr/bin/env bash
# Runs inside the lab guest (e1000x2): real binds with bypass.
#   check-bind.sh TOPOLOGY on|off     (TOPOLOGY must be e1000x2; on|off: the IOMMU)
set -u
[ "$1" = e1000x2 ] || { echo "check-bind.sh needs the e1000x2 topology"; exit 2; }
iommu=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
a=0000:00:03.0 b=0000:00:04.0
drv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
ifc() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n 1; }
expect_drv() { # name addr driver
	local now; now=$(drv "$2")
	[ "$now" = "$3" ] && ok "$1" || fail "$1" "$2 is on '${now:-no driver}', expected $3"
}

# status --json parses, and tells both NICs on e1000
json=$("$bypass" status --json)
if echo "$json" | jq -e --arg a "$a" --arg b "$b" \
	'[.[] | select(.address == $a or .address == $b) | select(.driver == "e1000" and .vendor == "8086" and .device == "100e")] | length == 2' >/dev/null; then
	ok "status --json lists both 82540EM on e1000"
else
	fail "status --json lists both 82540EM on e1000" "$json"
fi
echo "$json" | jq -e '.[] | select(.address == "0000:00:03.0") | .interfaces[0].name == "eth0"' >/dev/null &&
	ok "status --json names the interface" || fail "status --json names the interface"

# Refusal: an interface with an address and a route stays where it is.
ip addr add 192.0.2.1/24 dev eth0
ip route add 198.51.100.0/24 via 192.0.2.254 dev eth0
out=$("$bypass" bind $a 2>&1); rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q "eth0 is up with address 192.0.2.1" && echo "$out" | grep -q "eth0 carries 2 routes"; then
	ok "refuses eth0 with an address and routes"
else
	fail "refuses eth0 with an address and routes" "exit $rc: $out"
fi
expect_drv "refused device stays on e1000" $a e1000
[ "$(ifc $a)" = eth0 ] && ip -4 addr show dev eth0 | grep -q 192.0.2.1 && ok "its address is untouched" || fail "its address is untouched"
ip route del 198.51.100.0/24
ip addr del 192.0.2.1/24 dev eth0

# --dry-run on the real sysfs: prints, changes nothing.
out=$("$bypass" bind --dry-run --driver uio_pci_generic $a 2>&1); rc=$?
expect_drv "dry run leaves the device on e1000" $a e1000
[ $rc = 0 ] && echo "$out" | grep -q "/sys/bus/pci/drivers/e1000/unbind <- $a" &&
	ok "dry run prints the unbind" || fail "dry run prints the unbind" "$out"

if [ "$iommu" = on ]; then
	out=$("$bypass" bind $a $b 2>&1); rc=$?
	[ $rc = 0 ] && ok "bind both to vfio-pci" || fail "bind both to vfio-pci" "exit $rc: $out"
	expect_drv "00:03.0 on vfio-pci" $a vfio-pci
	expect_drv "00:04.0 on vfio-pci" $b vfio-pci
	g=$(basename "$(readlink /sys/bus/pci/devices/$a/iommu_group)")
	[ -c /dev/vfio/$g ] && ok "/dev/vfio/$g exists" || fail "/dev/vfio/$g exists" "$(ls /dev/vfio)"
	[ -z "$(ifc $a)" ] && ok "eth0 is gone while on vfio-pci" || fail "eth0 is gone while on vfio-pci"
	"$bypass" status | grep -A1 "on a user-space driver" | grep -q $a && ok "status shows it on a user-space driver" ||
		fail "status shows it on a user-space driver" "$("$bypass" status)"
else
	out=$("$bypass" bind $a 2>&1); rc=$?
	if [ $rc = 1 ] && echo "$out" | grep -q "has no IOMMU group" && echo "$out" | grep -q "uio_pci_generic"; then
		ok "vfio-pci without an IOMMU explains the ways on"
	else
		fail "vfio-pci without an IOMMU explains the ways on" "exit $rc: $out"
	fi
	expect_drv "and leaves the device on e1000" $a e1000
	out=$("$bypass" bind --driver uio_pci_generic $a $b 2>&1); rc=$?
	[ $rc = 0 ] && ok "bind both to uio_pci_generic" || fail "bind both to uio_pci_generic" "exit $rc: $out"
	expect_drv "00:03.0 on uio_pci_generic" $a uio_pci_generic
	expect_drv "00:04.0 on uio_pci_generic" $b uio_pci_generic
	u=$(ls /sys/bus/pci/devices/$a/uio 2>/dev/null | head -n 1)
	[ -n "$u" ] && [ -c /dev/$u ] && [ -e /sys/class/uio/$u/device/resource0 ] && ok "/dev/$u exists for 00:03.0" ||
		fail "/dev/$u exists for 00:03.0" "$(ls /sys/class/uio 2>&1)"
fi

out=$("$bypass" restore --all 2>&1); rc=$?
[ $rc = 0 ] && ok "restore --all" || fail "restore --all" "exit $rc: $out"
expect_drv "00:03.0 back on e1000" $a e1000
expect_drv "00:04.0 back on e1000" $b e1000
[ "$(ifc $a)" = eth0 ] && [ "$(ifc $b)" = eth1 ] && ok "eth0 and eth1 are back" ||
	fail "eth0 and eth1 are back" "found '$(ifc $a)' '$(ifc $b)'"
[ -z "$(cat /sys/bus/pci/devices/$a/driver_override)" ] || [ "$(cat /sys/bus/pci/devices/$a/driver_override)" = "(null)" ] &&
	ok "driver_override cleared" || fail "driver_override cleared" "$(cat /sys/bus/pci/devices/$a/driver_override)"

summary
