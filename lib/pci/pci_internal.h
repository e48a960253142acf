/* SPDX-License-Identifier: MIT
 * Between the files of lib/pci: one file per way in. */
#ifndef BYPASS_PCI_INTERNAL_H
#define BYPASS_PCI_INTERNAL_H

#include <stddef.h>
#include <bypass/pci.h>

struct bp_pci_model;

/* A device as lib/pci holds it: what drivers see, and how to reach it. */
struct pci_dev {
	struct bp_pci_device pub;
	int dev_fd;       /* VFIO device fd, or /dev/uioN */
	int cfg_fd;       /* UIO: sysfs config file */
	uint64_t cfg_off; /* VFIO: offset of the config region */
	uint64_t bar_off[BP_PCI_MAX_BARS]; /* VFIO: offset of each BAR's region (for I/O BARs) */
	int io_fd[BP_PCI_MAX_BARS];        /* UIO: the sysfs resourceN file of an I/O BAR, once used */
	int lock_fd;
	bool uio_irqcontrol;              /* UIO: the driver unmasks on write(1) */
	const struct bp_pci_model *model; /* BP_PCI_MODEL */
	int req_fd;   /* what tells us the device must go (unplug.c), or -1 */
	bool removed; /* it went: nothing may reach it any more (atomic) */
};

static inline struct pci_dev *pci_dev_of(struct bp_pci_device *d)
{
	return (struct pci_dev *)((char *)d - offsetof(struct pci_dev, pub));
}

int bp_vfio_open(struct pci_dev *dev);
void bp_vfio_close(struct pci_dev *dev);
void bp_vfio_release_all(void);
struct bp_iova_range;
/* The IOVA ranges of a VFIO_IOMMU_GET_INFO reply of sz bytes, checked against
 * its bounds; how many were written to out. */
unsigned bp_vfio_parse_iova_ranges(const void *reply, uint32_t sz, struct bp_iova_range *out,
				   unsigned max);
int bp_uio_open(struct pci_dev *dev);
void bp_uio_close(struct pci_dev *dev);
/* Interrupts, one way in each: dev->pub.intr filled, or negative errno. */
int bp_vfio_intr_enable(struct pci_dev *dev, uint16_t want);
void bp_vfio_intr_disable(struct pci_dev *dev);
int bp_uio_intr_enable(struct pci_dev *dev);
void bp_uio_intr_disable(struct pci_dev *dev);
/* VFIO's device request (hot-unplug, unplug.c): signal eventfd fd when the
 * kernel wants the device back (-1: stop). 0, -ENOTSUP if VFIO offers no
 * such channel for it, or negative errno. */
int bp_vfio_req_set(struct pci_dev *dev, int fd);
/* Lets go of a removed device without freeing its fd number: the device fd
 * becomes /dev/null (late reads and writes land there), which is the last
 * close vfio-pci waits for once the BARs are unmapped. */
void bp_vfio_let_go(struct pci_dev *dev);
/* unplug.c: watching for removal from a successful probe until close. */
void bp_pci_unplug_watch(struct pci_dev *dev);
void bp_pci_unplug_unwatch(struct pci_dev *dev);
/* The ioctl VFIO's calls go through; tests put a fake VFIO device here. */
extern int (*bp_vfio_ioctl)(int fd, unsigned long request, void *arg);
/* Unmaps every mapped BAR. */
void bp_pci_unmap_bars(struct bp_pci_device *dev);
/* "<sysfs>/bus/pci/devices/<addr>/<file>" */
void bp_pci_dev_path(char *buf, size_t len, const struct bp_pci_device *dev, const char *file);
/* The /dev root (default /dev; BYPASS_DEVFS overrides, for tests). */
const char *bp_pci_devfs(void);
/* Which way in the bound driver offers: vfio-pci with /dev/vfio/N (IOMMU) or
 * /dev/vfio/noiommu-N, uio_pci_generic; BP_PCI_NONE for a kernel driver. */
enum bp_pci_access bp_pci_access_of(const struct bp_pci_device *dev);
/* A new device with every fd closed; NULL if out of memory. */
struct pci_dev *bp_pci_dev_new(void);
/* The driver for the device's ids in the build's table, or NULL. */
const struct bp_pci_driver *bp_pci_match(const struct bp_pci_device *dev);
/* Enables bus mastering, runs the driver's probe and keeps the device for
 * bp_pci_remove_all(); on failure the caller closes it. */
int bp_pci_dev_probe(struct pci_dev *d, const struct bp_pci_driver *drv);
/* Removes the driver, closes the way in, frees the device. */
void bp_pci_dev_close(struct pci_dev *d);

#endif
