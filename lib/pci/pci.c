/* SPDX-License-Identifier: MIT
 * PCI scan over sysfs, matching against the driver table, the per-device lock,
 * and probing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/mem.h>
#include "pci_internal.h"
#include "pci_model.h"

#define MAX_DEVICES 64

static struct pci_dev *devices[MAX_DEVICES];
static unsigned nb_devices;

const char *bp_pci_sysfs(void)
{
	const char *s = getenv("BYPASS_SYSFS");
	return s && *s ? s : "/sys";
}

const char *bp_pci_devfs(void)
{
	const char *s = getenv("BYPASS_DEVFS");
	return s && *s ? s : "/dev";
}

void bp_pci_dev_path(char *buf, size_t len, const struct bp_pci_device *dev, const char *file)
{
	snprintf(buf, len, "%s/bus/pci/devices/%s/%s", bp_pci_sysfs(), dev->addr, file);
}

int bp_pci_addr_normalize(const char *in, char out[BP_PCI_ADDR_LEN])
{
	unsigned dom = 0, bus, dev, fn;
	int n = 0;

	if (sscanf(in, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) == 4 && in[n] == '\0') {
		/* full form */
	} else if (n = 0, dom = 0, sscanf(in, "%x:%x.%x%n", &bus, &dev, &fn, &n) == 3 &&
			   in[n] == '\0') {
		/* short form */
	} else {
		return -EINVAL;
	}
	for (const char *p = in; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return -EINVAL;
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, BP_PCI_ADDR_LEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

void bp_pci_unmap_bars(struct bp_pci_device *dev)
{
	for (unsigned i = 0; i < BP_PCI_MAX_BARS; i++)
		if (dev->bar[i].va) {
			munmap(dev->bar[i].va, dev->bar[i].len);
			dev->bar[i].va = NULL;
		}
}

static unsigned long read_hex(const struct bp_pci_device *d, const char *file)
{
	char p[PATH_MAX], b[32] = "";
	bp_pci_dev_path(p, sizeof(p), d, file);
	FILE *f = fopen(p, "r");
	if (f) {
		if (!fgets(b, sizeof(b), f))
			b[0] = '\0';
		fclose(f);
	}
	return strtoul(b, NULL, 0);
}

static void read_link_base(const struct bp_pci_device *d, const char *file, char *out, size_t len)
{
	char p[PATH_MAX], t[PATH_MAX];
	bp_pci_dev_path(p, sizeof(p), d, file);
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	out[0] = '\0';
	if (n > 0) {
		t[n] = '\0';
		const char *b = strrchr(t, '/');
		snprintf(out, len, "%.*s", (int)len - 1, b ? b + 1 : t);
	}
}

static void read_device(struct bp_pci_device *d, const char *addr)
{
	snprintf(d->addr, sizeof(d->addr), "%.12s", addr);
	d->id.vendor = (uint16_t)read_hex(d, "vendor");
	d->id.device = (uint16_t)read_hex(d, "device");
	d->sub_vendor = (uint16_t)read_hex(d, "subsystem_vendor");
	d->sub_device = (uint16_t)read_hex(d, "subsystem_device");
	d->class_code = (uint32_t)read_hex(d, "class");
	d->sriov_numvfs = (uint16_t)read_hex(d, "sriov_numvfs"); /* decimal; absent: 0 */
	char p[PATH_MAX], b[16] = "";
	bp_pci_dev_path(p, sizeof(p), d, "numa_node");
	FILE *f = fopen(p, "r");
	d->numa_node = f && fgets(b, sizeof(b), f) ? atoi(b) : -1;
	if (f)
		fclose(f);
	char g[32];
	read_link_base(d, "iommu_group", g, sizeof(g));
	d->iommu_group = g[0] ? atoi(g) : -1;
	read_link_base(d, "driver", d->kdriver, sizeof(d->kdriver));
}

struct pci_dev *bp_pci_dev_new(void)
{
	struct pci_dev *d = calloc(1, sizeof(*d));
	if (d) {
		d->dev_fd = d->cfg_fd = d->lock_fd = d->req_fd = -1;
		for (unsigned i = 0; i < BP_PCI_MAX_BARS; i++)
			d->io_fd[i] = -1;
	}
	return d;
}

const struct bp_pci_driver *bp_pci_match(const struct bp_pci_device *d)
{
	for (const struct bp_pci_driver *const *drv = bp_pci_drivers; *drv; drv++)
		for (const struct bp_pci_id *id = (*drv)->ids; id->vendor; id++)
			if (id->vendor == d->id.vendor &&
			    (id->device == BP_PCI_ANY_ID || id->device == d->id.device))
				return *drv;
	return NULL;
}

enum bp_pci_access bp_pci_access_of(const struct bp_pci_device *d)
{
	char p[PATH_MAX];
	struct stat st;
	if (!strcmp(d->kdriver, "uio_pci_generic") || !strcmp(d->kdriver, "bypass_uio") ||
	    !strcmp(d->kdriver, "igb_uio"))
		return BP_PCI_UIO;
	if (strcmp(d->kdriver, "vfio-pci") || d->iommu_group < 0)
		return BP_PCI_NONE;
	snprintf(p, sizeof(p), "%s/vfio/noiommu-%d", bp_pci_devfs(), d->iommu_group);
	if (stat(p, &st) == 0)
		return BP_PCI_VFIO_NOIOMMU;
	return BP_PCI_VFIO;
}

/* The process that holds the lock on path, 0 if none (or no such file).
 * Asking (F_GETLK) needs only read access: a lock file root made is seen by
 * a user who could not open it for writing. */
static pid_t lock_holder(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	pid_t pid = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? fl.l_pid : 0;
	close(fd);
	return pid;
}

static int in_use(const struct bp_pci_device *d, pid_t pid)
{
	BP_LOG(ERR, "%s is in use by process %d; stop that one first (one process per device)", d->addr, (int)pid);
	return -EBUSY;
}

/* One process per device: a lock on a file named by the address. The kernel
 * drops it when the process dies, however it dies. The lock goes in the first
 * folder this user may write: root's in /run/bypass, an ordinary user's in
 * /tmp. So that root and a user still see each other, a lock held in any of
 * the folders refuses the device. */
static int lock_device(struct pci_dev *pd)
{
	const struct bp_pci_device *d = &pd->pub;
	const char *dirs[] = { getenv("BYPASS_RUNDIR"), "/run/bypass", "/tmp" };
	char p[3][PATH_MAX];
	for (unsigned i = 0; i < 3; i++) {
		p[i][0] = '\0';
		if (!dirs[i] || !*dirs[i])
			continue;
		snprintf(p[i], sizeof(p[i]), "%s/lock-%s", dirs[i], d->addr);
		pid_t pid = lock_holder(p[i]);
		if (pid > 0)
			return in_use(d, pid);
	}
	for (unsigned i = 0; i < 3; i++) {
		if (!p[i][0])
			continue;
		mkdir(dirs[i], 0755);
		int fd = open(p[i], O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			continue;
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		if (fcntl(fd, F_SETLK, &fl) == 0) {
			pd->lock_fd = fd;
			return 0;
		}
		fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
		fcntl(fd, F_GETLK, &fl);
		close(fd);
		return in_use(d, fl.l_pid);
	}
	BP_LOG(WARNING, "%s: no place for a lock file (/run/bypass, /tmp); nothing stops a second process",
	       d->addr);
	return 0;
}

void bp_pci_dev_close(struct pci_dev *pd)
{
	struct bp_pci_device *d = &pd->pub;
	bp_pci_unplug_unwatch(pd); /* first: a removal running now finishes */
	if (d->driver && d->driver->remove)
		d->driver->remove(d);
	bp_pci_intr_disable(d); /* a driver that left them on */
	if (d->access == BP_PCI_UIO)
		bp_uio_close(pd);
	else if (d->access == BP_PCI_VFIO || d->access == BP_PCI_VFIO_NOIOMMU)
		bp_vfio_close(pd);
	for (unsigned i = 0; i < BP_PCI_MAX_BARS; i++)
		if (pd->io_fd[i] >= 0)
			close(pd->io_fd[i]);
	if (pd->lock_fd >= 0)
		close(pd->lock_fd);
	free(pd);
}

static bool explicitly_allowed(const char *addr)
{
	for (unsigned i = 0; i < bp_env_pci_allow_count(); i++)
		if (!strcmp(bp_env_pci_allow_at(i), addr))
			return true;
	return false;
}

static const char *access_name(enum bp_pci_access a)
{
	switch (a) {
	case BP_PCI_VFIO: return "VFIO";
	case BP_PCI_VFIO_NOIOMMU: return "VFIO no-IOMMU";
	case BP_PCI_UIO: return "UIO";
	case BP_PCI_MODEL: return "a software model";
	case BP_PCI_NONE: break;
	}
	return "nothing";
}

/* Command register, PCI 3.0 §6.2.2: I/O Space (bit 0), Memory Space (bit 1),
 * Bus Master Enable (bit 2). */
#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEM 0x0002
#define PCI_CMD_MASTER 0x0004

/* Sets bits in the command register. */
static int command_set(struct bp_pci_device *d, uint16_t bits)
{
	uint16_t cmd;
	int rc = bp_pci_cfg_read(d, 0x04, &cmd, 2);
	if (rc < 0)
		return rc;
	if ((cmd & bits) == bits)
		return 0;
	cmd |= bits;
	return bp_pci_cfg_write(d, 0x04, &cmd, 2);
}

int bp_pci_dev_probe(struct pci_dev *pd, const struct bp_pci_driver *drv)
{
	struct bp_pci_device *d = &pd->pub;
	int rc;
	if (nb_devices == MAX_DEVICES) {
		BP_LOG(ERR, "more than %d PCI devices to drive; choose with -a", MAX_DEVICES);
		return -E2BIG;
	}
	/* Decoding now; bus mastering only once the driver's probe has reset
	 * the device. An owner killed while its device ran leaves it running
	 * (vfio-pci clears Bus Master at release, but a device without a
	 * function reset keeps its rings): mastering on before the reset lets
	 * it go on with that owner's rings, writing to addresses no longer
	 * its own (seen in the lab: QEMU's virtio-net used descriptors into a
	 * killed testpmd's tx ring, a DMAR fault in the next run). */
	if ((rc = command_set(d, PCI_CMD_IO | PCI_CMD_MEM)) < 0) {
		BP_LOG(ERR, "%s: cannot enable memory decoding: %s", d->addr, strerror(-rc));
		return rc;
	}
	d->driver = drv;
	if ((rc = drv->probe(d)) < 0) {
		d->driver = NULL;
		BP_LOG(ERR, "%s: driver %s could not start the device (%s)", d->addr, drv->name, strerror(-rc));
		return rc;
	}
	if ((rc = bp_pci_enable_bus_master(d)) < 0) {
		BP_LOG(ERR, "%s: cannot enable bus mastering: %s", d->addr, strerror(-rc));
		if (drv->remove)
			drv->remove(d);
		d->driver = NULL;
		return rc;
	}
	BP_LOG(INFO, "%s: %s through %s", d->addr, drv->name, access_name(d->access));
	devices[nb_devices++] = pd;
	bp_pci_unplug_watch(pd);
	return 0;
}

static int open_and_probe(struct pci_dev *pd, const struct bp_pci_driver *drv)
{
	struct bp_pci_device *d = &pd->pub;
	int rc;
	d->access = bp_pci_access_of(d);
	if (d->access == BP_PCI_NONE) {
		if (explicitly_allowed(d->addr)) {
			BP_LOG(ERR, "%s is bound to %s; run: bypass bind %s", d->addr,
			       d->kdriver[0] ? d->kdriver : "no driver", d->addr);
			return -EBUSY;
		}
		BP_LOG(INFO, "%s (%04x:%04x) is on %s, not for us; 'bypass bind %s' gives it to us", d->addr,
		       d->id.vendor, d->id.device, d->kdriver[0] ? d->kdriver : "no driver", d->addr);
		return 1; /* skipped */
	}
	if ((rc = lock_device(pd)) < 0)
		return rc;
	rc = d->access == BP_PCI_UIO ? bp_uio_open(pd) : bp_vfio_open(pd);
	if (rc < 0)
		return rc;
	return bp_pci_dev_probe(pd, drv);
}

int bp_pci_probe_all(void)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/bus/pci/devices", bp_pci_sysfs());
	struct dirent **list;
	int n = scandir(p, &list, NULL, alphasort), rc = 0;
	if (n < 0) {
		if (bp_env_pci_allow_count()) {
			BP_LOG(ERR, "cannot read %s: %s; is sysfs mounted?", p, strerror(errno));
			return -ENODEV;
		}
		return 0; /* no PCI here: virtual devices only */
	}
	/* Every -a address must exist. */
	for (unsigned i = 0; i < bp_env_pci_allow_count(); i++) {
		char dp[PATH_MAX];
		struct stat st;
		if (snprintf(dp, sizeof(dp), "%s/%s", p, bp_env_pci_allow_at(i)) >= (int)sizeof(dp) ||
		    stat(dp, &st) < 0) {
			BP_LOG(ERR, "-a %s: there is no such PCI device; 'bypass status' lists them",
			       bp_env_pci_allow_at(i));
			rc = -ENODEV;
		}
	}
	for (int i = 0; i < n && rc == 0; i++) {
		const char *addr = list[i]->d_name;
		if (strlen(addr) != BP_PCI_ADDR_LEN - 1 || !bp_env_pci_allowed(addr))
			continue;
		struct pci_dev *pd = bp_pci_dev_new();
		if (!pd) {
			rc = -ENOMEM;
			break;
		}
		struct bp_pci_device *d = &pd->pub;
		read_device(d, addr);
		const struct bp_pci_driver *drv = bp_pci_match(d);
		if (!drv) {
			if (explicitly_allowed(addr)) {
				char names[128] = "";
				for (const struct bp_pci_driver *const *x = bp_pci_drivers; *x; x++)
					snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
						 names[0] ? ", " : "", (*x)->name);
				BP_LOG(ERR, "-a %s: no bypass driver for %04x:%04x (drivers: %s)", addr,
				       d->id.vendor, d->id.device, names);
				rc = -ENODEV;
			}
			free(pd);
			continue;
		}
		int r = open_and_probe(pd, drv);
		if (r != 0) {
			bp_pci_dev_close(pd);
			if (r < 0)
				rc = r;
		}
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

void bp_pci_remove_all(void)
{
	while (nb_devices)
		bp_pci_dev_close(devices[--nb_devices]);
	bp_vfio_release_all();
}

/* Config space: VFIO's config region, UIO's sysfs config file, or the model's. */
static int cfg_access(struct bp_pci_device *d, uint32_t off, void *buf, uint32_t len, bool write)
{
	struct pci_dev *pd = pci_dev_of(d);
	ssize_t n;
	if (bp_pci_removed(d))
		return -ENODEV;
	switch (d->access) {
	case BP_PCI_UIO:
		n = write ? pwrite(pd->cfg_fd, buf, len, off) : pread(pd->cfg_fd, buf, len, off);
		break;
	case BP_PCI_VFIO:
	case BP_PCI_VFIO_NOIOMMU:
		n = write ? pwrite(pd->dev_fd, buf, len, (off_t)(pd->cfg_off + off))
			  : pread(pd->dev_fd, buf, len, (off_t)(pd->cfg_off + off));
		break;
	case BP_PCI_MODEL:
		return pd->model->cfg(pd->model->ctx, off, buf, len, write);
	default:
		return -ENODEV;
	}
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

int bp_pci_cfg_read(struct bp_pci_device *d, uint32_t off, void *buf, uint32_t len)
{
	return cfg_access(d, off, buf, len, false);
}

int bp_pci_cfg_write(struct bp_pci_device *d, uint32_t off, const void *buf, uint32_t len)
{
	return cfg_access(d, off, (void *)buf, len, true);
}

/* An I/O-port BAR: VFIO reads and writes its region; under UIO the kernel's
 * sysfs resourceN file of an I/O BAR does 1-, 2- and 4-byte port accesses
 * through pread/pwrite, so no iopl() is needed. */
static int bar_access(struct bp_pci_device *d, unsigned bar, uint32_t off, void *buf, uint32_t len, bool write)
{
	struct pci_dev *pd = pci_dev_of(d);
	ssize_t n;
	if (bar >= BP_PCI_MAX_BARS)
		return -EINVAL;
	if (bp_pci_removed(d))
		return -ENODEV;
	switch (d->access) {
	case BP_PCI_UIO:
		if (pd->io_fd[bar] < 0) {
			char p[PATH_MAX], rn[16];
			snprintf(rn, sizeof(rn), "resource%u", bar);
			bp_pci_dev_path(p, sizeof(p), d, rn);
			if ((pd->io_fd[bar] = open(p, O_RDWR | O_CLOEXEC)) < 0) {
				int rc = -errno;
				BP_LOG(ERR, "%s: cannot open %s for port I/O: %s", d->addr, p, strerror(errno));
				return rc;
			}
		}
		n = write ? pwrite(pd->io_fd[bar], buf, len, off) : pread(pd->io_fd[bar], buf, len, off);
		break;
	case BP_PCI_VFIO:
	case BP_PCI_VFIO_NOIOMMU:
		n = write ? pwrite(pd->dev_fd, buf, len, (off_t)(pd->bar_off[bar] + off))
			  : pread(pd->dev_fd, buf, len, (off_t)(pd->bar_off[bar] + off));
		break;
	default:
		return -ENODEV;
	}
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

int bp_pci_bar_read(struct bp_pci_device *d, unsigned bar, uint32_t off, void *buf, uint32_t len)
{
	return bar_access(d, bar, off, buf, len, false);
}

int bp_pci_bar_write(struct bp_pci_device *d, unsigned bar, uint32_t off, const void *buf, uint32_t len)
{
	return bar_access(d, bar, off, (void *)buf, len, true);
}

int bp_pci_intr_enable(struct bp_pci_device *d, uint16_t want)
{
	struct pci_dev *pd = pci_dev_of(d);
	int rc;
	if (d->intr.nb_vec)
		bp_pci_intr_disable(d);
	if (want == 0 || want > BP_INTR_MAX_VEC) {
		BP_LOG(ERR, "%s: %u interrupt vectors asked; 1 to %d", d->addr, want, BP_INTR_MAX_VEC);
		return -EINVAL;
	}
	switch (d->access) {
	case BP_PCI_VFIO:
	case BP_PCI_VFIO_NOIOMMU:
		rc = bp_vfio_intr_enable(pd, want);
		break;
	case BP_PCI_UIO:
		rc = bp_uio_intr_enable(pd);
		break;
	case BP_PCI_MODEL:
		rc = pd->model->intr_enable ? pd->model->intr_enable(pd->model->ctx, want, &d->intr) : -ENOTSUP;
		break;
	default:
		rc = -ENODEV;
	}
	if (rc < 0) {
		memset(&d->intr, 0, sizeof(d->intr));
		return rc;
	}
	BP_LOG(INFO, "%s: interrupts by %s, %u vector%s", d->addr, bp_intr_mode_name(d->intr.mode),
	       d->intr.nb_vec, d->intr.nb_vec > 1 ? "s" : "");
	return 0;
}

void bp_pci_intr_disable(struct bp_pci_device *d)
{
	struct pci_dev *pd = pci_dev_of(d);
	if (!d->intr.nb_vec)
		return;
	if (d->access == BP_PCI_MODEL) {
		pd->model->intr_disable(pd->model->ctx, &d->intr);
	} else if (bp_pci_removed(d)) {
		/* Nobody to tell: the kernel turned them off when we let go (VFIO)
		 * or the device went (UIO, whose one fd is the device's own). */
		if (d->access != BP_PCI_UIO)
			for (uint16_t i = 0; i < d->intr.nb_vec; i++)
				close(d->intr.fd[i]);
	} else if (d->access == BP_PCI_UIO) {
		bp_uio_intr_disable(pd);
	} else {
		bp_vfio_intr_disable(pd);
	}
	memset(&d->intr, 0, sizeof(d->intr));
}

int bp_pci_enable_bus_master(struct bp_pci_device *d)
{
	return command_set(d, PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER);
}
