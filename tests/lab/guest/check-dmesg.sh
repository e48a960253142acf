#!/usr/bin/env bash
# Runs last in every lab guest: the kernel logged no warning, oops or BUG
# while the checks before it ran (bypass_uio's own lines included), and the
# IOMMU blocked no DMA but what a check provoked on purpose.
#   check-dmesg.sh TOPOLOGY IOMMU
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bad=$(dmesg | grep -E "WARNING:|BUG:|Oops|Call Trace|general protection fault|bypass_uio.*(leak|error)" | head -n 8)
[ -z "$bad" ] && ok "$1/$2: the kernel logged no warning, oops or BUG" || fail "$1/$2: the kernel log is clean" "$bad"
# A DMA the IOMMU blocked is one line (Linux 6.1 drivers/iommu/intel/dmar.c):
#   DMAR: [DMA Write NO_PASID] Request device [00:04.0] fault addr 0x4000000000 [fault reason 0x05] PTE Write access is not set
# (or "[INTR-REMAP] Request device [..] fault index .."), after a line
# "DMAR: DRHD: handling fault status reg N". A check that provokes one on
# purpose (check-faults.sh) writes "DEVICE ADDRESS" into $expected_faults
# first: those lines, and only those, are not counted. QEMU's intel-iommu
# records one fault at a time ("New fault is not recorded due to compression
# of faults" on its stderr): a second fault while the guest has not yet
# cleared the first never reaches this log.
faults=$(dmesg | grep -E "DMAR: \[(DMA (Read|Write)|INTR-REMAP)")
expected=0
if [ -s "$expected_faults" ]; then
	while read -r dev addr; do
		n=$(echo "$faults" | grep -cF "Request device [$dev] fault addr $addr [")
		expected=$((expected + n))
		faults=$(echo "$faults" | grep -vF "Request device [$dev] fault addr $addr [")
	done <"$expected_faults"
fi
[ -z "$faults" ] && ok "$1/$2: the IOMMU blocked no DMA ($expected provoked on purpose, as expected)" ||
	fail "$1/$2: the IOMMU blocked a device's DMA" "$(echo "$faults" | head -n 8)"
summary
