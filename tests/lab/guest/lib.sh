# Sourced by the guest-side checks: results, testpmd's summary fields, and
# waiting for a readiness marker instead of sleeping.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
bypass=$root/build/tools/bypass
testpmd=$root/build/apps/testpmd/bypass-testpmd
# IOMMU faults a check provokes on purpose, one "DEVICE ADDRESS" line each
# (e.g. "00:04.0 0x4000000000", as the kernel's DMAR line names them):
# check-dmesg.sh fails on every other DMAR fault. In the guest's /run, so it
# lasts one boot, as the kernel log does.
expected_faults=/run/bypass-lab-expected-faults
# scratch: a temporary folder in $tmp, removed when the script exits
scratch() { tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; }
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; shift; for l in "$@"; do printf "%s\n" "$l" | sed "s/^/    /"; done; failed=$((failed + 1)); }
# field OUTPUT PORT KIND NAME: NAME=value from testpmd's "port P (..." or "port P verify:" line
field() { echo "$1" | grep "^port $2 $3" | sed -n "s/.* $4=\([0-9]*\).*/\1/p"; }
one_line_error() { [ "$(echo "$1" | grep -c 'bypass: error')" = 1 ]; }
# wait_for PID SECONDS COMMAND...: until COMMAND succeeds (tried every 0.1 s);
# fails if PID ends first or after SECONDS.
wait_for() {
	local pid=$1 tenths=$(($2 * 10)) i
	shift 2
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# wait_marker FILE PATTERN PID: until FILE holds PATTERN (fails if PID ends or after 90 s)
wait_marker() { wait_for "$3" 90 grep -qs "$2" "$1"; }
# wait_ready FILE PID [SECONDS]: until FILE holds testpmd's "forwarding started"
# (its ports are started and polled); fails if PID ends first or after SECONDS.
wait_ready() { wait_for "$2" "${3:-90}" grep -qs "^testpmd: forwarding started" "$1"; }
# wait_verified FILE PID PORT N [SECONDS]: until testpmd's live statistics
# (--verify with --stats-period) in FILE say PORT has verified N frames or
# more; that line is then in $live.
live_verified() {
	live=$(grep -s "^port $2 verified so far:" "$1" | tail -n 1)
	[ "$(echo "$live" | sed -n 's/.* verified=\([0-9]*\).*/\1/p')" -ge "$3" ] 2>/dev/null
}
wait_verified() { wait_for "$2" "${5:-90}" live_verified "$1" "$3" "$4"; }
# receiver NAME ARGS...: testpmd on port $b in the background, its output in
# $tmp/NAME and its pid in $rpid; returns once it forwards (fails if it never
# does). On lcore 1, or on $rx_cores; $rx_eal: more environment options.
receiver() {
	local name=$1; shift
	# shellcheck disable=SC2086
	"$testpmd" -l "${rx_cores:-1}" -a "$b" ${rx_eal:-} -- "$@" --stats-period=0 >"$tmp/$name" 2>&1 &
	rpid=$!
	wait_ready "$tmp/$name" $rpid || { kill $rpid 2>/dev/null; return 1; }
}
# kill9_then_rerun WHAT OPTIONS...: testpmd on ports $a (txonly) and $b
# (rxonly) flat out with OPTIONS is killed with -9 once it forwards; the next
# run, paced with the same OPTIONS, must work at once (the device is reset at
# start, whatever the last owner left in it): 200 frames or more verified,
# none bad or out of order, every mbuf back.
kill9_then_rerun() {
	local what=$1 victim rc out ver; shift
	"$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --stream=90 --duration=600 \
		--stats-period=0 "$@" >"$tmp/victim" 2>&1 &
	victim=$!
	if ! wait_ready "$tmp/victim" $victim; then
		kill -9 $victim 2>/dev/null
		fail "$what: kill -9" "the first never said it was forwarding: $(cat "$tmp/victim")"
		return
	fi
	kill -9 $victim; wait $victim 2>/dev/null
	out=$(timeout 120 "$testpmd" -l 0,1 -a $a -a $b -- --forward-mode=rxonly --port-mode=0:txonly --verify \
		--stream=91 --tx-count=3000 --tx-rate=1000 --rx-count=200 --duration=100 --stats-period=0 "$@" 2>&1); rc=$?
	ver=$(field "$out" 1 verify: verified)
	if [ $rc = 0 ] && [ "${ver:-0}" -ge 200 ] && [ "$(field "$out" 1 verify: bad)" = 0 ] &&
		[ "$(field "$out" 1 verify: reordered)" = 0 ] && echo "$out" | grep -q "mbufs in use at exit: 0"; then
		ok "$what: after kill -9 the next run works at once: $ver of its frames verified"
	else
		fail "$what: after kill -9 the next run works at once" "exit $rc" "$out"
	fi
}
summary() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; }
# stop_testpmd PID FILE [SECONDS]: Ctrl-C to a testpmd in the background, and
# its exit status once it ends (default: within 30 s). One that does not end
# is a failure that says where it hangs: each thread's state, kernel wait
# channel and system call are appended to FILE (its output), then it is killed
# (124). Without this, a hung receiver would hang the whole guest.
stop_testpmd() {
	local pid=$1 file=$2 tenths=$((${3:-30} * 10)) i t st
	kill -INT "$pid" 2>/dev/null
	for ((i = 0; i < tenths; i++)); do
		st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
		if [ -z "$st" ] || [ "$st" = Z ]; then
			wait "$pid"
			return $?
		fi
		sleep 0.1
	done
	{
		echo "testpmd $pid did not stop within ${3:-30} s of SIGINT; its threads:"
		for t in /proc/"$pid"/task/*; do
			echo "  $(cat "$t/comm" 2>/dev/null): state $(awk '{ print $3 }' "$t/stat" 2>/dev/null)," \
				"wchan $(cat "$t/wchan" 2>/dev/null), syscall $(cut -d' ' -f1 "$t/syscall" 2>/dev/null)"
		done
	} >>"$file"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}
