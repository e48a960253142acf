/* SPDX-License-Identifier: MIT
 * What an 82576 virtual function port (net_igbvf, 8086:10ca) has beyond the
 * ethdev API: the multicast addresses the PF lets through to it, and the
 * VF's own hardware counters.
 *
 * A VF asks its PF for everything that is the port's: its address (the PF
 * may have one set by the administrator: `ip link set PF vf N mac ADDR`,
 * which wins), its multicast filter, the largest frame. The PF's kernel
 * driver (igb) must be loaded and its interface up: it answers VFs only then.
 */
#ifndef BYPASS_IGBVF_H
#define BYPASS_IGBVF_H

#include <stdint.h>
#include <bypass/ethdev.h>

/* The PF passes exactly these multicast addresses to the VF (at most 30;
 * an empty list: none). Kept across stop/start and PF resets. 0, -EINVAL
 * (too many, or not a VF port), or what the mailbox said. */
int bp_igbvf_mc_addr_list_set(uint16_t port, const struct bp_ether_addr *addrs, uint32_t n);

/* The VF's hardware counters (datasheet: VFGPRC ... VFGOTLBC), 32 bits in
 * the device and never cleared by it; here 64-bit totals since the port was
 * probed (they must be read at least once per wrap: 4 G frames, or 4 GB —
 * 34 s at 1 Gb/s; bp_eth_stats_get reads them too). */
struct bp_igbvf_stats {
	uint64_t rx_packets, tx_packets;       /* good frames to and from the VF (VFGPRC, VFGPTC) */
	uint64_t rx_bytes, tx_bytes;           /* their bytes (VFGORC, VFGOTC) */
	uint64_t rx_multicast;                 /* multicast frames received (VFMPRC) */
	uint64_t rx_local_packets, tx_local_packets; /* frames switched between pools inside the */
	uint64_t rx_local_bytes, tx_local_bytes;     /* NIC, never on the wire (VFG[PO][RT]LBC) */
};
int bp_igbvf_stats_get(uint16_t port, struct bp_igbvf_stats *st);

#endif
