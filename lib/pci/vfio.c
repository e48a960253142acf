/* SPDX-License-Identifier: MIT
 * VFIO: container -> group -> device (Linux Documentation/driver-api/vfio.rst).
 * One container per process holds every group; its IOMMU maps all DMA memory.
 * In no-IOMMU mode (/dev/vfio/noiommu-N) nothing is mapped and devices use
 * physical addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <linux/vfio.h>
#include <bypass/log.h>
#include <bypass/mem.h>
#include "pci_internal.h"

#define MAX_GROUPS 32

static int container = -1;
static bool iommu_set;
static struct {
	int num, fd;
} groups[MAX_GROUPS];
static unsigned nb_groups;

static int dma_map(void *va, bp_iova_t iova, size_t len)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};
	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m) == 0 ? 0 : -errno;
}

static int dma_unmap(bp_iova_t iova, size_t len)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = len };
	return container >= 0 && ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) == 0 ? 0 : -errno;
}

/* The IOVA ranges in the capability chain of a VFIO_IOMMU_GET_INFO reply of
 * `sz` bytes (linux/vfio.h: each capability starts with a header whose `next`
 * is the offset of the following one, 0 at the end). The kernel wrote it, but
 * nothing here is trusted: every header and range array must lie inside the
 * reply, offsets must grow (no loops), and a range must not end before it
 * starts. */
unsigned bp_vfio_parse_iova_ranges(const void *reply, uint32_t sz, struct bp_iova_range *out,
				   unsigned max)
{
	const struct vfio_iommu_type1_info *info = reply;
	unsigned n = 0;
	if (sz < sizeof(*info) || !(info->flags & VFIO_IOMMU_INFO_CAPS))
		return 0;
	for (uint32_t off = info->cap_offset, prev = 0; off; ) {
		const struct vfio_info_cap_header *h = (const void *)((const char *)reply + off);
		if (off <= prev || off < sizeof(*info) || off > sz || sz - off < sizeof(*h) || off % 4)
			break;
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			const struct vfio_iommu_type1_info_cap_iova_range *r = (const void *)h;
			size_t room = sz - off;
			if (room < sizeof(*r))
				break;
			uint64_t fit = (room - sizeof(*r)) / sizeof(r->iova_ranges[0]);
			for (uint32_t i = 0; i < r->nr_iovas && i < fit && n < max; i++)
				if (r->iova_ranges[i].start <= r->iova_ranges[i].end)
					out[n++] = (struct bp_iova_range){ r->iova_ranges[i].start,
									   r->iova_ranges[i].end };
		}
		prev = off;
		off = h->next;
	}
	return n;
}

/* The IOVA ranges the IOMMU accepts. With none reported, assume 39 bits minus
 * the MSI window (the smallest common Intel VT-d width). */
static unsigned iova_ranges(struct bp_iova_range *out, unsigned max)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	unsigned n = 0;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, &probe) == 0 && probe.argsz > sizeof(probe) &&
	    probe.argsz <= 65536) {
		uint32_t sz = probe.argsz;
		struct vfio_iommu_type1_info *info = calloc(1, sz);
		if (info) {
			info->argsz = sz;
			if (ioctl(container, VFIO_IOMMU_GET_INFO, info) == 0)
				n = bp_vfio_parse_iova_ranges(info, BP_MIN(sz, info->argsz), out, max);
			free(info);
		}
	}
	if (n == 0) {
		out[n++] = (struct bp_iova_range){ 0x1000, 0xfedfffffull };
		out[n++] = (struct bp_iova_range){ 0xfef00000ull, (1ull << 39) - 1 };
	}
	return n;
}

static void list_group(int num, char *out, size_t len)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/kernel/iommu_groups/%d/devices", bp_pci_sysfs(), num);
	DIR *d = opendir(p);
	out[0] = '\0';
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char dp[PATH_MAX], t[PATH_MAX] = "";
		if (snprintf(dp, sizeof(dp), "%s/%s/driver", p, e->d_name) >= (int)sizeof(dp))
			continue;
		ssize_t k = readlink(dp, t, sizeof(t) - 1);
		t[k > 0 ? k : 0] = '\0';
		size_t l = strlen(out);
		snprintf(out + l, len - l, "%s%s (%s)", l ? ", " : "", e->d_name,
			 k > 0 ? strrchr(t, '/') + 1 : "no driver");
	}
	if (d)
		closedir(d);
}

static void close_container(void)
{
	if (container >= 0)
		close(container);
	container = -1;
	iommu_set = false;
}

static int open_container(bool noiommu)
{
	if (container >= 0)
		return 0;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/vfio/vfio", bp_pci_devfs());
	container = open(p, O_RDWR | O_CLOEXEC);
	if (container < 0) {
		int e = errno;
		BP_LOG(ERR, "cannot open %s: %s; load vfio-pci (modprobe vfio-pci) and check permissions",
		       p, strerror(e));
		return -e;
	}
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		BP_LOG(ERR, "VFIO API version mismatch; this kernel's VFIO is not supported");
		close_container(); /* the next device tries afresh */
		return -EINVAL;
	}
	long type = noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1_IOMMU;
	if (!ioctl(container, VFIO_CHECK_EXTENSION, type)) {
		BP_LOG(ERR, "VFIO has no %s support; load vfio_iommu_type1 (modprobe vfio_iommu_type1)",
		       noiommu ? "no-IOMMU" : "type1 IOMMU");
		close_container();
		return -ENOTSUP;
	}
	return 0;
}

static int open_group(const struct bp_pci_device *dev, bool noiommu)
{
	for (unsigned i = 0; i < nb_groups; i++)
		if (groups[i].num == dev->iommu_group)
			return groups[i].fd;
	if (nb_groups == MAX_GROUPS)
		return -E2BIG;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/vfio/%s%d", bp_pci_devfs(), noiommu ? "noiommu-" : "", dev->iommu_group);
	int fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		BP_LOG(ERR, "%s: cannot open %s: %s%s", dev->addr, p, strerror(e),
		       e == EBUSY ? " (another process has this IOMMU group open)" :
		       e == EACCES ? " (give this user the device node: chown USER /dev/vfio/N)" : "");
		return -e;
	}
	struct vfio_group_status st = { .argsz = sizeof(st) };
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) < 0 || !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		char members[512];
		list_group(dev->iommu_group, members, sizeof(members));
		BP_LOG(ERR, "%s: IOMMU group %d is not viable: every member must be on vfio-pci or no driver: %s",
		       dev->addr, dev->iommu_group, members);
		close(fd);
		return -EPERM;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &container) < 0) {
		BP_LOG(ERR, "%s: cannot add IOMMU group %d to the container: %s", dev->addr, dev->iommu_group,
		       strerror(errno));
		close(fd);
		return -errno;
	}
	if (!iommu_set) {
		long type = noiommu ? VFIO_NOIOMMU_IOMMU
				    : ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) ? VFIO_TYPE1v2_IOMMU
												 : VFIO_TYPE1_IOMMU;
		if (ioctl(container, VFIO_SET_IOMMU, type) < 0) {
			BP_LOG(ERR, "%s: VFIO_SET_IOMMU failed: %s", dev->addr, strerror(errno));
			close(fd);
			return -errno;
		}
		iommu_set = true;
	}
	groups[nb_groups].num = dev->iommu_group;
	groups[nb_groups++].fd = fd;
	return fd;
}

int bp_vfio_open(struct pci_dev *pd)
{
	struct bp_pci_device *dev = &pd->pub;
	bool noiommu = dev->access == BP_PCI_VFIO_NOIOMMU;
	int rc = open_container(noiommu);
	if (rc < 0)
		return rc;
	int gfd = open_group(dev, noiommu);
	if (gfd < 0)
		return gfd;
	if (noiommu) {
		if ((rc = bp_mem_use_physical("vfio no-IOMMU mode")) < 0)
			return rc;
	} else {
		/* type1 pins every page it maps and, unless the caller has
		 * CAP_IPC_LOCK, counts it in locked_vm against RLIMIT_MEMLOCK
		 * (vfio_iommu_type1.c, vfio_pin_pages_remote(): -ENOMEM beyond) */
		static const struct bp_dma_ops ops = { dma_map, dma_unmap, .pins_memlock = true };
		struct bp_iova_range r[16];
		unsigned n = iova_ranges(r, 16);
		if ((rc = bp_mem_use_iommu(&ops, r, n, "vfio-pci")) < 0)
			return rc;
	}
	pd->dev_fd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, dev->addr);
	if (pd->dev_fd < 0) {
		BP_LOG(ERR, "%s: VFIO will not hand out the device: %s", dev->addr, strerror(errno));
		return -errno;
	}
	struct vfio_device_info info = { .argsz = sizeof(info) };
	if (ioctl(pd->dev_fd, VFIO_DEVICE_GET_INFO, &info) < 0)
		return -errno;
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	if (ioctl(pd->dev_fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) < 0)
		return -errno;
	pd->cfg_off = cfg.offset;
	for (unsigned i = 0; i < BP_PCI_MAX_BARS && i < info.num_regions; i++) {
		struct vfio_region_info r = { .argsz = sizeof(r), .index = VFIO_PCI_BAR0_REGION_INDEX + i };
		if (ioctl(pd->dev_fd, VFIO_DEVICE_GET_REGION_INFO, &r) < 0 || !r.size)
			continue;
		pd->bar_off[i] = r.offset; /* read/write reach it, mapped or not (I/O BARs) */
		if (!(r.flags & VFIO_REGION_INFO_FLAG_MMAP))
			continue;
		void *va = mmap(NULL, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, pd->dev_fd, (off_t)r.offset);
		if (va == MAP_FAILED) {
			BP_LOG(ERR, "%s: cannot map BAR%u: %s", dev->addr, i, strerror(errno));
			return -errno;
		}
		dev->bar[i] = (struct bp_pci_bar){ va, r.size };
	}
	if (info.flags & VFIO_DEVICE_FLAGS_RESET)
		ioctl(pd->dev_fd, VFIO_DEVICE_RESET);
	return 0;
}

void bp_vfio_close(struct pci_dev *pd)
{
	bp_pci_unmap_bars(&pd->pub);
	if (pd->dev_fd >= 0)
		close(pd->dev_fd);
	pd->dev_fd = -1;
}

void bp_vfio_release_all(void)
{
	while (nb_groups)
		close(groups[--nb_groups].fd);
	close_container();
}

/* ---- interrupts: VFIO_DEVICE_GET_IRQ_INFO / VFIO_DEVICE_SET_IRQS ----
 * (Documentation/driver-api/vfio.rst, include/uapi/linux/vfio.h) */

static int real_ioctl(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int (*bp_vfio_ioctl)(int fd, unsigned long request, void *arg) = real_ioctl;

static uint32_t irq_count(struct pci_dev *pd, uint32_t index)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };
	if (bp_vfio_ioctl(pd->dev_fd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0 || !(info.flags & VFIO_IRQ_INFO_EVENTFD))
		return 0;
	return info.count;
}

/* SET_IRQS for `index`: n eventfds from vector 0 as triggers (n == 0: off). */
static int irq_set_eventfds(struct pci_dev *pd, uint32_t index, const int *fds, uint32_t n)
{
	char buf[sizeof(struct vfio_irq_set) + BP_INTR_MAX_VEC * sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	*set = (struct vfio_irq_set){
		.argsz = (uint32_t)(sizeof(*set) + n * sizeof(int32_t)),
		.flags = (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
		.start = 0,
		.count = n,
	};
	for (uint32_t i = 0; i < n; i++) {
		int32_t fd = fds[i];
		memcpy(set->data + i * sizeof(fd), &fd, sizeof(fd));
	}
	return bp_vfio_ioctl(pd->dev_fd, VFIO_DEVICE_SET_IRQS, set) == 0 ? 0 : -errno;
}

static const uint32_t mode_index[] = {
	[BP_INTR_MSIX] = VFIO_PCI_MSIX_IRQ_INDEX,
	[BP_INTR_MSI] = VFIO_PCI_MSI_IRQ_INDEX,
	[BP_INTR_INTX] = VFIO_PCI_INTX_IRQ_INDEX,
};

/* INTx: VFIO masks the line each time it fires (VFIO_IRQ_INFO_AUTOMASKED);
 * unmasking lets it fire again. */
static int vfio_unmask(struct bp_intr_handle *h)
{
	if (h->mode != BP_INTR_INTX)
		return 0;
	struct pci_dev *pd = h->ctx;
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};
	return bp_vfio_ioctl(pd->dev_fd, VFIO_DEVICE_SET_IRQS, &set) == 0 ? 0 : -errno;
}

int bp_vfio_intr_enable(struct pci_dev *pd, uint16_t want)
{
	struct bp_intr_handle *h = &pd->pub.intr;
	uint32_t msix = irq_count(pd, VFIO_PCI_MSIX_IRQ_INDEX), msi = irq_count(pd, VFIO_PCI_MSI_IRQ_INDEX),
		 intx = irq_count(pd, VFIO_PCI_INTX_IRQ_INDEX);
	enum bp_intr_mode mode;
	uint16_t n = 1;
	if (msix >= want) { /* one vector per cause */
		mode = BP_INTR_MSIX;
		n = want;
	} else if (msi) {
		mode = BP_INTR_MSI;
	} else if (intx) {
		mode = BP_INTR_INTX;
	} else if (msix) {
		mode = BP_INTR_MSIX; /* fewer vectors than asked: all causes share vector 0 */
	} else {
		BP_LOG(ERR, "%s: VFIO offers no interrupt for this device (MSI-X %u, MSI %u, INTx %u)",
		       pd->pub.addr, msix, msi, intx);
		return -ENOTSUP;
	}
	int fds[BP_INTR_MAX_VEC];
	for (uint16_t i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[i] < 0) {
			int e = errno;
			while (i--)
				close(fds[i]);
			BP_LOG(ERR, "%s: eventfd: %s", pd->pub.addr, strerror(e));
			return -e;
		}
	}
	int rc = irq_set_eventfds(pd, mode_index[mode], fds, n);
	if (rc < 0) {
		BP_LOG(ERR, "%s: VFIO would not bind %u eventfd%s to %s: %s", pd->pub.addr, n, n > 1 ? "s" : "",
		       bp_intr_mode_name(mode), strerror(-rc));
		for (uint16_t i = 0; i < n; i++)
			close(fds[i]);
		return rc;
	}
	*h = (struct bp_intr_handle){ .mode = mode, .nb_vec = n, .read_len = 8, .unmask = vfio_unmask, .ctx = pd };
	memcpy(h->fd, fds, n * sizeof(int));
	if (mode == BP_INTR_INTX)
		vfio_unmask(h); /* in case an earlier user left it masked */
	return 0;
}

void bp_vfio_intr_disable(struct pci_dev *pd)
{
	struct bp_intr_handle *h = &pd->pub.intr;
	irq_set_eventfds(pd, mode_index[h->mode], NULL, 0);
	for (uint16_t i = 0; i < h->nb_vec; i++)
		close(h->fd[i]);
}

/* The device request (VFIO_PCI_REQ_IRQ_INDEX, linux/vfio.h; kernel commit
 * 6140a8f56238 "vfio-pci: Add device request interface"): when the device
 * must go (hot-unplug, unbind), vfio-pci signals this eventfd and waits for
 * every user of the device to close it, asking again every 10 s. Without it,
 * the unplug would hang until the process exits. */
int bp_vfio_req_set(struct pci_dev *pd, int fd)
{
	if (fd >= 0 && irq_count(pd, VFIO_PCI_REQ_IRQ_INDEX) < 1)
		return -ENOTSUP;
	return irq_set_eventfds(pd, VFIO_PCI_REQ_IRQ_INDEX, &fd, fd >= 0);
}

void bp_vfio_let_go(struct pci_dev *pd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* dup3 drops our reference to the device file as close would, but
	 * the number stays ours: another thread still using it (a config
	 * read) reaches /dev/null, not a file opened meanwhile. */
	if (null >= 0 && pd->dev_fd >= 0 && dup3(null, pd->dev_fd, O_CLOEXEC) >= 0) {
		close(null);
		return;
	}
	BP_LOG(WARNING, "%s: cannot put /dev/null in place of the device fd (%s); closing it", pd->pub.addr,
	       strerror(errno));
	if (null >= 0)
		close(null);
	if (pd->dev_fd >= 0)
		close(pd->dev_fd);
	pd->dev_fd = -1;
}

int bp_pci_reset(struct bp_pci_device *dev)
{
	if (dev->access != BP_PCI_VFIO && dev->access != BP_PCI_VFIO_NOIOMMU)
		return -ENOTSUP; /* uio_pci_generic offers no reset: drivers reset the device */
	return ioctl(pci_dev_of(dev)->dev_fd, VFIO_DEVICE_RESET) == 0 ? 0 : -errno;
}
