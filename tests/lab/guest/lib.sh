# Sourced by the guest-side checks: results, testpmd's summary fields, and
# waiting for a readiness marker instead of sleeping.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
bypass=$root/build/tools/bypass
testpmd=$root/build/apps/testpmd/bypass-testpmd
# scratch: a temporary folder in $tmp, removed when the script exits
scratch() { tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; }
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; shift; for l in "$@"; do printf "%s\n" "$l" | sed "s/^/    /"; done; failed=$((failed + 1)); }
# field OUTPUT PORT KIND NAME: NAME=value from testpmd's "port P (..." or "port P verify:" line
field() { echo "$1" | grep "^port $2 $3" | sed -n "s/.* $4=\([0-9]*\).*/\1/p"; }
one_line_error() { [ "$(echo "$1" | grep -c 'bypass: error')" = 1 ]; }
# wait_ready FILE PID [SECONDS]: until FILE holds testpmd's "forwarding started"
# (its ports are started and polled); fails if PID ends first or after SECONDS.
wait_ready() {
	local file=$1 pid=$2 tenths=$((${3:-90} * 10)) i
	for ((i = 0; i < tenths; i++)); do
		grep -q "^testpmd: forwarding started" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
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
