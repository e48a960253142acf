/* SPDX-License-Identifier: MIT
 * TEST ONLY: see e1000_fault.h. */
#include <string.h>
#include <errno.h>
#include <bypass/log.h>
#include "e1000_common.h"
#include "e1000_fault.h"

int e1000_fault_rx_misdirect(uint16_t port, uint16_t qi, bp_iova_t iova, void **intended)
{
	/* every PMD whose rx queues are struct e1000_rxq */
	static const char *const family[] = { "net_e1000", "net_e1000e", "net_igb", "net_igbvf" };
	struct bp_eth_dev *dev = bp_eth_dev_get(port);
	bool ours = false;
	for (unsigned i = 0; dev && dev->driver_name && i < BP_ARRAY_SIZE(family); i++)
		ours |= strcmp(dev->driver_name, family[i]) == 0;
	if (!ours || dev->state != BP_ETH_STARTED)
		return -ENODEV;
	if (qi >= dev->nb_rx_queues || !dev->rx_queues[qi])
		return -EINVAL;
	struct e1000_rxq *q = dev->rx_queues[qi];
	/* The NIC's head is the descriptor it fills next; when it equals the
	 * driver's next, nothing written back waits in between (SDM 3.2.6). */
	uint32_t head = bp_read32(q->qregs, E1000_RING_H);
	if (head != q->next)
		return -EBUSY;
	*intended = bp_pktmbuf_mtod(q->sw[head], void *);
	q->ring[head].rd.addr = iova;
	BP_LOG(WARNING, "%s: TEST FAULT: rx queue %u descriptor %u now points at %#llx", dev->name, qi, head,
	       (unsigned long long)iova);
	return (int)head;
}
