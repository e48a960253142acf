/* SPDX-License-Identifier: MIT
 * The e1000 family's queues, shared by the e1000 (82540EM), e1000e (82574L)
 * and igb (82576 PF and VF) PMDs; the rx burst is e1000_rx_burst in
 * e1000_common.h,
 *
 * instantiated by each PMD for its descriptor layout, and so is the tx burst
 * e1000_tx_burst; e1000_tx is its legacy-descriptor instance.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/log.h>
#include <bypass/mmio.h>
#include "e1000_common.h"

/* ---- data path ---- */

uint32_t e1000_rxq_count(const struct e1000_rxq *q, const struct e1000_rxd_layout *l)
{
	uint32_t n = 0;
	while (n < q->nb && (q->ring[(q->next + n) & q->mask].dw[l->status_dw] & E1000_RXD_DD))
		n++;
	return n;
}

/* Frees the segments of every descriptor up to the oldest RS descriptor the
 * NIC has written back, and so on; returns how many descriptors came free. */
uint16_t e1000_tx_reclaim(struct e1000_txq *q)
{
	uint16_t freed = 0;
	while (q->rs_head != q->rs_tail) {
		uint16_t last = q->rs[q->rs_head & q->mask];
		if (!(q->ring[last].upper & E1000_TXD_UPPER_DD))
			break;
		uint16_t n = (uint16_t)(((last - q->clean) & q->mask) + 1);
		uint16_t first = (uint16_t)BP_MIN(n, q->nb - q->clean); /* up to the ring's end */
		bp_pktmbuf_free_seg_bulk(&q->sw[q->clean], first);
		if (first < n)
			bp_pktmbuf_free_seg_bulk(q->sw, n - first);
		q->clean = (uint16_t)((last + 1) & q->mask);
		q->nb_free = (uint16_t)(q->nb_free + n);
		q->rs_head++;
		freed = (uint16_t)(freed + n);
	}
	return freed;
}

static const struct e1000_txd_layout legacy_tx = E1000_TXD_LEGACY_LAYOUT;

uint16_t e1000_tx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	return e1000_tx_burst(qp, pkts, n, &legacy_tx);
}

/* ---- queues ---- */

static int check_ring_size(struct bp_eth_dev *dev, const char *dir, uint16_t nb)
{
	if (!bp_is_power_of_2(nb)) {
		BP_LOG(ERR, "%s: %u %s descriptors: use a power of two from %u to %u", dev->name, nb, dir,
		       E1000_RING_MIN, E1000_RING_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Returns every mbuf the ring holds to its pool. */
static void rxq_drop_mbufs(struct e1000_rxq *q)
{
	for (uint16_t i = 0; q->sw && i < q->nb; i++)
		if (q->sw[i]) {
			bp_pktmbuf_free_seg(q->sw[i]);
			q->sw[i] = NULL;
		}
}

static void rxq_free(struct e1000_rxq *q)
{
	if (!q)
		return;
	rxq_drop_mbufs(q);
	free(q->sw);
	bp_memzone_free(q->mz);
	free(q);
}

int e1000_rxq_init(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb, struct bp_mempool *mp,
		   volatile void *qregs)
{
	struct e1000_rxq *q;
	if (check_ring_size(dev, "rx", nb) < 0)
		return -EINVAL;
	if (bp_mempool_avail_count(mp) < nb) {
		BP_LOG(ERR, "%s: mempool %s has %u free mbufs, the rx ring of %u needs them all and more; "
			    "create the pool with at least %u", dev->name, mp->name, bp_mempool_avail_count(mp),
		       nb, 2 * nb + 1024);
		return -ENOBUFS;
	}
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->nb = nb;
	q->mask = (uint16_t)(nb - 1);
	q->mp = mp;
	q->qregs = qregs;
	q->rdt = (volatile char *)qregs + E1000_RING_T;
	q->rearm = bp_pktmbuf_rx_rearm(mp, dev->port_id);
	q->sw = calloc(nb, sizeof(*q->sw));
	q->mz = bp_memzone_reserve("e1000_rx", BP_ALIGN_UP((size_t)nb * sizeof(*q->ring), (size_t)E1000_RING_ALIGN));
	if (!q->sw || !q->mz) {
		rxq_free(q);
		return -ENOMEM;
	}
	q->ring = q->mz->va;
	dev->rx_queues[qi] = q;
	dev->rxq_stats[qi] = &q->st;
	return 0;
}

/* A fresh mbuf behind every descriptor and every status cleared: whatever a
 * previous run left in the ring is gone. */
static int rxq_fill(struct bp_eth_dev *dev, struct e1000_rxq *q)
{
	if (bp_mempool_get_bulk(q->mp, (void **)q->sw, q->nb) < 0) {
		memset(q->sw, 0, q->nb * sizeof(*q->sw));
		BP_LOG(ERR, "%s: mempool %s has %u free mbufs, too few to fill the rx ring of %u; "
			    "free mbufs the program holds, or make the pool larger", dev->name, q->mp->name,
		       bp_mempool_avail_count(q->mp), q->nb);
		return -ENOBUFS;
	}
	for (uint16_t i = 0; i < q->nb; i++) {
		q->sw[i]->rearm = q->rearm;
		q->ring[i].rd.addr = bp_mbuf_data_iova(q->sw[i]);
		q->ring[i].rd.wb = 0;
	}
	q->next = 0;
	q->discard = false;
	return 0;
}

static void txq_drop_mbufs(struct e1000_txq *q)
{
	for (uint16_t i = q->clean; q->sw && i != q->tail; i = (i + 1) & q->mask)
		bp_pktmbuf_free_seg(q->sw[i]);
	q->clean = q->tail;
}

static void txq_free(struct e1000_txq *q)
{
	if (!q)
		return;
	txq_drop_mbufs(q);
	free(q->sw);
	free(q->rs);
	bp_memzone_free(q->mz);
	free(q);
}

int e1000_rxq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb, struct bp_mempool *mp)
{
	struct e1000_hw *hw = dev->priv;
	return e1000_rxq_init(dev, qi, nb, mp, (volatile char *)hw->regs + E1000_RDBAL_Q(qi));
}

int e1000_txq_init(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb, volatile void *qregs)
{
	struct e1000_txq *q;
	if (check_ring_size(dev, "tx", nb) < 0)
		return -EINVAL;
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->nb = nb;
	q->mask = (uint16_t)(nb - 1);
	q->qregs = qregs;
	q->tdt = (volatile char *)qregs + E1000_RING_T;
	q->sw = calloc(nb, sizeof(*q->sw));
	q->rs = calloc(nb, sizeof(*q->rs));
	q->mz = bp_memzone_reserve("e1000_tx", BP_ALIGN_UP((size_t)nb * sizeof(*q->ring), (size_t)E1000_RING_ALIGN));
	if (!q->sw || !q->rs || !q->mz) {
		txq_free(q);
		return -ENOMEM;
	}
	q->ring = q->mz->va;
	dev->tx_queues[qi] = q;
	dev->txq_stats[qi] = &q->st;
	return 0;
}

int e1000_txq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb)
{
	struct e1000_hw *hw = dev->priv;
	return e1000_txq_init(dev, qi, nb, (volatile char *)hw->regs + E1000_TDBAL_Q(qi));
}

/* An empty ring: one descriptor always stays unused. */
static void txq_reset(struct e1000_txq *q)
{
	memset((void *)q->ring, 0, (size_t)q->nb * sizeof(*q->ring));
	q->tail = q->clean = 0;
	q->nb_free = (uint16_t)(q->nb - 1);
	q->rs_head = q->rs_tail = 0;
	q->since_rs = 0;
}

void e1000_rxq_release(struct bp_eth_dev *dev, uint16_t q) { rxq_free(dev->rx_queues[q]); }
void e1000_txq_release(struct bp_eth_dev *dev, uint16_t q) { txq_free(dev->tx_queues[q]); }

/* Base, length, head and tail of one ring (SDM 13.4.25-29, 13.4.36-40). */
static void ring_regs(volatile void *qregs, const struct bp_memzone *mz, const volatile void *ring, uint32_t bytes)
{
	bp_iova_t base = bp_memzone_iova(mz, (const void *)ring);
	bp_write32(qregs, 0, (uint32_t)base);
	bp_write32(qregs, E1000_RING_BAH, (uint32_t)(base >> 32));
	bp_write32(qregs, E1000_RING_LEN, bytes);
	bp_write32(qregs, E1000_RING_H, 0);
	bp_write32(qregs, E1000_RING_T, 0);
}

int e1000_rings_program(struct bp_eth_dev *dev)
{
	for (uint16_t i = 0; i < dev->nb_rx_queues; i++) {
		struct e1000_rxq *q = dev->rx_queues[i];
		int rc = q ? rxq_fill(dev, q) : 0;
		if (rc < 0) {
			while (i--)
				if (dev->rx_queues[i])
					rxq_drop_mbufs(dev->rx_queues[i]);
			return rc;
		}
		if (q)
			ring_regs(q->qregs, q->mz, q->ring, (uint32_t)q->nb * sizeof(*q->ring));
	}
	for (uint16_t i = 0; i < dev->nb_tx_queues; i++) {
		struct e1000_txq *q = dev->tx_queues[i];
		if (!q)
			continue;
		txq_reset(q);
		ring_regs(q->qregs, q->mz, q->ring, (uint32_t)q->nb * sizeof(*q->ring));
	}
	return 0;
}

void e1000_rx_give(struct bp_eth_dev *dev)
{
	for (uint16_t i = 0; i < dev->nb_rx_queues; i++) {
		struct e1000_rxq *q = dev->rx_queues[i];
		if (q)
			bp_write32(q->rdt, 0, q->nb - 1u);
	}
}

void e1000_queues_drop_mbufs(struct bp_eth_dev *dev)
{
	for (uint16_t i = 0; i < dev->nb_tx_queues; i++)
		if (dev->tx_queues[i])
			txq_drop_mbufs(dev->tx_queues[i]);
	for (uint16_t i = 0; i < dev->nb_rx_queues; i++)
		if (dev->rx_queues[i])
			rxq_drop_mbufs(dev->rx_queues[i]);
}

void e1000_tx_drain(struct bp_eth_dev *dev, volatile void *regs)
{
	/* A full ring of the longest frames takes 50 ms at 1 Gb/s. A device
	 * that went (hot-unplug) sends nothing more: no wait at all, even
	 * before we were told (it reads all ones then). */
	for (int waited = 0; waited < 100 && !dev->removed; waited++) {
		bool busy = false;
		for (uint16_t q = 0; q < dev->nb_tx_queues && !busy; q++) {
			struct e1000_txq *tq = dev->tx_queues[q];
			busy = tq && bp_read32(tq->qregs, E1000_RING_H) != tq->tail;
		}
		uint32_t status = bp_read32(regs, E1000_STATUS);
		if (!busy || !(status & E1000_STATUS_LU) || status == UINT32_MAX)
			return;
		bp_delay_us(1000);
	}
}
