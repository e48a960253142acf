/* SPDX-License-Identifier: MIT
 * bp_init()'s options, as a user types them: the input is argv, one entry
 * per NUL-separated piece. What parses is acted on as far as it can be in a
 * test: the --vdev values go to their drivers (net_null and net_ring here,
 * tests/fuzz/fuzz_drivers.c), and the ports are closed again. */
#include <stdlib.h>
#include <string.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/ethdev.h>
#include "env_internal.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 1];
	int argc = 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "fuzz-args";
	for (char *p = buf; argc < MAX_ARGS && p <= buf + size; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	bp_log_set_level(BP_LOG_DEBUG); /* every message formatted: --log-level may have changed it */
	const char *vdevs[BP_ENV_MAX_VDEVS];
	unsigned nb_vdevs = 0;
	int consumed = bp_env_parse_args(argc, argv, vdevs, &nb_vdevs);
	if (consumed > 0 && consumed <= argc) {
		for (unsigned i = 0; i < nb_vdevs; i++)
			bp_vdev_probe(vdevs[i]);
		bp_eth_dev_close_all();
	}
	free(buf);
	return 0;
}
