/* SPDX-License-Identifier: MIT
 * The fourth way in, for tests only: a software model of a device (tests/model)
 * takes the place of the bus. The driver's probe runs exactly as for a device
 * found by the scan; the model's registers are its BARs, and DMA uses IOVA =
 * VA (no device opened, so memory zones are not remapped).
 *
 * Register accesses reach the model because the model library is built with
 * BP_MMIO_MODEL (include/bypass/mmio.h). Not in libbypass. */
#ifndef BYPASS_PCI_MODEL_H
#define BYPASS_PCI_MODEL_H

#include <stdbool.h>
#include <bypass/pci.h>

struct bp_pci_model {
	struct bp_pci_id id;
	uint16_t sub_vendor, sub_device;
	uint16_t sriov_numvfs; /* as sysfs would say */
	struct bp_pci_bar bar[BP_PCI_MAX_BARS];
	/* Config space access: 0 or negative errno. */
	int (*cfg)(void *ctx, uint32_t off, void *buf, uint32_t len, bool write);
	/* Interrupts: fill h (mode, fds, unmask) for `want` vectors, and tear
	 * them down. NULL: the model has none. */
	int (*intr_enable)(void *ctx, uint16_t want, struct bp_intr_handle *h);
	void (*intr_disable)(void *ctx, struct bp_intr_handle *h);
	/* Hot-unplug, as vfio-pci's device request: request_set gives the
	 * model an eventfd to signal when the device must go (-1: none any
	 * more), and release() says bypass has let go of it (vfio-pci's last
	 * close, after which the kernel's unplug completes). The model's
	 * registers are its own memory, so lib/pci cannot replace them: from
	 * release() on the model answers as a device that is gone (reads all
	 * ones, ignores writes, does no DMA). NULL: the model never asks. */
	void (*request_set)(void *ctx, int fd);
	void (*release)(void *ctx);
	void *ctx;
};

/* Matches the model's ids against the driver table and probes it under the
 * name `addr` ("DDDD:BB:DD.F"). The model must outlive the device, which
 * bp_cleanup() removes. 0, or negative errno after one logged line. */
int bp_pci_model_attach(const char *addr, const struct bp_pci_model *m);

#endif
