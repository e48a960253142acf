/* SPDX-License-Identifier: MIT
 * The commands. Binding follows the kernel's own interface for this
 * (Documentation/ABI/testing/sysfs-bus-pci): set driver_override, unbind from
 * the current driver, ask drivers_probe to match again; new_id + bind only on
 * kernels without driver_override. Each step is verified, and a failed bind is
 * rolled back so the device stays where it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <dirent.h>
#include <limits.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bypass/pci.h>
#include "devbind.h"

int (*devbind_write_hook)(const char *path, const char *value);
bool (*devbind_write_allowed)(const char *path);

int devbind_write(const struct db_opts *o, const char *path, const char *value)
{
	if (o->dry_run) {
		fprintf(o->out, "write %s <- %s\n", path, value[0] == '\n' || !value[0] ? "(empty)" : value);
		return 0;
	}
	if (devbind_write_allowed && !devbind_write_allowed(path))
		return -EACCES;
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	int rc = write(fd, value, strlen(value)) < 0 ? -errno : 0;
	close(fd);
	if (rc == 0 && devbind_write_hook)
		rc = devbind_write_hook(path, value);
	return rc;
}

bool db_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

void db_make_dirs(const char *path)
{
	char t[PATH_MAX];
	snprintf(t, sizeof(t), "%s", path);
	for (char *s = t + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(t, 0755);
			*s = '/';
		}
	mkdir(t, 0755);
}

const char *devbind_default_source_root;

/* Runs `prog arg` (modprobe, insmod); 0 if it exited 0. Quiet unless it fails. */
static int run_cmd(const struct db_opts *o, const char *prog, const char *arg)
{
	if (o->dry_run) {
		fprintf(o->out, "run %s %s\n", prog, arg);
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp(prog, prog, arg, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ENOENT;
}

static int run_modprobe(const struct db_opts *o, const char *module) { return run_cmd(o, o->modprobe, module); }

int db_bypass_uio_builds(const struct db_opts *o, char out[][4096], int max)
{
	const char *cands[3] = { getenv("BYPASS_UIO_KO"), NULL, NULL };
	char own[4096], lab[4096];
	if (o->source_root) {
		snprintf(own, sizeof(own), "%s/kernel/linux/bypass_uio/bypass_uio.ko", o->source_root);
		snprintf(lab, sizeof(lab), "%s/lab/cache/bypass_uio/bypass_uio.ko", o->source_root);
		cands[1] = own;
		cands[2] = lab;
	}
	int n = 0;
	for (int i = 0; i < 3 && n < max; i++)
		if (cands[i] && *cands[i] && db_exists(cands[i]))
			snprintf(out[n++], 4096, "%s", cands[i]);
	return n;
}

/* bypass_uio is seldom installed: modprobe it if it is, else load a build of
 * it (after the UIO core it needs); a build for another kernel is refused by
 * insmod, and the next one is tried. */
static int load_bypass_uio(const struct db_opts *o)
{
	if (run_modprobe(o, "bypass_uio") == 0)
		return 0;
	char builds[3][4096];
	int n = db_bypass_uio_builds(o, builds, 3);
	run_modprobe(o, "uio");
	for (int i = 0; i < n; i++) {
		if (run_cmd(o, o->insmod, builds[i]) == 0) {
			if (!o->dry_run)
				fprintf(o->out, "loaded %s\n", builds[i]);
			return 0;
		}
	}
	fprintf(o->err, "bypass: bypass_uio is not installed and %s; build it for this kernel: "
			"make -C %s/kernel/linux/bypass_uio\n",
		n ? "no build of it loads here (insmod said why above)" : "there is no build of it",
		o->source_root ? o->source_root : "SOURCE");
	return -ENOENT;
}

/* The driver's folder exists, loading its module if needed. */
static int ensure_driver(const struct db_opts *o, const char *drv)
{
	char p[PATH_MAX];
	db_path(p, sizeof(p), o->sysfs, "/bus/pci/drivers/%s", drv);
	if (db_exists(p))
		return 0;
	char mod[64];
	snprintf(mod, sizeof(mod), "%s", drv);
	int rc = !strcmp(drv, "bypass_uio") ? load_bypass_uio(o) : run_modprobe(o, mod);
	if (o->dry_run)
		return 0;
	if (rc < 0 && !strcmp(drv, "bypass_uio"))
		return rc; /* said why */
	if (rc < 0 || !db_exists(p)) {
		fprintf(o->err, "bypass: driver %s is not loaded and '%s %s' did not load it; "
				"install the module for this kernel or load it by hand\n", drv, o->modprobe, mod);
		return -ENOENT;
	}
	return 0;
}

/* ---- remembered drivers ---- */

static void state_path(const struct db_opts *o, const char *addr, char *p, size_t len)
{
	snprintf(p, len, "%s/%s", o->state_dir, addr);
}

static void state_save(const struct db_opts *o, const char *addr, const char *drv)
{
	char p[PATH_MAX];
	if (o->dry_run || !drv[0] || db_is_user_driver(drv))
		return;
	db_make_dirs(o->state_dir);
	state_path(o, addr, p, sizeof(p));
	if (db_exists(p)) /* keep the first driver we took it from */
		return;
	FILE *f = fopen(p, "w");
	if (f) {
		fprintf(f, "%s\n", drv);
		fclose(f);
	}
}

void db_state_load(const struct db_opts *o, const char *addr, char *drv, size_t len)
{
	char p[PATH_MAX];
	state_path(o, addr, p, sizeof(p));
	db_read_str(p, drv, len);
}

static void state_forget(const struct db_opts *o, const char *addr)
{
	char p[PATH_MAX];
	if (o->dry_run)
		return;
	state_path(o, addr, p, sizeof(p));
	unlink(p);
}

static void persist_path(const struct db_opts *o, const char *addr, char *p, size_t len)
{
	db_path(p, len, o->etc, "/udev/rules.d/70-bypass-%s.rules", addr);
}

static int persist_write(const struct db_opts *o, const char *addr, const char *drv)
{
	char p[PATH_MAX], m[PATH_MAX];
	persist_path(o, addr, p, sizeof(p));
	db_path(m, sizeof(m), o->etc, "/modules-load.d/bypass-%s.conf", addr);
	if (o->dry_run) {
		fprintf(o->out, "create %s\ncreate %s\n", p, m);
		return 0;
	}
	char d[PATH_MAX];
	db_make_dirs(db_path(d, sizeof(d), o->etc, "/udev/rules.d"));
	db_make_dirs(db_path(d, sizeof(d), o->etc, "/modules-load.d"));
	FILE *f = fopen(p, "w"), *g = fopen(m, "w");
	if (!f || !g) {
		if (f)
			fclose(f);
		if (g)
			fclose(g);
		fprintf(o->err, "bypass: cannot write %s: %s\n", p, strerror(errno));
		return -errno;
	}
	fprintf(f, "# Written by 'bypass bind --persist'. Undo: bypass restore %s\n"
		   "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"%s\", ATTR{driver_override}=\"%s\"\n",
		addr, addr, drv);
	fprintf(g, "# Written by 'bypass bind --persist'. Undo: bypass restore %s\n%s\n", addr, drv);
	fclose(f);
	fclose(g);
	fprintf(o->out, "%s: stays on %s after a reboot (%s); undo with: bypass restore %s\n", addr, drv,
		p, addr);
	return 0;
}

static void persist_remove(const struct db_opts *o, const char *addr)
{
	char p[PATH_MAX], m[PATH_MAX];
	persist_path(o, addr, p, sizeof(p));
	db_path(m, sizeof(m), o->etc, "/modules-load.d/bypass-%s.conf", addr);
	if (!db_exists(p) && !db_exists(m))
		return;
	if (o->dry_run) {
		fprintf(o->out, "remove %s\nremove %s\n", p, m);
		return;
	}
	unlink(p);
	unlink(m);
	fprintf(o->out, "%s: removed %s\n", addr, p);
}

/* ---- the moves ---- */

static bool has_override(const struct db_opts *o, const char *addr)
{
	char p[PATH_MAX];
	return db_exists(db_path(p, sizeof(p), o->sysfs, "/bus/pci/devices/%s/driver_override", addr));
}

static int write_to(const struct db_opts *o, const char *value, const char *fmt, const char *a,
		    const char *b)
{
	char p[PATH_MAX], rel[256];
	snprintf(rel, sizeof(rel), fmt, a, b);
	db_path(p, sizeof(p), o->sysfs, "%s", rel);
	int rc = devbind_write(o, p, value);
	if (rc < 0)
		fprintf(o->err, "bypass: writing '%s' to %s failed: %s\n", value, p, strerror(-rc));
	return rc;
}

static void current_driver(const struct db_opts *o, const char *addr, char *drv, size_t len)
{
	struct db_dev d;
	drv[0] = '\0';
	if (db_dev_read(o, addr, &d) == 0)
		snprintf(drv, len, "%s", d.driver);
}

/* Moves the device to `target` ("" = no driver). Returns 0 when it got there. */
static int move_to(const struct db_opts *o, const struct db_dev *d, const char *target)
{
	const char *a = d->addr;
	char hexids[32], now[64];
	snprintf(hexids, sizeof(hexids), "%04x %04x", d->vendor, d->device);
	bool ovr = has_override(o, a);

	if (ovr && target[0])
		write_to(o, target, "/bus/pci/devices/%s/driver_override%s", a, "");
	if (d->driver[0] && write_to(o, a, "/bus/pci/drivers/%s/unbind%s", d->driver, "") < 0)
		return -EIO;
	if (!target[0])
		goto check;
	if (ovr) {
		write_to(o, a, "/bus/pci/drivers_probe%s%s", "", "");
	} else {
		/* Old kernels: teach the driver the id, then bind this one device. */
		write_to(o, hexids, "/bus/pci/drivers/%s/new_id%s", target, "");
		current_driver(o, a, now, sizeof(now));
		if (strcmp(now, target) != 0)
			write_to(o, a, "/bus/pci/drivers/%s/bind%s", target, "");
		write_to(o, hexids, "/bus/pci/drivers/%s/remove_id%s", target, "");
	}
check:
	if (o->dry_run)
		return 0;
	current_driver(o, a, now, sizeof(now));
	return strcmp(now, target) == 0 ? 0 : -EIO;
}

/* Puts the device back on `orig` after a failed move; says what happened. */
static void roll_back(const struct db_opts *o, const char *addr, const char *orig)
{
	char now[64];
	if (has_override(o, addr))
		write_to(o, "\n", "/bus/pci/devices/%s/driver_override%s", addr, "");
	current_driver(o, addr, now, sizeof(now));
	if (now[0] && strcmp(now, orig) != 0)
		write_to(o, addr, "/bus/pci/drivers/%s/unbind%s", now, "");
	current_driver(o, addr, now, sizeof(now));
	if (orig[0] && strcmp(now, orig) != 0)
		write_to(o, addr, "/bus/pci/drivers/%s/bind%s", orig, "");
	current_driver(o, addr, now, sizeof(now));
	if (strcmp(now, orig) == 0)
		fprintf(o->err, "bypass: %s: rolled back, the device is on %s again\n", addr,
			orig[0] ? orig : "no driver");
	else
		fprintf(o->err, "bypass: %s: ROLLBACK FAILED, the device is on %s (was %s); run: bypass restore %s\n",
			addr, now[0] ? now : "no driver", orig[0] ? orig : "no driver", addr);
}

/* The reasons of kind k1 or k2, joined with "; ". */
static void join(const struct db_reasons *r, enum db_kind k1, enum db_kind k2, char *out, size_t len)
{
	out[0] = '\0';
	for (int i = 0; i < r->n; i++)
		if (r->kind[i] == k1 || r->kind[i] == k2) {
			size_t l = strlen(out);
			snprintf(out + l, len - l, "%s%s", l ? "; " : "", r->text[i]);
		}
}

/* One line saying why the device may not be moved, or nothing (returns 0). A
 * bridge never moves; an active or driven device moves only with --force. */
static int refusal(const struct db_opts *o, const struct db_dev *d, const char *verb, const struct db_reasons *r)
{
	char list[DB_MAX_REASONS * 202];
	const char *drv = d->driver[0] ? d->driver : "no driver";
	bool held = db_reasons_count(r, DB_HELD), active = db_reasons_count(r, DB_ACTIVE);
	if (db_reasons_count(r, DB_NEVER)) {
		join(r, DB_NEVER, DB_NEVER, list, sizeof(list));
		fprintf(o->err, "bypass: refusing to %s %s (%s), nothing was changed: %s; bypass never binds or "
				"unbinds it, not even with --force\n", verb, d->addr, drv, list);
		return 1;
	}
	if (o->force || (!held && !active))
		return 0;
	join(r, DB_ACTIVE, DB_HELD, list, sizeof(list));
	fprintf(o->err, "bypass: refusing to %s %s (%s), nothing was changed: %s; %s%s%s\n", verb, d->addr, drv,
		list, held ? "stop that process first" : "", held && active ? "; " : held ? ", or --force" : "",
		active ? "--force goes ahead and cuts that off" : "");
	return 1;
}

/* A PF whose VFs a user-space driver holds stays where it is: its driver
 * leaving (igb's remove, vfio-pci's) disables SR-IOV, and the VFs vanish
 * under the programs that drive them. Not even --force: restore the VFs
 * first. One line, and 1, if so. */
static int pf_refusal(const struct db_opts *o, const struct db_dev *d, const char *verb)
{
	char list[DB_MAX_VFS * 40], addrs[DB_MAX_VFS * 14] = "";
	int n = db_vfs_on_user_drivers(o, d, list, sizeof(list));
	if (!n)
		return 0;
	for (const char *s = list; *s; s = strstr(s, ", ") ? strstr(s, ", ") + 2 : s + strlen(s)) {
		size_t l = strlen(addrs);
		snprintf(addrs + l, sizeof(addrs) - l, "%s%.12s", l ? " " : "", s);
	}
	fprintf(o->err, "bypass: refusing to %s %s (%s), nothing was changed: its virtual function%s %s %s on a "
			"user-space driver, and the PF leaving %s would remove %s under %s; give %s back first: "
			"bypass restore %s\n",
		verb, d->addr, d->driver[0] ? d->driver : "no driver", n > 1 ? "s" : "", list, n > 1 ? "are" : "is",
		d->driver[0] ? d->driver : "its driver", n > 1 ? "them" : "it", n > 1 ? "their users" : "its user",
		n > 1 ? "them" : "it", addrs);
	return 1;
}

/* With --force, what will be lost and what happens to the process that drives
 * the device; and, forced or not, what binding takes from the machine. */
static void warnings(const struct db_opts *o, const struct db_dev *d, const struct db_reasons *r)
{
	char list[DB_MAX_REASONS * 202];
	if (db_reasons_count(r, DB_ACTIVE)) {
		join(r, DB_ACTIVE, DB_ACTIVE, list, sizeof(list));
		fprintf(o->err, "bypass: warning: --force: this will be lost: %s\n", list);
	}
	if (db_reasons_count(r, DB_HELD)) {
		/* vfio-pci's remove asks the user to let go (the request interrupt,
		 * VFIO_PCI_REQ_IRQ_INDEX in include/uapi/linux/vfio.h) and waits until
		 * the device is closed; UIO unregisters at once under the process. */
		const char *then = !strcmp(d->driver, "vfio-pci")
					   ? "vfio-pci asks that process to let go and the kernel's unbind waits "
					     "until it closes the device, so this command may block until then"
					   : "that process loses the device under its feet";
		join(r, DB_HELD, DB_HELD, list, sizeof(list));
		fprintf(o->err, "bypass: warning: --force: %s is in use (%s): %s\n", d->addr, list, then);
	}
	for (int i = 0; i < r->n; i++)
		if (r->kind[i] == DB_WARN)
			fprintf(o->err, "bypass: warning: %s: %s\n", d->addr, r->text[i]);
}

/* Loads the device or says why it cannot be used. */
static int load_dev(const struct db_opts *o, const char *arg, struct db_dev *d)
{
	char addr[DB_ADDR_LEN];
	if (bp_pci_addr_normalize(arg, addr) < 0) {
		fprintf(o->err, "bypass: '%s' is not a PCI address; write it as 0000:03:00.0 or 03:00.0\n", arg);
		return -EINVAL;
	}
	if (db_dev_read(o, addr, d) < 0) {
		fprintf(o->err, "bypass: there is no PCI device %s; 'bypass status' lists them\n", addr);
		return -ENODEV;
	}
	return 0;
}

/* vfio-pci needs an IOMMU group whose every member is on vfio-pci or no driver. */
static int vfio_viable(const struct db_opts *o, const struct db_dev *d, struct db_dev *set, int n)
{
	char p[PATH_MAX], noiommu[8] = "";
	if (d->iommu_group < 0) {
		db_read_str(db_path(p, sizeof(p), o->sysfs, "/module/vfio/parameters/enable_unsafe_noiommu_mode"),
			    noiommu, sizeof(noiommu));
		if (noiommu[0] == 'Y' || noiommu[0] == '1') {
			fprintf(o->err, "bypass: warning: %s has no IOMMU; vfio runs in unsafe no-IOMMU mode "
					"(the device can write anywhere in memory)\n", d->addr);
			return 0;
		}
		fprintf(o->err, "bypass: %s has no IOMMU group, so vfio-pci cannot isolate it. Three ways on: "
				"(1) enable the IOMMU (VT-d/AMD-Vi in firmware, intel_iommu=on or amd_iommu=on on the kernel "
				"command line); (2) vfio's unsafe no-IOMMU mode: modprobe vfio enable_unsafe_noiommu_mode=1 "
				"(needs CONFIG_VFIO_NOIOMMU); (3) bypass bind --driver uio_pci_generic %s\n",
			d->addr, d->addr);
		return -ENODEV;
	}
	DIR *dd = opendir(db_path(p, sizeof(p), o->sysfs, "/kernel/iommu_groups/%d/devices", d->iommu_group));
	if (!dd)
		return 0;
	char blockers[1024] = "";
	for (struct dirent *e; (e = readdir(dd));) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, d->addr))
			continue;
		bool in_set = false;
		for (int i = 0; i < n; i++)
			in_set |= !strcmp(set[i].addr, e->d_name);
		struct db_dev m;
		if (in_set || db_dev_read(o, e->d_name, &m) < 0)
			continue;
		/* Bridges stay on pcieport; vfio accepts that. */
		if (!m.driver[0] || !strcmp(m.driver, "vfio-pci") || !strcmp(m.driver, "pcieport"))
			continue;
		if (d->physfn[0] && !strcmp(m.addr, d->physfn)) {
			/* Binding the PF too would take the VF away: its driver holds SR-IOV. */
			closedir(dd);
			fprintf(o->err, "bypass: %s is a virtual function in IOMMU group %d with its own PF %s (%s): "
					"the bridge above them does not isolate functions (no ACS), and the PF must stay on "
					"%s for the VF to exist, so vfio-pci cannot take the VF; bypass bind --driver "
					"bypass_uio %s works without IOMMU isolation\n",
				d->addr, d->iommu_group, m.addr, m.driver, m.driver, d->addr);
			return -EBUSY;
		}
		size_t l = strlen(blockers);
		snprintf(blockers + l, sizeof(blockers) - l, "%s%s (%s)", l ? ", " : "", m.addr, m.driver);
	}
	closedir(dd);
	if (blockers[0]) {
		fprintf(o->err, "bypass: %s shares IOMMU group %d with %s; vfio-pci needs the whole group: "
				"bind those too (bypass bind %s ...) or unbind them\n",
			d->addr, d->iommu_group, blockers, d->addr);
		return -EBUSY;
	}
	return 0;
}

/* The Interrupt Pin register (config offset 3Dh, PCI 3.0 §6.2.4): 0 means no
 * INTx, as for SR-IOV virtual functions. Unknown (unreadable) counts as yes. */
static bool has_intx(const struct db_opts *o, const char *addr)
{
	char p[PATH_MAX];
	uint8_t pin = 1;
	FILE *f = fopen(db_path(p, sizeof(p), o->sysfs, "/bus/pci/devices/%s/config", addr), "r");
	if (f) {
		if (fseek(f, 0x3d, SEEK_SET) != 0 || fread(&pin, 1, 1, f) != 1)
			pin = 1;
		fclose(f);
	}
	return pin != 0;
}

static int cmd_bind(const struct db_opts *o, int argc, char **argv)
{
	const char *target = o->driver ? o->driver : "vfio-pci";
	if (strcmp(target, "vfio-pci") && strcmp(target, "uio_pci_generic") && strcmp(target, "bypass_uio")) {
		fprintf(o->err, "bypass: unknown driver '%s'; use --driver vfio-pci, uio_pci_generic or bypass_uio\n",
			target);
		return 2;
	}
	if (argc == 0) {
		fprintf(o->err, "bypass: name the devices to bind, e.g. bypass bind 0000:03:00.0\n");
		return 2;
	}
	struct db_dev *set = calloc((size_t)argc, sizeof(*set));
	int rc = 0;
	if (!set)
		return 1;
	/* Check everything before touching anything. */
	for (int i = 0; i < argc; i++)
		if (load_dev(o, argv[i], &set[i]) < 0)
			rc = 2;
	if (rc)
		goto out;
	bool any_iommu = false;
	struct db_reasons *why = calloc((size_t)argc, sizeof(*why));
	if (!why) {
		free(set);
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		struct db_dev *d = &set[i];
		if (!strcmp(d->driver, target))
			continue;
		db_safety(o, d, &why[i]);
		db_holders(o, d, &why[i]);
		if (pf_refusal(o, d, "bind") || refusal(o, d, "bind", &why[i])) {
			rc = 1;
			continue;
		}
		if (!strcmp(target, "vfio-pci")) {
			if (vfio_viable(o, d, set, argc) < 0)
				rc = 1;
			any_iommu |= d->iommu_group >= 0;
		}
	}
	for (int i = 0; i < argc && !rc; i++)
		if (strcmp(set[i].driver, target)) {
			warnings(o, &set[i], &why[i]);
			if (!strcmp(target, "uio_pci_generic") && !has_intx(o, set[i].addr)) {
				char of[48] = "";
				if (set[i].physfn[0])
					snprintf(of, sizeof(of), " (a virtual function of %s)", set[i].physfn);
				fprintf(o->err, "bypass: warning: %s%s has no INTx pin%s: uio_pci_generic gives it no "
						"interrupt at all, only poll mode works; bypass_uio or vfio-pci give it "
						"MSI-X\n", set[i].addr, of, set[i].physfn[0] ? "" : " (an SR-IOV virtual function?)");
			}
		}
	free(why);
	if (rc)
		goto out;
	if (ensure_driver(o, target) < 0) {
		rc = 1;
		goto out;
	}
	if (!strcmp(target, "vfio-pci") && any_iommu)
		run_modprobe(o, "vfio_iommu_type1");

	for (int i = 0; i < argc; i++) {
		struct db_dev *d = &set[i];
		if (!strcmp(d->driver, target)) {
			fprintf(o->out, "%s: already on %s\n", d->addr, target);
			continue;
		}
		char p[PATH_MAX];
		state_path(o, d->addr, p, sizeof(p));
		bool had_state = db_exists(p);
		state_save(o, d->addr, d->driver);
		if (move_to(o, d, target) < 0) {
			fprintf(o->err, "bypass: %s did not end up on %s\n", d->addr, target);
			roll_back(o, d->addr, d->driver);
			if (!had_state)
				state_forget(o, d->addr);
			rc = 1;
			continue;
		}
		if (o->dry_run) {
			if (o->persist)
				persist_write(o, d->addr, target);
			continue;
		}
		fprintf(o->out, "%s: %s -> %s", d->addr, d->driver[0] ? d->driver : "no driver", target);
		if (!strcmp(target, "vfio-pci") && d->iommu_group >= 0)
			fprintf(o->out, " (/dev/vfio/%d)", d->iommu_group);
		fputc('\n', o->out);
		if (o->persist && persist_write(o, d->addr, target) < 0)
			rc = 1;
	}
out:
	free(set);
	return rc;
}

static int cmd_unbind(const struct db_opts *o, int argc, char **argv)
{
	int rc = 0;
	if (argc == 0) {
		fprintf(o->err, "bypass: name the devices to unbind, e.g. bypass unbind 0000:03:00.0\n");
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		struct db_dev d;
		struct db_reasons r;
		if (load_dev(o, argv[i], &d) < 0) {
			rc = 2;
			continue;
		}
		if (!d.driver[0]) {
			fprintf(o->out, "%s: already on no driver\n", d.addr);
			continue;
		}
		db_safety(o, &d, &r);
		db_holders(o, &d, &r);
		if (pf_refusal(o, &d, "unbind") || refusal(o, &d, "unbind", &r)) {
			rc = 1;
			continue;
		}
		warnings(o, &d, &r);
		state_save(o, d.addr, d.driver);
		if (move_to(o, &d, "") < 0) {
			fprintf(o->err, "bypass: %s is still on a driver after unbind\n", d.addr);
			rc = 1;
			continue;
		}
		if (!o->dry_run)
			fprintf(o->out, "%s: %s -> no driver\n", d.addr, d.driver);
	}
	return rc;
}

static int restore_one(const struct db_opts *o, struct db_dev *d)
{
	char target[64];
	db_state_load(o, d->addr, target, sizeof(target));
	if (!target[0])
		db_default_driver(o, d, target, sizeof(target));
	if (!target[0]) {
		fprintf(o->err, "bypass: %s: no kernel driver was remembered and none matches its id %04x:%04x; "
				"bind one by hand: echo %s > /sys/bus/pci/drivers/DRIVER/bind\n",
			d->addr, d->vendor, d->device, d->addr);
		return 1;
	}
	if (!strcmp(d->driver, target)) {
		persist_remove(o, d->addr);
		fprintf(o->out, "%s: already on %s\n", d->addr, target);
		state_forget(o, d->addr);
		return 0;
	}
	/* Giving it back to the kernel is always safe for the machine; not for a
	 * process that drives it. */
	struct db_reasons r = { 0 };
	db_holders(o, d, &r);
	if (pf_refusal(o, d, "restore") || refusal(o, d, "restore", &r))
		return 1;
	warnings(o, d, &r);
	persist_remove(o, d->addr);
	if (ensure_driver(o, target) < 0)
		return 1;
	if (has_override(o, d->addr))
		write_to(o, "\n", "/bus/pci/devices/%s/driver_override%s", d->addr, "");
	if (d->driver[0])
		write_to(o, d->addr, "/bus/pci/drivers/%s/unbind%s", d->driver, "");
	write_to(o, d->addr, "/bus/pci/drivers/%s/bind%s", target, "");
	if (o->dry_run)
		return 0;
	char now[64];
	current_driver(o, d->addr, now, sizeof(now));
	if (strcmp(now, target) != 0) {
		/* Let the kernel match it on its own. */
		write_to(o, d->addr, "/bus/pci/drivers_probe%s%s", "", "");
		current_driver(o, d->addr, now, sizeof(now));
	}
	if (strcmp(now, target) != 0) {
		fprintf(o->err, "bypass: %s: could not give it back to %s (it is on %s)\n", d->addr, target,
			now[0] ? now : "no driver");
		return 1;
	}
	state_forget(o, d->addr);
	struct db_dev after;
	db_dev_read(o, d->addr, &after);
	fprintf(o->out, "%s: %s -> %s%s%s\n", d->addr, d->driver[0] ? d->driver : "no driver", target,
		after.nb_ifaces ? " " : "", after.nb_ifaces ? after.ifaces[0] : "");
	return 0;
}

static int cmd_restore(const struct db_opts *o, int argc, char **argv)
{
	int rc = 0;
	if (o->all) {
		struct db_dev *devs;
		int n = db_dev_scan(o, &devs);
		/* VFs first: a PF is not moved while its VFs are on user-space drivers. */
		for (int pass = 0; pass < 2; pass++)
			for (int i = 0; i < n; i++) {
				char remembered[64];
				bool vf = devs[i].physfn[0] != '\0';
				if (vf == (pass == 1))
					continue;
				db_state_load(o, devs[i].addr, remembered, sizeof(remembered));
				if (db_is_user_driver(devs[i].driver) ||
				    (remembered[0] && strcmp(remembered, devs[i].driver)))
					rc |= restore_one(o, &devs[i]);
			}
		free(devs);
		return rc;
	}
	if (argc == 0) {
		fprintf(o->err, "bypass: name the devices to restore, or --all\n");
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		struct db_dev d;
		if (load_dev(o, argv[i], &d) < 0) {
			rc = 2;
			continue;
		}
		rc |= restore_one(o, &d);
	}
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: bypass status [--all] [--json]\n"
	      "       bypass bind [--driver vfio-pci|uio_pci_generic|bypass_uio] [--force] [--persist] ADDR...\n"
	      "       bypass unbind [--force] ADDR...\n"
	      "       bypass restore [--force] ADDR...|--all\n"
	      "common: --dry-run (print the writes, make none), --sysfs DIR, --procfs DIR, --etc DIR,\n"
	      "        --state-dir DIR, --modules-dir DIR, --pci-ids FILE, --modprobe CMD, --insmod CMD,\n"
	      "        --source-root DIR (where a built bypass_uio.ko is looked for)\n", f);
}

int devbind_main(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option opts[] = {
		{ "driver", required_argument, 0, 'd' },   { "force", no_argument, 0, 'f' },
		{ "persist", no_argument, 0, 'p' },        { "dry-run", no_argument, 0, 'n' },
		{ "json", no_argument, 0, 'j' },           { "all", no_argument, 0, 'a' },
		{ "sysfs", required_argument, 0, 'S' },    { "procfs", required_argument, 0, 'P' },
		{ "etc", required_argument, 0, 'E' },      { "state-dir", required_argument, 0, 'T' },
		{ "modules-dir", required_argument, 0, 'M' }, { "pci-ids", required_argument, 0, 'I' },
		{ "modprobe", required_argument, 0, 'm' }, { "help", no_argument, 0, 'h' },
		{ "insmod", required_argument, 0, 'i' },   { "source-root", required_argument, 0, 'R' },
		{ 0, 0, 0, 0 },
	};
	/* where the library may lock a device: lib/pci/pci.c tries these in turn */
	const char *lock_dirs[] = { getenv("BYPASS_RUNDIR"), "/run/bypass", "/tmp", NULL };
	if (!lock_dirs[0] || !lock_dirs[0][0])
		lock_dirs[0] = "/run/bypass";
	struct db_opts o = {
		.sysfs = "/sys", .procfs = "/proc", .etc = "/etc", .state_dir = "/run/bypass",
		.lock_dirs = lock_dirs, .modules_dir = "/lib/modules", .modprobe = "modprobe", .insmod = "insmod",
		.source_root = devbind_default_source_root, .out = out, .err = err,
	};
	const char *cmd = argv[0];
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.driver = optarg; break;
		case 'f': o.force = true; break;
		case 'p': o.persist = true; break;
		case 'n': o.dry_run = true; break;
		case 'j': o.json = true; break;
		case 'a': o.all = true; break;
		case 'S': o.sysfs = optarg; break;
		case 'P': o.procfs = optarg; break;
		case 'E': o.etc = optarg; break;
		case 'T': o.state_dir = optarg; o.lock_dirs = NULL; break;
		case 'M': o.modules_dir = optarg; break;
		case 'I': o.pci_ids = optarg; break;
		case 'm': o.modprobe = optarg; break;
		case 'i': o.insmod = optarg; break;
		case 'R': o.source_root = optarg; break;
		case 'h': usage(out); return 0;
		default:
			fprintf(err, "bypass %s: unknown or incomplete option '%s'; see: bypass %s --help\n", cmd,
				argv[optind - 1], cmd);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "status")) {
		if (argc) {
			fprintf(err, "bypass status takes no device names; it lists them all\n");
			return 2;
		}
		return db_cmd_status(&o);
	}
	if (o.dry_run)
		fprintf(out, "dry run: these are the writes that would be made; none is made\n");
	if (!strcmp(cmd, "bind"))
		return cmd_bind(&o, argc, argv);
	if (!strcmp(cmd, "unbind"))
		return cmd_unbind(&o, argc, argv);
	if (!strcmp(cmd, "restore"))
		return cmd_restore(&o, argc, argv);
	usage(err);
	return 2;
}
