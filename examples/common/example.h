/* SPDX-License-Identifier: MIT
 * What every example does the same way: start a port with one queue pair,
 * send a burst (freeing what the port refuses), stop on Ctrl-C or after
 * --duration, and give everything back at the end. Copy it with the example. */
#ifndef BYPASS_EXAMPLE_H
#define BYPASS_EXAMPLE_H

#include <stdio.h>
#include <signal.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>

#define EX_BURST 32

static volatile sig_atomic_t ex_quit;
static void ex_on_signal(int sig) { (void)sig, ex_quit = 1; }

/* Ctrl-C and kill end the main loop; so does `seconds` (0: no limit), checked
 * through ex_running(). */
static uint64_t ex_t0, ex_end;
static inline void ex_run_for(double seconds)
{
	signal(SIGINT, ex_on_signal);
	signal(SIGTERM, ex_on_signal);
	ex_t0 = bp_rdtsc();
	ex_end = seconds > 0 ? (uint64_t)(seconds * (double)bp_tsc_hz()) : 0;
}
static inline bool ex_running(void) { return !ex_quit && (!ex_end || bp_rdtsc() - ex_t0 < ex_end); }

/* One rx and one tx queue of 1024 descriptors; promiscuous for a forwarder,
 * which passes on frames addressed to others. */
static inline int ex_port_start(uint16_t port, struct bp_mempool *mp, bool promiscuous)
{
	struct bp_eth_conf conf = { .size = sizeof(conf), .promiscuous = promiscuous };
	if (bp_eth_dev_configure(port, 1, 1, &conf) < 0 || bp_eth_rx_queue_setup(port, 0, 1024, mp) < 0 ||
	    bp_eth_tx_queue_setup(port, 0, 1024) < 0 || bp_eth_dev_start(port) < 0) {
		fprintf(stderr, "port %u (%s) could not be started\n", port, bp_eth_dev_name(port));
		return -1;
	}
	return 0;
}

/* Sends what the port takes and frees the rest (a full ring drops, never
 * blocks); returns how many went. */
static inline uint16_t ex_tx(uint16_t port, struct bp_mbuf **pkts, uint16_t n)
{
	uint16_t sent = n ? bp_eth_tx_burst(port, 0, pkts, n) : 0;
	bp_pktmbuf_free_bulk(pkts + sent, n - sent);
	return sent;
}

/* Closes every port (their rings give back their mbufs), says how many mbufs
 * are still out (0 unless the program leaked one) and frees the pool. */
static inline int ex_finish(struct bp_mempool *mp)
{
	uint16_t p;
	BP_ETH_FOREACH_DEV(p)
		bp_eth_dev_close(p);
	uint32_t in_use = mp ? bp_mempool_in_use_count(mp) : 0;
	printf("mbufs in use at exit: %u\n", in_use);
	bp_mempool_free(mp);
	bp_cleanup();
	return in_use ? 1 : 0;
}

#endif
