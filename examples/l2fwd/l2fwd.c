/* SPDX-License-Identifier: MIT
 * A learning switch between ports: each frame teaches which port its source
 * address lives behind; a frame for a known address goes out of that port
 * only (or nowhere, if it came from there), a frame for an unknown, multicast
 * or broadcast address goes out of every other port (flooded: the same mbuf
 * shared by reference count, no copy).
 *
 *   bypass-l2fwd -l 0 -a 03:00.0 -a 04:00.0 -- [--duration=SECONDS]
 */
#include <string.h>
#include "../common/example.h"

/* The address table: open addressing over a power of two, keyed by the
 * 48-bit address; an entry is never removed (a station that moves is
 * relearned by its next frame). */
#define TABLE_SIZE 4096
static struct entry {
	uint64_t mac; /* 0: free (00:00:00:00:00:00 is no station's address) */
	uint16_t port;
} table[TABLE_SIZE];
static unsigned learned;

static uint64_t mac_key(const uint8_t *a)
{
	uint64_t k = 0;
	for (int i = 0; i < 6; i++)
		k = k << 8 | a[i];
	return k;
}

static struct entry *lookup(uint64_t mac, bool add)
{
	uint32_t h = (uint32_t)((mac * 0x9e3779b97f4a7c15ull) >> 52); /* 12 bits: TABLE_SIZE */
	if (!mac)
		return NULL; /* the mark of a free entry: never learned, always flooded */
	for (uint32_t i = 0; i < TABLE_SIZE; i++) {
		struct entry *e = &table[(h + i) & (TABLE_SIZE - 1)];
		if (e->mac == mac)
			return e;
		if (!e->mac) {
			if (!add || learned == TABLE_SIZE - 1)
				return NULL;
			learned++;
			e->mac = mac;
			return e;
		}
	}
	return NULL;
}

/* Frames waiting to leave each port, sent once per round. */
static struct bp_mbuf *out[BP_MAX_ETHPORTS][EX_BURST * BP_MAX_ETHPORTS];
static uint16_t nout[BP_MAX_ETHPORTS];

static void queue(uint16_t port, struct bp_mbuf *m)
{
	if (nout[port] == BP_ARRAY_SIZE(out[port]))
		bp_pktmbuf_free(m);
	else
		out[port][nout[port]++] = m;
}

int main(int argc, char **argv)
{
	double duration = 0;
	if (ex_init(argc, argv, "l2fwd", &duration, NULL, NULL) < 0)
		return 1;
	struct bp_mempool *mp = ex_start_ports("l2fwd", 2, true);
	if (!mp)
		return bp_cleanup(), 1;
	uint16_t nb_ports = bp_eth_dev_count_avail(), p;
	printf("l2fwd: switching between %u ports\n", nb_ports);
	fflush(stdout);

	uint64_t forwarded = 0, flooded = 0, filtered = 0;
	ex_run_for(duration);
	while (ex_running()) {
		uint16_t in;
		BP_ETH_FOREACH_DEV(in) {
			struct bp_mbuf *pkts[EX_BURST];
			uint16_t nb = bp_eth_rx_burst(in, 0, pkts, EX_BURST);
			for (uint16_t i = 0; i < nb; i++) {
				const uint8_t *eth = bp_pktmbuf_mtod(pkts[i], const uint8_t *);
				struct entry *src = (eth[6] & 1) ? NULL : lookup(mac_key(eth + 6), true);
				if (src)
					src->port = in; /* learn (or relearn) where the sender is */
				struct entry *dst = (eth[0] & 1) ? NULL : lookup(mac_key(eth), false);
				if (dst && dst->port == in) {
					filtered++; /* for a station on the port it came from */
					bp_pktmbuf_free(pkts[i]);
				} else if (dst) {
					forwarded++;
					queue(dst->port, pkts[i]);
				} else {
					/* flood: one reference per port it leaves by */
					flooded++;
					for (struct bp_mbuf *seg = pkts[i]; seg && nb_ports > 2; seg = seg->next)
						bp_mbuf_refcnt_update(seg, (int16_t)(nb_ports - 2));
					BP_ETH_FOREACH_DEV(p)
						if (p != in)
							queue(p, pkts[i]);
				}
			}
		}
		BP_ETH_FOREACH_DEV(p) {
			if (!nout[p])
				bp_eth_tx_done_cleanup(p, 0);
			ex_tx(p, out[p], nout[p]);
			nout[p] = 0;
		}
	}
	printf("l2fwd: forwarded=%llu flooded=%llu filtered=%llu learned=%u\n", (unsigned long long)forwarded,
	       (unsigned long long)flooded, (unsigned long long)filtered, learned);
	return ex_finish(mp);
}
