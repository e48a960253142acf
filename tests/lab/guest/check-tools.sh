#!/usr/bin/env bash
# Runs inside the lab guest (e1000x2, IOMMU on): the everyday tools on real
# kernel drivers.
#   check-tools.sh e1000x2 on
# 1. examples/responder drives 00:04.0 (vfio-pci); the guest kernel's own
#    e1000 driver keeps 00:03.0 and, with an address set here, pings the
#    responder 20 times and arpings it: every one answered.
# 2. bypass-pktgen on 00:03.0 sends through testpmd io on 00:04.0 and back,
#    at a rate the emulator keeps up with: every frame returns intact, with
#    its round-trip time.
# 3. bypass stats reads both processes while they run.
set -u
[ "$1:$2" = e1000x2:on ] || { echo "check-tools.sh needs e1000x2 with the IOMMU (on)"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
a=0000:00:03.0 b=0000:00:04.0
responder=$root/build/examples/responder/bypass-responder
pktgen=$root/build/apps/pktgen/bypass-pktgen
scratch
kv() { echo "$1" | sed -n "s/.* $2=\([0-9]*\).*/\1/p" | tail -n 1; }

# 1. The kernel's e1000 on 00:03.0 pings the responder on 00:04.0. (Checks
#    before this one in the group may have taken 00:03.0: give it back.)
[ "$(basename "$(readlink "/sys/bus/pci/devices/$a/driver")")" = e1000 ] || "$bypass" restore $a >/dev/null 2>&1
for ((i = 0; i < 100; i++)); do
	ifc=$(ls "/sys/bus/pci/devices/$a/net" 2>/dev/null | head -n 1)
	[ -n "$ifc" ] && break
	sleep 0.1 # the kernel's driver probing it: no marker to wait for but the interface
done
"$bypass" bind --driver vfio-pci $b >/dev/null || fail "bind $b to vfio-pci"
if [ -z "$ifc" ]; then
	fail "00:03.0 has a kernel interface" "$(ls -l /sys/bus/pci/devices/$a/driver 2>&1)"
else
	ip addr add 192.0.2.1/24 dev "$ifc" && ip link set "$ifc" up
	"$responder" -l 1 -a $b -- --ip=192.0.2.10 >"$tmp/resp" 2>&1 &
	rp=$!
	if wait_marker "$tmp/resp" "responder: answering" $rp; then
		# the first answer also says the link is up on both sides
		arp=$(arping -c 3 -w 20 -I "$ifc" 192.0.2.10 2>&1)
		png=$(ping -c 20 -i 0.2 -W 5 192.0.2.10 2>&1)
		"$bypass" stats $rp --json >"$tmp/rstats" 2>&1
		stop_testpmd $rp "$tmp/resp"; rc=$?
	else
		arp= png= rc=fail
	fi
	out=$(cat "$tmp/resp")
	mac=$(jq -r '.ports[0].mac' "$tmp/rstats" 2>/dev/null)
	if echo "$png" | grep -q "20 packets transmitted, 20 received, 0% packet loss" && ! echo "$png" | grep -q DUP &&
		echo "$arp" | grep -q "Received 3 response(s)" && [ -n "$mac" ] && echo "$arp" | grep -qi "\[$mac\]" &&
		[ "$rc" = 0 ] && [ "$(kv "$out" echo-replies)" = 20 ] && echo "$out" | grep -q "mbufs in use at exit: 0"; then
		ok "the guest kernel's e1000 pings the responder on vfio-pci: 20 of 20 answered, arping 3 of 3 from $mac"
	else
		fail "the guest kernel pings the responder" "ping: $png" "arping: $arp" "stats: $(cat "$tmp/rstats")" "exit $rc" "$out"
	fi
	ip addr flush dev "$ifc"
	ip link set "$ifc" down
fi

# 2. pktgen through testpmd io and back, paced at 500 frames a second of the
#    IMIX sizes in 4 flows. (QEMU's e1000 holds what arrives in the second
#    after a receiver's RCTL write and hands it over at once: at this rate
#    fewer than a ring's worth.)
"$bypass" bind --driver vfio-pci $a >/dev/null || fail "bind $a to vfio-pci"
if receiver fwd --forward-mode=io --duration=300; then
	fp=$rpid
	timeout 180 "$pktgen" -l 0 -a $a -- --rate=500 --count=2000 --size=imix --flows=4 --drain=2 --json \
		>"$tmp/pg.json" 2>"$tmp/pg.err" &
	pg=$!
	wait_marker "$tmp/pg.err" "pktgen: sending" $pg && s1=$("$bypass" stats $fp --json 2>&1)
	wait $pg; rc=$?
	s2=$("$bypass" stats $fp --json 2>&1)
	stop_testpmd $fp "$tmp/fwd"; frc=$?
else
	rc=99 frc=99 s1= s2=
fi
js=$(cat "$tmp/pg.json")
got=$(echo "$js" | jq -r '[.sent, .received, .lost, .reordered, .bad, .latency_us.n] | map(tostring) | join(" ")' 2>&1)
fwo=$(cat "$tmp/fwd")
if [ "$rc" = 0 ] && [ "$frc" = 0 ] && [ "$got" = "2000 2000 0 0 0 2000" ] &&
	[ "$(field "$fwo" 0 "(" rx-packets)" = 2000 ] && [ "$(field "$fwo" 0 "(" tx-packets)" = 2000 ] &&
	grep -q "mbufs in use at exit: 0" "$tmp/pg.err" && echo "$fwo" | grep -q "mbufs in use at exit: 0"; then
	ok "pktgen through testpmd io and back: 2000 of 2000 IMIX frames, none lost or reordered; round trip $(echo "$js" |
		jq -r '"p50 \(.latency_us.p50) p99 \(.latency_us.p99) p99.9 \(.latency_us.p99_9) max \(.latency_us.max) us"')"
else
	fail "pktgen through testpmd io" "exit $rc/$frc; sent received lost reordered bad n: $got (want 2000 2000 0 0 0 2000)" \
		"$js" "$(cat "$tmp/pg.err")" "$fwo"
fi
# 3. The forwarder's counters, read from outside while it ran, rose.
r1=$(echo "$s1" | jq -e '.ports[0].stats.ipackets' 2>/dev/null) r2=$(echo "$s2" | jq -e '.ports[0].stats.ipackets' 2>/dev/null)
if [ -n "$r1" ] && [ -n "$r2" ] && [ "$r2" -gt "$r1" ] && [ "$r2" -le 2000 ] &&
	[ "$(echo "$s2" | jq -r '.ports[0].driver')" = net_e1000 ]; then
	ok "bypass stats reads the forwarder while it runs: rx counter $r1, then $r2"
else
	fail "bypass stats on the forwarder" "first: $s1" "then: $s2"
fi
summary
