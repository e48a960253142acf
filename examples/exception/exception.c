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
#include <string.h>
#include "../common/example.h"

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

int main(int argc, char **argv)
{
	uint32_t ip = 0;
	const char *uplink = NULL;
	double duration = 0;
	if (ex_init(argc, argv, "exception", &duration, &ip, &uplink) < 0)
		return 1;
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
	if (!mp || bp_eth_dev_mac_addr_set(tap, &mac) < 0 || ex_port_start(data[0], mp, true) ||
	    ex_port_start(data[1], mp, true) || ex_port_start(tap, mp, true))
		return ex_finish(mp), 1;
	printf("exception: forwarding %s <-> %s; %s to the kernel through %s\n", bp_eth_dev_name(data[0]),
	       bp_eth_dev_name(data[1]), ip ? "ARP and traffic for --ip" : "nothing (no --ip)", bp_eth_dev_name(tap));
	fflush(stdout);

	uint64_t fwd = 0, to_kernel = 0, from_kernel = 0;
	ex_run_for(duration);
	while (ex_running()) {
		struct bp_mbuf *pkts[EX_BURST], *out[EX_BURST], *kern[EX_BURST];
		for (int i = 0; i < 2; i++) {
			/* From a data port: the host's frames to the kernel (from
			 * port 0: the kernel's frames leave through it), the rest
			 * across. */
			uint16_t nb = bp_eth_rx_burst(data[i], 0, pkts, EX_BURST), no = 0, nk = 0;
			for (uint16_t k = 0; k < nb; k++) {
				if (i == 0 && for_kernel(pkts[k], ip))
					kern[nk++] = pkts[k];
				else
					out[no++] = pkts[k];
			}
			fwd += ex_tx(data[1 - i], out, no);
			to_kernel += ex_tx(tap, kern, nk);
		}
		/* From the kernel: out of the network-facing port. */
		uint16_t nb = bp_eth_rx_burst(tap, 0, pkts, EX_BURST);
		from_kernel += ex_tx(data[0], pkts, nb);
	}
	printf("exception: forwarded=%llu to-kernel=%llu from-kernel=%llu\n", (unsigned long long)fwd,
	       (unsigned long long)to_kernel, (unsigned long long)from_kernel);
	return ex_finish(mp);
}
