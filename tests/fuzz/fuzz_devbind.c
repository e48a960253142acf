/* SPDX-License-Identifier: MIT
 * bypass status / bind / unbind / restore (tools/devbind) reading a fake
 * machine: tests/fixtures/machine-iommu.txt built once by the unit tests'
 * fake_sysfs.c, then the files below replaced by the input
 * (tests/fuzz/fuzz_tree.h) — a device's sysfs files and links, SR-IOV, the
 * interface's state, procfs's routes, addresses, sockets, mounts, swaps and
 * consoles, a process's open files, the module aliases and pci.ids. The
 * first byte picks the command; every one runs with --dry-run, and a guard
 * refuses any write, so the tree stays as the input made it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <limits.h>
#include <unistd.h>
#include "fuzz_tree.h"
#include "../unit/fake_sysfs.h"
#include "../../tools/devbind/devbind.h"

#define D "sys/bus/pci/devices/0000:00:04.0/"
static const char *const slots[] = {
	D "vendor", D "device", D "class", "@" D "driver", "@" D "iommu_group", D "modalias",
	D "subsystem_vendor", D "subsystem_device", D "numa_node", D "sriov_totalvfs", D "sriov_numvfs",
	"@" D "virtfn0", "@" D "physfn", "sys/class/net/eth1/operstate", "@sys/class/net/eth1/master",
	"proc/net/route", "proc/net/if_inet6", "proc/net/ipv6_route", "proc/net/tcp", "proc/net/tcp6",
	"proc/net/fib_trie", "proc/mounts", "proc/self/mountinfo", "proc/swaps", "proc/consoles",
	"proc/4242/comm", "=proc/4242/fd/7", "run/bypass/0000:00:04.0", "run/bypass/lock-0000:00:04.0",
	"lib/modules/6.1.0-fake/modules.alias", "pci.ids", "sys/kernel/osrelease",
	"sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
};
#define NB_SLOTS (sizeof(slots) / sizeof(slots[0]))

static const char *const commands[] = {
	"status --all", "status --all --json", "bind --dry-run 0000:00:04.0",
	"bind --dry-run --driver uio_pci_generic 0000:00:04.0", "unbind --dry-run 0000:00:04.0",
	"restore --dry-run 0000:00:04.0", "restore --dry-run --all",
};
#define NB_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *root;
static FILE *devnull;

static bool no_writes(const char *path)
{
	(void)path;
	return false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	root = fake_machine("machine-iommu.txt", NULL);
	if (!root) {
		fprintf(stderr, "fuzz-devbind: cannot make the fake machine from %s\n", BYPASS_FIXTURES);
		exit(1);
	}
	char cmd[PATH_MAX * 2 + 16]; /* pci.ids into the tree, as the default of its slot */
	snprintf(cmd, sizeof(cmd), "cp %s/pci.ids %s/pci.ids", BYPASS_FIXTURES, root);
	if (system(cmd) != 0)
		exit(1);
	fuzz_tree_adopt(root);
	fuzz_tree_save(slots, NB_SLOTS);
	devbind_write_allowed = no_writes;
	devnull = getenv("FUZZ_VERBOSE") ? stdout : fopen("/dev/null", "w"); /* the output, to see a run */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_tree_apply(slots, NB_SLOTS, data + 1, size - 1);
	char buf[4096], *argv[32];
	int argc = 0;
	snprintf(buf, sizeof(buf),
		 "%s --sysfs %s/sys --procfs %s/proc --etc %s/etc --state-dir %s/run/bypass "
		 "--modules-dir %s/lib/modules --pci-ids %s/pci.ids --modprobe %s/modprobe --insmod %s/insmod "
		 "--source-root %s/src",
		 commands[data[0] % NB_COMMANDS], root, root, root, root, root, root, root, root, root);
	for (char *s = strtok(buf, " "); s && argc < 31; s = strtok(NULL, " "))
		argv[argc++] = s;
	argv[argc] = NULL;
	devbind_main(argc, argv, devnull, devnull);
	return 0;
}
