/* SPDX-License-Identifier: MIT
 * In the lab guest: a port with rx and link interrupts, started and stopped
 * again and again, leaves no fd open (eventfds, the interrupt thread's epoll,
 * /dev/uioN) once it is stopped and once bypass is cleaned up.
 *   intr-cycle PCI-ADDRESS CYCLES
 * Prints the fd counts and exits 0 when every stop leaves as many as the
 * first one (the interrupt thread, started by the first start, stays until
 * bp_cleanup), each start opened some, and bp_cleanup leaves as many as
 * there were before bp_init. */
#include <stdio.h>
#include <stdlib.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/mbuf.h>
#include "../open_fds.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: intr-cycle PCI-ADDRESS CYCLES\n");
		return 2;
	}
	int before = open_fds();
	char *eargv[] = { argv[0], "-l", "0", "-a", argv[1], "--log-level", "warning", NULL };
	if (bp_init(7, eargv) < 0)
		return 1;
	struct bp_mempool *mp = bp_pktmbuf_pool_create("cycle", 4096, 64, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = 1, .link_intr = 1 };
	if (!mp || bp_eth_dev_configure(0, 1, 1, &conf) < 0 || bp_eth_rx_queue_setup(0, 0, 256, mp) < 0 ||
	    bp_eth_tx_queue_setup(0, 0, 256) < 0)
		return 1;
	int configured = open_fds(), started = 0, stopped = 0, first_stop = -1, bad = 0;
	for (int c = 0; c < atoi(argv[2]); c++) {
		if (bp_eth_dev_start(0) < 0)
			return 1;
		started = open_fds();
		if (bp_eth_rx_intr_wait(0, 0, 10) < 0) /* arm, sleep a little, disarm */
			return 1;
		bp_eth_dev_stop(0);
		stopped = open_fds();
		if (first_stop < 0)
			first_stop = stopped;
		bad |= stopped != first_stop || started <= stopped;
	}
	bp_eth_dev_close(0);
	bp_mempool_free(mp);
	bp_cleanup();
	int after = open_fds();
	printf("fds: before %d, configured %d, started %d, stopped %d, after %d\n", before, configured, started,
	       stopped, after);
	return bad || after != before ? 1 : 0;
}
