/* SPDX-License-Identifier: MIT
 * The exception path: a forwarder that moves data traffic between two ports
 * and hands the kernel what is for the host itself — ARP asking for --ip or
 * answering the kernel, and IPv4 addressed to --ip, arriving on the first
 * port — through a TAP port; what the kernel sends on the TAP goes out of
 * the first port. Every other frame, ARP between the two networks included,
 * crosses like data. The kernel answers ARP and ping for the forwarder's address
 * and runs whatever control protocols you like, while bypass moves the rest.
 *
 *   bypass-exception -l 0 -a 03:00.0 -a 04:00.0 --vdev net_tap0,iface=bpx0 -- --ip=192.0.2.10
 *   ip addr add 192.0.2.10/24 dev bpx0     # the kernel's side of that address
 *
 * Ports: the first two that are not TAPs carry data, the TAP is the kernel.
 * The uplink faces the network the kernel talks to: the first data port, or
 * the one --uplink names (e.g. --uplink=0000:00:04.0 when a --vdev port,
 * listed before PCI ports, is the other). The TAP takes the uplink's MAC
 * address, so the kernel's replies carry it, as if the NIC had answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>

#define BURST 32

static volatile sig_atomic_t quit;
static void on_signal(int sig) { (void)sig, quit = 1; }

/* For the kernel (a frame from port 0): ARP whose target protocol address
 * is ours (RFC 826 for Ethernet/IPv4: at byte 14 + 24), or IPv4 to our
 * address (RFC 791: destination at byte 14 + 16). */
static bool for_kernel(const struct bp_mbuf *m, uint32_t ip)
{
	const uint8_t *p = bp_pktmbuf_mtod(m, const uint8_t *);
	uint16_t type = (uint16_t)(p[12] << 8 | p[13]);
	uint32_t dst;
	if (!ip)
		return false;
	if (type == 0x0806 && m->data_len >= 42) {
		memcpy(&dst, p + 14 + 24, 4);
		return dst == ip;
	}
	if (type == 0x0800 && m->data_len >= 34) {
		memcpy(&dst, p + 14 + 16, 4);
		return dst == ip;
	}
	return false;
}

/* Sends what it can, frees the rest; returns how many went. */
static uint16_t tx(uint16_t port, struct bp_mbuf **pkts, uint16_t n)
{
	uint16_t sent = n ? bp_eth_tx_burst(port, 0, pkts, n) : 0;
	bp_pktmbuf_free_bulk(pkts + sent, n - sent);
	return sent;
}

static int start(uint16_t port, struct bp_mempool *mp)
{
	struct bp_eth_conf conf = { .size = sizeof(conf), .promiscuous = 1 };
	if (bp_eth_dev_configure(port, 1, 1, &conf) < 0 || bp_eth_rx_queue_setup(port, 0, 1024, mp) < 0 ||
	    bp_eth_tx_queue_setup(port, 0, 1024) < 0 || bp_eth_dev_start(port) < 0) {
		fprintf(stderr, "exception: port %u (%s) could not be started\n", port, bp_eth_dev_name(port));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = bp_init(argc, argv);
	if (n < 0)
		return 1;
	argc -= n, argv += n;
	static const struct option opts[] = { { "ip", required_argument, 0, 'i' },
					      { "duration", required_argument, 0, 'd' },
					      { "uplink", required_argument, 0, 'u' }, { 0, 0, 0, 0 } };
	uint32_t ip = 0;
	const char *uplink = NULL;
	double duration = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'i' && inet_pton(AF_INET, optarg, &ip) == 1)
			continue;
		if (c == 'd' && (duration = atof(optarg)) > 0)
			continue;
		if (c == 'u') {
			uplink = optarg;
			continue;
		}
		fprintf(stderr, "exception: options are --ip=A.B.C.D (the host's address: its traffic goes to "
				"the kernel), --uplink=PORT (the data port facing that network) and --duration=SECONDS\n");
		return 1;
	}
	/* The TAP, and the first two other ports. */
	uint16_t p, data[2], nd = 0, tap = UINT16_MAX;
	BP_ETH_FOREACH_DEV(p) {
		struct bp_eth_dev_info info;
		bp_eth_dev_info_get(p, &info);
		if (!strcmp(info.driver_name, "net_tap") && tap == UINT16_MAX)
			tap = p;
		else if (nd < 2)
			data[nd++] = p;
	}
	if (tap == UINT16_MAX || nd < 2) {
		fprintf(stderr, "exception: give two data ports and a TAP, e.g. -a 03:00.0 -a 04:00.0 "
				"--vdev net_tap0,iface=bpx0\n");
		return 1;
	}
	if (uplink) {
		uint16_t u;
		if (bp_eth_dev_get_port_by_name(uplink, &u) < 0 || (u != data[0] && u != data[1])) {
			fprintf(stderr, "exception: --uplink=%s is not one of the data ports (%s, %s); name one of them\n",
				uplink, bp_eth_dev_name(data[0]), bp_eth_dev_name(data[1]));
			return 1;
		}
		if (u == data[1])
			data[1] = data[0], data[0] = u;
	}
	struct bp_mempool *mp = bp_pktmbuf_pool_create("exception", 8192, 256, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	struct bp_ether_addr mac;
	bp_eth_macaddr_get(data[0], &mac);
	if (!mp || bp_eth_dev_mac_addr_set(tap, &mac) < 0 || start(data[0], mp) || start(data[1], mp) || start(tap, mp))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("exception: forwarding %s <-> %s; %s to the kernel through %s\n", bp_eth_dev_name(data[0]),
	       bp_eth_dev_name(data[1]), ip ? "ARP and traffic for --ip" : "nothing (no --ip)", bp_eth_dev_name(tap));
	fflush(stdout);

	uint64_t fwd = 0, to_kernel = 0, from_kernel = 0, t0 = bp_rdtsc();
	uint64_t end = duration > 0 ? (uint64_t)(duration * (double)bp_tsc_hz()) : 0;
	while (!quit && (!end || bp_rdtsc() - t0 < end)) {
		struct bp_mbuf *pkts[BURST], *out[BURST], *kern[BURST];
		for (int i = 0; i < 2; i++) {
			/* From a data port: the host's frames to the kernel (from
			 * port 0: the kernel's frames leave through it), the rest
			 * across. */
			uint16_t nb = bp_eth_rx_burst(data[i], 0, pkts, BURST), no = 0, nk = 0;
			for (uint16_t k = 0; k < nb; k++) {
				if (i == 0 && for_kernel(pkts[k], ip))
					kern[nk++] = pkts[k];
				else
					out[no++] = pkts[k];
			}
			fwd += tx(data[1 - i], out, no);
			to_kernel += tx(tap, kern, nk);
		}
		/* From the kernel: out of the network-facing port. */
		uint16_t nb = bp_eth_rx_burst(tap, 0, pkts, BURST);
		from_kernel += tx(data[0], pkts, nb);
	}
	printf("exception: forwarded=%llu to-kernel=%llu from-kernel=%llu\n", (unsigned long long)fwd,
	       (unsigned long long)to_kernel, (unsigned long long)from_kernel);
	BP_ETH_FOREACH_DEV(p)
		bp_eth_dev_close(p);
	printf("mbufs in use at exit: %u\n", bp_mempool_in_use_count(mp));
	bp_mempool_free(mp);
	bp_cleanup();
	return 0;
}
