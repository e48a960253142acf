#!/usr/bin/env bash
# Runs inside the lab guest: bypass drives both multi-queue Intel NICs of a
# topology — e1000e (QEMU's 82574L: 2 rx and 2 tx queues, RSS, MSI-X) or igb
# (QEMU's 82576 PF: 16 queues, RSS with UDP, 10 MSI-X vectors).
#   check-mq.sh e1000ex2 on    vfio-pci, DMA through the vIOMMU, MSI-X
#   check-mq.sh e1000ex2 off   uio_pci_generic, physical addresses
#   check-mq.sh igbx2 on       vfio-pci, MSI-X
#   check-mq.sh igbx2 off      bypass_uio (our module), physical addresses
# As in check-e1000.sh: receivers start first, senders wait for their
# readiness line, each test tags its frames with its own --stream, and only
# exact things are asserted (every frame that arrives verifies; paced traffic
# arrives in full; a flow stays on one queue, so its frames stay in order).
set -u
topo=$1 iommu=$2
case $topo:$iommu in
e1000ex2:on) drv=vfio-pci ;;
e1000ex2:off) drv=uio_pci_generic ;;
igbx2:on) drv=vfio-pci ;;
igbx2:off) drv=bypass_uio ;;
*) echo "check-mq.sh: e1000ex2|igbx2 on|off"; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
# nic: the PMD's name in the messages; rssq: rx queues RSS spreads over (all
# the device has); intrq: rx queues with an interrupt each (igb: 10 vectors)
case $topo in
e1000ex2) nic=e1000e a=0000:00:03.0 b=0000:00:04.0 rssq=2 intrq=2 ;;
igbx2) nic=igb a=0000:01:00.0 b=0000:02:00.0 rssq=16 intrq=4 ;;
esac
scratch

"$bypass" bind --driver $drv $a $b >/dev/null || fail "bind to $drv"

sender() { # ARGS...: testpmd txonly on port a, output in $out, exit code in $rc
	out=$(timeout 120 "$testpmd" -l 0 -a $a -- --forward-mode=txonly --stats-period=0 "$@" 2>&1)
	rc=$?
}
queue_rx() { field "$1" 0 "queue $2:" rx-packets; } # OUTPUT QUEUE

# 1. One queue, paced: 3000 numbered, checksummed frames from port a, all
#    received and verified on port b, bytes counted.
n=3000
if receiver paced --forward-mode=rxonly --verify --stream=1 --rx-count=$n --duration=120; then
	sender --stream=1 --tx-count=$n --tx-rate=2000 --txpkts=200
	wait $rpid; rrc=$?
else
	rc=99 rrc=99 out="the receiver never said it was forwarding"
fi
rxo=$(cat "$tmp/paced")
tx=$(field "$out" 0 "(" tx-packets); rx=$(field "$rxo" 0 "(" rx-packets); ver=$(field "$rxo" 0 verify: verified)
if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$tx" = $n ] && [ "$rx" = $n ] && [ "$ver" = $n ] &&
	[ "$(field "$rxo" 0 verify: bad)" = 0 ] && [ "$(field "$rxo" 0 "(" rx-bytes)" = $((n * 200)) ] &&
	[ "$(field "$out" 0 "(" tx-bytes)" = $((n * 200)) ] && echo "$rxo" | grep -q "mbufs in use at exit: 0"; then
	ok "$nic on $drv: $n paced frames sent by one NIC, all received and verified on the other, bytes counted"
else
	fail "$nic on $drv: paced txonly -> rxonly --verify" "exit $rc/$rrc tx=$tx rx=$rx verified=$ver" "$out" "$rxo"
fi

# 2. RSS: 64 flows (source address and port vary) spread over every rx
#    queue of port b; each frame's hash is the Toeplitz hash of its addresses
#    under the port's key, and its queue the one the redirection table names.
#    (Which flow lands where is fixed by the key and the table: the same
#    every run.)
# queues_rx OUTPUT NQ: "q0 q1 ..." the rx packets of each queue; qsum, qzero:
# their sum and how many got none
queues_rx() {
	local q v
	qlist="" qsum=0 qzero=0
	for ((q = 0; q < $2; q++)); do
		v=$(queue_rx "$1" $q)
		qlist+="${v:-0} " qsum=$((qsum + ${v:-0}))
		[ "${v:-0}" -gt 0 ] || qzero=$((qzero + 1))
	done
}
if receiver rss --forward-mode=rxonly --verify --stream=2 --rxq=$rssq --rx-count=$n --duration=120; then
	sender --stream=2 --flows=64 --tx-count=$n --tx-rate=2000 --txpkts=100
	wait $rpid; rrc=$?
else
	rc=99 rrc=99 out="the receiver never said it was forwarding"
fi
rxo=$(cat "$tmp/rss")
queues_rx "$rxo" $rssq
if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$(field "$out" 0 "(" tx-packets)" = $n ] && [ $qzero = 0 ] &&
	[ $qsum = $n ] && [ "$(field "$rxo" 0 verify: verified)" = $n ] &&
	[ "$(field "$rxo" 0 verify: bad)" = 0 ] && [ "$(field "$rxo" 0 verify: lost)" = 0 ] &&
	[ "$(field "$rxo" 0 verify: reordered)" = 0 ] && [ "$(field "$rxo" 0 verify: rss-checked)" = $n ] &&
	[ "$(field "$rxo" 0 verify: rss-bad)" = 0 ] && echo "$rxo" | grep -q "mbufs in use at exit: 0"; then
	ok "$nic on $drv: RSS spreads 64 flows over all $rssq rx queues (${qlist% } = $n), every hash and queue as the key and table say, every flow in order"
else
	fail "$nic on $drv: RSS over $rssq rx queues" "exit $rc/$rrc queues: $qlist" "$out" "$rxo"
fi

# 3. io forwarding on two lcores: port b forwards each of its rx queues back
#    out on the tx queue of the same number, one queue pair per lcore; port a
#    verifies every frame and every flow's order.
if rx_cores=0,1 receiver fwd --forward-mode=io --rxq=2 --txq=2 --fwd-on-main --duration=120; then
	sender --verify --stream=3 --flows=64 --tx-count=1000 --tx-rate=1000 --rx-count=1000 --duration=100
	stop_testpmd $rpid "$tmp/fwd"; frc=$?
else
	rc=99 frc=99 out="the forwarder never said it was forwarding"
fi
fwo=$(cat "$tmp/fwd")
fq0=$(queue_rx "$fwo" 0); fq1=$(queue_rx "$fwo" 1)
fw_rx=$(field "$fwo" 0 "(" rx-packets); fw_tx=$(field "$fwo" 0 "(" tx-packets)
if [ $rc = 0 ] && [ $frc = 0 ] && [ "$(field "$out" 0 "(" tx-packets)" = 1000 ] &&
	[ "$(field "$out" 0 verify: verified)" = 1000 ] && [ "$(field "$out" 0 verify: bad)" = 0 ] &&
	[ "$(field "$out" 0 verify: lost)" = 0 ] && [ "$(field "$out" 0 verify: reordered)" = 0 ] &&
	echo "$fwo" | grep -q "2 forwarding core(s), 2 stream(s)" && [ "${fq0:-0}" -gt 0 ] && [ "${fq1:-0}" -gt 0 ] &&
	[ "${fw_rx:-0}" -ge 1000 ] && [ "$fw_rx" = "$fw_tx" ] &&
	[ "$(field "$fwo" 0 "queue 0:" tx-packets)" = "$fq0" ] && [ "$(field "$fwo" 0 "queue 1:" tx-packets)" = "$fq1" ] &&
	echo "$fwo" | grep -q "mbufs in use at exit: 0"; then
	ok "$nic on $drv: io forwarding on 2 lcores, one queue pair each ($fq0 + $fq1 frames): 1000 sent, forwarded and verified back in order"
else
	fail "$nic on $drv: io forwarding on 2 lcores" "exit $rc/$frc forwarder rx=$fw_rx tx=$fw_tx q0=$fq0 q1=$fq1" "$out" "$fwo"
fi

# 4. Under VFIO, rx interrupts: one MSI-X vector per rx queue (and one for
#    the link). The receiver sleeps until frames come, on every queue.
if [ $drv = vfio-pci ]; then
	if receiver intr --forward-mode=rxonly --verify --stream=4 --rxq=$intrq --rx-mode=interrupt --rx-count=$n --duration=120; then
		# the vectors the device has while the receiver runs
		vecs=$(grep -c "vfio-msix\[.*\]($b)" /proc/interrupts)
		sender --stream=4 --flows=64 --tx-count=$n --tx-rate=2000 --txpkts=100
		wait $rpid; rrc=$?
	else
		rc=99 rrc=99 vecs=0 out="the receiver never said it was forwarding"
	fi
	rxo=$(cat "$tmp/intr")
	queues_rx "$rxo" $intrq
	sleeps=$(echo "$rxo" | sed -n 's/.*the lcores slept \([0-9]*\) times.*/\1/p')
	if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$vecs" -ge $((intrq + 1)) ] && [ "$(field "$rxo" 0 verify: verified)" = $n ] &&
		[ "$(field "$rxo" 0 verify: bad)" = 0 ] && [ $qzero = 0 ] && [ $qsum = $n ] &&
		[ "${sleeps:-0}" -gt 0 ] && echo "$rxo" | grep -q "mbufs in use at exit: 0"; then
		ok "$nic on vfio-pci: rx interrupts, $vecs MSI-X vectors (a queue each, and the link): $n frames on all $intrq queues (${qlist% }), verified; the lcore slept $sleeps times"
	else
		fail "$nic on vfio-pci: rx interrupts over MSI-X" "exit $rc/$rrc vectors=$vecs queues: $qlist sleeps=$sleeps" \
			"$(grep vfio /proc/interrupts)" "$out" "$rxo"
	fi
fi

# 5. kill -9 in the middle of flat-out traffic on two queues; the next run
#    works at once (the device is reset at start, whatever was left in it).
kill9_then_rerun "$nic on $drv" --rxq=2 --txq=2 --flows=16

"$bypass" restore --all >/dev/null
summary
