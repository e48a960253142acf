#!/usr/bin/env bash
# Runs inside the lab guest, IOMMU off: bypass's own UIO module.
#   check-bypass-uio.sh e1000x2 off    82540EM: INTx (the chain falls back to it),
#                                      traffic in poll and interrupt mode, link
#                                      events, bind/restore and rmmod/insmod loops,
#                                      unbind under traffic
#   check-bypass-uio.sh e1000ex2 off   82574L: the vector is really MSI-X, then MSI
set -u
topo=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ko=${BYPASS_UIO_KO:-$root/lab/cache/bypass_uio/bypass_uio.ko}
a=0000:00:03.0 b=0000:00:04.0
scratch
drv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
mode_of() { cat "/sys/bus/pci/devices/$1/bypass_uio/intr_mode" 2>/dev/null; }
loaded() { [ -d /sys/module/bypass_uio ]; }
reload() { # intr_mode: with nothing bound, out and in again
	"$bypass" restore --all >/dev/null 2>&1
	! loaded || rmmod bypass_uio || return 1
	modprobe uio && insmod "$ko" intr_mode="$1"
}

if [ "$topo" = e1000ex2 ]; then
	for m in msix msi; do
		reload $m || fail "insmod intr_mode=$m"
		"$bypass" bind --driver bypass_uio $a >/dev/null
		out=$("$root/build/tests/lab/uio-irq" $a 2>&1); rc=$?
		line=$(echo "$out" | grep "^irq:")
		# the kind of vector, as the device's own capability has it enabled
		cap="MSI-X: Enable+"; [ $m = msi ] && cap="MSI: Enable+"
		caps=$(lspci -vv -s $a | grep -oE "MSI(-X)?: Enable[+-]" | tr '\n' ' ')
		if [ $rc = 0 ] && [ "$(mode_of $a)" = $m ] && echo "$line" | grep -q "PCI-MSI.*edge" &&
			echo "$caps" | grep -q "$cap"; then
			ok "82574L with intr_mode=$m: $(echo "$out" | head -n 1) on $(echo "$line" | tr -s ' ' | cut -d' ' -f5-6); lspci: $caps"
		else
			fail "82574L with intr_mode=$m" "exit $rc: $out" "mode $(mode_of $a); lspci: $caps" "$(dmesg | tail -n 5)"
		fi
	done
	reload legacy >/dev/null
	"$bypass" restore --all >/dev/null
	rmmod bypass_uio
else
	# bind loads the module from the lab's build; the 82540EM has no MSI,
	# so the chain msix -> msi -> legacy stops at legacy, and says so
	! loaded || rmmod bypass_uio
	out=$("$bypass" bind --driver bypass_uio $a $b 2>&1); rc=$?
	if [ $rc = 0 ] && [ "$(drv $a)" = bypass_uio ] && [ "$(drv $b)" = bypass_uio ] && [ "$(mode_of $a)" = legacy ] &&
		dmesg | grep -q "$a: interrupts: legacy (msix asked for; the device has no better)"; then
		ok "bind --driver bypass_uio loads the lab's build; the 82540EM gets INTx"
	else
		fail "bind --driver bypass_uio" "exit $rc: $out" "$(dmesg | grep bypass_uio | tail -n 3)"
	fi
	"$bypass" status --json | jq -e --arg a "$a" '.[] | select(.address == $a) | .driver == "bypass_uio" and .driver_kind == "user"' \
		>/dev/null && ok "status shows it on a user-space driver" || fail "status shows bypass_uio" "$("$bypass" status)"

	sender() { # STREAM COUNT RATE
		timeout 120 "$testpmd" -l 0 -a $a -- --forward-mode=txonly --stream="$1" --tx-count="$2" --tx-rate="$3" \
			--stats-period=0 >"$tmp/sender" 2>&1
	}
	# poll mode, then interrupt mode with a link flap in between
	if receiver poll --forward-mode=rxonly --verify --stream=40 --rx-count=1000 --duration=120; then
		sender 40 1000 2000; wait $rpid; rc=$?
	else
		rc=99
	fi
	out=$(cat "$tmp/poll")
	[ $rc = 0 ] && [ "$(field "$out" 0 verify: verified)" = 1000 ] && [ "$(field "$out" 0 verify: bad)" = 0 ] &&
		ok "bypass_uio: 1000 paced frames received and verified, polling" || fail "bypass_uio: poll mode" "exit $rc" "$out"
	if receiver intr --forward-mode=rxonly --rx-mode=interrupt --verify --stream=41 --rx-count=500 --duration=120; then
		"$bypass" lab monitor set_link nic1 off >/dev/null
		for ((i = 0; i < 100; i++)); do grep -q "^port 0: link down" "$tmp/intr" && break; sleep 0.01; done
		"$bypass" lab monitor set_link nic1 on >/dev/null
		for ((i = 0; i < 100; i++)); do grep -q "^port 0: link up" "$tmp/intr" && break; sleep 0.01; done
		sender 41 500 1000; wait $rpid; rc=$?
	else
		rc=99
	fi
	out=$(cat "$tmp/intr")
	[ $rc = 0 ] && [ "$(field "$out" 0 verify: verified)" = 500 ] && echo "$out" | grep -q "^port 0: link down" &&
		echo "$out" | grep -q "^port 0: link up 1000 Mbps" && echo "$out" | grep -q "rx mode interrupt" &&
		ok "bypass_uio: interrupt mode wakes for 500 frames, link down and up heard" ||
		fail "bypass_uio: interrupt mode and link events" "exit $rc" "$out"

	# unbind under traffic: the process loses the device, the kernel stays calm
	"$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --duration=120 --stats-period=0 \
		>"$tmp/victim" 2>&1 &
	victim=$!
	if wait_ready "$tmp/victim" $victim; then
		out=$("$bypass" unbind --force $b 2>&1); rc=$?
		kill -INT $victim; wait $victim
		[ $rc = 0 ] && [ -z "$(drv $b)" ] && ok "unbind --force under traffic: $b left bypass_uio" ||
			fail "unbind under traffic" "exit $rc: $out"
	else
		fail "unbind under traffic" "testpmd did not start: $(cat "$tmp/victim")"
	fi
	"$bypass" restore --all >/dev/null

	# 50 binds and restores, 10 module reloads; the device works after
	bad=0
	for ((i = 0; i < 50; i++)); do
		"$bypass" bind --driver bypass_uio $b >/dev/null 2>&1 && [ "$(drv $b)" = bypass_uio ] || bad=$((bad + 1))
		"$bypass" restore $b >/dev/null 2>&1 && [ "$(drv $b)" = e1000 ] || bad=$((bad + 1))
	done
	[ $bad = 0 ] && ok "50 binds to bypass_uio and restores to e1000" || fail "bind/restore loop" "$bad steps failed"
	bad=0
	for ((i = 0; i < 10; i++)); do
		rmmod bypass_uio || bad=$((bad + 1))
		"$bypass" bind --driver bypass_uio $a $b >/dev/null 2>&1 || bad=$((bad + 1))
		"$bypass" restore --all >/dev/null 2>&1 || bad=$((bad + 1))
	done
	[ $bad = 0 ] && ok "10 rounds of rmmod, insmod (by bind) and restore" || fail "rmmod/insmod loop" "$bad steps failed"
	"$bypass" bind --driver bypass_uio $a $b >/dev/null
	# one process sends and receives: QEMU holds what comes in the second
	# after port b's receiver starts and its ring must take all of it, so
	# the pace stays below 1023 frames in that second
	out=$(timeout 60 "$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --verify --stream=42 \
		--tx-count=1000 --tx-rate=500 --rx-count=1000 --duration=60 --stats-period=0 2>&1); rc=$?
	[ $rc = 0 ] && [ "$(field "$out" 1 verify: verified)" = 1000 ] && ok "and then 1000 paced frames verified" ||
		fail "traffic after the loops" "exit $rc" "$out"
	"$bypass" restore --all >/dev/null
	rmmod bypass_uio
fi

# nothing in the kernel log that should not be there
bad=$(dmesg | grep -E "WARNING:|BUG:|Oops|Call Trace|general protection|bypass_uio.*(leak|error)" | head -n 5)
[ -z "$bad" ] && ok "dmesg: no warning, oops or BUG" || fail "dmesg is clean" "$bad"
summary
