#!/usr/bin/env bash
# Runs inside the lab guest (e1000x2): bypass drives both 82540EM NICs.
#   check-e1000.sh e1000x2 on|off     (on: vfio-pci with the IOMMU; off: uio_pci_generic)
set -u
[ "$1" = e1000x2 ] || { echo "check-e1000.sh needs the e1000x2 topology"; exit 2; }
iommu=$2
root=$(cd "$(dirname "$0")/../../.." && pwd)
bypass=$root/build/tools/bypass
testpmd=$root/build/apps/testpmd/bypass-testpmd
a=0000:00:03.0 b=0000:00:04.0
drv=vfio-pci; [ "$iommu" = off ] && drv=uio_pci_generic
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; shift; for l in "$@"; do echo "    $l"; done; failed=$((failed + 1)); }
field() { echo "$1" | grep "^port $2 $3" | sed -n "s/.* $4=\([0-9]*\).*/\1/p"; }
one_line_error() { [ "$(echo "$1" | grep -c 'bypass: error')" = 1 ]; }

# Bad input first, while the NICs are still on e1000.
out=$(timeout 30 "$testpmd" -l 0 -a $a -- --duration=1 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "$a is bound to e1000; run: bypass bind $a" && one_line_error "$out" &&
	ok "a device still on e1000 is one line naming bypass bind" || fail "a device still on e1000" "exit $rc: $out"
out=$(timeout 30 "$testpmd" -l 0 -a 00:09.0 -- --duration=1 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "no such PCI device" && ok "a wrong address is refused" || fail "a wrong address" "exit $rc: $out"

"$bypass" bind --driver $drv $a $b >/dev/null || fail "bind to $drv"

# One process receives on port 1 and checks every frame; a second sends N
# numbered, checksummed frames from port 0 at a pace the emulator keeps up
# with. The receiver starts first: QEMU's e1000 takes no frames for a second
# after its receiver is enabled.
n=3000
rx_out=$(mktemp)
timeout 60 "$testpmd" -l 1 -a $b -- --forward-mode=rxonly --verify --duration=5 --stats-period=0 >"$rx_out" 2>&1 &
rxp=$!
sleep 1.5
out=$(timeout 60 "$testpmd" -l 0 -a $a -- --forward-mode=txonly --tx-count=$n --tx-rate=2000 --txpkts=200 \
	--duration=2.5 --stats-period=0 2>&1); rc=$?
wait $rxp; rrc=$?
rxo=$(cat "$rx_out"); rm -f "$rx_out"
tx=$(field "$out" 0 "(" tx-packets); rx=$(field "$rxo" 0 "(" rx-packets)
ver=$(field "$rxo" 0 verify: verified); bad=$(field "$rxo" 0 verify: bad)
if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$tx" = $n ] && [ "$rx" = $n ] && [ "$ver" = $n ] && [ "$bad" = 0 ] &&
	[ "$(field "$rxo" 0 "(" rx-bytes)" = $((n * 200)) ] && echo "$rxo" | grep -q "mbufs in use at exit: 0"; then
	ok "$drv: $n frames sent by one NIC, received and verified on the other, bytes counted"
else
	fail "$drv: txonly -> rxonly --verify" "exit $rc/$rrc tx=$tx rx=$rx verified=$ver bad=$bad" "$out" "$rxo"
fi

# Flat out: the emulator drops what the receiver cannot take, and the NIC
# counts each drop, so received + missed must equal sent, and every frame that
# arrived must verify.
rx_out=$(mktemp)
timeout 60 "$testpmd" -l 1 -a $b -- --forward-mode=rxonly --verify --duration=5 --stats-period=0 >"$rx_out" 2>&1 &
rxp=$!
sleep 1.5
out=$(timeout 60 "$testpmd" -l 0 -a $a -- --forward-mode=txonly --duration=2 --stats-period=0 2>&1); rc=$?
wait $rxp
rxo=$(cat "$rx_out"); rm -f "$rx_out"
tx=$(field "$out" 0 "(" tx-packets); ver=$(field "$rxo" 0 verify: verified)
missed=$(field "$rxo" 0 "(" rx-missed); bad=$(field "$rxo" 0 verify: bad)
if [ $rc = 0 ] && [ "${ver:-0}" -gt 0 ] && [ "$bad" = 0 ] && [ $((ver + missed)) = "$tx" ]; then
	ok "$drv: flat out, $tx sent = $ver verified + $missed missed by the NIC, none corrupt"
else
	fail "$drv: flat out" "exit $rc tx=$tx verified=$ver missed=$missed bad=$bad" "$out" "$rxo"
fi

# io forwarding: port 1 takes each frame port 0 sends and sends it on.
sender() { "$testpmd" -l 0 -a $a -- --forward-mode=txonly --tx-count=1000 --tx-rate=1000 --duration=3 --stats-period=0; }
out=$( (sleep 1.5; sender >/dev/null 2>&1) & timeout 60 "$testpmd" -l 1 -a $b -- --forward-mode=io --duration=5 --stats-period=0 2>&1); rc=$?
fw_rx=$(field "$out" 0 "(" rx-packets); fw_tx=$(field "$out" 0 "(" tx-packets)
[ $rc = 0 ] && [ "$fw_rx" = 1000 ] && [ "$fw_tx" = 1000 ] && ok "$drv: io forwarding passes on all 1000 frames" ||
	fail "$drv: io forwarding" "exit $rc rx=$fw_rx tx=$fw_tx" "$out"

# kill -9 in the middle of a run; the next run works at once.
"$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --duration=60 --stats-period=0 >/dev/null 2>&1 &
victim=$!
sleep 2
out=$(timeout 20 "$testpmd" -l 1 -a $a -- --duration=1 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "in use by process $victim" && ok "a second process is refused while the first runs" ||
	fail "a second process is refused" "exit $rc: $out"
kill -9 $victim; wait $victim 2>/dev/null
out=$(timeout 60 "$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --verify \
	--tx-count=500 --duration=3 --stats-period=0 2>&1); rc=$?
[ $rc = 0 ] && [ "$(field "$out" 0 "(" tx-packets)" = 500 ] && [ "$(field "$out" 1 verify: verified)" -gt 0 ] &&
	[ "$(field "$out" 1 verify: bad)" = 0 ] && ok "after kill -9 the next run works at once" ||
	fail "after kill -9 the next run works at once" "exit $rc" "$out"

# A mempool too small for the rings: one clear error, no hang.
out=$(timeout 30 "$testpmd" -l 0 -a $a -- --nb-mbufs=512 --duration=1 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "the rx ring of 1024 needs" && ok "a mempool too small for the ring is refused" ||
	fail "a mempool too small for the ring" "exit $rc: $out"

# No hugepages: behind the IOMMU, pinned 4 KiB pages (with a warning that
# says how many hugepages were wanted); without it, one line with the fix.
saved=$(cat /proc/sys/vm/nr_hugepages)
echo 0 > /proc/sys/vm/nr_hugepages
out=$(timeout 60 "$testpmd" -l 0 -a $a -- --forward-mode=txonly --tx-count=1000 --duration=1 --stats-period=0 2>&1); rc=$?
echo "$saved" > /proc/sys/vm/nr_hugepages
if [ "$iommu" = on ]; then
	[ $rc = 0 ] && echo "$out" | grep -q "hugepages of 2 MiB needed, 0 free: using pinned 4 KiB pages" &&
		[ "$(field "$out" 0 "(" tx-packets)" = 1000 ] && ok "no hugepages: vfio runs on pinned 4 KiB pages and says so" ||
		fail "no hugepages under vfio" "exit $rc: $out"
else
	[ $rc != 0 ] && echo "$out" | grep -q "hugepages of 2 MiB, 0 free" && ok "no hugepages: says how many and how to get them" ||
		fail "no hugepages" "exit $rc: $out"
fi

"$bypass" restore --all >/dev/null
echo "$passed passed, $failed failed"
[ $failed = 0 ]
