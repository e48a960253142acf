/* SPDX-License-Identifier: MIT
 * Reading the machine: PCI devices from sysfs, names from pci.ids, drivers from
 * modules.alias, and what a device carries (addresses, routes, bonds, the SSH
 * session, mounted file systems and swap, the machine's management channels)
 * and who drives it (bypass's lock, open VFIO and UIO nodes) from sysfs and
 * procfs. */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <unistd.h>
#include <limits.h>
#include <sys/stat.h>
#include <bypass/pci.h>
#include "devbind.h"

char *db_path(char *buf, size_t len, const char *root, const char *fmt, ...)
{
	va_list ap;
	size_t n = (size_t)snprintf(buf, len, "%s", root);
	va_start(ap, fmt);
	if (n < len)
		vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return buf;
}

int db_read_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		buf[0] = '\0';
		return -errno;
	}
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static unsigned read_hex(const char *path)
{
	char b[32];
	if (db_read_str(path, b, sizeof(b)) < 0)
		return 0;
	return (unsigned)strtoul(b, NULL, 16);
}

void db_link_base(const char *path, char *out, size_t len)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof(t) - 1);
	out[0] = '\0';
	if (n <= 0)
		return;
	t[n] = '\0';
	const char *b = strrchr(t, '/');
	if (snprintf(out, len, "%s", b ? b + 1 : t) >= (int)len)
		out[0] = '\0'; /* longer than any driver or group name: not one */
}

bool db_is_user_driver(const char *drv)
{
	return !strcmp(drv, "vfio-pci") || !strcmp(drv, "uio_pci_generic") || !strcmp(drv, "bypass_uio") ||
	       !strcmp(drv, "igb_uio");
}
bool db_is_network(const struct db_dev *d) { return (d->class_code >> 16) == 0x02; }
bool db_is_storage(const struct db_dev *d) { return (d->class_code >> 16) == 0x01; }

int db_dev_read(const struct db_opts *o, const char *addr, struct db_dev *d)
{
	char p[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	memset(d, 0, sizeof(*d));
	snprintf(d->addr, sizeof(d->addr), "%s", addr);
	db_path(dir, sizeof(dir), o->sysfs, "/bus/pci/devices/%s", addr);
	if (stat(dir, &st) < 0)
		return -ENODEV;
	d->vendor = read_hex(db_path(p, sizeof(p), dir, "/vendor"));
	d->device = read_hex(db_path(p, sizeof(p), dir, "/device"));
	d->subvendor = read_hex(db_path(p, sizeof(p), dir, "/subsystem_vendor"));
	d->subdevice = read_hex(db_path(p, sizeof(p), dir, "/subsystem_device"));
	d->class_code = read_hex(db_path(p, sizeof(p), dir, "/class"));
	db_read_str(db_path(p, sizeof(p), dir, "/modalias"), d->modalias, sizeof(d->modalias));
	db_link_base(db_path(p, sizeof(p), dir, "/driver"), d->driver, sizeof(d->driver));
	char g[32];
	db_link_base(db_path(p, sizeof(p), dir, "/iommu_group"), g, sizeof(g));
	d->iommu_group = g[0] ? atoi(g) : -1;
	char numa[16];
	d->numa_node = db_read_str(db_path(p, sizeof(p), dir, "/numa_node"), numa, sizeof(numa)) == 0
			       ? atoi(numa) : -1;
	/* SR-IOV: a VF's physfn link names its PF; a PF has sriov_totalvfs and
	 * one virtfnN link per VF it has now (N = 0..numvfs-1, in order). */
	db_link_base(db_path(p, sizeof(p), dir, "/physfn"), d->physfn, sizeof(d->physfn));
	char tot[16];
	if (db_read_str(db_path(p, sizeof(p), dir, "/sriov_totalvfs"), tot, sizeof(tot)) == 0)
		d->sriov_total = atoi(tot);
	for (int n = 0; d->sriov_total > 0 && n < DB_MAX_VFS; n++) {
		char vf[DB_ADDR_LEN + 1];
		db_link_base(db_path(p, sizeof(p), dir, "/virtfn%d", n), vf, sizeof(vf));
		if (!vf[0])
			break;
		snprintf(d->vfs[d->nb_vfs++], DB_ADDR_LEN, "%.12s", vf);
	}
	/* Interfaces: net/<if>, or under a virtio child (virtio-net). */
	const char *where[] = { "/net", "/virtio%d/net" };
	for (int w = 0; w < 2 && d->nb_ifaces == 0; w++) {
		for (int v = 0; v < (w ? 8 : 1) && d->nb_ifaces == 0; v++) {
			char sub[64];
			snprintf(sub, sizeof(sub), where[w], v);
			DIR *dd = opendir(db_path(p, sizeof(p), dir, "%s", sub));
			if (!dd)
				continue;
			for (struct dirent *e; (e = readdir(dd)) && d->nb_ifaces < DB_MAX_IFACES;)
				if (e->d_name[0] != '.')
					snprintf(d->ifaces[d->nb_ifaces++], sizeof(d->ifaces[0]), "%.31s", e->d_name);
			closedir(dd);
		}
	}
	return 0;
}

static int addr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct db_dev *)a)->addr, ((const struct db_dev *)b)->addr);
}

int db_dev_scan(const struct db_opts *o, struct db_dev **devs)
{
	char p[PATH_MAX];
	DIR *dd = opendir(db_path(p, sizeof(p), o->sysfs, "/bus/pci/devices"));
	int n = 0, cap = 0;
	*devs = NULL;
	if (!dd)
		return -errno;
	for (struct dirent *e; (e = readdir(dd));) {
		char norm[DB_ADDR_LEN];
		if (bp_pci_addr_normalize(e->d_name, norm) < 0 || strcmp(norm, e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			struct db_dev *g = realloc(*devs, (size_t)cap * sizeof(**devs));
			if (!g) {
				closedir(dd);
				return -ENOMEM;
			}
			*devs = g;
		}
		if (db_dev_read(o, e->d_name, &(*devs)[n]) == 0) {
			db_lookup_name(o, &(*devs)[n]);
			n++;
		}
	}
	closedir(dd);
	qsort(*devs, (size_t)n, sizeof(**devs), addr_cmp);
	return n;
}

/* pci.ids: "vvvv  Vendor" at column 0, "\tdddd  Device" below it. */
void db_lookup_name(const struct db_opts *o, struct db_dev *d)
{
	const char *cands[] = { o->pci_ids, "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids" };
	FILE *f = NULL;
	for (unsigned i = 0; i < 3 && !f; i++)
		if (cands[i])
			f = fopen(cands[i], "r");
	d->name[0] = '\0';
	if (!f)
		return;
	char line[512], vname[160] = "";
	bool in_vendor = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		if (line[0] != '\t') {
			if (in_vendor)
				break; /* past our vendor: no device entry */
			if (strtoul(line, NULL, 16) == d->vendor && isxdigit((unsigned char)line[3]) &&
			    line[4] == ' ') {
				in_vendor = true;
				snprintf(vname, sizeof(vname), "%.159s", line + 6);
			}
		} else if (in_vendor && line[1] != '\t' && strtoul(line + 1, NULL, 16) == d->device) {
			snprintf(d->name, sizeof(d->name), "%.60s %.90s", vname, line + 7);
			break;
		}
	}
	if (!d->name[0] && vname[0])
		snprintf(d->name, sizeof(d->name), "%.60s device %04x", vname, d->device);
	fclose(f);
}

void db_default_driver(const struct db_opts *o, const struct db_dev *d, char *out, size_t len)
{
	char p[PATH_MAX], rel[128], line[512];
	out[0] = '\0';
	if (!d->modalias[0])
		return;
	/* The kernel whose modules we look at: the running one (from procfs). */
	db_read_str(db_path(p, sizeof(p), o->procfs, "/sys/kernel/osrelease"), rel, sizeof(rel));
	FILE *f = fopen(db_path(p, sizeof(p), o->modules_dir, "/%s/modules.alias", rel), "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char pat[400], mod[64];
		if (sscanf(line, "alias %399s %63s", pat, mod) != 2 || strncmp(pat, "pci:", 4))
			continue;
		if (fnmatch(pat, d->modalias, 0) == 0 && !db_is_user_driver(mod) &&
		    strcmp(mod, "vfio_pci") != 0) {
			/* module names use '_', driver names often '-': the driver dir tells */
			snprintf(out, len, "%s", mod);
			break;
		}
	}
	fclose(f);
}

int db_vfs_on_user_drivers(const struct db_opts *o, const struct db_dev *pf, char *list, size_t len)
{
	int n = 0;
	list[0] = '\0';
	for (int i = 0; i < pf->nb_vfs; i++) {
		struct db_dev vf;
		if (db_dev_read(o, pf->vfs[i], &vf) < 0 || !db_is_user_driver(vf.driver))
			continue;
		size_t l = strlen(list);
		snprintf(list + l, len - l, "%s%s (%s)", l ? ", " : "", vf.addr, vf.driver);
		n++;
	}
	return n;
}

bool db_iommu_present(const struct db_opts *o)
{
	char p[PATH_MAX];
	DIR *dd = opendir(db_path(p, sizeof(p), o->sysfs, "/kernel/iommu_groups"));
	bool any = false;
	if (!dd)
		return false;
	for (struct dirent *e; (e = readdir(dd));)
		any |= e->d_name[0] != '.';
	closedir(dd);
	return any;
}
