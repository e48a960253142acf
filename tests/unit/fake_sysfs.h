/* SPDX-License-Identifier: MIT
 * A fake machine for the bind tests: sysfs, procfs, /etc, the module aliases
 * and modprobe, built in a temporary folder from a description under
 * tests/fixtures/, and a small fake kernel that reacts to the writes the tool
 * makes (unbind, bind, driver_override, drivers_probe, new_id, remove_id). */
#ifndef BYPASS_TEST_FAKE_SYSFS_H
#define BYPASS_TEST_FAKE_SYSFS_H

#include <stddef.h>
#include <stdint.h>

/* flags: space-separated: "noiommu" (no IOMMU groups), "nooverride" (a kernel
 * without driver_override), "fail=DRIVER" (that driver's probe fails), "cdev"
 * (vfio-pci gives each device a VFIO cdev, vfio-dev/vfioN).
 * Returns the root folder (static buffer) or NULL. Installs the fake kernel. */
const char *fake_machine(const char *fixture, const char *flags);
void fake_machine_destroy(void);
/* Hash of every path, file content and link target under the root. */
uint64_t fake_tree_digest(void);
/* Driver of a device ("" if none), and a file's content, in the fake tree. */
const char *fake_driver_of(const char *addr);
const char *fake_read(const char *rel);
/* A process PID named COMM with TARGET open (proc/PID/comm, proc/PID/fd/N). */
int fake_add_proc(int pid, const char *comm, const char *target);
/* Runs "bypass CMD ARGS" (devbind_main) against the fake machine, with every
 * root option pointing into it; its output in out, its errors in err. */
int fake_bypass(const char *args, char *out, size_t outlen, char *err, size_t errlen);
/* How many writes the fake kernel saw. */
extern unsigned fake_writes;

#endif
