/* SPDX-License-Identifier: MIT
 * Linked against libbypass.so: the drivers must be found there too. */
#include <stdio.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>

int main(void)
{
	char *argv[] = { "shared", "-l", "0", "--no-huge", "--vdev", "net_null0",
			 "--vdev", "net_ring0", NULL };
	int ok = bp_init(8, argv) >= 0 && bp_eth_dev_count_avail() == 2;
	uint16_t p;
	ok = ok && bp_eth_dev_get_port_by_name("net_ring0", &p) == 0;
	bp_cleanup();
	printf("%s shared_library_finds_drivers\n%d passed, %d failed\n", ok ? "ok  " : "FAIL", ok, !ok);
	return ok ? 0 : 1;
}
