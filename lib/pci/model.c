/* SPDX-License-Identifier: MIT
 * Devices backed by a software model: see pci_model.h. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <bypass/log.h>
#include "pci_internal.h"
#include "pci_model.h"

int bp_pci_model_attach(const char *addr, const struct bp_pci_model *m)
{
	struct pci_dev *pd = bp_pci_dev_new();
	if (!pd)
		return -ENOMEM;
	struct bp_pci_device *d = &pd->pub;
	if (bp_pci_addr_normalize(addr, d->addr) < 0) {
		BP_LOG(ERR, "model '%s': not a PCI address", addr);
		bp_pci_dev_close(pd);
		return -EINVAL;
	}
	d->id = m->id;
	d->sub_vendor = m->sub_vendor;
	d->sub_device = m->sub_device;
	d->sriov_numvfs = m->sriov_numvfs;
	d->iommu_group = -1;
	d->numa_node = -1;
	d->access = BP_PCI_MODEL;
	snprintf(d->kdriver, sizeof(d->kdriver), "model");
	memcpy(d->bar, m->bar, sizeof(d->bar));
	pd->model = m;
	const struct bp_pci_driver *drv = bp_pci_match(d);
	if (!drv) {
		BP_LOG(ERR, "model %s: no driver for %04x:%04x", d->addr, d->id.vendor, d->id.device);
		bp_pci_dev_close(pd);
		return -ENODEV;
	}
	int rc = bp_pci_dev_probe(pd, drv);
	if (rc < 0) {
		memset(d->bar, 0, sizeof(d->bar)); /* the model's, not ours to unmap */
		bp_pci_dev_close(pd);
	}
	return rc;
}
