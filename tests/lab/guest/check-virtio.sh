#!/usr/bin/env bash
# Runs inside the lab guest: bypass's virtio PMD drives both virtio-net NICs.
#   check-virtio.sh virtiox2 on          modern virtio (1af4:1041, iommu_platform=on)
#                                        under vfio-pci, DMA through the vIOMMU
#   check-virtio.sh virtio-legacyx2 off  legacy virtio (1af4:1000, I/O-port BAR)
#                                        under uio_pci_generic, physical addresses
# As in check-e1000.sh: receivers start first, senders wait for their
# readiness line, each test tags its frames with its own --stream, and only
# exact things are asserted (every frame that arrives verifies; paced traffic
# arrives in full).
set -u
topo=$1 iommu=$2
case $topo:$iommu in
virtiox2:on) drv=vfio-pci kind=modern ;;
virtio-legacyx2:off) drv=uio_pci_generic kind=legacy ;;
*) echo "check-virtio.sh: virtiox2 on, or virtio-legacyx2 off"; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
a=0000:00:03.0 b=0000:00:04.0
scratch

"$bypass" bind --driver $drv $a $b >/dev/null || fail "bind to $drv"

rx_eal="--log-level info" # the driver logs its interface and features

# 1. Paced: 3000 numbered, checksummed frames from port a, all received and
#    verified on port b, bytes counted; the driver says which interface and
#    features it runs with.
n=3000
if receiver paced --forward-mode=rxonly --verify --stream=1 --rx-count=$n --duration=120; then
	out=$(timeout 120 "$testpmd" -l 0 -a $a -- --forward-mode=txonly --stream=1 --tx-count=$n --tx-rate=2000 \
		--txpkts=200 --stats-period=0 2>&1); rc=$?
	wait $rpid; rrc=$?
else
	rc=99 rrc=99 out="the receiver never said it was forwarding"
fi
rxo=$(cat "$tmp/paced")
tx=$(field "$out" 0 "(" tx-packets); rx=$(field "$rxo" 0 "(" rx-packets)
ver=$(field "$rxo" 0 verify: verified); bad=$(field "$rxo" 0 verify: bad)
feat=$(echo "$rxo" | sed -n 's/.*features \(.*\)/\1/p' | head -n 1)
want_feat=VERSION_1; [ $kind = legacy ] && want_feat=""
[ $kind = modern ] && want_feat="ACCESS_PLATFORM"
if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$tx" = $n ] && [ "$rx" = $n ] && [ "$ver" = $n ] && [ "$bad" = 0 ] &&
	[ "$(field "$rxo" 0 "(" rx-bytes)" = $((n * 200)) ] && echo "$rxo" | grep -q "virtio-net, $kind interface" &&
	{ [ -z "$want_feat" ] || echo "$feat" | grep -q "$want_feat"; } &&
	echo "$rxo" | grep -q "mbufs in use at exit: 0"; then
	ok "$kind virtio on $drv: $n paced frames sent by one NIC, all received and verified on the other, bytes counted (features: ${feat:-legacy})"
else
	fail "$kind virtio on $drv: paced txonly -> rxonly --verify" "exit $rc/$rrc tx=$tx rx=$rx verified=$ver bad=$bad" "$out" "$rxo"
fi

# 2. io forwarding: port b sends back every frame port a sends; port a
#    verifies each one.
if receiver fwd --forward-mode=io --duration=120; then
	out=$(timeout 120 "$testpmd" -l 0 -a $a -- --forward-mode=txonly --verify --stream=3 --tx-count=1000 \
		--tx-rate=1000 --rx-count=1000 --duration=100 --stats-period=0 2>&1); rc=$?
	stop_testpmd $rpid "$tmp/fwd"; frc=$?
else
	rc=99 frc=99 out="the forwarder never said it was forwarding"
fi
fwo=$(cat "$tmp/fwd")
fw_rx=$(field "$fwo" 0 "(" rx-packets); fw_tx=$(field "$fwo" 0 "(" tx-packets)
if [ $rc = 0 ] && [ $frc = 0 ] && [ "$(field "$out" 0 "(" tx-packets)" = 1000 ] &&
	[ "$(field "$out" 0 verify: verified)" = 1000 ] && [ "$(field "$out" 0 verify: bad)" = 0 ] &&
	[ "$(field "$out" 0 verify: lost)" = 0 ] && [ "${fw_rx:-0}" -ge 1000 ] && [ "$fw_rx" = "$fw_tx" ] &&
	echo "$fwo" | grep -q "mbufs in use at exit: 0"; then
	ok "$kind virtio on $drv: io forwarding passes on every frame: 1000 sent, forwarded and verified back"
else
	fail "$kind virtio on $drv: io forwarding" "exit $rc/$frc forwarder rx=$fw_rx tx=$fw_tx" "$out" "$fwo"
fi

# 3. kill -9 in the middle of flat-out traffic; the next run works at once
#    (the device is reset at start, whatever the last owner left in it).
kill9_then_rerun "$kind virtio on $drv"

"$bypass" restore --all >/dev/null
summary
