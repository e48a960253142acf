/* SPDX-License-Identifier: MIT
 * What every example does the same way: start a port with one queue pair,
 * send a burst (freeing what the port refuses), stop on Ctrl-C or after
 * --duration, and give everything back at the end. Copy it with the example. */
#ifndef BYPASS_EXAMPLE_H
#define BYPASS_EXAMPLE_H

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <getopt.h>
#include <arpa/inet.h>
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

/* bp_init, then the example's own options: --duration=SECONDS,
 * --ip=A.B.C.D where ip is given (left 0 when absent), and --uplink=PORT
 * where uplink is given (left as it was when absent). -1 after a line saying
 * what to give. */
static inline int ex_init(int argc, char **argv, const char *name, double *duration, uint32_t *ip,
			  const char **uplink)
{
	int n = bp_init(argc, argv);
	if (n < 0)
		return -1;
	argc -= n, argv += n;
	static const struct option opts[] = { { "duration", required_argument, 0, 'd' },
					      { "ip", required_argument, 0, 'i' },
					      { "uplink", required_argument, 0, 'u' }, { 0, 0, 0, 0 } };
	int c, bad = 0;
	optind = 1, opterr = 0; /* one line of ours, not getopt's too */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'u' && uplink)
			*uplink = optarg;
		else if (!(c == 'd' && (*duration = atof(optarg)) > 0) &&
			 !(c == 'i' && ip && inet_pton(AF_INET, optarg, ip) == 1))
			bad = 1;
	}
	if (bad || optind < argc) {
		fprintf(stderr, "%s: options are %s%s--duration=SECONDS\n", name, ip ? "--ip=A.B.C.D, " : "",
			uplink ? "--uplink=PORT (the data port facing the kernel's network), " : "");
		return -1;
	}
	return 0;
}

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

/* A pool that fills every port's rings (and what bursts hold), and every
 * port started with it; NULL after a line saying what is missing. */
static inline struct bp_mempool *ex_start_ports(const char *name, uint16_t min_ports, bool promiscuous)
{
	uint16_t nb_ports = bp_eth_dev_count_avail(), p;
	if (nb_ports < min_ports) {
		fprintf(stderr, "%s: give %u port(s) or more: NICs with -a ADDR, or --vdev\n", name, min_ports);
		return NULL;
	}
	struct bp_mempool *mp = bp_pktmbuf_pool_create(name, 2048u * nb_ports + 1024, 256, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	if (!mp)
		return NULL;
	BP_ETH_FOREACH_DEV(p)
		if (ex_port_start(p, mp, promiscuous) < 0) {
			uint16_t q;
			BP_ETH_FOREACH_DEV(q)
				bp_eth_dev_close(q); /* the ports started so far hold mbufs of mp */
			bp_mempool_free(mp);
			return NULL;
		}
	return mp;
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
