/* SPDX-License-Identifier: MIT
 * Between the files of lib/pci: one file per way in. */
#ifndef BYPASS_PCI_INTERNAL_H
#define BYPASS_PCI_INTERNAL_H

#include <bypass/pci.h>

int bp_vfio_open(struct bp_pci_device *dev);
void bp_vfio_close(struct bp_pci_device *dev);
void bp_vfio_release_all(void);
int bp_uio_open(struct bp_pci_device *dev);
void bp_uio_close(struct bp_pci_device *dev);
/* Unmaps every mapped BAR. */
void bp_pci_unmap_bars(struct bp_pci_device *dev);
/* "<sysfs>/bus/pci/devices/<addr>/<file>" */
void bp_pci_dev_path(char *buf, size_t len, const struct bp_pci_device *dev, const char *file);
/* The /dev root (default /dev; BYPASS_DEVFS overrides, for tests). */
const char *bp_pci_devfs(void);
/* Which way in the bound driver offers: vfio-pci with /dev/vfio/N (IOMMU) or
 * /dev/vfio/noiommu-N, uio_pci_generic; BP_PCI_NONE for a kernel driver. */
enum bp_pci_access bp_pci_access_of(const struct bp_pci_device *dev);

#endif
