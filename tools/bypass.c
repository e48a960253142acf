/* SPDX-License-Identifier: MIT
 * bypass: the command-line tool.
 *   bypass status | bind | unbind | restore   move devices between drivers
 *   bypass stats [PID]                        a running process's ports, rates, pools
 *   bypass lab ...                            the QEMU lab (lab/lab in the source tree)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include "devbind/devbind.h"
#include "stats/stats.h"

#ifndef BP_SOURCE_ROOT
#error "BP_SOURCE_ROOT must name the source tree"
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: bypass COMMAND [ARGS]\n"
		   "  status [--all] [--json]                PCI network devices and who holds them\n"
		   "  bind [--driver D] [--force] ADDR...    give devices to vfio-pci (default), uio_pci_generic or bypass_uio\n"
		   "  unbind ADDR...                         take devices off their driver\n"
		   "  restore ADDR...|--all                  give devices back to their kernel driver\n"
		   "                                         (each: --help; --dry-run prints the sysfs writes)\n"
		   "  stats [PID] [--watch] [--json|--prometheus]\n"
		   "                                         a running bypass process's ports, rates, pools, lcores\n"
		   "  lab prepare|run|shell|topologies ...   the QEMU lab with emulated NICs\n"
		   "                                         (bypass lab --help for its options)\n"
		   "  help                                   this text\n");
}

static int cmd_lab(int argc, char **argv)
{
	const char *dir = getenv("BYPASS_SOURCE_ROOT");
	char path[4096];
	snprintf(path, sizeof(path), "%s/lab/lab", dir && *dir ? dir : BP_SOURCE_ROOT);
	if (access(path, X_OK) != 0) {
		fprintf(stderr, "bypass: the lab script %s is missing; set BYPASS_SOURCE_ROOT to a bypass source tree\n",
			path);
		return 2;
	}
	argv[0] = path; /* argv[1..] are the lab's own arguments */
	execv(path, argv);
	fprintf(stderr, "bypass: cannot run %s: %s\n", path, strerror(errno));
	(void)argc;
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "lab") == 0)
		return cmd_lab(argc - 1, argv + 1);
	if (strcmp(argv[1], "stats") == 0)
		return stats_main(argc - 1, argv + 1, stdout, stderr);
	const char *src = getenv("BYPASS_SOURCE_ROOT");
	devbind_default_source_root = src && *src ? src : BP_SOURCE_ROOT;
	static const char *const devbind_cmds[] = { "status", "bind", "unbind", "restore" };
	for (unsigned i = 0; i < sizeof(devbind_cmds) / sizeof(devbind_cmds[0]); i++)
		if (strcmp(argv[1], devbind_cmds[i]) == 0)
			return devbind_main(argc - 1, argv + 1, stdout, stderr);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "bypass: unknown command '%s'; see: bypass help\n", argv[1]);
	return 2;
}
