/* SPDX-License-Identifier: MIT
 * The smallest forwarder: every frame a port receives leaves through its
 * partner (ports 0 and 1, 2 and 3, ...; a last port on its own sends back
 * where it came from). Start here, then read l2fwd and responder.
 *
 *   bypass-skeleton -l 0 -a 03:00.0 -a 04:00.0          # two NICs
 *   bypass-skeleton -l 0 --no-huge --vdev net_null0 --vdev net_null1 -- --duration=2
 */
#include "../common/example.h"

int main(int argc, char **argv)
{
	/* Environment options (cores, devices, memory) come before "--". */
	double duration = 0;
	if (ex_init(argc, argv, "skeleton", &duration, NULL, NULL) < 0)
		return 1;
	/* One pool of packet buffers for every ring, every port started. */
	struct bp_mempool *mp = ex_start_ports("skeleton", 1, true);
	if (!mp)
		return bp_cleanup(), 1;
	uint16_t nb_ports = bp_eth_dev_count_avail(), p;
	printf("skeleton: forwarding on %u port(s); Ctrl-C to stop\n", nb_ports);
	fflush(stdout);

	uint64_t forwarded = 0;
	ex_run_for(duration);
	while (ex_running()) {
		BP_ETH_FOREACH_DEV(p) {
			struct bp_mbuf *pkts[EX_BURST];
			uint16_t peer = p ^ 1;
			if (!bp_eth_dev_is_valid_port(peer))
				peer = p;
			uint16_t nb = bp_eth_rx_burst(p, 0, pkts, EX_BURST);
			if (!nb)
				bp_eth_tx_done_cleanup(peer, 0); /* idle: take back what tx has sent */
			forwarded += ex_tx(peer, pkts, nb);
		}
	}
	printf("skeleton: forwarded=%llu\n", (unsigned long long)forwarded);
	return ex_finish(mp);
}
