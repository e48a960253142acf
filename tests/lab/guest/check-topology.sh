#!/usr/bin/env bash
# Runs inside the lab guest: checks what a topology must offer.
#   check-topology.sh TOPOLOGY IOMMU
set -u
topo=$1 iommu=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name" "command failed: $*"; fi; }

case $topo in
e1000x2) want=("0x8086:0x100e:e1000" "0x8086:0x100e:e1000") ;;
e1000ex2) want=("0x8086:0x10d3:e1000e" "0x8086:0x10d3:e1000e") ;;
virtiox2|virtio-packedx2) want=("0x1af4:0x1041:virtio-pci" "0x1af4:0x1041:virtio-pci") ;;
virtio-legacyx2) want=("0x1af4:0x1000:virtio-pci" "0x1af4:0x1000:virtio-pci") ;;
mixed) want=("0x8086:0x100e:e1000" "0x8086:0x10d3:e1000e" "0x1af4:0x1041:virtio-pci") ;;
igbx2) want=("0x8086:0x10c9:igb" "0x8086:0x10c9:igb") ;;
*) echo "unknown topology $topo"; exit 2 ;;
esac
# The NICs' addresses: slots 3, 4, ... of the root bus, or (igb) each behind
# its own PCIe root port in those slots, on buses 1, 2, ...
addr() { case $topo in igb*) echo "0$1:00.0" ;; *) echo "00:0$((${1} + 2)).0" ;; esac; }

# 1. Each NIC at its fixed address, with its ids, class and kernel driver.
i=1
for w in "${want[@]}"; do
	slot=$(addr $i)
	dev=/sys/bus/pci/devices/0000:$slot
	ids=$(cat "$dev/vendor" 2>/dev/null):$(cat "$dev/device" 2>/dev/null)
	drv=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)
	cls=$(cat "$dev/class" 2>/dev/null)
	if [ "$ids:$drv" = "$w" ] && [ "$cls" = 0x020000 ]; then
		ok "nic $slot is $w"
	else
		fail "nic $slot is $w" "found ids=$ids driver=$drv class=$cls"
	fi
	# The kernel made an interface for it (virtio: under the virtio device).
	if compgen -G "$dev/net/*" >/dev/null || compgen -G "$dev/virtio*/net/*" >/dev/null; then
		ok "nic $slot has a kernel interface"
	else
		fail "nic $slot has a kernel interface" "no net/ entry under $dev"
	fi
	i=$((i + 1))
done
n=$(grep -l 0x020000 /sys/bus/pci/devices/*/class | wc -l)
[ "$n" = ${#want[@]} ] && ok "exactly ${#want[@]} NICs" || fail "exactly ${#want[@]} NICs" "found $n"

# 2. The user-space drivers' kernel modules load.
check "modprobe vfio-pci" modprobe vfio-pci
check "modprobe vfio_iommu_type1" modprobe vfio_iommu_type1
check "modprobe uio_pci_generic" modprobe uio_pci_generic
check "vfio-pci driver registered" test -d /sys/bus/pci/drivers/vfio-pci
check "uio_pci_generic driver registered" test -d /sys/bus/pci/drivers/uio_pci_generic
check "/dev/vfio/vfio exists" test -c /dev/vfio/vfio

# 3. The IOMMU is there exactly when asked for.
groups=$(ls /sys/kernel/iommu_groups 2>/dev/null | wc -l)
if [ "$iommu" = on ]; then
	[ "$groups" -gt 0 ] && [ -e /sys/bus/pci/devices/0000:$(addr 1)/iommu_group ] &&
		ok "IOMMU groups present" || fail "IOMMU groups present" "found $groups groups"
	aw=$(cat /sys/class/iommu/*/intel-iommu/cap 2>/dev/null | head -n 1)
	[ -n "$aw" ] && ok "intel-iommu visible" || fail "intel-iommu visible" "no /sys/class/iommu/*/intel-iommu"
else
	[ "$groups" = 0 ] && ok "no IOMMU without --iommu on" || fail "no IOMMU without --iommu on" "found $groups groups"
fi

# 4. Hugepages reserved and mounted.
total=$(sed -n 's/^HugePages_Total: *//p' /proc/meminfo)
[ "${total:-0}" -ge 64 ] && ok "hugepages reserved" || fail "hugepages reserved" "HugePages_Total=$total"
grep -q " /dev/hugepages hugetlbfs" /proc/mounts && ok "hugetlbfs mounted" || fail "hugetlbfs mounted"

# 5. The project tree: same path as on the host, writable.
f=$root/lab/runs/guest-write.$$
if echo "written in the guest" > "$f" && [ "$(cat "$f")" = "written in the guest" ]; then
	ok "project tree writable at $root"
else
	fail "project tree writable at $root"
fi
rm -f "$f"

# 6. bypass binaries built on the host run here, on real hugepages.
out=$("$root/build/apps/testpmd/bypass-testpmd" -l 0,1 --vdev net_ring0 --vdev net_ring1,peer=net_ring0 -- \
	--forward-mode=rxonly --port-mode=0:txonly --verify --tx-count=20000 --rx-count=20000 --duration=30 \
	--stats-period=0 2>&1)
rc=$?
verified=$(field "$out" 1 verify: verified)
sent=$(field "$out" 0 "(" tx-packets)
if [ $rc = 0 ] && [ "$sent" = 20000 ] && [ "$verified" = 20000 ] && [ "$(field "$out" 1 verify: bad)" = 0 ] &&
	echo "$out" | grep -q "mbufs in use at exit: 0"; then
	ok "bypass-testpmd on hugepages verifies $verified packets"
else
	fail "bypass-testpmd on hugepages" "exit $rc; output:" "$out"
fi

# 7. --huge-dir: hugepages from a hugetlbfs mount, and no file left in it.
out=$("$root/build/apps/testpmd/bypass-testpmd" -l 0,1 --huge-dir /dev/hugepages --vdev net_ring0 \
	--vdev net_ring1,peer=net_ring0 -- --forward-mode=rxonly --port-mode=0:txonly --verify --tx-count=5000 \
	--rx-count=5000 --duration=30 --stats-period=0 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$(field "$out" 1 verify: verified)" = 5000 ] && [ "$(field "$out" 1 verify: bad)" = 0 ] &&
	[ -z "$(ls -A /dev/hugepages)" ]; then
	ok "--huge-dir takes hugepages from the mount and leaves no file there"
else
	fail "--huge-dir /dev/hugepages" "exit $rc; files: $(ls -A /dev/hugepages | head -n 3)" "$out"
fi

summary
