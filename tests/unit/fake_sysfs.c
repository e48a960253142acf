/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <ctype.h>
#include <limits.h>
#include <unistd.h>
#include <stdbool.h>
#include <endian.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include "fake_sysfs.h"
#include "../../tools/devbind/devbind.h"

static char root[PATH_MAX];
static char failing[64];
static bool vfio_cdev; /* vfio-pci makes vfio-dev/vfioN (the VFIO device cdev) */
/* What the fake kernel makes when a driver takes a device, and undoes on unbind. */
static struct fdev {
	char addr[16];
	char iface[32];   /* net/<iface> under a network driver */
	int vchild;       /* virtio<vchild> (-1: none), whose driver is vdrv under virtio-pci */
	char vdrv[64];
} fdevs[64];
static int nb_fdevs, nb_virtio, nb_uio, nb_vfio_cdev, nb_mounts;
static unsigned next_minor[512];
unsigned fake_writes;

static char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *P(const char *fmt, ...)
{
	static char bufs[4][PATH_MAX];
	static int k;
	char *b = bufs[k++ & 3];
	va_list ap;
	int n = snprintf(b, PATH_MAX, "%s/", root);
	va_start(ap, fmt);
	vsnprintf(b + n, (size_t)(PATH_MAX - n), fmt, ap);
	va_end(ap);
	return b;
}

static void put(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *path, const char *fmt, ...)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	db_make_dirs(dir);
	FILE *f = fopen(path, "a");
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void make_driver(const char *name, const char *ids)
{
	db_make_dirs(P("sys/bus/pci/drivers/%s", name));
	for (const char *f = "bind\0unbind\0new_id\0remove_id\0"; *f; f += strlen(f) + 1)
		put(P("sys/bus/pci/drivers/%s/%s", name, f), "%s", "");
	put(P("sys/bus/pci/drivers/%s/.ids", name), "%s", ids);
}

static struct fdev *fdev_of(const char *addr)
{
	for (int i = 0; i < nb_fdevs; i++)
		if (!strcmp(fdevs[i].addr, addr))
			return &fdevs[i];
	return NULL;
}

/* A symlink in sys/<dir_in_sys> to sys/<target_in_sys>, relative like sysfs's. */
static void sys_link(const char *dir_in_sys, const char *name, const char *target_in_sys)
{
	char t[PATH_MAX] = "";
	size_t l = 0;
	for (const char *c = dir_in_sys; c && *c; c = strchr(c, '/'), c = c ? c + 1 : NULL)
		l += (size_t)snprintf(t + l, sizeof(t) - l, "../");
	snprintf(t + l, sizeof(t) - l, "%s", target_in_sys);
	symlink(t, P("sys/%s/%s", dir_in_sys, name));
}

/* A block device NAME in sys/<dir_in_sys>: dev ("MAJ:MIN"), subsystem, holders/,
 * and sys/class/block/NAME pointing at it; a disk gets two partitions. */
static void make_block(const char *dir_in_sys, const char *name, bool disk)
{
	char rel[PATH_MAX];
	snprintf(rel, sizeof(rel), "%s/%s", dir_in_sys, name);
	db_make_dirs(P("sys/%s/holders", rel));
	unsigned maj = !strncmp(name, "sd", 2) ? 8 : !strncmp(name, "nvme", 4) ? 259 : !strncmp(name, "dm-", 3) ? 253 : 254;
	if (maj == 8 && disk)
		next_minor[maj] = (next_minor[maj] + 15) & ~15u; /* sd: 16 minors a disk */
	put(P("sys/%s/dev", rel), "%u:%u\n", maj, next_minor[maj]++);
	sys_link(rel, "subsystem", "class/block");
	db_make_dirs(P("sys/class/block"));
	char t[PATH_MAX + 8];
	snprintf(t, sizeof(t), "../../%s", rel);
	symlink(t, P("sys/class/block/%s", name));
	for (int k = 1; disk && k <= 2; k++) {
		char part[64];
		snprintf(part, sizeof(part), "%s%s%d", name, isdigit((unsigned char)name[strlen(name) - 1]) ? "p" : "", k);
		make_block(rel, part, false);
	}
}

/* The folder a path under the fake root really is (class/block/X is a link). */
static const char *real_in_sys(const char *rel)
{
	static char out[PATH_MAX];
	char r[PATH_MAX];
	out[0] = '\0';
	if (realpath(P("%s", rel), r) && !strncmp(r, root, strlen(root)) && !strncmp(r + strlen(root), "/sys/", 5))
		snprintf(out, sizeof(out), "%s", r + strlen(root) + 5);
	return out;
}

int fake_add_proc(int pid, const char *comm, const char *target)
{
	int n = 3; /* after stdin, stdout, stderr */
	db_make_dirs(P("proc/%d/fd", pid));
	FILE *f = fopen(P("proc/%d/comm", pid), "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", comm);
	fclose(f);
	while (symlink(target, P("proc/%d/fd/%d", pid, n)) < 0)
		if (errno != EEXIST || ++n > 1000)
			return -1;
	return 0;
}

const char *fake_read(const char *rel)
{
	static char buf[4096];
	FILE *f = fopen(P("%s", rel), "r");
	size_t n = 0;
	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

const char *fake_driver_of(const char *addr)
{
	static char out[64];
	char t[PATH_MAX];
	ssize_t n = readlink(P("sys/bus/pci/devices/%s/driver", addr), t, sizeof(t) - 1);
	out[0] = '\0';
	if (n > 0) {
		t[n] = '\0';
		snprintf(out, sizeof(out), "%s", strrchr(t, '/') + 1);
	}
	return out;
}

static bool is_net_driver(const char *d)
{
	return !strcmp(d, "e1000") || !strcmp(d, "e1000e") || !strcmp(d, "virtio-pci") || !strcmp(d, "igb") ||
	       !strcmp(d, "igbvf");
}

static int attach(const char *addr, const char *drv)
{
	if (!strcmp(drv, failing))
		return -EIO; /* the driver's probe failed */
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "../../drivers/%s", drv);
	if (symlink(target, P("sys/bus/pci/devices/%s/driver", addr)) < 0)
		return -EBUSY;
	snprintf(target, sizeof(target), "../../devices/%s", addr);
	symlink(target, P("sys/bus/pci/drivers/%s/%s", drv, addr));
	struct fdev *f = fdev_of(addr);
	if (f && f->iface[0] && is_net_driver(drv))
		db_make_dirs(P("sys/bus/pci/devices/%s/net/%s", addr, f->iface));
	if (f && f->vchild >= 0 && !strcmp(drv, "virtio-pci")) {
		char dir[64];
		snprintf(dir, sizeof(dir), "bus/pci/devices/%s/virtio%d", addr, f->vchild);
		snprintf(target, sizeof(target), "bus/virtio/drivers/%s", f->vdrv);
		sys_link(dir, "driver", target);
	}
	/* the nodes a user-space driver makes: /dev/uioN, /dev/vfio/devices/vfioN */
	if (!strcmp(drv, "uio_pci_generic"))
		db_make_dirs(P("sys/bus/pci/devices/%s/uio/uio%d", addr, nb_uio++));
	if (!strcmp(drv, "vfio-pci") && vfio_cdev)
		db_make_dirs(P("sys/bus/pci/devices/%s/vfio-dev/vfio%d", addr, nb_vfio_cdev++));
	return 0;
}

static void rmdir_children(const char *path)
{
	char dir[PATH_MAX], sub[PATH_MAX + 256];
	snprintf(dir, sizeof(dir), "%s", path);
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] != '.' && snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < (int)sizeof(sub))
			rmdir(sub);
	if (d)
		closedir(d);
	rmdir(dir);
}

static void detach(const char *addr)
{
	const char *drv = fake_driver_of(addr);
	if (!drv[0])
		return;
	unlink(P("sys/bus/pci/drivers/%s/%s", drv, addr));
	unlink(P("sys/bus/pci/devices/%s/driver", addr));
	struct fdev *f = fdev_of(addr);
	if (f && f->iface[0]) {
		rmdir(P("sys/bus/pci/devices/%s/net/%s", addr, f->iface));
		rmdir(P("sys/bus/pci/devices/%s/net", addr));
	}
	if (f && f->vchild >= 0) /* the virtio child loses its driver with the PCI one */
		unlink(P("sys/bus/pci/devices/%s/virtio%d/driver", addr, f->vchild));
	rmdir_children(P("sys/bus/pci/devices/%s/uio", addr));
	rmdir_children(P("sys/bus/pci/devices/%s/vfio-dev", addr));
}

static const char *override_of(const char *addr)
{
	static char o[64];
	snprintf(o, sizeof(o), "%s", fake_read(P("sys/bus/pci/devices/%s/driver_override", addr) + strlen(root) + 1));
	o[strcspn(o, "\n")] = '\0';
	return o;
}

static bool claims(const char *drv, const char *addr)
{
	char id[16], ids[1024];
	unsigned v = (unsigned)strtoul(fake_read(P("sys/bus/pci/devices/%s/vendor", addr) + strlen(root) + 1), NULL, 16);
	unsigned d = (unsigned)strtoul(fake_read(P("sys/bus/pci/devices/%s/device", addr) + strlen(root) + 1), NULL, 16);
	snprintf(id, sizeof(id), "%04x:%04x", v, d);
	snprintf(ids, sizeof(ids), "%s", fake_read(P("sys/bus/pci/drivers/%s/.ids", drv) + strlen(root) + 1));
	return strstr(ids, id) != NULL;
}

/* The bus matches a device to a driver: the override decides if set. */
static bool matches(const char *drv, const char *addr)
{
	const char *o = override_of(addr);
	return o[0] ? !strcmp(o, drv) : claims(drv, addr);
}

static int probe(const char *addr)
{
	DIR *dd = opendir(P("sys/bus/pci/drivers"));
	if (!dd)
		return 0;
	for (struct dirent *e; (e = readdir(dd));)
		if (e->d_name[0] != '.' && matches(e->d_name, addr)) {
			attach(addr, e->d_name);
			break;
		}
	closedir(dd);
	return 0;
}

/* Nothing outside the fake machine may be written, ever. */
static bool inside_root(const char *path)
{
	size_t n = strlen(root);
	return root[0] && !strncmp(path, root, n) && path[n] == '/';
}

static int kernel(const char *path, const char *value)
{
	char v[128], drv[64], file[64];
	const char *rel;
	fake_writes++;
	snprintf(v, sizeof(v), "%s", value);
	v[strcspn(v, "\n")] = '\0';
	if (strncmp(path, root, strlen(root)))
		return -EACCES; /* the tool wrote outside the fake machine */
	rel = path + strlen(root) + 1;
	if (sscanf(rel, "sys/bus/pci/drivers/%63[^/]/%63s", drv, file) == 2) {
		if (!strcmp(file, "unbind")) {
			if (strcmp(fake_driver_of(v), drv))
				return -ENODEV;
			detach(v);
			return 0;
		}
		if (!strcmp(file, "bind")) {
			if (fake_driver_of(v)[0])
				return -EBUSY;
			if (!matches(drv, v))
				return -ENODEV;
			return attach(v, drv);
		}
		if (!strcmp(file, "new_id")) {
			unsigned vd, dd;
			if (sscanf(v, "%x %x", &vd, &dd) != 2)
				return -EINVAL;
			put(P("sys/bus/pci/drivers/%s/.ids", drv), " %04x:%04x", vd, dd);
			/* a new id makes the driver probe the unbound devices it now claims */
			DIR *d = opendir(P("sys/bus/pci/devices"));
			for (struct dirent *e; d && (e = readdir(d));)
				if (e->d_name[0] != '.' && !fake_driver_of(e->d_name)[0] && matches(drv, e->d_name))
					attach(e->d_name, drv);
			if (d)
				closedir(d);
			return 0;
		}
		if (!strcmp(file, "remove_id"))
			return 0;
		return -EINVAL;
	}
	if (!strcmp(rel, "sys/bus/pci/drivers_probe"))
		return fake_driver_of(v)[0] ? 0 : probe(v);
	if (sscanf(rel, "sys/bus/pci/devices/%63[^/]/%63s", drv, file) == 2 && !strcmp(file, "driver_override"))
		return 0; /* the file itself holds the state */
	return -EINVAL;
}

/* dev ADDR CLASS VENDOR:DEVICE DRIVER|- GROUP|- [EXTRA...]; see tests/fixtures/machine-iommu.txt */
static void make_dev(char *line)
{
	char addr[16], cls[16], ids[16], drv[64], grp[16], extra[8][128];
	unsigned v, d;
	int n = sscanf(line, "dev %15s %15s %15s %63s %15s %127s %127s %127s %127s %127s %127s %127s %127s", addr,
		       cls, ids, drv, grp, extra[0], extra[1], extra[2], extra[3], extra[4], extra[5], extra[6],
		       extra[7]);
	if (n < 5 || sscanf(ids, "%x:%x", &v, &d) != 2 || nb_fdevs == 64)
		return;
	int nx = n - 5;
	struct fdev *f = &fdevs[nb_fdevs++];
	memset(f, 0, sizeof(*f));
	snprintf(f->addr, sizeof(f->addr), "%s", addr);
	f->vchild = -1;
	const char *dev = P("sys/bus/pci/devices/%s", addr);
	db_make_dirs(dev);
	put(P("sys/bus/pci/devices/%s/vendor", addr), "0x%04x\n", v);
	put(P("sys/bus/pci/devices/%s/device", addr), "0x%04x\n", d);
	put(P("sys/bus/pci/devices/%s/subsystem_vendor", addr), "0x%04x\n", v);
	put(P("sys/bus/pci/devices/%s/subsystem_device", addr), "0x0001\n");
	put(P("sys/bus/pci/devices/%s/class", addr), "0x%s\n", cls);
	put(P("sys/bus/pci/devices/%s/numa_node", addr), "0\n");
	unsigned long c = strtoul(cls, NULL, 16);
	put(P("sys/bus/pci/devices/%s/modalias", addr), "pci:v%08Xd%08Xsv%08Xsd00000001bc%02lXsc%02lXi%02lX\n",
	    v, d, v, c >> 16, (c >> 8) & 0xff, c & 0xff);
	/* config space, the first 64 bytes (PCI 3.0 §6.1): ids, class, header type */
	unsigned hdr = (c >> 8) == 0x0604 ? 1 : (c >> 8) == 0x0607 ? 2 : 0, pin = 1; /* INTA# */
	for (int i = 0; i < nx; i++) {
		sscanf(extra[i], "hdr=%u", &hdr);
		sscanf(extra[i], "pin=%u", &pin);
	}
	unsigned char cfg[64] = { v & 0xff, v >> 8, d & 0xff, d >> 8 };
	cfg[0x09] = c & 0xff, cfg[0x0a] = (c >> 8) & 0xff, cfg[0x0b] = c >> 16, cfg[0x0e] = (unsigned char)hdr;
	cfg[0x3d] = (unsigned char)pin; /* Interrupt Pin, PCI 3.0 §6.2.4 */
	FILE *cf = fopen(P("sys/bus/pci/devices/%s/config", addr), "wb");
	if (cf) {
		fwrite(cfg, 1, sizeof(cfg), cf);
		fclose(cf);
	}
	for (int i = 0; i < nx; i++) {
		const char *x = extra[i];
		int vid, ports;
		char vdrv[64];
		if (!strncmp(x, "iface=", 6)) {
			snprintf(f->iface, sizeof(f->iface), "%.31s", x + 6);
			db_make_dirs(P("sys/class/net/%s", x + 6));
			put(P("sys/class/net/%s/operstate", x + 6), "down\n");
		} else if (sscanf(x, "virtio=%d:%63s", &vid, vdrv) == 2) {
			/* the virtio device the PCI function carries, on the virtio bus */
			char dir[64];
			f->vchild = nb_virtio++;
			snprintf(f->vdrv, sizeof(f->vdrv), "%s", vdrv);
			snprintf(dir, sizeof(dir), "bus/pci/devices/%s/virtio%d", addr, f->vchild);
			db_make_dirs(P("sys/%s", dir));
			put(P("sys/%s/device", dir), "0x%04x\n", vid);
			put(P("sys/%s/vendor", dir), "0x1af4\n");
			sys_link(dir, "subsystem", "bus/virtio");
			db_make_dirs(P("sys/bus/virtio/drivers/%s", vdrv));
		} else if (sscanf(x, "sriov=%d", &ports) == 1) {
			/* an SR-IOV PF: sriov_totalvfs, and no VF yet */
			put(P("sys/bus/pci/devices/%s/sriov_totalvfs", addr), "%d\n", ports);
			put(P("sys/bus/pci/devices/%s/sriov_numvfs", addr), "0\n");
		} else if (!strncmp(x, "physfn=", 7)) {
			/* a VF of that PF (listed before it): physfn here, virtfnN there */
			const char *pf = x + 7;
			int k = atoi(fake_read(P("sys/bus/pci/devices/%s/sriov_numvfs", pf) + strlen(root) + 1));
			char t[64], name[32];
			snprintf(t, sizeof(t), "../%s", pf);
			symlink(t, P("sys/bus/pci/devices/%s/physfn", addr));
			snprintf(t, sizeof(t), "../%s", addr);
			snprintf(name, sizeof(name), "virtfn%d", k);
			symlink(t, P("sys/bus/pci/devices/%s/%s", pf, name));
			FILE *nf = fopen(P("sys/bus/pci/devices/%s/sriov_numvfs", pf), "w");
			if (nf) {
				fprintf(nf, "%d\n", k + 1);
				fclose(nf);
			}
		} else if (sscanf(x, "ports=%d", &ports) == 1 && f->vchild >= 0) {
			for (int k = 0; k < ports; k++)
				db_make_dirs(P("sys/bus/pci/devices/%s/virtio%d/virtio-ports/vport%dp%d", addr, f->vchild,
					       f->vchild, k));
		}
	}
	/* disks after the virtio child they may sit under */
	for (int i = 0; i < nx; i++) {
		char dir[PATH_MAX], path[256];
		if (!strncmp(extra[i], "block=", 6)) {
			/* ahci host -> disk -> partitions */
			snprintf(dir, sizeof(dir), "bus/pci/devices/%s/ata1/host0", addr);
			make_block(dir, extra[i] + 6, true);
		} else if (!strncmp(extra[i], "netdev=", 7) && strrchr(extra[i], '/')) {
			/* an interface further down than net/: net/NAME with subsystem net */
			snprintf(path, sizeof(path), "%s", extra[i] + 7);
			char *name = strrchr(path, '/');
			*name++ = '\0';
			snprintf(dir, sizeof(dir), "bus/pci/devices/%s/%s/%s", addr, path, name);
			db_make_dirs(P("sys/%s", dir));
			sys_link(dir, "subsystem", "class/net");
			db_make_dirs(P("sys/class/net/%s", name));
			put(P("sys/class/net/%s/operstate", name), "down\n");
		} else if (!strncmp(extra[i], "disk=", 5) && strrchr(extra[i], '/')) {
			/* disk=PATH/NAME below the device; "virtio/" is its virtio child */
			snprintf(path, sizeof(path), "%s", extra[i] + 5);
			char *name = strrchr(path, '/');
			*name++ = '\0';
			if (!strncmp(path, "virtio/", 7) || !strcmp(path, "virtio"))
				snprintf(dir, sizeof(dir), "bus/pci/devices/%s/virtio%d%s", addr, f->vchild, path + 6);
			else
				snprintf(dir, sizeof(dir), "bus/pci/devices/%s/%s", addr, path);
			make_block(dir, name, true);
		}
	}
	if (strcmp(grp, "-")) {
		char target[PATH_MAX];
		db_make_dirs(P("sys/kernel/iommu_groups/%s/devices", grp));
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%s", grp);
		symlink(target, P("sys/bus/pci/devices/%s/iommu_group", addr));
		snprintf(target, sizeof(target), "../../../../bus/pci/devices/%s", addr);
		symlink(target, P("sys/kernel/iommu_groups/%s/devices/%s", grp, addr));
	}
	if (strcmp(drv, "-"))
		attach(addr, drv);
}

/* dm NAME DMNAME BELOW...: a device-mapper device on top of other block devices */
static void make_dm(char *line)
{
	char name[32], dmname[64], below[4][32];
	int n = sscanf(line, "dm %31s %63s %31s %31s %31s %31s", name, dmname, below[0], below[1], below[2], below[3]);
	if (n < 3)
		return;
	make_block("devices/virtual/block", name, false);
	put(P("sys/devices/virtual/block/%s/dm/name", name), "%s\n", dmname);
	db_make_dirs(P("sys/devices/virtual/block/%s/slaves", name));
	for (int i = 0; i < n - 2; i++) {
		char rel[PATH_MAX], holders[PATH_MAX + 16], target[128];
		snprintf(rel, sizeof(rel), "sys/class/block/%s", below[i]);
		snprintf(rel, sizeof(rel), "%s", real_in_sys(rel));
		if (!rel[0])
			continue;
		snprintf(holders, sizeof(holders), "%s/holders", rel);
		snprintf(target, sizeof(target), "devices/virtual/block/%s", name);
		sys_link(holders, name, target);
		snprintf(target, sizeof(target), "devices/virtual/block/%s/slaves", name);
		sys_link(target, below[i], rel);
	}
}

/* mount NAME MOUNTPOINT [SOURCE]: in mountinfo by NAME's major:minor, with
 * SOURCE (default /dev/NAME) as the kernel shows it, e.g. /dev/root */
static void make_mount(char *line)
{
	char name[64], mnt[128], src[128] = "";
	if (sscanf(line, "mount %63s %127s %127s", name, mnt, src) < 2)
		return;
	if (!src[0])
		snprintf(src, sizeof(src), "/dev/%s", name);
	char dev[32];
	snprintf(dev, sizeof(dev), "%s", fake_read(P("sys/class/block/%s/dev", name) + strlen(root) + 1));
	dev[strcspn(dev, "\n")] = '\0';
	if (!dev[0])
		snprintf(dev, sizeof(dev), "0:%d", 40 + nb_mounts);
	put(P("proc/mounts"), "%s %s ext4 rw,relatime 0 0\n", src, mnt);
	put(P("proc/self/mountinfo"), "%d 1 %s / %s rw,relatime shared:%d - ext4 %s rw\n", 30 + nb_mounts, dev, mnt,
	    nb_mounts + 1, src);
	nb_mounts++;
}

static uint32_t ipv4(const char *s)
{
	unsigned a, b, c, d;
	sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d);
	return a | b << 8 | c << 16 | d << 24; /* the byte order /proc/net/route prints */
}

static void make_net(char *line, bool nooverride_unused)
{
	char k[16], ifc[32], a[64], b[64];
	(void)nooverride_unused;
	int n = sscanf(line, "%15s %31s %63s %63s", k, ifc, a, b);
	if (n < 2)
		return;
	if (!strcmp(k, "up")) {
		FILE *f = fopen(P("sys/class/net/%s/operstate", ifc), "w");
		if (f) {
			fputs("up\n", f);
			fclose(f);
		}
	} else if (!strcmp(k, "addr4") && n >= 3) {
		char ip[32];
		int plen = 24;
		sscanf(a, "%31[^/]/%d", ip, &plen);
		uint32_t mask = plen ? htobe32(~0u << (32 - plen)) : 0, net = ipv4(ip) & mask;
		put(P("proc/net/fib_trie"), "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- %s\n        /32 host LOCAL\n", ip);
		put(P("proc/net/route"), "%s\t%08X\t00000000\t0001\t0\t0\t0\t%08X\t0\t0\t0\n", ifc, net, mask);
	} else if (!strcmp(k, "route") && n >= 4 && !strcmp(a, "default")) {
		put(P("proc/net/route"), "%s\t00000000\t%08X\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", ifc, ipv4(b));
	} else if (!strcmp(k, "addr6") && n >= 3) {
		unsigned char x[16];
		char hex[33];
		inet_pton(AF_INET6, a, x);
		for (int i = 0; i < 16; i++)
			sprintf(hex + 2 * i, "%02x", x[i]);
		put(P("proc/net/if_inet6"), "%s 05 40 00 80 %8s\n", hex, ifc);
	} else if (!strcmp(k, "master") && n >= 3) {
		db_make_dirs(P("sys/class/net/%s", a));
		char t[80];
		snprintf(t, sizeof(t), "../%s", a);
		symlink(t, P("sys/class/net/%s/master", ifc));
	} else if (!strcmp(k, "ssh")) {
		/* an established connection from local port 22 */
		put(P("proc/net/tcp"), "   0: %08X:0016 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 1 1\n",
		    ipv4(ifc));
	} else if (!strcmp(k, "mount") && n >= 3) {
		make_mount(line);
	} else if (!strcmp(k, "dm")) {
		make_dm(line);
	} else if (!strcmp(k, "swap")) {
		put(P("proc/swaps"), "%s\tpartition\t1048572\t0\t-2\n", ifc);
	} else if (!strcmp(k, "console")) {
		put(P("proc/consoles"), "%-20s -W- (EC p  )  229:0\n", ifc);
	} else if (!strcmp(k, "proc") && n >= 4) {
		char comm[32], t[8][128];
		int pid, m = sscanf(line, "proc %d %31s %127s %127s %127s %127s %127s %127s %127s %127s", &pid, comm, t[0],
				    t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
		for (int i = 0; i < m - 2; i++)
			fake_add_proc(pid, comm, t[i]);
	}
}

const char *fake_machine(const char *fixture, const char *flags)
{
	char path[PATH_MAX], line[512], kernel_rel[64] = "6.1.0-fake";
	static bool at_exit;
	if (!at_exit)
		at_exit = atexit(fake_machine_destroy) == 0;
	fake_machine_destroy(); /* a test that stopped early left its machine */
	snprintf(root, sizeof(root), "/tmp/bypass-fake.XXXXXX");
	if (!mkdtemp(root))
		return NULL;
	nb_fdevs = nb_virtio = nb_uio = nb_vfio_cdev = nb_mounts = 0;
	memset(next_minor, 0, sizeof(next_minor));
	failing[0] = '\0';
	vfio_cdev = flags && strstr(flags, "cdev");
	const char *f = flags ? strstr(flags, "fail=") : NULL;
	if (f)
		sscanf(f + 5, "%63s", failing);
	bool noiommu = flags && strstr(flags, "noiommu"), nooverride = flags && strstr(flags, "nooverride");

	snprintf(path, sizeof(path), "%s/%s", BYPASS_FIXTURES, fixture);
	FILE *in = fopen(path, "r");
	if (!in)
		return NULL;
	put(P("proc/net/route"), "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
	put(P("proc/net/tcp"), "  sl  local_address rem_address   st\n");
	put(P("proc/mounts"), "proc /proc proc rw 0 0\n");
	put(P("proc/self/mountinfo"), "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n");
	put(P("proc/swaps"), "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	db_make_dirs(P("sys/bus/pci/devices"));
	db_make_dirs(P("sys/kernel/iommu_groups"));
	db_make_dirs(P("etc"));
	put(P("sys/bus/pci/drivers_probe"), "%s", "");
	char modprobe_cases[1024] = "";
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		char k[16], name[64];
		if (sscanf(line, "%15s %63s", k, name) < 1 || k[0] == '#')
			continue;
		if (!strcmp(k, "kernel"))
			snprintf(kernel_rel, sizeof(kernel_rel), "%s", name);
		else if (!strcmp(k, "driver") || !strcmp(k, "module")) {
			const char *ids = line + strlen(k) + 1 + strlen(name);
			if (!strcmp(k, "driver"))
				make_driver(name, ids);
			else {
				size_t l = strlen(modprobe_cases);
				snprintf(modprobe_cases + l, sizeof(modprobe_cases) - l, "%s%s", l ? "|" : "", name);
			}
			/* modules.alias for the ids the driver claims */
			char id[16];
			for (const char *s = ids; sscanf(s, " %15s", id) == 1; s = strstr(s, id) + strlen(id)) {
				unsigned v, d;
				if (sscanf(id, "%x:%x", &v, &d) == 2)
					put(P("lib/modules/%s/modules.alias", kernel_rel),
					    "alias pci:v%08Xd%08Xsv*sd*bc*sc*i* %s\n", v, d, name);
			}
		} else if (!strcmp(k, "dev"))
			make_dev(line);
		else
			make_net(line, nooverride);
	}
	fclose(in);
	put(P("proc/sys/kernel/osrelease"), "%s\n", kernel_rel);
	put(P("lib/modules/%s/modules.alias", kernel_rel), "%s", "");
	/* driver_override files, unless this kernel predates them */
	DIR *d = opendir(P("sys/bus/pci/devices"));
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] != '.' && !nooverride)
			put(P("sys/bus/pci/devices/%s/driver_override", e->d_name), "%s", "");
	if (d)
		closedir(d);
	if (noiommu) {
		char cmd[2 * PATH_MAX + 128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s/sys/kernel/iommu_groups'/* '%s'/sys/bus/pci/devices/*/iommu_group",
			 root, root);
		if (system(cmd) != 0)
			return NULL;
	}
	/* modprobe: creates the driver folder of the modules the machine has */
	put(P("modprobe"),
	    "#!/bin/sh\ncase \"$1\" in\n%s)\n\td='%s/sys/bus/pci/drivers/'\"$1\"\n"
	    "\tmkdir -p \"$d\" && for f in bind unbind new_id remove_id .ids; do : > \"$d/$f\"; done ;;\n"
	    "vfio_iommu_type1) ;;\n*) echo \"modprobe: FATAL: Module $1 not found\" >&2; exit 1 ;;\nesac\n",
	    modprobe_cases[0] ? modprobe_cases : "none", root);
	chmod(P("modprobe"), 0755);
	/* insmod: a module file that says "bypass_uio" loads that driver;
	 * anything else is refused as a kernel would refuse a foreign build */
	put(P("insmod"),
	    "#!/bin/sh\nif [ -f \"$1\" ] && grep -q '^bypass_uio$' \"$1\"; then\n"
	    "\td='%s/sys/bus/pci/drivers/bypass_uio'\n"
	    "\tmkdir -p \"$d\" && for f in bind unbind new_id remove_id .ids; do : > \"$d/$f\"; done; exit 0\nfi\n"
	    "echo \"insmod: ERROR: could not insert module $1: Invalid module format\" >&2; exit 1\n", root);
	chmod(P("insmod"), 0755);
	fake_writes = 0;
	devbind_write_hook = kernel;
	devbind_write_allowed = inside_root;
	return root;
}

void fake_machine_destroy(void)
{
	char cmd[PATH_MAX + 16];
	devbind_write_hook = NULL;
	/* the guard stays: a test run after this one still cannot reach /sys */
	if (!root[0] || strncmp(root, "/tmp/bypass-fake.", 17))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	root[0] = '\0';
}

static void digest_walk(const char *dir, uint64_t *h)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent **list;
	closedir(d);
	int n = scandir(dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *nm = list[i]->d_name;
		char p[PATH_MAX], buf[4096];
		if (strcmp(nm, ".") && strcmp(nm, "..") &&
		    snprintf(p, sizeof(p), "%s/%s", dir, nm) < (int)sizeof(p)) {
			struct stat st;
			for (const char *c = p; *c; c++)
				*h = (*h ^ (uint8_t)*c) * 1099511628211ull;
			if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
				ssize_t l = readlink(p, buf, sizeof(buf));
				for (ssize_t k = 0; k < l; k++)
					*h = (*h ^ (uint8_t)buf[k]) * 1099511628211ull;
			} else if (S_ISDIR(st.st_mode)) {
				digest_walk(p, h);
			} else {
				FILE *f = fopen(p, "r");
				size_t l;
				while (f && (l = fread(buf, 1, sizeof(buf), f)) > 0)
					for (size_t k = 0; k < l; k++)
						*h = (*h ^ (uint8_t)buf[k]) * 1099511628211ull;
				if (f)
					fclose(f);
			}
		}
		free(list[i]);
	}
	free(list);
}

int fake_bypass(const char *args, char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[2048], *argv[64];
	const char *r = root;
	int argc = 0;
	if (snprintf(buf, sizeof(buf),
		 "%s --sysfs %s/sys --procfs %s/proc --etc %s/etc --state-dir %s/run/bypass "
		 "--modules-dir %s/lib/modules --pci-ids %s/pci.ids --modprobe %s/modprobe --insmod %s/insmod "
		 "--source-root %s/src",
		 args, r, r, r, r, r, BYPASS_FIXTURES, r, r, r) >= (int)sizeof(buf))
		return -E2BIG; /* the fake root is a short /tmp path: never */
	for (char *s = strtok(buf, " "); s && argc < 63; s = strtok(NULL, " "))
		argv[argc++] = s;
	argv[argc] = NULL;
	out[0] = err[0] = '\0'; /* fmemopen leaves the last run's text when nothing is written */
	FILE *o = fmemopen(out, outlen, "w"), *e = fmemopen(err, errlen, "w");
	setvbuf(o, NULL, _IONBF, 0);
	setvbuf(e, NULL, _IONBF, 0);
	int rc = devbind_main(argc, argv, o, e);
	fclose(o);
	fclose(e);
	if (getenv("TEST_VERBOSE"))
		printf("$ bypass %s -> %d\n%s%s", args, rc, out, err);
	return rc;
}

uint64_t fake_tree_digest(void)
{
	uint64_t h = 1469598103934665603ull;
	digest_walk(root, &h);
	return h;
}
