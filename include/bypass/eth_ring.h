/* SPDX-License-Identifier: MIT
 * net_ring: ports whose queues are bp_rings, for wiring ports together in one
 * process with no copies (an mbuf pointer is what travels).
 *
 *   --vdev net_ring0                     tx queue q loops back to rx queue q
 *   --vdev net_ring0 --vdev net_ring1,peer=net_ring0
 *                                        what one sends the other receives
 *   options: queues=<1..16> size=<ring slots, power of two>
 */
#ifndef BYPASS_ETH_RING_H
#define BYPASS_ETH_RING_H

#include <bypass/ethdev.h>
#include <bypass/ring.h>

/* Creates a port that receives from rx[i] and sends into tx[i]. The caller keeps
 * ownership of the rings (free them after closing the port). Returns the port id
 * or a negative errno. */
int bp_eth_from_rings(const char *name, struct bp_ring *const rx[], uint16_t nb_rx,
		      struct bp_ring *const tx[], uint16_t nb_tx);

#endif
