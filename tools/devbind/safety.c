/* SPDX-License-Identifier: MIT
 * What a device carries, and so why taking it from the kernel would cut
 * something off: interfaces with addresses, routes, bonds or the SSH session;
 * disks below it, found by major:minor with their holders and swap; the
 * machine's own channels (vsock, VMCI, a console in use); processes that
 * drive it. Read from sysfs and procfs under the tool's roots. */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <bypass/pci.h>
#include "devbind.h"

/* ---- what an interface carries ---- */

struct route4 {
	char iface[32];
	uint32_t dest, mask; /* network byte order */
	bool gateway;
};

static int read_routes4(const struct db_opts *o, struct route4 *r, int max)
{
	char p[PATH_MAX], line[512];
	FILE *f = fopen(db_path(p, sizeof(p), o->procfs, "/net/route"), "r");
	int n = 0;
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return 0;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned dest, gw, flags, ref, use, metric, mask;
		if (sscanf(line, "%31s %x %x %x %u %u %u %x", r[n].iface, &dest, &gw, &flags, &ref,
			   &use, &metric, &mask) == 8) {
			r[n].dest = dest; /* /proc/net/route prints the raw (network-order) value */
			r[n].mask = mask;
			r[n].gateway = flags & 0x2;
			n++;
		}
	}
	fclose(f);
	return n;
}

/* The interface's IPv4 addresses: local /32 entries of fib_trie whose subnet
 * route goes out of that interface. */
static int iface_ipv4(const struct db_opts *o, const char *iface, char out[][48], int max)
{
	struct route4 rt[256];
	int nr = read_routes4(o, rt, 256), n = 0;
	char p[PATH_MAX], line[256], last[64] = "";
	FILE *f = fopen(db_path(p, sizeof(p), o->procfs, "/net/fib_trie"), "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && n < max) {
		char *s = line + strspn(line, " |+-");
		if (strstr(line, "|--")) {
			sscanf(s, "%63s", last);
			continue;
		}
		if (!strstr(line, "/32 host LOCAL"))
			continue;
		struct in_addr a;
		if (inet_pton(AF_INET, last, &a) != 1 || (ntohl(a.s_addr) >> 24) == 127)
			continue;
		bool dup = false;
		for (int i = 0; i < n; i++)
			dup |= !strcmp(out[i], last);
		for (int i = 0; i < nr && !dup; i++)
			if (!rt[i].gateway && rt[i].mask && (a.s_addr & rt[i].mask) == rt[i].dest &&
			    !strcmp(rt[i].iface, iface)) {
				snprintf(out[n++], 48, "%.47s", last);
				break;
			}
	}
	fclose(f);
	return n;
}

/* Global IPv6 addresses of the interface, from if_inet6 (scope 00). */
static int iface_ipv6(const struct db_opts *o, const char *iface, char out[][48], int max)
{
	char p[PATH_MAX], line[256];
	FILE *f = fopen(db_path(p, sizeof(p), o->procfs, "/net/if_inet6"), "r");
	int n = 0;
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char hex[40], name[32];
		unsigned idx, plen, scope, flags;
		if (sscanf(line, "%32s %x %x %x %x %31s", hex, &idx, &plen, &scope, &flags, name) != 6 ||
		    strcmp(name, iface) || scope != 0)
			continue;
		unsigned char b[16];
		for (int i = 0; i < 16; i++)
			sscanf(hex + 2 * i, "%2hhx", &b[i]);
		inet_ntop(AF_INET6, b, out[n++], 48);
	}
	fclose(f);
	return n;
}

/* Routes through the interface: IPv4 from route, IPv6 from ipv6_route (less the
 * link-local and multicast ones every interface has). *dflt: one is a default. */
static int iface_routes(const struct db_opts *o, const char *iface, bool *dflt)
{
	struct route4 rt[256];
	int nr = read_routes4(o, rt, 256), n = 0;
	*dflt = false;
	for (int i = 0; i < nr; i++)
		if (!strcmp(rt[i].iface, iface)) {
			n++;
			*dflt |= rt[i].dest == 0 && rt[i].mask == 0;
		}
	char p[PATH_MAX], line[512];
	FILE *f = fopen(db_path(p, sizeof(p), o->procfs, "/net/ipv6_route"), "r");
	if (!f)
		return n;
	while (fgets(line, sizeof(line), f)) {
		char dst[40], name[32];
		unsigned plen;
		if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %31s", dst, &plen, name) != 3 ||
		    strcmp(name, iface))
			continue;
		if (!strncmp(dst, "fe80", 4) || !strncmp(dst, "ff", 2))
			continue;
		n++;
		*dflt |= plen == 0;
	}
	fclose(f);
	return n;
}

/* Local addresses of SSH sessions: $SSH_CONNECTION, and established TCP
 * connections from local port 22 in procfs. */
static int ssh_local_addrs(const struct db_opts *o, char out[][48], int max)
{
	int n = 0;
	const char *sc = getenv("SSH_CONNECTION");
	char cip[64], sip[64];
	unsigned cport, sport;
	if (sc && sscanf(sc, "%63s %u %63s %u", cip, &cport, sip, &sport) == 4)
		snprintf(out[n++], 48, "%.47s", sip);
	char p[PATH_MAX], line[512];
	FILE *f = fopen(db_path(p, sizeof(p), o->procfs, "/net/tcp"), "r");
	if (f) {
		while (n < max && fgets(line, sizeof(line), f)) {
			unsigned sl, laddr, lport, raddr, rport, state;
			if (sscanf(line, " %u: %x:%x %x:%x %x", &sl, &laddr, &lport, &raddr, &rport, &state) == 6 &&
			    lport == 22 && state == 1) {
				struct in_addr a = { laddr };
				inet_ntop(AF_INET, &a, out[n++], 48);
			}
		}
		fclose(f);
	}
	f = fopen(db_path(p, sizeof(p), o->procfs, "/net/tcp6"), "r");
	if (f) {
		while (n < max && fgets(line, sizeof(line), f)) {
			unsigned sl, lport, state;
			char lhex[40];
			if (sscanf(line, " %u: %32[0-9A-Fa-f]:%x %*s %x", &sl, lhex, &lport, &state) == 4 &&
			    lport == 22 && state == 1) {
				/* procfs prints four host-order 32-bit words */
				uint32_t w[4];
				for (int i = 0; i < 4; i++)
					sscanf(lhex + 8 * i, "%8x", &w[i]);
				struct in6_addr a;
				memcpy(&a, w, 16);
				inet_ntop(AF_INET6, &a, out[n], 48);
				if (!strncmp(out[n], "::ffff:", 7))
					memmove(out[n], out[n] + 7, strlen(out[n] + 7) + 1);
				n++;
			}
		}
		fclose(f);
	}
	return n;
}

static void add_reason(struct db_reasons *r, enum db_kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_reason(struct db_reasons *r, enum db_kind k, const char *fmt, ...)
{
	va_list ap;
	if (r->n == DB_MAX_REASONS)
		return;
	r->kind[r->n] = k;
	va_start(ap, fmt);
	vsnprintf(r->text[r->n++], sizeof(r->text[0]), fmt, ap);
	va_end(ap);
}

int db_reasons_count(const struct db_reasons *r, enum db_kind k)
{
	int n = 0;
	for (int i = 0; i < r->n; i++)
		n += r->kind[i] == k;
	return n;
}

static void iface_safety(const struct db_opts *o, const char *ifc, struct db_reasons *r)
{
	char p[PATH_MAX], state[32], addrs[8][48], ssh[16][48], master[64];
	db_read_str(db_path(p, sizeof(p), o->sysfs, "/class/net/%s/operstate", ifc), state, sizeof(state));
	int n4 = iface_ipv4(o, ifc, addrs, 8);
	int n6 = iface_ipv6(o, ifc, addrs + n4, 8 - n4);
	if (n4 + n6)
		add_reason(r, DB_ACTIVE, "%s is %s with address %s%s", ifc, state[0] ? state : "present", addrs[0],
			   n4 + n6 > 1 ? " and more" : "");
	bool dflt;
	int nr = iface_routes(o, ifc, &dflt);
	if (dflt)
		add_reason(r, DB_ACTIVE, "%s carries the default route", ifc);
	else if (nr)
		add_reason(r, DB_ACTIVE, "%s carries %d route%s", ifc, nr, nr > 1 ? "s" : "");
	db_link_base(db_path(p, sizeof(p), o->sysfs, "/class/net/%s/master", ifc), master, sizeof(master));
	if (master[0])
		add_reason(r, DB_ACTIVE, "%s is a member of %s (bond or bridge)", ifc, master);
	int ns = ssh_local_addrs(o, ssh, 16);
	for (int i = 0; i < ns; i++)
		for (int k = 0; k < n4 + n6; k++)
			if (!strcmp(ssh[i], addrs[k])) {
				add_reason(r, DB_ACTIVE, "%s carries the current SSH session (to %s)", ifc, ssh[i]);
				i = ns;
				break;
			}
}

/* ---- endpoints only ---- */

/* Base class 06h is a bridge (PCI Code and ID Assignment Specification 1.x,
 * base class 06h: 00 host, 01 ISA, 02 EISA, 03 MCA, 04 PCI-to-PCI, 05 PCMCIA,
 * 06 NuBus, 07 CardBus, 08 RACEway, 09 semi-transparent PCI-to-PCI). The
 * header type at config offset 0Eh, bits 6:0, is 0 for an endpoint, 1 for a
 * PCI-to-PCI bridge, 2 for a CardBus bridge (PCI Local Bus Specification 3.0
 * §6.1, §6.2.1). Everything behind a bridge hangs on it: never ours to take. */
static bool not_endpoint(const struct db_opts *o, const struct db_dev *d, char *why, size_t len)
{
	static const char *const bridges[] = { "a host bridge", "an ISA bridge", "an EISA bridge", "an MCA bridge",
					       "a PCI-to-PCI bridge", "a PCMCIA bridge", "a NuBus bridge",
					       "a CardBus bridge", "a RACEway bridge", "a PCI-to-PCI bridge" };
	if ((d->class_code >> 16) == 0x06) {
		unsigned sub = (d->class_code >> 8) & 0xff;
		snprintf(why, len, "%s (class %06x) is not an endpoint", sub < 10 ? bridges[sub] : "a bridge",
			 d->class_code);
		return true;
	}
	char p[PATH_MAX];
	unsigned char cfg[64];
	FILE *f = fopen(db_path(p, sizeof(p), o->sysfs, "/bus/pci/devices/%s/config", d->addr), "rb");
	size_t n = f ? fread(cfg, 1, sizeof(cfg), f) : 0;
	if (f)
		fclose(f);
	unsigned type = n > 0x0e ? cfg[0x0e] & 0x7f : 0;
	if (type == 1 || type == 2) {
		snprintf(why, len, "a device with config header type %u (%s) is not an endpoint", type,
			 type == 1 ? "PCI-to-PCI bridge" : "CardBus bridge");
		return true;
	}
	return false;
}

/* ---- what lies below a device: disks, partitions, their holders, interfaces ---- */

#define DB_MAX_BLK 48

struct blk {
	char name[32], dm[64]; /* kernel name; device-mapper name if it is one */
	char over[32];         /* for a holder: the device below the PCI device it sits on */
	unsigned maj, min;
	bool has_dev, swap;
	int mounts;
	char mnt[128], src[64]; /* the first mount point and what the kernel called the source */
};

struct below {
	struct blk blk[DB_MAX_BLK];
	int nblk, nbelow; /* the first nbelow are below the PCI device, the rest hold them */
	char net[8][32];
	int nnet;
};

/* Adds a block device once, with its major:minor from class/block/NAME/dev
 * (the driver core's dev attribute, "MAJ:MIN", drivers/base/core.c) and, for
 * device mapper, its name from dm/name (Documentation/ABI/testing/sysfs-block-dm). */
static void blk_add(const struct db_opts *o, struct below *b, const char *name, const char *over, const char *dir)
{
	char p[PATH_MAX], dev[32];
	for (int i = 0; i < b->nblk; i++)
		if (!strcmp(b->blk[i].name, name))
			return;
	if (b->nblk == DB_MAX_BLK || strlen(name) >= sizeof(b->blk[0].name))
		return;
	struct blk *k = &b->blk[b->nblk++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(k->over, sizeof(k->over), "%s", over);
	if (db_read_str(db_path(p, sizeof(p), o->sysfs, "/class/block/%s/dev", name), dev, sizeof(dev)) < 0 && dir)
		db_read_str(db_path(p, sizeof(p), dir, "/dev"), dev, sizeof(dev));
	k->has_dev = sscanf(dev, "%u:%u", &k->maj, &k->min) == 2;
	db_read_str(db_path(p, sizeof(p), o->sysfs, "/class/block/%s/dm/name", name), k->dm, sizeof(k->dm));
}

static bool is_dir(const char *path, const struct dirent *e)
{
	struct stat st;
	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Walks the real directories below a PCI device (never the symlinks: they lead
 * back up the tree) for the ones whose subsystem is block or net. USB storage
 * sits nine levels down (usb1/1-1/1-1:1.0/host0/target0:0:0/0:0:0:0/block/sda/
 * sda1), more behind hubs; NVMe at nvme/nvme0/nvme0n1/nvme0n1p1; virtio-blk at
 * virtio0/block/vda. Another PCI device below (behind a bridge) is left out. */
static void walk_below(const struct db_opts *o, const char *dir, int depth, struct below *b)
{
	DIR *dd = depth <= 16 ? opendir(dir) : NULL;
	if (!dd)
		return;
	for (struct dirent *e; (e = readdir(dd));) {
		char sub[PATH_MAX], sl[PATH_MAX], subsys[32], norm[DB_ADDR_LEN];
		if (e->d_name[0] == '.' || snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub) ||
		    !is_dir(sub, e) || snprintf(sl, sizeof(sl), "%s/subsystem", sub) >= (int)sizeof(sl))
			continue;
		if (bp_pci_addr_normalize(e->d_name, norm) == 0 && !strcmp(norm, e->d_name))
			continue;
		db_link_base(sl, subsys, sizeof(subsys));
		if (!strcmp(subsys, "block"))
			blk_add(o, b, e->d_name, "", sub);
		else if (!strcmp(subsys, "net") && b->nnet < 8)
			snprintf(b->net[b->nnet++], sizeof(b->net[0]), "%.31s", e->d_name);
		walk_below(o, sub, depth + 1, b);
	}
	closedir(dd);
}

/* proc(5): mounts, mountinfo and swaps write space, tab, newline and backslash
 * in names as \ooo. */
static void unescape(char *s)
{
	char *w = s;
	for (; *s; s++, w++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*w = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w = *s;
		}
	}
	*w = '\0';
}

/* Does a path from mounts or swaps name this block device? */
static bool names_blk(const char *src, const struct blk *k)
{
	if (!strncmp(src, "/dev/", 5) && !strcmp(src + 5, k->name))
		return true;
	return k->dm[0] && !strncmp(src, "/dev/mapper/", 12) && !strcmp(src + 12, k->dm);
}

/* Mounts by major:minor: field 3 of mountinfo is the st_dev of the mount
 * (proc_pid_mountinfo(5); Documentation/filesystems/proc.rst), so a root the
 * kernel shows as /dev/root is still found. File systems that report an
 * anonymous device (btrfs: 0:N) are found by their source (after " - "
 * and the type) instead. Without mountinfo, /proc/mounts by name only. */
static void blk_mounts(const struct db_opts *o, struct below *b)
{
	char p[PATH_MAX], *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(db_path(p, sizeof(p), o->procfs, "/self/mountinfo"), "r");
	bool info = f != NULL;
	if (!f)
		f = fopen(db_path(p, sizeof(p), o->procfs, "/mounts"), "r");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		unsigned maj = 0, min = 0;
		char mnt[512], src[256];
		const char *dash = strstr(line, " - ");
		if (info ? sscanf(line, "%*s %*s %u:%u %*s %511s", &maj, &min, mnt) != 3 || !dash ||
				   sscanf(dash + 3, "%*s %255s", src) != 1
			 : sscanf(line, "%255s %511s", src, mnt) != 2)
			continue;
		unescape(mnt);
		unescape(src);
		for (int i = 0; i < b->nblk; i++) {
			struct blk *k = &b->blk[i];
			if (!(info && k->has_dev && k->maj == maj && k->min == min) && !names_blk(src, k))
				continue;
			if (k->mounts++ == 0) {
				snprintf(k->mnt, sizeof(k->mnt), "%.127s", mnt);
				snprintf(k->src, sizeof(k->src), "%.63s", src);
			}
		}
	}
	fclose(f);
	/* swaps: "Filename Type Size Used Priority" after a header line; the name
	 * is the kernel's (/dev/dm-0) or the path swapon was given (/dev/mapper/X). */
	f = fopen(db_path(p, sizeof(p), o->procfs, "/swaps"), "r");
	while (f && getline(&line, &cap, f) > 0) {
		char name[512];
		if (sscanf(line, "%511s", name) != 1 || !strcmp(name, "Filename"))
			continue;
		unescape(name);
		for (int i = 0; i < b->nblk; i++)
			b->blk[i].swap |= names_blk(name, &b->blk[i]);
	}
	if (f)
		fclose(f);
	free(line);
}

/* "/dev/dm-0 (/dev/mapper/vg-swap, over /dev/nvme0n1p2)" */
static void blk_label(const struct blk *k, char *out, size_t len)
{
	int n = snprintf(out, len, "/dev/%s", k->name);
	if ((k->dm[0] || k->over[0]) && n > 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, " (%s%s%s%s%s)", k->dm[0] ? "/dev/mapper/" : "", k->dm,
			 k->dm[0] && k->over[0] ? ", " : "", k->over[0] ? "over /dev/" : "", k->over);
}

static void below_safety(const struct db_opts *o, const struct db_dev *d, struct db_reasons *r,
			 struct below *b)
{
	char dir[PATH_MAX], p[PATH_MAX];
	/* Resolve the bus link so the walk stays inside the device's own tree. */
	db_path(p, sizeof(p), o->sysfs, "/bus/pci/devices/%s", d->addr);
	if (!realpath(p, dir))
		snprintf(dir, sizeof(dir), "%s", p);
	memset(b, 0, sizeof(*b));
	walk_below(o, dir, 0, b);
	b->nbelow = b->nblk;
	/* Holders, recursively: dm, md and LVM on top of our devices, and what sits
	 * on those (holders/NAME links, made by bd_link_disk_holder(), block/holder.c). */
	for (int i = 0; i < b->nblk; i++) {
		DIR *h = opendir(db_path(p, sizeof(p), o->sysfs, "/class/block/%s/holders", b->blk[i].name));
		for (struct dirent *e; h && (e = readdir(h));) {
			if (e->d_name[0] == '.')
				continue;
			if (i < b->nbelow)
				add_reason(r, DB_ACTIVE, "/dev/%s is held by %s (device mapper, RAID or LVM)",
					   b->blk[i].name, e->d_name);
			blk_add(o, b, e->d_name, b->blk[i].over[0] ? b->blk[i].over : b->blk[i].name, NULL);
		}
		if (h)
			closedir(h);
	}
	blk_mounts(o, b);
	for (int i = 0; i < b->nblk; i++) {
		const struct blk *k = &b->blk[i];
		char label[160], as[96] = "", more[32] = "";
		blk_label(k, label, sizeof(label));
		if (k->mounts && !names_blk(k->src, k))
			snprintf(as, sizeof(as), " (as %s)", k->src);
		if (k->mounts > 1)
			snprintf(more, sizeof(more), " and %d more place%s", k->mounts - 1, k->mounts > 2 ? "s" : "");
		if (k->mounts)
			add_reason(r, DB_ACTIVE, "%s is mounted on %s%s%s", label, k->mnt, as, more);
		if (k->swap)
			add_reason(r, DB_ACTIVE, "%s is in use as swap", label);
	}
}

/* ---- who has a device node open ---- */

int db_fd_users(const struct db_opts *o, const char *const *patterns, int np, struct db_fd_user *u, int max)
{
	char p[PATH_MAX];
	int n = 0;
	DIR *pd = opendir(o->procfs);
	if (!pd)
		return 0;
	for (struct dirent *e; (e = readdir(pd)) && n < max;) {
		char fdd[PATH_MAX];
		if (!isdigit((unsigned char)e->d_name[0]) || e->d_name[strspn(e->d_name, "0123456789")])
			continue;
		DIR *fd = opendir(db_path(fdd, sizeof(fdd), o->procfs, "/%s/fd", e->d_name));
		if (!fd) /* gone, or not ours to look at */
			continue;
		for (struct dirent *f; (f = readdir(fd)) && n < max;) {
			char t[256];
			if (f->d_name[0] == '.' || snprintf(p, sizeof(p), "%s/%s", fdd, f->d_name) >= (int)sizeof(p))
				continue;
			ssize_t l = readlink(p, t, sizeof(t) - 1);
			if (l <= 0)
				continue;
			t[l] = '\0';
			int pid = atoi(e->d_name);
			bool hit = false, dup = false;
			for (int i = 0; i < np && !hit; i++)
				hit = fnmatch(patterns[i], t, FNM_PATHNAME) == 0;
			for (int j = 0; j < n && hit; j++)
				dup |= u[j].pid == pid && !strcmp(u[j].path, t);
			if (!hit || dup)
				continue;
			u[n].pid = pid;
			snprintf(u[n].path, sizeof(u[n].path), "%.63s", t);
			db_read_str(db_path(p, sizeof(p), o->procfs, "/%d/comm", pid), u[n].comm, sizeof(u[n].comm));
			if (!u[n].comm[0])
				snprintf(u[n].comm, sizeof(u[n].comm), "?");
			n++;
		}
		closedir(fd);
	}
	closedir(pd);
	return n;
}

/* ---- the machine's own channels, and what binding takes away ---- */

/* virtio device ids (virtio 1.2 §5 "Device Types"): console 3 (§5.3), entropy
 * 4 (§5.4), traditional memory balloon 5 (§5.5), socket 19 (§5.10). */
enum { VIRTIO_ID_CONSOLE = 3, VIRTIO_ID_ENTROPY = 4, VIRTIO_ID_BALLOON = 5, VIRTIO_ID_SOCKET = 19 };

/* The virtio device id of a virtio PCI function (vendor 1af4): PCI device id
 * 0x1040 + id for modern devices, a fixed table for transitional ones 0x1000..
 * 0x103f (virtio 1.2 §4.1.2.1), and the virtio child (virtioN, on the virtio
 * bus) when the kernel made one: its device file and its driver. -1: not virtio. */
static int virtio_of(const struct db_opts *o, const struct db_dev *d, char *child, size_t clen, char *drv,
		     size_t dlen)
{
	static const struct { unsigned pci; int id; } transitional[] = {
		{ 0x1000, 1 }, { 0x1001, 2 }, { 0x1002, VIRTIO_ID_BALLOON }, { 0x1003, VIRTIO_ID_CONSOLE },
		{ 0x1004, 8 }, { 0x1005, VIRTIO_ID_ENTROPY }, { 0x1009, 9 },
	};
	char p[PATH_MAX], dir[PATH_MAX], id_s[16];
	int id = -1;
	child[0] = drv[0] = '\0';
	if (d->vendor != 0x1af4 || d->device < 0x1000 || d->device > 0x107f)
		return -1;
	if (d->device >= 0x1040)
		id = (int)d->device - 0x1040;
	for (unsigned i = 0; i < sizeof(transitional) / sizeof(transitional[0]); i++)
		if (transitional[i].pci == d->device)
			id = transitional[i].id;
	DIR *dd = opendir(db_path(dir, sizeof(dir), o->sysfs, "/bus/pci/devices/%s", d->addr));
	for (struct dirent *e; dd && (e = readdir(dd));) {
		unsigned k;
		char c;
		if (sscanf(e->d_name, "virtio%u%c", &k, &c) != 1 ||
		    snprintf(child, clen, "%s/virtio%u", dir, k) >= (int)clen)
			continue;
		if (db_read_str(db_path(p, sizeof(p), child, "/device"), id_s, sizeof(id_s)) == 0 && id_s[0])
			id = (int)strtol(id_s, NULL, 16);
		db_link_base(db_path(p, sizeof(p), child, "/driver"), drv, dlen);
		break;
	}
	if (dd)
		closedir(dd);
	return id;
}

/* A virtio console is in use when a process holds one of its ports
 * (/dev/vportNpM: the child's virtio-ports folder) or an hvc console, or an
 * hvc is a system console in /proc/consoles. hvc has no link to its device in
 * sysfs; on a virtual machine with a virtio console, that is where it lives. */
static void console_safety(const struct db_opts *o, const char *child, struct db_reasons *r)
{
	char p[PATH_MAX], ports[16][64], line[256];
	const char *pat[17];
	int np = 0;
	DIR *dd = opendir(db_path(p, sizeof(p), child, "/virtio-ports"));
	for (struct dirent *e; dd && (e = readdir(dd)) && np < 16;)
		if (e->d_name[0] != '.') {
			snprintf(ports[np], sizeof(ports[0]), "/dev/%.58s", e->d_name);
			pat[np] = ports[np];
			np++;
		}
	if (dd)
		closedir(dd);
	pat[np++] = "/dev/hvc[0-9]*";
	struct db_fd_user u[8];
	int n = db_fd_users(o, pat, np, u, 8);
	for (int i = 0; i < n; i++)
		add_reason(r, DB_ACTIVE, "virtio console in use: process %d (%s) holds %s", u[i].pid, u[i].comm,
			   u[i].path);
	/* consoles: one line per console, its name first (Documentation/filesystems/proc.rst) */
	FILE *f = fopen(db_path(p, sizeof(p), o->procfs, "/consoles"), "r");
	while (f && fgets(line, sizeof(line), f)) {
		char name[32];
		if (sscanf(line, "%31s", name) == 1 && !strncmp(name, "hvc", 3))
			add_reason(r, DB_ACTIVE, "virtio console in use: /dev/%s is a system console", name);
	}
	if (f)
		fclose(f);
}

static void channel_safety(const struct db_opts *o, const struct db_dev *d, struct db_reasons *r)
{
	char child[PATH_MAX], cdrv[64];
	bool kernel = d->driver[0] && !db_is_user_driver(d->driver);
	/* VMware's VMCI device, PCI 15ad:0740, driver vmw_vmci (Linux
	 * drivers/misc/vmw_vmci): VMware Tools and vsock over VMCI use it. */
	if (d->vendor == 0x15ad && d->device == 0x0740 && !strcmp(d->driver, "vmw_vmci"))
		add_reason(r, DB_ACTIVE, "VMware VMCI device on vmw_vmci: the hypervisor's channel into this machine "
					 "(VMware Tools, vsock)");
	int id = virtio_of(o, d, child, sizeof(child), cdrv, sizeof(cdrv));
	if (id == VIRTIO_ID_SOCKET && !strcmp(cdrv, "vmw_vsock_virtio_transport"))
		add_reason(r, DB_ACTIVE, "virtio socket device on vmw_vsock_virtio_transport: the host's channel into "
					 "this machine (guest agents, SSH over vsock)");
	else if (id == VIRTIO_ID_CONSOLE && !strcmp(cdrv, "virtio_console"))
		console_safety(o, child, r);
	else if (id == VIRTIO_ID_BALLOON && kernel)
		add_reason(r, DB_WARN, "it is the virtio memory balloon: the host can no longer reclaim memory "
				       "from this machine or give it back (ballooning stops)");
	else if (id == VIRTIO_ID_ENTROPY && kernel)
		add_reason(r, DB_WARN, "it is the virtio entropy source: this machine loses the host's entropy "
				       "(the virtio_rng hardware random number generator)");
}

void db_safety(const struct db_opts *o, const struct db_dev *d, struct db_reasons *r)
{
	char why[160];
	memset(r, 0, sizeof(*r));
	if (not_endpoint(o, d, why, sizeof(why))) {
		add_reason(r, DB_NEVER, "%s", why);
		return;
	}
	for (int i = 0; i < d->nb_ifaces; i++)
		iface_safety(o, d->ifaces[i], r);
	struct below *b = malloc(sizeof(*b));
	if (!b) {
		add_reason(r, DB_ACTIVE, "out of memory while looking below it");
		return;
	}
	below_safety(o, d, r, b);
	/* interfaces further down than net/ or virtioN/net/: a USB NIC behind a USB controller */
	for (int i = 0; i < b->nnet; i++) {
		bool known = false;
		for (int k = 0; k < d->nb_ifaces; k++)
			known |= !strcmp(d->ifaces[k], b->net[i]);
		if (!known)
			iface_safety(o, b->net[i], r);
	}
	free(b);
	channel_safety(o, d, r);
}

/* ---- processes that drive a device ---- */

/* bypass's own lock: while it drives a device the library holds an fcntl
 * write lock on <run dir>/lock-ADDR (lib/pci/pci.c). F_GETLK names the holder
 * (in our PID namespace; 0 or -1 if it cannot: another namespace, or an OFD
 * lock); a file nobody locks is stale. Opening it read-only writes nothing.
 * (Closing it would drop a lock this process held on it; the tool holds none.) */
static int lock_holder(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int rc = fcntl(fd, F_GETLK, &fl);
	close(fd);
	if (rc < 0 || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid > 0 ? fl.l_pid : -1;
}

void db_holders(const struct db_opts *o, const struct db_dev *d, struct db_reasons *r)
{
	char p[PATH_MAX], lock[PATH_MAX] = "";
	int lock_pid = 0;
	snprintf(lock, sizeof(lock), "%s/lock-%s", o->state_dir, d->addr);
	lock_pid = lock_holder(lock);
	for (int i = 0; !lock_pid && o->lock_dirs && o->lock_dirs[i]; i++) {
		snprintf(lock, sizeof(lock), "%s/lock-%s", o->lock_dirs[i], d->addr);
		lock_pid = lock_holder(lock);
	}
	struct db_fd_user u[8];
	int n = 0;
	if (db_is_user_driver(d->driver)) {
		/* The nodes a user-space driver opens: the VFIO group /dev/vfio/N, or
		 * /dev/vfio/noiommu-N in no-IOMMU mode, or the device's own cdev
		 * /dev/vfio/devices/vfioN (vfio-dev/vfioN in sysfs) (Documentation/
		 * driver-api/vfio.rst); UIO: /dev/uioN (uio/uioN in sysfs)
		 * (Documentation/driver-api/uio-howto.rst). */
		char nodes[10][64];
		const char *pat[10];
		int np = 0;
		if (d->iommu_group >= 0) {
			snprintf(nodes[np++], sizeof(nodes[0]), "/dev/vfio/%d", d->iommu_group);
			snprintf(nodes[np++], sizeof(nodes[0]), "/dev/vfio/noiommu-%d", d->iommu_group);
		}
		const char *sub[] = { "vfio-dev", "uio" }, *node[] = { "/dev/vfio/devices/%.40s", "/dev/%.40s" };
		for (int s = 0; s < 2; s++) {
			DIR *dd = opendir(db_path(p, sizeof(p), o->sysfs, "/bus/pci/devices/%s/%s", d->addr, sub[s]));
			for (struct dirent *e; dd && (e = readdir(dd)) && np < 10;)
				if (e->d_name[0] != '.')
					snprintf(nodes[np++], sizeof(nodes[0]), node[s], e->d_name);
			if (dd)
				closedir(dd);
		}
		for (int i = 0; i < np; i++)
			pat[i] = nodes[i];
		n = db_fd_users(o, pat, np, u, 8);
	}
	/* Who else is in the IOMMU group: the group node is theirs too. */
	char others[160] = "";
	int nothers = 0;
	DIR *gd = d->iommu_group >= 0 ? opendir(db_path(p, sizeof(p), o->sysfs, "/kernel/iommu_groups/%d/devices",
							  d->iommu_group))
				      : NULL;
	for (struct dirent *e; gd && (e = readdir(gd));)
		if (e->d_name[0] != '.' && strcmp(e->d_name, d->addr) && nothers++ < 3) {
			size_t l = strlen(others);
			snprintf(others + l, sizeof(others) - l, "%s%.16s", l ? ", " : "", e->d_name);
		}
	if (gd)
		closedir(gd);
	bool lock_named = false;
	for (int i = 0; i < n; i++) {
		char group[64];
		bool whole_group = snprintf(group, sizeof(group), "/dev/vfio/%d", d->iommu_group) > 0 &&
				   (!strcmp(u[i].path, group) || !strncmp(u[i].path, "/dev/vfio/noiommu-", 18));
		lock_named |= u[i].pid == lock_pid;
		if (whole_group && nothers)
			add_reason(r, DB_HELD, "process %d (%s) holds IOMMU group %d (%s), shared with %s%s", u[i].pid,
				   u[i].comm, d->iommu_group, u[i].path, others, nothers > 3 ? " and more" : "");
		else
			add_reason(r, DB_HELD, "process %d (%s) holds %s", u[i].pid, u[i].comm, u[i].path);
	}
	if (lock_pid > 0 && !lock_named) {
		char comm[32];
		db_read_str(db_path(p, sizeof(p), o->procfs, "/%d/comm", lock_pid), comm, sizeof(comm));
		add_reason(r, DB_HELD, "process %d (%s) holds bypass's lock on it (%s)", lock_pid, comm[0] ? comm : "?",
			   lock);
	} else if (lock_pid < 0) {
		add_reason(r, DB_HELD, "a process in another PID namespace holds bypass's lock on it (%s)", lock);
	}
}

void db_iface_summary(const struct db_opts *o, const char *ifc, char *out, size_t len)
{
	char p[PATH_MAX], state[32], addrs[8][48];
	bool dflt;
	db_read_str(db_path(p, sizeof(p), o->sysfs, "/class/net/%s/operstate", ifc), state, sizeof(state));
	int n = iface_ipv4(o, ifc, addrs, 8);
	n += iface_ipv6(o, ifc, addrs + n, 8 - n);
	int nr = iface_routes(o, ifc, &dflt);
	snprintf(out, len, "%s%s%s%s", state[0] ? state : "?", n ? ", " : "", n ? addrs[0] : "",
		 dflt ? ", default route" : nr ? ", routes" : "");
}
