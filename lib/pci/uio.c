/* SPDX-License-Identifier: MIT
 * uio_pci_generic: /dev/uioN for interrupts, BARs mapped from the sysfs
 * resourceN files, config space through the sysfs config file. No IOMMU: the
 * device uses physical addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bypass/log.h>
#include <bypass/mem.h>
#include "pci_internal.h"

#define IORESOURCE_MEM 0x200 /* flags column of the sysfs resource file */

static long read_num(const char *path)
{
	char b[32] = "";
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(b, sizeof(b), f))
			b[0] = '\0';
		fclose(f);
	}
	return b[0] ? strtol(b, NULL, 0) : -1;
}

/* A driver that exposes the BARs as UIO maps (bypass_uio, igb_uio; uio-howto
 * "mmap() device memory"): map K is mmap()ed from /dev/uioN at offset K pages,
 * and its name says which BAR it is. Such a driver holds the BARs' regions, so
 * the sysfs resource files may not be mapped. Returns how many were mapped. */
static int map_uio_bars(struct pci_dev *pd, const char *uio)
{
	struct bp_pci_device *dev = &pd->pub;
	long page = sysconf(_SC_PAGESIZE);
	int mapped = 0;
	for (int k = 0; k < 8; k++) {
		char p[PATH_MAX], name[32] = "";
		unsigned bar;
		snprintf(p, sizeof(p), "%s/class/uio/%s/maps/map%d/name", bp_pci_sysfs(), uio, k);
		FILE *f = fopen(p, "r");
		if (!f)
			break;
		if (!fgets(name, sizeof(name), f))
			name[0] = '\0';
		fclose(f);
		snprintf(p, sizeof(p), "%s/class/uio/%s/maps/map%d/size", bp_pci_sysfs(), uio, k);
		long len = read_num(p);
		if (sscanf(name, "BAR%u", &bar) != 1 || bar >= BP_PCI_MAX_BARS || len <= 0)
			continue;
		void *va = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, pd->dev_fd, (off_t)k * page);
		if (va == MAP_FAILED) {
			BP_LOG(ERR, "%s: cannot map BAR%u (UIO map %d of %s): %s", dev->addr, bar, k, uio, strerror(errno));
			return -errno;
		}
		dev->bar[bar] = (struct bp_pci_bar){ va, (uint64_t)len };
		mapped++;
	}
	return mapped;
}

/* uio_pci_generic exposes no maps: the memory BARs come from sysfs. */
static int map_sysfs_bars(struct pci_dev *pd)
{
	struct bp_pci_device *dev = &pd->pub;
	char p[PATH_MAX];
	bp_pci_dev_path(p, sizeof(p), dev, "resource");
	FILE *f = fopen(p, "r");
	for (unsigned i = 0; f && i < BP_PCI_MAX_BARS; i++) {
		unsigned long long start, end, flags;
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			break;
		if (!start || !(flags & IORESOURCE_MEM))
			continue;
		char rp[PATH_MAX], rn[16];
		snprintf(rn, sizeof(rn), "resource%u", i);
		bp_pci_dev_path(rp, sizeof(rp), dev, rn);
		int fd = open(rp, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		uint64_t len = end - start + 1;
		void *va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (va == MAP_FAILED) {
			BP_LOG(ERR, "%s: cannot map BAR%u from %s: %s", dev->addr, i, rp, strerror(errno));
			fclose(f);
			return -errno;
		}
		dev->bar[i] = (struct bp_pci_bar){ va, len };
	}
	if (f)
		fclose(f);
	return 0;
}

int bp_uio_open(struct pci_dev *pd)
{
	struct bp_pci_device *dev = &pd->pub;
	char p[PATH_MAX], name[64] = "", type[32] = "";
	/* UIO means physical addresses: behind an IOMMU that translates this
	 * device's DMA (its group's type is not "identity"), every access faults. */
	bp_pci_dev_path(p, sizeof(p), dev, "iommu_group/type");
	FILE *t = fopen(p, "r");
	if (t) {
		if (!fgets(type, sizeof(type), t))
			type[0] = '\0';
		fclose(t);
		type[strcspn(type, "\n")] = '\0';
	}
	if (type[0] && strcmp(type, "identity")) {
		BP_LOG(ERR, "%s: the IOMMU translates its DMA (IOMMU group type %s), so the physical addresses "
			    "%s needs would fault; bind it to vfio-pci, or boot with iommu=pt", dev->addr, type,
		       dev->kdriver);
		return -EPERM;
	}
	int rc = bp_mem_use_physical(dev->kdriver);
	if (rc < 0)
		return rc;
	bp_pci_dev_path(p, sizeof(p), dev, "uio");
	DIR *d = opendir(p);
	for (struct dirent *e; d && (e = readdir(d));)
		if (!strncmp(e->d_name, "uio", 3))
			snprintf(name, sizeof(name), "%.60s", e->d_name);
	if (d)
		closedir(d);
	if (!name[0]) {
		BP_LOG(ERR, "%s: %s holds it but there is no uio device under %s", dev->addr, dev->kdriver, p);
		return -ENODEV;
	}
	snprintf(p, sizeof(p), "%s/%s", bp_pci_devfs(), name);
	pd->dev_fd = open(p, O_RDWR | O_CLOEXEC);
	if (pd->dev_fd < 0) {
		BP_LOG(ERR, "%s: cannot open %s: %s", dev->addr, p, strerror(errno));
		return -errno;
	}
	bp_pci_dev_path(p, sizeof(p), dev, "config");
	pd->cfg_fd = open(p, O_RDWR | O_CLOEXEC);
	if (pd->cfg_fd < 0) {
		BP_LOG(ERR, "%s: cannot open %s: %s (needs root)", dev->addr, p, strerror(errno));
		return -errno;
	}
	int n = map_uio_bars(pd, name);
	if (n < 0)
		return n;
	return n ? 0 : map_sysfs_bars(pd);
}

void bp_uio_close(struct pci_dev *pd)
{
	bp_pci_unmap_bars(&pd->pub);
	if (pd->cfg_fd >= 0)
		close(pd->cfg_fd);
	if (pd->dev_fd >= 0)
		close(pd->dev_fd);
	pd->cfg_fd = pd->dev_fd = -1;
}

/* ---- interrupts: /dev/uioN (Documentation/driver-api/uio-howto.rst) ----
 * read() of 4 bytes returns the interrupt count (blocking unless one came).
 * bypass_uio delivers MSI-X, MSI or INTx (its sysfs intr_mode says which);
 * the others INTx. Unmasking depends on the driver: one with irqcontrol
 * (bypass_uio, igb_uio)
 * takes a 4-byte write of 1 (0 masks); uio_pci_generic has none and masks the
 * line itself by setting the Interrupt Disable bit of the command register
 * (PCI 3.0 §6.2.2, bit 10) each time it fires, so user space clears that bit
 * through the sysfs config file. The whole 16-bit register is written, as the
 * kernel writes it, not byte 5 alone as the howto's example does: QEMU looks
 * at INTx masking only on writes that cover the register's first byte, and a
 * byte write there leaves its line level bookkeeping wrong until the line
 * sticks high (seen in the lab: "irq N: nobody cared", the IRQ disabled). */

#define PCI_CMD 0x04                  /* command register, PCI 3.0 §6.2.2 */
#define PCI_CMD_INTX_DISABLE (1u << 10)

static int uio_irqcontrol(int fd, int32_t on)
{
	return write(fd, &on, sizeof(on)) == (ssize_t)sizeof(on) ? 0 : -errno;
}

static int intx_disable_bit(struct pci_dev *pd, bool disable)
{
	uint16_t cmd;
	if (pread(pd->cfg_fd, &cmd, 2, PCI_CMD) != 2)
		return -errno;
	cmd = disable ? (uint16_t)(cmd | PCI_CMD_INTX_DISABLE) : (uint16_t)(cmd & ~PCI_CMD_INTX_DISABLE);
	return pwrite(pd->cfg_fd, &cmd, 2, PCI_CMD) == 2 ? 0 : -errno;
}

static int uio_unmask(struct bp_intr_handle *h)
{
	struct pci_dev *pd = h->ctx;
	return pd->uio_irqcontrol ? uio_irqcontrol(pd->dev_fd, 1) : intx_disable_bit(pd, false);
}

/* The vector's kind: bypass_uio says in sysfs (bypass_uio/intr_mode: msix,
 * msi, legacy or none); uio_pci_generic and igb_uio's INTx only. */
static enum bp_intr_mode uio_mode(struct pci_dev *pd)
{
	char p[PATH_MAX], m[16] = "";
	bp_pci_dev_path(p, sizeof(p), &pd->pub, "bypass_uio/intr_mode");
	FILE *f = fopen(p, "r");
	if (!f)
		return BP_INTR_INTX;
	if (!fgets(m, sizeof(m), f))
		m[0] = '\0';
	fclose(f);
	return !strncmp(m, "msix", 4) ? BP_INTR_MSIX : !strncmp(m, "msi", 3) ? BP_INTR_MSI :
	       !strncmp(m, "legacy", 6) ? BP_INTR_INTX : BP_INTR_NONE;
}

int bp_uio_intr_enable(struct pci_dev *pd)
{
	struct bp_intr_handle *h = &pd->pub.intr;
	enum bp_intr_mode mode = uio_mode(pd);
	if (mode == BP_INTR_NONE) {
		BP_LOG(ERR, "%s: bypass_uio gave it no interrupt (intr_mode none, or the device has none); "
			    "reload it with intr_mode=msix, or poll", pd->pub.addr);
		return -ENOTSUP;
	}
	int rc = uio_irqcontrol(pd->dev_fd, 1);
	pd->uio_irqcontrol = rc == 0;
	if (rc == -ENOSYS) /* uio_pci_generic */
		rc = intx_disable_bit(pd, false);
	if (rc < 0) {
		BP_LOG(ERR, "%s: cannot turn its interrupt on through UIO (%s)", pd->pub.addr, strerror(-rc));
		return rc;
	}
	/* the fd is the device's own /dev/uioN, closed with it; one vector, as
	 * UIO has one event count. MSI and MSI-X stay unmasked. */
	*h = (struct bp_intr_handle){ .mode = mode, .nb_vec = 1, .read_len = 4,
				       .unmask = mode == BP_INTR_INTX ? uio_unmask : NULL, .ctx = pd };
	h->fd[0] = pd->dev_fd;
	return 0;
}

void bp_uio_intr_disable(struct pci_dev *pd)
{
	if (pd->uio_irqcontrol)
		uio_irqcontrol(pd->dev_fd, 0);
	else
		intx_disable_bit(pd, true);
}
