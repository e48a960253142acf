#!/usr/bin/env bash
# Runs inside the lab guest (e1000x2, IOMMU on): bypass with least privilege.
#   check-privilege.sh e1000x2 on
# Root only binds (bypass bind) and hands the user the VFIO group nodes; then
# an ordinary user (uid 1000, no capabilities, no /etc/passwd entry needed)
# moves verified traffic on hugepages from a memfd and from a hugetlbfs mount
# of its own; a too-low RLIMIT_MEMLOCK fails in one line naming `ulimit -l`;
# and the run path, as root and as the user, works with /sys read-only (and
# strace sees no write under /sys).
set -u
[ "$1" = e1000x2 ] && [ "$2" = on ] || { echo "check-privilege.sh needs e1000x2 with the IOMMU on"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
a=0000:00:03.0 b=0000:00:04.0
uid=1000
scratch
real_testpmd=$testpmd
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
free_pages() { cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages; }
# VFIO pins every page it maps, charged to RLIMIT_MEMLOCK for a user without
# CAP_IPC_LOCK (the guest's default is 8 MiB, below testpmd's pool): the
# user's runs get room unless a check lowers it on purpose.
ulimit -l unlimited

# Wrappers for lib.sh's receiver and the senders: testpmd as the user, and
# either of them in a mount namespace of its own with /sys read-only. Each
# execs the next, so a pid taken from them is testpmd's. util-linux's tools
# by full path: the guest's busybox has applets of the same names that lack
# these options (and its sh prefers them).
cat >"$tmp/as-user" <<EOF
#!/usr/bin/bash
exec /usr/bin/setpriv --reuid=$uid --regid=$uid --clear-groups /usr/bin/env HOME=/tmp "\$@"
EOF
cat >"$tmp/ro-sys" <<'EOF'
#!/usr/bin/bash
exec /usr/bin/unshare -m /usr/bin/bash -c '/usr/bin/mount -o remount,ro,bind /sys || exit 97
	! /usr/bin/touch /sys/bypass-probe 2>/dev/null || exit 98
	exec "$@"' sh "$@"
EOF
printf '#!/usr/bin/bash\nexec %s %s "$@"\n' "$tmp/as-user" "$real_testpmd" >"$tmp/testpmd-user"
printf '#!/usr/bin/bash\nexec %s %s "$@"\n' "$tmp/ro-sys" "$real_testpmd" >"$tmp/testpmd-ro"
printf '#!/usr/bin/bash\nexec %s %s %s "$@"\n' "$tmp/ro-sys" "$tmp/as-user" "$real_testpmd" >"$tmp/testpmd-user-ro"
chmod 755 "$tmp"/as-user "$tmp"/ro-sys "$tmp"/testpmd-*

caps=$("$tmp/as-user" grep CapEff /proc/self/status | awk '{ print $2 }')
[ "$caps" = 0000000000000000 ] && ok "the user ($uid) runs with no capabilities" ||
	fail "the user runs with no capabilities" "CapEff: $caps"

"$bypass" bind --driver vfio-pci $a $b >/dev/null || fail "bind to vfio-pci"
ga=$(group_of $a) gb=$(group_of $b)
# Before the user owns the group: refused in one line that says what to do.
out=$(timeout 60 "$tmp/testpmd-user" -l 0 -a $a -- --duration=1 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "cannot open /dev/vfio/$ga: Permission denied (give this user the device node: chown USER /dev/vfio/N)" &&
	one_line_error "$out" && ok "a group the user does not own is refused in one line naming chown" ||
	fail "a group the user does not own" "exit $rc" "$out"
chown $uid:$uid /dev/vfio/$ga /dev/vfio/$gb

# 1. The user, hugepages from a memfd: n paced frames from a to b, every one
# received and verified, bytes counted, every mbuf back. While the receiver
# runs: root is refused the device with the user's pid (the user's lock is in
# /tmp, root's would be in /run/bypass), and the user reads its statistics
# socket (in /tmp/bypass-UID: no XDG_RUNTIME_DIR here).
n=1000
testpmd=$tmp/testpmd-user
if receiver paced --forward-mode=rxonly --verify --stream=1 --rx-count=$n --duration=120 --rxd=4096; then
	busy=$(timeout 30 "$real_testpmd" -l 0 -a $b -- --duration=1 2>&1); brc=$?
	sock=/tmp/bypass-$uid/telemetry/$rpid.sock
	[ -S "$sock" ] || sock="no $sock" # now: it goes when the receiver ends
	st=$("$tmp/as-user" "$bypass" stats $rpid --json 2>&1)
	out=$(timeout 120 "$tmp/testpmd-user" -l 0 -a $a -- --forward-mode=txonly --stream=1 --tx-count=$n \
		--tx-rate=1000 --txpkts=200 --stats-period=0 2>&1); rc=$?
	wait $rpid; rrc=$?
else
	rc=99 rrc=99 brc=0 busy="" sock="" st="" out="the receiver never said it was forwarding"
fi
rxo=$(cat "$tmp/paced")
tx=$(field "$out" 0 "(" tx-packets); rx=$(field "$rxo" 0 "(" rx-packets)
ver=$(field "$rxo" 0 verify: verified); bad=$(field "$rxo" 0 verify: bad)
if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$tx" = $n ] && [ "$rx" = $n ] && [ "$ver" = $n ] && [ "$bad" = 0 ] &&
	[ "$(field "$rxo" 0 "(" rx-bytes)" = $((n * 200)) ] && echo "$rxo" | grep -q "mbufs in use at exit: 0"; then
	ok "as uid $uid: $n paced frames sent by one NIC, all received and verified on the other, bytes counted"
else
	fail "as uid $uid: paced txonly -> rxonly --verify" "exit $rc/$rrc tx=$tx rx=$rx verified=$ver bad=$bad" "$out" "$rxo"
fi
[ $brc != 0 ] && echo "$busy" | grep -q "$b is in use by process [0-9]" && one_line_error "$busy" &&
	ok "root is refused the user's device, with the user's pid" || fail "root is refused the user's device" "exit $brc" "$busy"
[ "${sock#no }" = "$sock" ] && [ -n "$sock" ] && echo "$st" | jq -e '.ports[0].stats.ipackets >= 0' >/dev/null 2>&1 &&
	ok "the user's statistics socket is $sock, and bypass stats reads it" ||
	fail "the user's statistics socket" "$sock" "$st"

# 2. RLIMIT_MEMLOCK: 4 MiB is below testpmd's pool: one line naming ulimit -l
# and the KiB needed, a non-zero exit, no hugepage, process or socket left;
# with 64 MiB the same run works.
pages=$(free_pages)
out=$( (ulimit -l 4096; timeout 60 "$tmp/testpmd-user" -l 0 -a $a -- --forward-mode=txonly --tx-count=500 \
	--stats-period=0) 2>&1); rc=$?
need=$(echo "$out" | sed -n 's/.*ulimit -l \([0-9]*\).*/\1/p')
left=$(pgrep -f "$real_testpmd" | tr '\n' ' ')
socks=$(find /tmp/bypass-$uid -name '*.sock' 2>/dev/null | tr '\n' ' ')
if [ $rc != 0 ] && [ $rc != 124 ] && one_line_error "$out" && echo "$out" | grep -q "RLIMIT_MEMLOCK allows 4096 KiB" &&
	[ "${need:-0}" -gt 4096 ] && [ "$(free_pages)" = "$pages" ] && [ -z "$left" ] && [ -z "$socks" ]; then
	ok "ulimit -l 4096: refused in one line naming ulimit -l $need; nothing left ($pages hugepages free)"
else
	fail "ulimit -l too low" "exit $rc need=$need free hugepages $pages -> $(free_pages) processes: $left sockets: $socks" "$out"
fi
out=$( (ulimit -l 65536; timeout 60 "$tmp/testpmd-user" -l 0 -a $a -- --forward-mode=txonly --tx-count=500 \
	--stats-period=0) 2>&1); rc=$?
[ $rc = 0 ] && [ "$(field "$out" 0 "(" tx-packets)" = 500 ] && echo "$out" | grep -q "mbufs in use at exit: 0" &&
	ok "ulimit -l 65536: the same run sends its 500 frames" || fail "ulimit -l large enough" "exit $rc" "$out"

# 3. /sys read-only in a mount namespace of its own: the receiver as the
# user, hugepages from a hugetlbfs mount the user owns (--huge-dir); the
# sender as root. io forwarding in between would add nothing here: rxonly
# --verify checks every frame.
mkdir -p /tmp/huge-user
/usr/bin/mount -t hugetlbfs -o uid=$uid,gid=$uid,mode=0700 none /tmp/huge-user
out=$(timeout 30 "$tmp/testpmd-user" -l 0 -a $a --huge-dir /dev/hugepages -- --duration=1 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "huge-dir /dev/hugepages: Permission denied for uid $uid; mount one this user may use" &&
	one_line_error "$out" && ok "--huge-dir on root's mount: one line saying how to mount one for the user" ||
	fail "--huge-dir the user may not write" "exit $rc" "$out"
testpmd=$tmp/testpmd-user-ro rx_eal="--huge-dir /tmp/huge-user"
if receiver ro --forward-mode=rxonly --verify --stream=2 --rx-count=$n --duration=120 --rxd=4096; then
	out=$(timeout 120 "$tmp/testpmd-ro" -l 0 -a $a -- --forward-mode=txonly --stream=2 --tx-count=$n \
		--tx-rate=1000 --txpkts=200 --stats-period=0 2>&1); rc=$?
	wait $rpid; rrc=$?
else
	rc=99 rrc=99 out="the receiver never said it was forwarding"
fi
unset rx_eal
rxo=$(cat "$tmp/ro")
tx=$(field "$out" 0 "(" tx-packets); ver=$(field "$rxo" 0 verify: verified)
if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$tx" = $n ] && [ "$ver" = $n ] && [ "$(field "$rxo" 0 verify: bad)" = 0 ] &&
	echo "$rxo" | grep -q "mbufs in use at exit: 0" && echo "$out" | grep -q "mbufs in use at exit: 0"; then
	ok "/sys read-only: root sends $n, the user receives and verifies all $n (hugepages from --huge-dir)"
else
	fail "/sys read-only" "exit $rc/$rrc tx=$tx verified=$ver" "$out" "$rxo"
fi
/usr/bin/umount /tmp/huge-user
grep -q "^sysfs /sys sysfs rw" /proc/mounts && ok "/sys stays writable outside the namespaces" ||
	fail "/sys outside the namespaces" "$(grep ' /sys ' /proc/mounts)"

# 4. strace, a second witness: the whole run (start, traffic, stop) opens
# nothing under /sys for writing and creates or removes nothing there.
strace -f -qq -e trace=%file -o "$tmp/strace" "$real_testpmd" -l 0 -a $a -- --forward-mode=txonly \
	--tx-count=200 --stats-period=0 >"$tmp/st.out" 2>&1; rc=$?
sysw=$(grep -E '"/sys[/"]' "$tmp/strace" | grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|^[0-9]+ +(mkdir|mkdirat|unlink|unlinkat|rmdir|rename|renameat2?|link|linkat|symlink|symlinkat|chmod|fchmodat|chown|fchownat|lchown|truncate|utimensat)\(' | head -n 5)
reads=$(grep -c '"/sys/' "$tmp/strace")
[ $rc = 0 ] && [ -z "$sysw" ] && [ "$reads" -gt 0 ] &&
	ok "strace: $reads file calls under /sys, none writes" ||
	fail "strace: nothing under /sys written" "exit $rc, $reads calls" "$sysw" "$(tail -n 3 "$tmp/st.out")"

"$bypass" restore --all >/dev/null
summary
