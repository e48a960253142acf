#!/usr/bin/env bash
# Runs inside the lab guest (e1000x2 with --root-ports): each NIC sits on its
# own PCIe root port, and QEMU's monitor, reached from inside the guest, takes
# one away (device_del) as a hot-unplug would — while bypass drives it.
#   check-hotplug.sh e1000x2 on|off   (on: vfio-pci with the IOMMU; off: uio_pci_generic)
# testpmd sends flat out from port 0 ($a) to port 1 ($b); nic1 ($b) is
# unplugged. Then: testpmd says port 1 was removed (once), the device leaves
# /sys (under VFIO the kernel waits until bypass lets go of it), port 1's
# counter stands still while port 0 sends a thousand frames more, and Ctrl-C
# ends testpmd with exit 0 and every mbuf back.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
a=0000:01:00.0 b=0000:02:00.0
drv=vfio-pci; [ "$2" = off ] && drv=uio_pci_generic
scratch
kdrv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
[ "$(kdrv $a)" = e1000 ] && [ "$(kdrv $b)" = e1000 ] && ok "the NICs sit behind root ports at $a and $b" ||
	fail "the NICs sit behind root ports" "$(ls /sys/bus/pci/devices)"
"$bypass" bind --driver $drv $a $b >/dev/null || fail "bind $a $b to $drv"

# counter ADDR FIELD: the port's counter, read from testpmd ($tp) over its
# statistics socket
counter() {
	"$bypass" stats $tp --json 2>/dev/null | jq -r --arg n "$1" ".ports[] | select(.name == \$n) | .stats.$2" 2>/dev/null
}
# above ADDR FIELD VALUE: until the counter exceeds VALUE (prints it), while
# testpmd runs, 90 s at most
above() {
	local i v=
	for ((i = 0; i < 900; i++)); do
		v=$(counter "$1" "$2")
		[ -n "$v" ] && [ "$v" -gt "$3" ] && { echo "$v"; return 0; }
		kill -0 $tp 2>/dev/null || break
		sleep 0.1
	done
	echo "${v:-none}"
	return 1
}

"$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --stream=6 --duration=600 \
	--stats-period=0 >"$tmp/tp" 2>&1 &
tp=$!
told=1 gone=0 moved=1 rx1= rx2= tx1= tx2= rc=99 mout=
if wait_ready "$tmp/tp" $tp && rx0=$(above $b ipackets 0); then
	mout=$("$bypass" lab monitor device_del nic1 2>&1)
	wait_marker "$tmp/tp" "^port 1: removed" $tp; told=$?
	# pciehp powers the slot off 5 s after the attention button: allow 30
	for ((i = 0; i < 300; i++)); do
		[ -e /sys/bus/pci/devices/$b ] || { gone=1; break; }
		sleep 0.1
	done
	rx1=$(counter $b ipackets) tx1=$(counter $a opackets)
	tx2=$(above $a opackets $((${tx1:-0} + 1000))); moved=$?
	rx2=$(counter $b ipackets)
	stop_testpmd $tp "$tmp/tp"; rc=$?
else
	kill $tp 2>/dev/null
	rx0="never"
fi
out=$(cat "$tmp/tp")
if [ $told = 0 ] && [ "$(echo "$out" | grep -c "^port 1: removed")" = 1 ] && [ $gone = 1 ]; then
	ok "$drv: testpmd says port 1 was removed, once, and $b left the bus while testpmd ran"
else
	fail "$drv: removal reported and the unplug completed" "removal line: $((1 - told)), $b gone: $gone" \
		"monitor: $mout" "$out"
fi
if [ $moved = 0 ] && [ -n "$rx1" ] && [ "$rx1" = "$rx2" ] && [ "$rx1" -ge "$rx0" ]; then
	ok "$drv: port 1's rx counter stands at $rx1 while port 0 sends on ($tx1 -> $tx2)"
else
	fail "$drv: counters after the unplug" "port 1 rx: $rx0 before, $rx1 then $rx2; port 0 tx: $tx1 then $tx2" "$out"
fi
if [ $rc = 0 ] && echo "$out" | grep -q "mbufs in use at exit: 0" &&
	[ "$(field "$out" 1 "(" rx-packets)" = "$rx2" ]; then
	ok "$drv: Ctrl-C ends testpmd with exit 0, every mbuf back, port 1's count unchanged ($rx2)"
else
	fail "$drv: Ctrl-C after the unplug" "exit $rc" "$out"
fi
[ "$(kdrv $a)" = $drv ] && ! "$bypass" status | grep -q $b && ok "nic0 ($a) stays on $drv, $b is gone" ||
	fail "after the unplug" "$a on $(kdrv $a)" "$("$bypass" status 2>&1)"
if [ $drv = vfio-pci ]; then
	k=$(dmesg | grep "$b" | grep -c "Relaying device request to user")
	[ "$k" = 1 ] && ok "vfio-pci asked bypass for the device once (dmesg: Relaying device request)" ||
		fail "vfio-pci's request" "asked $k times" "$(dmesg | grep "$b")"
fi
out=$("$bypass" lab monitor set_link nic7 off 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "not found" && ok "the monitor's errors come back with exit 1" ||
	fail "monitor errors" "exit $rc: $out"
summary
