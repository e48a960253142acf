#!/usr/bin/env bash
# Runs inside the lab guest (e1000x2): faults a deployment meets, each survived.
#   check-faults.sh e1000x2 on     both 82540EMs on vfio-pci, behind the IOMMU:
# 1. kill -9 in the middle of flat-out traffic, 20 times in a row: each next
#    run works at once; nothing is left (hugepages, locks, sockets).
# 2. hugepages short at start, or running out in the middle of it (where
#    bypass falls back to pinned 4 KiB pages).
# 3. the mempool runs dry under traffic (tests/lab/rx_faults.c drain).
# 4. rings of 32 descriptors fed bursts of 512.
# 5. an rx descriptor pointing at an IOVA the IOMMU does not map
#    (tests/lab/rx_faults.c bad-iova): the IOMMU blocks the write, the guest
#    kernel logs a DMAR fault, which this check expects and check-dmesg.sh,
#    run after it, then does not count (see lib.sh's expected_faults).
#   check-faults.sh e1000x2 off    both on uio_pci_generic, no IOMMU:
# 6. hugepages running out in the middle of start are a hard failure there
#    (physical addresses need pages that stay put): one line, nothing kept,
#    and the next run works at once. The rest is covered with the IOMMU on.
set -u
[ "$1" = e1000x2 ] && { [ "$2" = on ] || [ "$2" = off ]; } ||
	{ echo "check-faults.sh needs the e1000x2 topology, with the IOMMU on or off"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export PATH=/usr/bin:/usr/sbin:$PATH
a=0000:00:03.0 b=0000:00:04.0
rxf=$root/build/tests/lab/rx-faults
scratch
hp_free() { awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo; }
t0=$SECONDS
took() { echo "  ($((SECONDS - t0)) s so far)"; }
# What a run leaves under the run folder (the lock files and the statistics
# sockets, lib/pci/pci.c and lib/telemetry/server.c): BYPASS_RUNDIR is not
# set here, so /run/bypass (as root).
run=/run/bypass
# the run folder's lock files a process still holds (an flock shows in
# /proc/locks as MAJOR:MINOR:INODE)
locks_held() {
	local f ino
	for f in "$run"/lock-*; do
		ino=$(stat -c %i "$f" 2>/dev/null) && grep -q ":$ino " /proc/locks && echo "$f"
	done
}
# files in a hugetlbfs mount (bypass takes hugepages from memfd: none)
huge_files() { mountpoint -q /dev/hugepages 2>/dev/null && find /dev/hugepages -mindepth 1 | head -n 3; }
# Smaller rings and pool than testpmd's defaults: a start under TCG costs
# less, and 21 of them (kill -9, below) must fit the lab's time.
k9_opts=(--nb-mbufs=2048 --rxd=256 --txd=256)

if [ "$2" = off ]; then
	# ---- 6. hugepages run out in the middle of start, no IOMMU ----
	drv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
	"$bypass" bind --driver uio_pci_generic $a $b >/dev/null || fail "bind to uio_pci_generic"
	nr0=$(cat /proc/sys/vm/nr_hugepages)
	free0=$(hp_free)
	others=$((nr0 - free0)) # pages someone else holds
	# one testpmd on both ports: txonly on a, rxonly --verify on b, frames of
	# 200 bytes (each run adds a --stream of its own)
	pmd=(-l 0,1 -a "$a" -a "$b" -- --forward-mode=rxonly --port-mode=0:txonly --verify --txpkts=200
		--tx-count=3000 --tx-rate=1000 "${k9_opts[@]}")
	# (a) What a run takes, counted while it moves verified traffic: its
	# mempool's pages, then a page per ring (each zone takes whole pages),
	# port a's rings before port b's.
	"$testpmd" "${pmd[@]}" --stream=300 --duration=100 --stats-period=0.2 >"$tmp/measure" 2>&1 &
	pid=$!
	used=""
	wait_verified "$tmp/measure" $pid 1 200 60 && used=$((free0 - $(hp_free)))
	stop_testpmd $pid "$tmp/measure"; rc=$?
	out=$(cat "$tmp/measure")
	if [ $rc = 0 ] && [ "${used:-0}" -gt 4 ] && [ "$(field "$out" 1 verify: bad)" = 0 ] &&
		echo "$out" | grep -q "mbufs in use at exit: 0" && [ "$(hp_free)" = "$free0" ]; then
		ok "uio_pci_generic: a run takes $used hugepages ($((used - 4)) for its pool, one per ring) and moves verified traffic ($(field "$out" 1 verify: verified) frames)"
	else
		fail "uio_pci_generic: a run's hugepages" "exit $rc, took ${used:-?} (HugePages_Free $(hp_free), was $free0)" "$out"
		used=""
	fi
	took
	# (b) One page short: the pool and three rings fit, port b's tx ring
	# (the last zone) does not. Without an IOMMU nothing can stand in for
	# hugepages: start fails with one line naming the zone and how many to
	# reserve (what this run takes, exactly), and every page it took first
	# comes back.
	if [ -n "$used" ]; then
		echo $((others + used - 1)) >/proc/sys/vm/nr_hugepages
		free_b=$(hp_free)
		out=$(timeout 60 "$testpmd" "${pmd[@]}" --stream=301 --duration=100 --stats-period=0 2>&1); rc=$?
		after=$(hp_free)
		err=$(echo "$out" | grep "bypass: error")
		want="e1000_tx: need 1 hugepages of 2 MiB, 0 free; reserve them with 'echo $((others + used)) > /proc/sys/vm/nr_hugepages' or more (this process holds $((used - 1)) already): physical addressing (uio_pci_generic) works only from hugepages"
		left=$(huge_files) locked=$(locks_held) socks=$(find "$run/telemetry" -mindepth 1 2>/dev/null | tr '\n' ' ')
		if [ $rc != 0 ] && [ $rc != 124 ] && [ "$err" = "bypass: error: $want" ] && one_line_error "$out" &&
			echo "$out" | grep -q "^testpmd: port 1 ($b) could not be started" && ! echo "$out" | grep -q "forwarding started" &&
			[ "$free_b" = $((used - 1)) ] && [ "$after" = "$free_b" ] && [ -z "$left" ] && [ -z "$locked" ] && [ -z "$socks" ] &&
			[ "$(drv $a)" = uio_pci_generic ] && [ "$(drv $b)" = uio_pci_generic ]; then
			ok "hugepages run out mid-start on uio_pci_generic ($free_b free for a run that takes $used): exit $rc, one line: $want"
			ok "after it: all $free_b hugepages free again (the $((used - 1)) the pool and three rings took came back), no hugetlbfs file, no lock held, no socket, both NICs still on uio_pci_generic"
		else
			fail "hugepages run out mid-start on uio_pci_generic" "exit $rc; HugePages_Free $free_b before, $after after" \
				"hugetlbfs: $left" "locks held: $locked" "sockets: $socks" "drivers: $(drv $a) $(drv $b)" \
				"expected the one error line: $want" "$out"
		fi
		echo "$nr0" >/proc/sys/vm/nr_hugepages
		# (c) With the pages back, the next run starts at once and moves
		# verified traffic: every frame b takes is ours or counted as
		# another run's, all 200 bytes each.
		out=$(timeout 120 "$testpmd" "${pmd[@]}" --stream=302 --rx-count=200 --duration=100 --stats-period=0 2>&1); rc=$?
		ver=$(field "$out" 1 verify: verified) rx=$(field "$out" 1 "(" rx-packets) tx=$(field "$out" 0 "(" tx-packets)
		if [ $rc = 0 ] && [ "$(cat /proc/sys/vm/nr_hugepages)" = "$nr0" ] && [ "${ver:-0}" -ge 200 ] &&
			[ "$(field "$out" 1 verify: bad)" = 0 ] && [ "$(field "$out" 1 verify: reordered)" = 0 ] &&
			[ "$rx" = $((ver + $(field "$out" 1 verify: not-ours))) ] &&
			[ "$(field "$out" 1 "(" rx-bytes)" = $((rx * 200)) ] && [ "$(field "$out" 0 "(" tx-bytes)" = $((tx * 200)) ] &&
			! echo "$out" | grep -q "bypass: error" && echo "$out" | grep -q "mbufs in use at exit: 0" &&
			[ "$(hp_free)" = "$free0" ]; then
			ok "the next run, nr_hugepages back at $nr0, works at once: $ver frames verified, $((rx * 200)) bytes received, every hugepage back at exit"
		else
			fail "the run after hugepages ran out mid-start" "exit $rc, nr_hugepages $(cat /proc/sys/vm/nr_hugepages), HugePages_Free $(hp_free) (was $free0)" "$out"
		fi
	fi
	echo "$nr0" >/proc/sys/vm/nr_hugepages
	"$bypass" restore --all >/dev/null
	[ "$(cat /proc/sys/vm/nr_hugepages)" = "$nr0" ] && [ "$(drv $a)" = e1000 ] && [ "$(drv $b)" = e1000 ] &&
		ok "restored: nr_hugepages $nr0, both NICs on e1000" ||
		fail "restore" "nr_hugepages $(cat /proc/sys/vm/nr_hugepages) (was $nr0); drivers $(drv $a) $(drv $b)"
	took
	summary
	exit
fi

"$bypass" bind --driver vfio-pci $a $b >/dev/null || fail "bind to vfio-pci"
free0=$(hp_free)

# ---- 1. kill -9, 20 times in a row ----
# 21 runs of testpmd in a row, flat out from port a (txonly) to port b
# (rxonly --verify), each tagged with a --stream of its own. Each must verify
# 200 frames of its own, none bad or out of order, as soon as it runs (its
# live statistics say so while it runs): so each proves that the kill -9
# before it left both devices usable at once. Then it is killed with -9, in
# the middle of its traffic; the 21st stops with Ctrl-C instead and must give
# every mbuf back. Smaller rings and pool than testpmd's defaults: a start
# under TCG costs less, and 21 of them must fit the lab's time.
k9_opts=(--nb-mbufs=2048 --rxd=256 --txd=256)
find "$run" -mindepth 1 2>/dev/null | sort >"$tmp/run-before"
bad=0 msgs="" left=0 removed=0 prev="" used=""
for ((i = 0; i <= 20; i++)); do
	"$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --verify --stream=$((100 + i)) \
		--duration=120 --stats-period=0.2 "${k9_opts[@]}" >"$tmp/run$i" 2>&1 &
	pid=$!
	if wait_verified "$tmp/run$i" $pid 1 200 60 && echo "$live" | grep -q " bad=0 .*reordered=0"; then
		[ -n "$used" ] || used=$((free0 - $(hp_free)))
		# the socket the victim before left: this run's start removed it
		[ -n "$prev" ] && [ ! -e "$run/telemetry/$prev.sock" ] && removed=$((removed + 1))
	else
		bad=$((bad + 1)); msgs+="run $i: ${live:-no live line}; $(tail -n 4 "$tmp/run$i")"$'\n'
	fi
	if [ $i -lt 20 ]; then
		kill -9 $pid; wait $pid 2>/dev/null
		[ -S "$run/telemetry/$pid.sock" ] && left=$((left + 1)) # no bp_cleanup ran
		prev=$pid
	else
		stop_testpmd $pid "$tmp/run$i"; rc=$?
		out=$(cat "$tmp/run$i")
		[ $rc = 0 ] && [ "$(field "$out" 1 verify: bad)" = 0 ] && [ "$(field "$out" 1 verify: reordered)" = 0 ] &&
			echo "$out" | grep -q "mbufs in use at exit: 0" || { bad=$((bad + 1)); msgs+="the last run: exit $rc; $out"; }
	fi
done
[ $bad = 0 ] && [ $left = 20 ] && [ $removed = 20 ] &&
	ok "kill -9 in the middle of flat-out traffic, 20 times: each next run verified 200 frames of its own at once (none bad or out of order) and removed the socket the victim left; the last stopped cleanly with every mbuf back ($(field "$out" 1 verify: verified) verified)" ||
	fail "kill -9 twenty times" "$bad runs failed; $left victims left a socket, $removed were removed by the next run" "$msgs"
# After all that: every hugepage back, no hugetlbfs file, no lock held, no
# socket, and in the run folder nothing new but a lock file per device.
locked=$(locks_held)
find "$run" -mindepth 1 | sort >"$tmp/run-after"
new=$(comm -13 "$tmp/run-before" "$tmp/run-after" | grep -vxE "$run/(lock-$a|lock-$b|telemetry)" | tr '\n' ' ')
socks=$(find "$run/telemetry" -mindepth 1 2>/dev/null | tr '\n' ' ')
huge_files=$(huge_files)
if [ "$(hp_free)" = "$free0" ] && [ -z "$huge_files" ] && [ -z "$locked" ] && [ -z "$new" ] && [ -z "$socks" ] &&
	[ -e "$run/lock-$a" ] && [ -e "$run/lock-$b" ]; then
	ok "after 20 kills: HugePages_Free back at $free0 (a run took $used), no hugetlbfs file, the two lock files held by no one, no socket left"
else
	fail "nothing left after 20 kills" "HugePages_Free $(hp_free), was $free0" "hugetlbfs: $huge_files" \
		"locks held: $locked" "new in $run: $new" "sockets: $socks"
fi
took

# ---- 2. hugepages short ----
nr0=$(cat /proc/sys/vm/nr_hugepages)
# (a) A process whose memory no IOMMU translates needs hugepages and says
# how many; behind the IOMMU (vfio-pci) bypass falls back to pinned 4 KiB
# pages instead (check-e1000.sh), so this run has software ports only and
# leaves the NICs alone (-b).
echo 2 > /proc/sys/vm/nr_hugepages
free_a=$(hp_free)
out=$(timeout 60 "$testpmd" -l 0 -b $a -b $b --vdev net_null0 -- --duration=1 --stats-period=0 2>&1); rc=$?
if [ $rc != 0 ] && echo "$out" | grep -qE "need [0-9]+ hugepages of 2 MiB, $free_a free; reserve them" &&
	one_line_error "$out" && [ "$(hp_free)" = "$free_a" ]; then
	ok "too few hugepages: one line ($(echo "$out" | grep -oE 'need [0-9]+ hugepages of 2 MiB, [0-9]+ free')), exit $rc, all $free_a pages still free"
else
	fail "too few hugepages" "exit $rc, HugePages_Free $(hp_free) (was $free_a)" "$out"
fi
# (b) Running out in the middle of start: enough pages for the mempool and
# port 0's rx ring (each zone takes whole pages), none for the rest. Under
# vfio-pci the rest falls back to pinned 4 KiB pages with one line naming
# the zone and the fix; the run moves verified traffic; every page comes
# back at exit; the next run, with hugepages, works at once.
if [ "${used:-0}" -gt 4 ]; then
	# a run (of k9_opts, as measured above) takes the pool's pages and one
	# per ring (4 rings)
	echo $((used - 4 + 1)) > /proc/sys/vm/nr_hugepages
	free_b=$(hp_free)
	out=$(timeout 120 "$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --verify \
		--stream=200 --tx-count=3000 --tx-rate=1000 --rx-count=200 --duration=100 --stats-period=0 \
		"${k9_opts[@]}" 2>&1); rc=$?
	after=$(hp_free)
	echo "$nr0" > /proc/sys/vm/nr_hugepages
	warn=$(echo "$out" | grep "hugepages of 2 MiB needed, 0 free: using pinned 4 KiB pages")
	ver=$(field "$out" 1 verify: verified)
	if [ $rc = 0 ] && [ "$(echo "$warn" | grep -c .)" = 1 ] && echo "$warn" | grep -q "e1000_tx" &&
		[ "${ver:-0}" -ge 200 ] && [ "$(field "$out" 1 verify: bad)" = 0 ] && [ "$after" = "$free_b" ] &&
		echo "$out" | grep -q "mbufs in use at exit: 0"; then
		ok "hugepages run out mid-start ($free_b for a run that takes $used): one line names the zone ($(echo "$warn" | grep -oE 'e1000_tx: [^:]*')), $ver frames verified, all $free_b pages back at exit"
	else
		fail "hugepages run out mid-start" "exit $rc, $free_b free before, $after after; verified $ver" "$out"
	fi
	out=$(timeout 120 "$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --verify \
		--stream=201 --tx-count=3000 --tx-rate=1000 --rx-count=200 --duration=100 --stats-period=0 \
		"${k9_opts[@]}" 2>&1); rc=$?
	ver=$(field "$out" 1 verify: verified)
	[ $rc = 0 ] && [ "${ver:-0}" -ge 200 ] && ! echo "$out" | grep -q "4 KiB pages" && [ "$(hp_free)" = "$free0" ] &&
		ok "the next run, with hugepages reserved again, works at once: $ver frames verified" ||
		fail "the run after hugepages ran out" "exit $rc" "$out"
else
	fail "hugepages run out mid-start" "no run's hugepages were measured (the kill -9 runs failed)"
fi
echo "$nr0" > /proc/sys/vm/nr_hugepages
took

# ---- 3. the mempool runs dry under traffic ----
out=$(timeout 120 "$rxf" drain $a $b 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "^rx-faults: ok" &&
	ok "mempool dry under traffic: $(echo "$out" | grep '^pool empty:'); then $(echo "$out" | grep '^after the release:')" ||
	fail "mempool dry under traffic" "exit $rc" "$out"
took

# ---- 4. rings of 32 descriptors, bursts of 512 ----
# The receiver starts first; the sender is paced. txonly keeps what a full
# 32-entry tx ring refuses for its next burst, so exactly --tx-count frames
# are sent. A 32-entry rx ring holds 16 ms of frames at 2000/s, less than a
# TCG guest's scheduling hiccups: the emulator drops what arrives meanwhile
# (here half of them), so the exact relations are asserted: every frame that
# arrives verifies, in order, and the losses are the sequence's gaps.
n=2000
if receiver ring32 --forward-mode=rxonly --verify --stream=210 --rxd=32 --txd=32 --burst=512 --rx-count=$n --duration=60; then
	out=$(timeout 60 "$testpmd" -l 0 -a $a -- --forward-mode=txonly --stream=210 --rxd=32 --txd=32 --burst=512 \
		--tx-count=$n --tx-rate=2000 --stats-period=0 2>&1); rc=$?
	stop_testpmd $rpid "$tmp/ring32"; rrc=$?
else
	rc=99 rrc=99 out="the receiver never said it was forwarding"
fi
rxo=$(cat "$tmp/ring32")
tx=$(field "$out" 0 "(" tx-packets); ver=$(field "$rxo" 0 verify: verified); bad=$(field "$rxo" 0 verify: bad)
lost=$(field "$rxo" 0 verify: lost); reord=$(field "$rxo" 0 verify: reordered); next=$(field "$rxo" 0 verify: next-seq)
if [ $rc = 0 ] && [ "$tx" = $n ] && [ "$(field "$out" 0 "(" tx-dropped)" = 0 ] && [ "${ver:-0}" -gt 0 ] &&
	[ "$bad" = 0 ] && [ "$reord" = 0 ] && [ $((lost + n - next)) = $((n - ver)) ] &&
	echo "$rxo" | grep -q "mbufs in use at exit: 0" && echo "$out" | grep -q "mbufs in use at exit: 0"; then
	ok "rings of 32, bursts of 512: $n sent exactly, $ver verified in order, $((n - ver)) lost = $lost in gaps + $((n - next)) after the last"
else
	fail "rings of 32, bursts of 512" "exit $rc/$rrc tx=$tx verified=$ver bad=$bad lost=$lost reordered=$reord next-seq=$next" "$out" "$rxo"
fi
# io forwarding on 32-entry rings: port b sends back what port a sends; a
# verifies every frame it gets back
if receiver io32 --forward-mode=io --rxd=32 --txd=32 --burst=512 --duration=60; then
	out=$(timeout 60 "$testpmd" -l 0 -a $a -- --forward-mode=txonly --verify --stream=211 --rxd=32 --txd=32 \
		--burst=512 --tx-count=2000 --tx-rate=1000 --rx-count=2000 --duration=5 --stats-period=0 2>&1); rc=$?
	stop_testpmd $rpid "$tmp/io32"; frc=$?
else
	rc=99 frc=99 out="the forwarder never said it was forwarding"
fi
fwo=$(cat "$tmp/io32")
ver=$(field "$out" 0 verify: verified)
if [ $rc = 0 ] && [ $frc = 0 ] && [ "$(field "$out" 0 "(" tx-packets)" = 2000 ] && [ "${ver:-0}" -gt 0 ] &&
	[ "$(field "$out" 0 verify: bad)" = 0 ] && [ "$(field "$out" 0 verify: reordered)" = 0 ] &&
	[ "$(field "$fwo" 0 "(" rx-packets)" = "$(field "$fwo" 0 "(" tx-packets)" ] &&
	echo "$fwo" | grep -q "mbufs in use at exit: 0" && echo "$out" | grep -q "mbufs in use at exit: 0"; then
	ok "io forwarding on rings of 32, bursts of 512: 2000 sent, $ver verified back, the forwarder sent all it took"
else
	fail "io forwarding on rings of 32" "exit $rc/$frc" "$out" "$fwo"
fi
took

# ---- 5. a DMA to an IOVA the IOMMU does not map ----
out=$(timeout 120 "$rxf" bad-iova $a $b 2>&1); rc=$?
iova=$(echo "$out" | sed -n 's/^bad-iova: .* points at \(0x[0-9a-f]*\),.*/\1/p')
dev=${b#0000:}
# The fault is reported through the IOMMU's fault event interrupt: wait for
# the kernel's line (a readiness marker, not a sleep).
line=""
for ((i = 0; i < 50; i++)); do
	[ -n "$iova" ] || break
	line=$(dmesg | grep -F "Request device [$dev] fault addr $iova [" | head -n 1)
	[ -n "$line" ] && break
	sleep 0.1
done
[ -n "$iova" ] && echo "$dev $iova" >>"$expected_faults"
[ $rc = 0 ] && echo "$out" | grep -q "^rx-faults: ok" && [ -n "$line" ] &&
	ok "a descriptor pointing at unmapped IOVA $iova: the IOMMU blocked the write and the kernel logged it ($(echo "$line" | sed 's/^\[[^]]*\] //')); $(echo "$out" | grep '^bad-iova: the frame'); $(echo "$out" | grep '^after the bad'); $(echo "$out" | grep '^canary:')" ||
	fail "a DMA to an unmapped IOVA" "exit $rc; the kernel's line: ${line:-none for $dev at ${iova:-?}}" "$out" "$(dmesg | grep DMAR | tail -n 5)"
took

"$bypass" restore --all >/dev/null
summary
