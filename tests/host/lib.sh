# Shared by the host test scripts (sourced): results and testpmd's summary.
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; shift; for l in "$@"; do echo "$l" | sed 's/^/    /'; done; failed=$((failed + 1)); }
field() { # OUTPUT PORT PREFIX KEY: value of KEY= on the line starting "port P PREFIX"
	echo "$1" | awk -v p="port $2 $3" -v k="$4" 'index($0, p) == 1 {
		for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }'
}
wait_for() { # FILE PATTERN PID: until PATTERN is in FILE (or PID ended)
	for ((i = 0; i < 600; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -q "$2" "$1" 2>/dev/null; return; }
		sleep 0.05
	done
	return 1
}
