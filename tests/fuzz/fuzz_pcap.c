/* SPDX-License-Identifier: MIT
 * net_pcap replaying a capture file (drivers/net/pcap): the input, but for
 * its first byte, is the file; the first byte's low bit is infinite_rx, the
 * next picks the port's max_rx_pktlen (standard or 9600). The port is
 * created, started, read until it gives nothing (or 64 bursts), stopped and
 * closed. Every frame must fit the port's limit, and every mbuf must go
 * back to the pool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <fcntl.h>
#include <unistd.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/ethdev.h>
#include <bypass/mbuf.h>
#include <bypass/mempool.h>
#include "fuzz_tree.h"

extern const struct bp_vdev_driver bp_vdev_net_pcap;

static struct bp_mempool *pool;
static char file[PATH_MAX], args[2][PATH_MAX + 32];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *root = fuzz_tree_root();
	char nosys[PATH_MAX];
	snprintf(nosys, sizeof(nosys), "%s/nosys", root); /* no PCI devices: nothing real is touched */
	setenv("BYPASS_SYSFS", nosys, 1);
	setenv("BYPASS_DEVFS", nosys, 1);
	char *a[] = { "fuzz-pcap", "--no-huge", "--no-telemetry", "--log-level", "err", "--", NULL };
	if (bp_init(6, a) < 0 || !(pool = bp_pktmbuf_pool_create("fuzz_pcap", 511, 0, 0, 2048))) {
		fprintf(stderr, "fuzz-pcap: bp_init failed\n");
		exit(1);
	}
	snprintf(file, sizeof(file), "%s/in.pcap", root);
	snprintf(args[0], sizeof(args[0]), "rx_pcap=%s", file);
	snprintf(args[1], sizeof(args[1]), "rx_pcap=%s,infinite_rx=1", file);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(fd);

	bp_log_set_level(BP_LOG_DEBUG);
	uint16_t port;
	if (bp_vdev_net_pcap.probe("net_pcap0", args[data[0] & 1]) < 0)
		return 0;
	if (bp_eth_dev_get_port_by_name("net_pcap0", &port) < 0)
		abort();
	struct bp_eth_conf conf = { .size = sizeof(conf), .max_rx_pktlen = data[0] & 2 ? 9600 : 0 };
	uint32_t limit = conf.max_rx_pktlen ? conf.max_rx_pktlen : 1514;
	if (bp_eth_dev_configure(port, 1, 1, &conf) == 0 && bp_eth_rx_queue_setup(port, 0, 256, pool) == 0 &&
	    bp_eth_tx_queue_setup(port, 0, 256) == 0 && bp_eth_dev_start(port) == 0) {
		struct bp_mbuf *pkts[32];
		for (int burst = 0; burst < 64; burst++) {
			uint16_t n = bp_eth_rx_burst(port, 0, pkts, 32);
			for (uint16_t i = 0; i < n; i++)
				if (pkts[i]->pkt_len > limit || pkts[i]->pkt_len == 0) {
					fprintf(stderr, "fuzz-pcap: a %u-byte frame from a port that takes 1..%u\n",
						pkts[i]->pkt_len, limit);
					abort();
				}
			bp_pktmbuf_free_bulk(pkts, n);
			if (!n)
				break;
		}
		bp_eth_dev_stop(port);
	}
	bp_eth_dev_close(port);
	if (bp_mempool_in_use_count(pool) != 0)
		abort(); /* an mbuf did not come back */
	return 0;
}
