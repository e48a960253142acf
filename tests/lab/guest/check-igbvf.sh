#!/usr/bin/env bash
# Runs inside the lab guest: SR-IOV. The kernel's igb keeps PF 01:00.0 and
# makes two VFs (8086:10ca at 01:10.0 and 01:10.2); bypass's igbvf PMD drives
# VF 0 and its igb PMD the other PF, 02:00.0, on the same wire.
#   check-igbvf.sh igbx2 on    VFs on vfio-pci (each its own IOMMU group):
#                              VF -> PF and PF -> VF verified, the VF's MAC
#                              from the PF, rx interrupts on the VF, the PF
#                              kept while its VFs are bound, clean removal
#   check-igbvf.sh igbx2 off   a VF on bypass_uio (one vector, shared by the
#                              mailbox and rx queue 0) in interrupt mode; a VF
#                              on uio_pci_generic (no interrupt) polls
# As elsewhere: receivers start first, senders wait for their readiness line,
# each test its own --stream, only exact assertions, every mbuf back.
set -u
topo=$1 iommu=$2
case $topo:$iommu in
igbx2:on | igbx2:off) ;;
*) echo "check-igbvf.sh: igbx2 on|off"; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
IP=/usr/bin/ip # busybox's ip has no "vf"
pf=0000:01:00.0 pf2=0000:02:00.0 vf0=0000:01:10.0 vf1=0000:01:10.2
vfmac=02:00:00:00:0f:00 pf2mac=52:54:00:12:34:02
n=3000
# bypass bind loads bypass_uio from the lab's build; in a worktree whose
# lab/cache links outside the tree, the guest has that cache at /lab-cache
ko=$root/lab/cache/bypass_uio/bypass_uio.ko
[ -e "$ko" ] || ko=/lab-cache/bypass_uio/bypass_uio.ko
export BYPASS_UIO_KO=$ko
scratch
drv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
dev_id() { echo "$(cat "/sys/bus/pci/devices/$1/vendor" 2>/dev/null):$(cat "/sys/bus/pci/devices/$1/device" 2>/dev/null)"; }
sleeps_of() { echo "$1" | sed -n 's/.*the lcores slept \([0-9]*\) times.*/\1/p'; }

# The PF on the kernel's igb, its interface up, two VFs, VF 0's address set
# on the PF.
pfif=$(ls "/sys/bus/pci/devices/$pf/net" 2>/dev/null | head -n 1)
$IP link set "$pfif" up
echo 2 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
$IP link set "$pfif" vf 0 mac $vfmac
if [ "$(drv $pf)" = igb ] && [ "$(dev_id $vf0)" = 0x8086:0x10ca ] && [ "$(dev_id $vf1)" = 0x8086:0x10ca ] &&
	$IP link show "$pfif" | grep -q "vf 0 .*$vfmac"; then
	ok "PF $pf on igb ($pfif up): sriov_numvfs=2 makes VFs $vf0 and $vf1 (8086:10ca); vf 0's MAC $vfmac set on the PF"
else
	fail "two VFs from the PF" "PF on $(drv $pf), VFs $(dev_id $vf0) $(dev_id $vf1)" "$($IP link show "$pfif")"
fi

# sender NAME CORE DEV ARGS...: testpmd txonly on one device; output in
# $tmp/NAME, exit code in $rc; $tx_eal: more environment options
sender() {
	local name=$1 core=$2 dev=$3; shift 3
	# shellcheck disable=SC2086
	timeout 120 "$testpmd" -l "$core" -a "$dev" ${tx_eal:-} -- --forward-mode=txonly --stats-period=0 "$@" >"$tmp/$name" 2>&1
	rc=$?
}
# one_way WHAT STREAM TO_DEV TO_MAC FROM_DEV [RX_ARGS...]: n paced frames
# from FROM_DEV (lcore 0) to TO_DEV (receiver, lcore 1), all verified, bytes
# counted on both sides; sets $rxo (the receiver's output) and returns 0 if so
one_way() {
	local what=$1 stream=$2 to=$3 tomac=$4 from=$5 rrc; shift 5
	if rx_eal="--log-level info" b=$to receiver "rx$stream" --forward-mode=rxonly --verify --stream=$stream --rx-count=$n \
		--duration=120 "$@"; then
		sender "tx$stream" 0 $from --stream=$stream --eth-peer=$tomac --tx-count=$n --tx-rate=1000 --txpkts=200
		wait $rpid; rrc=$?
	else
		rc=99 rrc=99
	fi
	rxo=$(cat "$tmp/rx$stream"); txo=$(cat "$tmp/tx$stream" 2>/dev/null)
	local tx rx ver
	tx=$(field "$txo" 0 "(" tx-packets); rx=$(field "$rxo" 0 "(" rx-packets); ver=$(field "$rxo" 0 verify: verified)
	if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$tx" = $n ] && [ "$rx" = $n ] && [ "$ver" = $n ] &&
		[ "$(field "$rxo" 0 verify: bad)" = 0 ] && [ "$(field "$rxo" 0 verify: lost)" = 0 ] &&
		[ "$(field "$rxo" 0 "(" rx-bytes)" = $((n * 200)) ] && [ "$(field "$txo" 0 "(" tx-bytes)" = $((n * 200)) ] &&
		echo "$rxo" | grep -q "mbufs in use at exit: 0" && echo "$txo" | grep -q "mbufs in use at exit: 0"; then
		return 0
	fi
	fail "$what" "exit $rc/$rrc tx=$tx rx=$rx verified=$ver" "$txo" "$rxo"
	return 1
}

if [ "$iommu" = on ]; then
	# Both VFs and the other PF to vfio-pci; each VF is alone in its group.
	out=$("$bypass" bind $vf0 $vf1 $pf2 2>&1); brc=$?
	g0=$(ls "/sys/bus/pci/devices/$vf0/iommu_group/devices" 2>/dev/null | tr '\n' ' ')
	g1=$(ls "/sys/bus/pci/devices/$vf1/iommu_group/devices" 2>/dev/null | tr '\n' ' ')
	if [ $brc = 0 ] && [ "$(drv $vf0)" = vfio-pci ] && [ "$(drv $vf1)" = vfio-pci ] && [ "$(drv $pf2)" = vfio-pci ] &&
		[ "$g0" = "$vf0 " ] && [ "$g1" = "$vf1 " ] && [ "$(drv $pf)" = igb ]; then
		ok "both VFs and $pf2 on vfio-pci, each VF alone in its IOMMU group ($(basename "$(readlink /sys/bus/pci/devices/$vf0/iommu_group)"), $(basename "$(readlink /sys/bus/pci/devices/$vf1/iommu_group)")); the PF stays on igb"
	else
		fail "bind the VFs and $pf2 to vfio-pci" "exit $brc: $out" "groups: [$g0] [$g1]; PF on $(drv $pf)"
	fi

	# 1. VF -> the other PF: the VF sends n paced frames, all verified there.
	#    The VF's address is the one the PF keeps for it.
	one_way "igbvf VF -> igb PF" 1 $pf2 $pf2mac $vf0 &&
		ok "VF $vf0 (igbvf) -> PF $pf2 (igb): $n paced frames sent, all received and verified, $((n * 200)) bytes counted"
	# the VF's MAC, as the VF's probe reported it
	tx_eal="--log-level info" sender mac 0 $vf0 --tx-count=1 --eth-peer=$pf2mac
	if grep -q "$vf0: 82576 VF, MAC $vfmac (from the PF)" "$tmp/mac"; then
		ok "the VF's MAC comes from the PF: $(grep -o "82576 VF, MAC [^,]*" "$tmp/mac")"
	else
		fail "the VF's MAC from the PF" "$(cat "$tmp/mac")"
	fi

	# 2. The other PF -> the VF, to the address the PF gave it; all verified.
	one_way "igb PF -> igbvf VF" 2 $vf0 $vfmac $pf2 &&
		ok "PF $pf2 (igb) -> VF $vf0 (igbvf) at $vfmac: $n paced frames, all received and verified, bytes counted"

	# 3. rx interrupts on the VF: its receiver alone on lcore 1 sleeps on
	#    the rx queue's MSI-X vector between frames; every frame verified.
	#    The mailbox's vector is found at start (QEMU's igb raises it only
	#    through VTIVAR_MISC 1).
	vecs=0
	if rx_eal="--log-level info" b=$vf0 receiver rx3 --forward-mode=rxonly --verify --stream=3 --rx-mode=interrupt \
		--rx-count=$n --duration=120; then
		vecs=$(grep -c "vfio-msix\[.*\]($vf0)" /proc/interrupts)
		sender tx3 0 $pf2 --stream=3 --eth-peer=$vfmac --tx-count=$n --tx-rate=1000 --txpkts=200
		wait $rpid; rrc=$?
	else
		rc=99 rrc=99
	fi
	rxo=$(cat "$tmp/rx3"); sleeps=$(sleeps_of "$rxo")
	if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$vecs" -ge 2 ] && [ "$(field "$rxo" 0 verify: verified)" = $n ] &&
		[ "$(field "$rxo" 0 verify: bad)" = 0 ] && [ "${sleeps:-0}" -gt 0 ] &&
		echo "$rxo" | grep -q "mbufs in use at exit: 0"; then
		ok "rx interrupts on VF $vf0 ($vecs MSI-X vectors): the receiver slept $sleeps times, all $n frames verified"
	else
		fail "rx interrupts on the VF" "exit $rc/$rrc vectors=$vecs sleeps=$sleeps" "$(grep vfio /proc/interrupts)" \
			"$(cat "$tmp/tx3" 2>/dev/null)" "$rxo"
	fi
	if echo "$rxo" | grep -q "$vf0: interrupts: MSI-X 2 vectors, the mailbox on vector 0 through VTIVAR_MISC 1"; then
		ok "the VF's mailbox interrupt fires (QEMU's igb: through VTIVAR_MISC 1, its vector field read as a mask)"
	else
		fail "the VF's mailbox interrupt" "$(echo "$rxo" | grep "interrupts:")"
	fi

	# 4. The PF stays where it is while its VFs are on vfio-pci: moving it
	#    is refused in one line, and restore leaves it on igb.
	out=$("$bypass" bind $pf 2>&1); brc=$?
	rout=$("$bypass" restore $pf 2>&1); rrc=$?
	if [ $brc != 0 ] && [ "$(echo "$out" | grep -c "refusing to bind $pf")" = 1 ] &&
		echo "$out" | grep -q "virtual functions .* are on a user-space driver" && [ "$(drv $pf)" = igb ] &&
		[ $rrc = 0 ] && [ "$(drv $pf)" = igb ] && [ -e "/sys/bus/pci/devices/$vf0" ]; then
		ok "the PF is kept while its VFs are bound: bind refused in one line, restore leaves it on igb ($rout)"
	else
		fail "the PF is kept while its VFs are bound" "bind exit $brc: $out" "restore exit $rrc: $rout" "PF on $(drv $pf)"
	fi
	"$bypass" restore $vf0 $vf1 $pf2 >/dev/null 2>&1
else
	# 5. A VF on bypass_uio: one MSI-X vector, shared by the mailbox and rx
	#    queue 0; in interrupt mode it receives paced traffic from the other
	#    PF (on uio_pci_generic), every frame verified.
	out=$("$bypass" bind --driver bypass_uio $vf0 2>&1); brc=$?
	"$bypass" bind --driver uio_pci_generic $pf2 >/dev/null 2>&1
	mode=$(cat "/sys/bus/pci/devices/$vf0/bypass_uio/intr_mode" 2>/dev/null)
	if [ $brc = 0 ] && [ "$(drv $vf0)" = bypass_uio ] && [ "$mode" = msix ] && [ "$(drv $pf2)" = uio_pci_generic ]; then
		ok "VF $vf0 on bypass_uio (intr_mode $mode), $pf2 on uio_pci_generic"
	else
		fail "bind the VF to bypass_uio" "exit $brc: $out" "VF on $(drv $vf0) ($mode), $pf2 on $(drv $pf2)"
	fi
	if one_way "a VF on bypass_uio in interrupt mode" 5 $vf0 $vfmac $pf2 --rx-mode=interrupt; then
		sleeps=$(sleeps_of "$rxo")
		if [ "${sleeps:-0}" -gt 0 ] && echo "$rxo" | grep -q "$vf0: interrupts: MSI-X 1 vector, the mailbox and rx queue 0 share vector 0"; then
			ok "VF on bypass_uio, rx interrupts on its one vector (shared with the mailbox): slept $sleeps times, all $n paced frames verified, bytes counted"
		else
			fail "a VF on bypass_uio sleeps on its one vector" "sleeps=$sleeps" "$rxo"
		fi
	fi

	# 6. ... and rx interrupts on two queues there are refused in one line.
	out=$(timeout 60 "$testpmd" -l 1 -a $vf0 -- --forward-mode=rxonly --rxq=2 --rx-mode=interrupt --duration=5 \
		--stats-period=0 2>&1); rc=$?
	if [ $rc != 0 ] && one_line_error "$out" && echo "$out" | grep -q "configure 1 rx queue"; then
		ok "two rx queues in interrupt mode on bypass_uio's one vector: refused in one line"
	else
		fail "two rx queues in interrupt mode on bypass_uio" "exit $rc" "$out"
	fi

	# 7. A VF on uio_pci_generic has no interrupt at all (no INTx pin):
	#    interrupt mode is refused in one line; poll mode receives.
	"$bypass" restore $vf0 >/dev/null 2>&1
	"$bypass" bind --driver uio_pci_generic $vf0 >/dev/null 2>&1
	out=$(timeout 60 "$testpmd" -l 1 -a $vf0 -- --forward-mode=rxonly --rx-mode=interrupt --duration=5 \
		--stats-period=0 2>&1); rc=$?
	if [ "$(drv $vf0)" = uio_pci_generic ] && [ $rc != 0 ] && one_line_error "$out" &&
		echo "$out" | grep -q "a VF on uio_pci_generic has no interrupt at all"; then
		ok "a VF on uio_pci_generic: interrupt mode refused in one line ($(echo "$out" | grep -o "interrupts need MSI-X[^;]*"))"
	else
		fail "a VF on uio_pci_generic refuses interrupt mode" "VF on $(drv $vf0), exit $rc" "$out"
	fi
	one_way "a VF on uio_pci_generic, polled" 7 $vf0 $vfmac $pf2 &&
		ok "VF on uio_pci_generic, poll mode: all $n paced frames verified, bytes counted"
	"$bypass" restore $vf0 $pf2 >/dev/null 2>&1
fi

# The VFs given back and removed: no VF left in lspci or sysfs.
echo 0 >"/sys/bus/pci/devices/$pf/sriov_numvfs"; nrc=$?
left=$(lspci -n -d 8086:10ca 2>/dev/null)
if [ $nrc = 0 ] && [ -z "$left" ] && [ ! -e "/sys/bus/pci/devices/$vf0" ] && [ ! -e "/sys/bus/pci/devices/$vf1" ] &&
	[ "$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")" = 0 ] && [ "$(drv $pf)" = igb ] && [ "$(drv $pf2)" = igb ]; then
	ok "VFs restored and removed: sriov_numvfs=0, no VF in lspci or sysfs; both PFs on igb"
else
	fail "VFs removed" "exit $nrc; lspci: $left" "PF on $(drv $pf), $pf2 on $(drv $pf2)" "$(ls /sys/bus/pci/devices)"
fi
[ "$iommu" = on ] || ! [ -d /sys/module/bypass_uio ] || rmmod bypass_uio
summary
