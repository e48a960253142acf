/* SPDX-License-Identifier: MIT
 * The driver table of the fuzz targets, in place of the generated one: the
 * virtual drivers that touch nothing outside the process (net_null,
 * net_ring), so fuzzed --vdev values can be probed, and one PCI driver that
 * claims every device and gives it back. A real PMD would poke BARs that
 * are ordinary files of a fake tree; this one stops where the scanner's
 * parsing ends: the device found, opened and mapped. */
#include <stddef.h>
#include <errno.h>
#include <bypass/ethdev.h>
#include <bypass/pci.h>

extern const struct bp_vdev_driver bp_vdev_net_null, bp_vdev_net_ring;

const struct bp_vdev_driver *const bp_vdev_drivers[] = {
	&bp_vdev_net_null,
	&bp_vdev_net_ring,
	NULL,
};

static int fuzz_pci_probe(struct bp_pci_device *dev)
{
	(void)dev;
	return -ENODEV; /* closed again at once: the close path runs too */
}

static const struct bp_pci_id fuzz_pci_ids[] = {
	{ 0x8086, BP_PCI_ANY_ID },
	{ 0x1af4, BP_PCI_ANY_ID },
	{ 0, 0 },
};

static const struct bp_pci_driver fuzz_pci = {
	.name = "fuzz",
	.ids = fuzz_pci_ids,
	.probe = fuzz_pci_probe,
};

const struct bp_pci_driver *const bp_pci_drivers[] = {
	&fuzz_pci,
	NULL,
};
