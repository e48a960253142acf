/* SPDX-License-Identifier: MIT
 * The PCI scan of bp_init (lib/pci: pci.c, uio.c, vfio.c) over a fake sysfs
 * and /dev whose files hold the input (tests/fuzz/fuzz_tree.h): two devices'
 * ids, class, numa node, SR-IOV count, driver and IOMMU group links, the
 * IOMMU group's type, the UIO maps and the sysfs resource table. The driver
 * table's one PCI driver (fuzz_drivers.c) claims Intel and virtio devices
 * and hands them back, so scan, open, map and close all run. */
#include <stdlib.h>
#include <stdio.h>
#include <limits.h>
#include <bypass/log.h>
#include <bypass/mem.h>
#include <bypass/pci.h>
#include "fuzz_tree.h"

#define A "sys/bus/pci/devices/0000:00:03.0/"
#define B "sys/bus/pci/devices/0000:00:04.0/"
static const char *const slots[] = {
	A "vendor", A "device", A "class", "@" A "driver", "@" A "iommu_group",
	"sys/kernel/iommu_groups/5/type", A "uio/uio0/dev", "dev/uio0", A "config",
	"sys/class/uio/uio0/maps/map0/name", "sys/class/uio/uio0/maps/map0/size",
	"sys/class/uio/uio0/maps/map1/name", "sys/class/uio/uio0/maps/map1/size",
	A "resource", A "resource0", A "resource2",
	A "subsystem_vendor", A "subsystem_device", A "sriov_numvfs", A "numa_node",
	"dev/vfio/vfio", "dev/vfio/noiommu-5",
	B "vendor", B "device", B "class", "@" B "driver", "@" B "iommu_group", B "resource",
};
#define NB_SLOTS (sizeof(slots) / sizeof(slots[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *root = fuzz_tree_root();
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/sys", root);
	setenv("BYPASS_SYSFS", p, 1);
	snprintf(p, sizeof(p), "%s/dev", root);
	setenv("BYPASS_DEVFS", p, 1);
	snprintf(p, sizeof(p), "%s/run", root); /* the device lock files */
	setenv("BYPASS_RUNDIR", p, 1);
	fuzz_tree_save(slots, NB_SLOTS); /* nothing yet: every slot absent by default */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bp_log_set_level(BP_LOG_DEBUG);
	fuzz_tree_apply(slots, NB_SLOTS, data, size);
	bp_pci_probe_all();
	bp_pci_remove_all();
	bp_mem_reset(); /* UIO chose physical addresses: the next run decides afresh */
	return 0;
}
