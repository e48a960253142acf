/* SPDX-License-Identifier: MIT
 * bypass status | bind | unbind | restore: moving PCI devices between kernel
 * drivers and the user-space ones (vfio-pci, uio_pci_generic), safely.
 *
 * Every path is under a root given as an option (--sysfs, --procfs, --etc,
 * --state-dir, --modules-dir), so the tool runs unchanged against the fake trees
 * of tests/fixtures. All sysfs writes go through devbind_write(); tests install a
 * hook there that plays the kernel's part.
 */
#ifndef BYPASS_DEVBIND_H
#define BYPASS_DEVBIND_H

#include <stdio.h>
#include <stdbool.h>
#include <bypass/pci.h>

#define DB_ADDR_LEN BP_PCI_ADDR_LEN
#define DB_MAX_IFACES 4
#define DB_MAX_REASONS 16
#define DB_MAX_VFS 64

struct db_opts {
	const char *sysfs, *procfs, *etc, *state_dir, *modules_dir, *pci_ids, *modprobe, *insmod;
	const char *source_root; /* a bypass tree, where a built bypass_uio.ko may be */
	/* Other folders where the library may have put its device lock (it tries
	 * $BYPASS_RUNDIR, /run/bypass, /tmp); NULL-terminated, none with --state-dir. */
	const char *const *lock_dirs;
	const char *driver; /* bind target: vfio-pci or uio_pci_generic */
	bool dry_run, force, json, all, persist;
	FILE *out, *err;
};

struct db_dev {
	char addr[DB_ADDR_LEN];
	unsigned vendor, device, subvendor, subdevice, class_code;
	char driver[64]; /* "" when on no driver */
	char modalias[160];
	int iommu_group; /* -1: none */
	int numa_node;
	char ifaces[DB_MAX_IFACES][32];
	int nb_ifaces;
	char name[160]; /* vendor and device names from pci.ids, or "" */
	/* SR-IOV (PCIe SR-IOV 1.1; sysfs: physfn, virtfnN, sriov_totalvfs and
	 * sriov_numvfs, Documentation/ABI/testing/sysfs-bus-pci) */
	char physfn[DB_ADDR_LEN]; /* a VF: its PF; "" otherwise */
	int sriov_total;          /* a PF: VFs it can have (0: not a PF) */
	int nb_vfs;               /* a PF: VFs it has now, addresses in vfs */
	char vfs[DB_MAX_VFS][DB_ADDR_LEN];
};

/* What a reason means for bind/unbind. */
enum db_kind {
	DB_ACTIVE, /* the machine uses it: refused unless --force */
	DB_NEVER,  /* not an endpoint: refused, --force or not */
	DB_WARN,   /* something is lost, said on bind, not refused */
	DB_HELD,   /* a process drives it: refused unless --force */
};

/* Why touching a device would cut something off; empty when it is safe. */
struct db_reasons {
	int n;
	enum db_kind kind[DB_MAX_REASONS];
	char text[DB_MAX_REASONS][200];
};

/* A process with one of the given device nodes open. */
struct db_fd_user {
	int pid;
	char comm[32];
	char path[64]; /* the node it holds */
};

/* ---- scan.c: reading ---- */
int db_dev_read(const struct db_opts *o, const char *addr, struct db_dev *d);
/* All devices, sorted by address; returns the count (or negative errno). */
int db_dev_scan(const struct db_opts *o, struct db_dev **devs);
bool db_is_user_driver(const char *drv);
bool db_is_network(const struct db_dev *d);
bool db_is_storage(const struct db_dev *d);
/* The kernel driver whose module alias matches the device (not vfio/uio), or "". */
void db_default_driver(const struct db_opts *o, const struct db_dev *d, char *out, size_t len);
/* Reasons this device must not be taken from the kernel (clears r first). */
void db_safety(const struct db_opts *o, const struct db_dev *d, struct db_reasons *r);
/* Adds a DB_HELD reason per process that drives the device: the holder of
 * bypass's lock file, and any process with its VFIO group or UIO node open. */
void db_holders(const struct db_opts *o, const struct db_dev *d, struct db_reasons *r);
int db_reasons_count(const struct db_reasons *r, enum db_kind k);
/* Processes whose open files (procfs fd links) match one of the fnmatch
 * patterns; returns how many were stored in u. */
int db_fd_users(const struct db_opts *o, const char *const *patterns, int np, struct db_fd_user *u, int max);
/* One line: "up, 10.0.2.15, default route" or "down" — for status. */
void db_iface_summary(const struct db_opts *o, const char *iface, char *out, size_t len);
void db_lookup_name(const struct db_opts *o, struct db_dev *d);
bool db_iommu_present(const struct db_opts *o);
int db_read_str(const char *path, char *buf, size_t len);
/* The last part of a symlink's target ("" if none or too long). */
void db_link_base(const char *path, char *out, size_t len);
char *db_path(char *buf, size_t len, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A PF's VFs that a user-space driver holds (vfio-pci, uio, bypass_uio):
 * moving the PF off its driver would remove them under their users. Writes
 * "ADDR (driver), ..." into list; returns how many. */
int db_vfs_on_user_drivers(const struct db_opts *o, const struct db_dev *pf, char *list, size_t len);

/* ---- status.c ---- */
int db_cmd_status(const struct db_opts *o);

/* ---- devbind.c: commands ---- */
/* The kernel driver remembered for the device (state dir), or "". */
void db_state_load(const struct db_opts *o, const char *addr, char *drv, size_t len);
/* mkdir -p */
void db_make_dirs(const char *path);
bool db_exists(const char *path);
/* The bypass_uio.ko builds to try when the module is not installed:
 * $BYPASS_UIO_KO, the source tree's own build, the lab's build. Returns how
 * many exist (paths in out). */
int db_bypass_uio_builds(const struct db_opts *o, char out[][4096], int max);
/* The source tree bypass was built from (bypass.c sets it). */
extern const char *devbind_default_source_root;
/* Writes value to a sysfs file (or, with dry_run, only prints it). */
int devbind_write(const struct db_opts *o, const char *path, const char *value);
/* Test hook: called after each real write; may change the tree like the kernel
 * would and return a negative errno to fail the write. */
extern int (*devbind_write_hook)(const char *path, const char *value);
/* Test guard: when set, asked before each write; false refuses the write
 * (-EACCES) without opening the file, so a test can never reach the real /sys. */
extern bool (*devbind_write_allowed)(const char *path);
/* bypass status|bind|unbind|restore ARGS: argv[0] is the command. */
int devbind_main(int argc, char **argv, FILE *out, FILE *err);

#endif
