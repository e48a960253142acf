/* SPDX-License-Identifier: MIT
 * PCI devices: found by scanning sysfs, matched to drivers by vendor/device id,
 * opened through the user-space driver they are bound to (vfio-pci or
 * uio_pci_generic), with their BARs mapped and config space reachable.
 *
 * Drivers are listed in a table the build generates (no constructors), so they
 * are found from the static library too.
 */
#ifndef BYPASS_PCI_H
#define BYPASS_PCI_H

#include <bypass/common.h>
#include <bypass/intr.h>

#define BP_PCI_ADDR_LEN 13 /* "DDDD:BB:DD.F" */
#define BP_PCI_MAX_BARS 6
#define BP_PCI_ANY_ID 0xffff

struct bp_pci_id {
	uint16_t vendor, device;
};

enum bp_pci_access {
	BP_PCI_NONE = 0,
	BP_PCI_VFIO,
	BP_PCI_VFIO_NOIOMMU,
	BP_PCI_UIO,
	BP_PCI_MODEL, /* a software model of the device (tests/model) */
};

struct bp_pci_bar {
	void *va;     /* mapped, or NULL (I/O BAR, absent, not mappable) */
	uint64_t len;
};

struct bp_pci_device {
	char addr[BP_PCI_ADDR_LEN];
	struct bp_pci_id id;
	uint16_t sub_vendor, sub_device;
	uint32_t class_code;
	int numa_node;
	int iommu_group; /* -1: none */
	char kdriver[32]; /* driver it is bound to in the kernel */
	/* SR-IOV virtual functions enabled on this physical function when the
	 * scan found it (sysfs sriov_numvfs; 0 without SR-IOV). A PF driver
	 * that cannot share the device with VFs refuses it. */
	uint16_t sriov_numvfs;
	enum bp_pci_access access;
	struct bp_pci_bar bar[BP_PCI_MAX_BARS];
	struct bp_intr_handle intr; /* set by bp_pci_intr_enable */
	const struct bp_pci_driver *driver;
	void *drv_data;
};

struct bp_pci_driver {
	const char *name;
	const struct bp_pci_id *ids; /* ends with {0, 0} */
	int (*probe)(struct bp_pci_device *dev);
	void (*remove)(struct bp_pci_device *dev);
	/* Optional. The device is leaving (hot-unplug): lib/pci has already
	 * put ordinary memory that reads all ones where its BARs were mapped
	 * and handed the device back to the kernel. On the interrupt thread;
	 * the driver tells its ports (bp_eth_dev_removed). remove still
	 * follows at bp_cleanup. */
	void (*removed)(struct bp_pci_device *dev);
};
extern const struct bp_pci_driver *const bp_pci_drivers[];

/* Canonical "DDDD:BB:DD.F" from "DDDD:BB:DD.F" or the short "BB:DD.F";
 * -EINVAL if it is not a PCI address. */
int bp_pci_addr_normalize(const char *in, char out[BP_PCI_ADDR_LEN]);

/* Config space. Return 0 or negative errno. */
int bp_pci_cfg_read(struct bp_pci_device *dev, uint32_t off, void *buf, uint32_t len);
int bp_pci_cfg_write(struct bp_pci_device *dev, uint32_t off, const void *buf, uint32_t len);
/* A BAR by reads and writes (1, 2 or 4 bytes): I/O-port BARs, which cannot
 * be mapped (legacy virtio). Control path: each is a system call. */
int bp_pci_bar_read(struct bp_pci_device *dev, unsigned bar, uint32_t off, void *buf, uint32_t len);
int bp_pci_bar_write(struct bp_pci_device *dev, unsigned bar, uint32_t off, const void *buf, uint32_t len);
/* Sets Bus Master, Memory and I/O Space Enable in the command register (PCI 3.0 §6.2.2). */
int bp_pci_enable_bus_master(struct bp_pci_device *dev);
/* Interrupts as fds in dev->intr (intr.h), asking for `want` vectors: vector 0
 * for link and other causes, 1..want-1 for queues. MSI-X when the device
 * offers that many, else MSI, else INTx (VFIO); INTx through /dev/uioN (UIO).
 * Logs the mode in one line. 0, or negative errno after one line. */
int bp_pci_intr_enable(struct bp_pci_device *dev, uint16_t want);
/* Turns them off and closes the fds. */
void bp_pci_intr_disable(struct bp_pci_device *dev);
/* True once the device was removed under us (hot-unplug, see unplug.c). */
bool bp_pci_removed(const struct bp_pci_device *dev);
/* Function-level reset where the access method offers one; 0 if done. */
int bp_pci_reset(struct bp_pci_device *dev);

/* Scans <sysfs>/bus/pci/devices, opens the devices that a driver claims and
 * -a/-b allow, and probes them. Called by bp_init(). */
int bp_pci_probe_all(void);
void bp_pci_remove_all(void);
/* The sysfs root (default /sys; BYPASS_SYSFS overrides, for tests). */
const char *bp_pci_sysfs(void);

#endif
