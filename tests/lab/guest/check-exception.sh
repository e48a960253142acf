#!/usr/bin/env bash
# Runs inside the lab guest (e1000x2): examples/exception on a bypass-driven
# NIC, the exception path crossing a real (emulated) wire.
#   check-exception.sh e1000x2 on|off   (on: vfio-pci with the IOMMU; off: uio_pci_generic)
# 00:03.0 stays with the guest kernel's e1000 and moves into a network
# namespace ("left", 192.0.2.1): its frames cross the wire to 00:04.0, which
# bypass drives. The example's other data port is af_packet on a veth whose
# peer is a namespace "right" (192.0.2.2); its TAP is the guest kernel's
# interface for the example's own address, 192.0.2.10. So:
#  - left pings 192.0.2.10: the ARP and the echo requests reach the kernel
#    only through bypass and the TAP, and the replies only back out of 00:04.0;
#  - left pings right: ARP and echo cross bypass's data path both ways;
#  - 500 numbered frames from left arrive verified in right.
# Readiness: the example's "forwarding" line, then one answered ping (QEMU's
# e1000 refuses frames for a second after the receiver's RCTL write); only
# then are the counts asserted, and they are exact.
set -u
# iproute2, iputils and procps, not the initramfs's busybox applets
PATH=/usr/bin:/usr/sbin:$PATH
[ "$1" = e1000x2 ] || { echo "check-exception.sh needs the e1000x2 topology"; exit 2; }
iommu=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
a=0000:00:03.0 b=0000:00:04.0
drv=vfio-pci; [ "$iommu" = off ] && drv=uio_pci_generic
exc=$root/build/examples/exception/bypass-exception
kpkt=$root/build/tests/host/kpkt
scratch
kfield() { echo "$1" | sed -n "s/.* $2=\([0-9]*\).*/\1/p" | tail -n 1; }

left=bp-left right=bp-right epid=
cleanup() {
	[ -n "$epid" ] && kill "$epid" 2>/dev/null
	ip netns del $left 2>/dev/null
	ip netns del $right 2>/dev/null
	ip link del bpa1 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
L() { ip netns exec $left "$@"; }
R() { ip netns exec $right "$@"; }

# Whatever an earlier check left: 00:03.0 back on the kernel's e1000 (its
# interface appears when the driver has probed it).
"$bypass" restore --all >/dev/null 2>&1
kif=
for ((i = 0; i < 100; i++)); do
	kif=$(ls /sys/bus/pci/devices/$a/net 2>/dev/null | head -n 1)
	[ -n "$kif" ] && break
	sleep 0.1
done
if [ -z "$kif" ] || ! modprobe -q veth || ! modprobe -q tun; then
	fail "exception: set-up" "00:03.0's kernel interface: '${kif}'; veth/tun modules: $(modprobe veth 2>&1; modprobe tun 2>&1)"
	summary; exit
fi
"$bypass" bind --driver $drv $b >/dev/null || fail "bind $b to $drv"
ip netns add $left && ip netns add $right
for n in $left $right; do
	ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link set "$kif" netns $left
L ip link set "$kif" up
L ip addr add 192.0.2.1/24 dev "$kif"
L ip link set lo up
ip link add bpa1 type veth peer name bpb1 netns $right
R ip link set bpb1 up
R ip addr add 192.0.2.2/24 dev bpb1
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
# The guest kernel sees bpa1's frames too: it must answer only through the TAP.
sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.bpa1.arp_ignore=8 2>/dev/null ||
	sysctl -qw net.ipv4.conf.all.rp_filter=1

timeout 300 "$exc" -l 0 -a $b --vdev net_af_packet0,iface=bpa1 --vdev net_tap0,iface=bpx0 -- \
	--ip=192.0.2.10 --uplink=$b --duration=240 >"$tmp/exc" 2>&1 &
epid=$!
ready=0
for ((i = 0; i < 900; i++)); do
	grep -q "^exception: forwarding" "$tmp/exc" && { ready=1; break; }
	kill -0 $epid 2>/dev/null || break
	sleep 0.1
done
line=$(grep "^exception: forwarding" "$tmp/exc")
if [ $ready = 1 ] && echo "$line" | grep -q "forwarding $b <-> net_af_packet0; .* through net_tap0$"; then
	ok "$drv: the exception example forwards $b <-> af_packet, the kernel behind a TAP"
else
	fail "$drv: the exception example starts on $b" "$(cat "$tmp/exc")"
	summary; exit
fi
ip addr add 192.0.2.10/24 dev bpx0
# ready: the first answered ping (QEMU's e1000 holds frames a second after
# the receiver starts; ARP is retried)
answered=0
for ((i = 0; i < 20; i++)); do
	L ping -c 1 -W 2 192.0.2.10 >/dev/null 2>&1 && { answered=1; break; }
done
png=$(L ping -c 20 -i 0.2 -W 5 192.0.2.10 2>&1)
mac=$(cat /sys/class/net/bpx0/address)
neigh=$(L ip neigh show 192.0.2.10 dev "$kif")
if [ $answered = 1 ] && echo "$png" | grep -q "20 packets transmitted, 20 received, 0% packet loss" &&
	! echo "$png" | grep -q DUP && echo "$neigh" | grep -qi "lladdr $mac"; then
	ok "$drv: the kernel on the other NIC resolves the example's IP by ARP (answered by the kernel behind the TAP, with $b's MAC $mac) and pings it across the wire: 20 of 20"
else
	fail "$drv: ping across the wire to the kernel behind the TAP" "answered=$answered neigh: $neigh (TAP $mac)" "$png"
fi
png2=$(L ping -c 5 -i 0.2 -W 5 192.0.2.2 2>&1)
R "$kpkt" recv bpb1 500 300 60 >"$tmp/k" 2>&1 &
kpid=$!
for ((i = 0; i < 300; i++)); do grep -q "kpkt: ready" "$tmp/k" && break; sleep 0.1; done
ksend=$(L "$kpkt" send "$kif" 500 300 2>&1)
wait $kpid; krc=$?
k=$(cat "$tmp/k")
if echo "$png2" | grep -q "5 packets transmitted, 5 received, 0% packet loss" && ! echo "$png2" | grep -q DUP &&
	[ $krc = 0 ] && [ "$(kfield "$k" verified)" = 500 ]; then
	ok "$drv: data crosses bypass's NIC both ways: left pings right 5 of 5 (ARP across), 500 frames from the wire verified on the veth side"
else
	fail "$drv: data across the example" "ping: $png2" "kpkt send: $ksend" "kpkt recv (exit $krc): $k"
fi
stop_testpmd $epid "$tmp/exc"; rc=$?
epid=
out=$(cat "$tmp/exc")
tok=$(kfield "$out" to-kernel) fromk=$(kfield "$out" from-kernel)
# to the kernel: at least the 20 + the readiness echo requests and one ARP;
# from it at least as many replies (the kernel may ARP on its own too)
if [ $rc = 0 ] && [ "${tok:-0}" -ge 21 ] && [ "${fromk:-0}" -ge 21 ] && echo "$out" | grep -q "mbufs in use at exit: 0"; then
	ok "$drv: the example stops on Ctrl-C with every mbuf back (to-kernel=$tok from-kernel=$fromk)"
else
	fail "$drv: the example's exit" "exit $rc" "$out"
fi
summary
