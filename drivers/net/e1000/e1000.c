/* SPDX-License-Identifier: MIT
 * Poll-mode driver for the Intel 82540EM/82545EM (QEMU "e1000" and
 * "e1000-82545em"). One rx and one tx queue of legacy descriptors.
 *
 * rx: read the done descriptors of a burst, take as many fresh mbufs from the
 *     pool in one bulk get, swap them into the ring, write RDT once.
 * tx: write one descriptor per segment, ask for a status write-back (RS) only on
 *     every 32nd descriptor, reclaim finished descriptors 32 at a time, write
 *     TDT once.
 * Register names and steps follow the SDM cited in e1000_regs.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/ethdev.h>
#include <bypass/log.h>
#include <bypass/mem.h>
#include <bypass/mmio.h>
#include <bypass/pci.h>
#include "e1000_regs.h"

#define RS_THRESH 32 /* descriptors per status write-back */
#define MAX_BURST 64
#define MAX_FRAME 1518 /* without FCS, with one VLAN tag: LPE off (SDM 13.4.22) */

struct e1000_rxq {
	struct e1000_rx_desc *ring;
	struct bp_mbuf **sw; /* the mbuf behind each descriptor */
	volatile void *regs;
	struct bp_mempool *mp;
	struct bp_memzone *mz;
	uint64_t rearm; /* fresh mbuf: headroom, refcnt 1, one segment, our port */
	uint16_t nb, mask, next;
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

struct e1000_txq {
	struct e1000_tx_desc *ring;
	struct bp_mbuf **sw;
	volatile void *regs;
	struct bp_memzone *mz;
	uint16_t nb, mask;
	uint16_t tail;  /* next descriptor to fill */
	uint16_t clean; /* oldest descriptor not yet reclaimed (a multiple of RS_THRESH) */
	uint16_t nb_free;
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

struct e1000_adapter {
	struct bp_pci_device *pci;
	volatile void *regs;
	struct bp_eth_dev *eth;
	uint64_t hw_missed, hw_errors; /* clear-on-read counters, accumulated */
};

/* ---- data path ---- */

static uint16_t e1000_rx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct e1000_rxq *q = qp;
	struct bp_mbuf *fresh[MAX_BURST];
	uint16_t idx = q->next, ready = 0, got = 0, used = 0;
	uint64_t bytes = 0;

	if (bp_unlikely(n > MAX_BURST))
		n = MAX_BURST;
	while (ready < n && (q->ring[(idx + ready) & q->mask].status & E1000_RXD_STAT_DD))
		ready++;
	if (!ready)
		return 0;
	bp_io_rmb(); /* the rest of each descriptor after its DD bit */
	if (bp_unlikely(bp_mempool_get_bulk(q->mp, (void **)fresh, ready) < 0)) {
		/* No mbufs: leave the packets in the ring; the NIC drops (and counts)
		 * once it fills. */
		q->st.nombuf += ready;
		return 0;
	}
	for (uint16_t i = 0; i < ready; i++) {
		volatile struct e1000_rx_desc *d = &q->ring[idx];
		struct bp_mbuf *m = q->sw[idx];
		uint8_t status = d->status, errors = d->errors;
		uint16_t len = d->length;

		if (bp_likely((status & E1000_RXD_STAT_EOP) && !(errors & E1000_RXD_ERR_FRAME))) {
			m->data_len = len;
			m->pkt_len = len;
			m->ol_flags = 0;
			m->packet_type = 0;
			m->vlan_tci = 0;
			pkts[got++] = m;
			bytes += len;
			struct bp_mbuf *nm = fresh[used++];
			nm->rearm = q->rearm;
			q->sw[idx] = nm;
		} else {
			/* A bad frame, or one longer than a buffer: the mbuf stays in the
			 * ring for the next packet. */
			q->st.errors++;
		}
		d->addr = q->sw[idx]->buf_iova + BP_PKTMBUF_HEADROOM;
		d->status = 0;
		idx = (idx + 1) & q->mask;
	}
	if (bp_unlikely(used < ready))
		bp_mempool_put_bulk(q->mp, (void **)&fresh[used], ready - used);
	q->next = idx;
	/* Give the refilled descriptors back: the NIC may use all up to, not
	 * including, the next one we will read. */
	bp_write32(q->regs, E1000_RDT, (uint32_t)((idx - 1) & q->mask));
	q->st.packets += got;
	q->st.bytes += bytes;
	return got;
}

/* Frees the segments of every finished group of RS_THRESH descriptors. */
static void e1000_tx_reclaim(struct e1000_txq *q)
{
	while (q->nb_free <= q->nb - RS_THRESH) {
		uint16_t last = (uint16_t)((q->clean + RS_THRESH - 1) & q->mask);
		if (!(q->ring[last].status & E1000_TXD_STAT_DD))
			break;
		bp_pktmbuf_free_seg_bulk(&q->sw[q->clean], RS_THRESH);
		q->clean = (uint16_t)((q->clean + RS_THRESH) & q->mask);
		q->nb_free += RS_THRESH;
	}
}

static uint16_t e1000_tx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct e1000_txq *q = qp;
	uint16_t tail = q->tail, sent, refused = 0;
	uint64_t bytes = 0;

	if (q->nb_free < n + RS_THRESH)
		e1000_tx_reclaim(q);
	for (sent = 0; sent < n; sent++) {
		struct bp_mbuf *m = pkts[sent];
		if (bp_unlikely(m->pkt_len > MAX_FRAME || m->pkt_len < BP_ETHER_HDR_LEN)) {
			/* The NIC cannot send it: refuse it here, count it, free it. */
			q->st.errors++;
			refused++;
			bp_pktmbuf_free(m);
			continue;
		}
		if (bp_unlikely(m->nb_segs > q->nb_free))
			break; /* ring full: the caller keeps the rest */
		bytes += m->pkt_len;
		for (struct bp_mbuf *s = m; s; s = s->next) {
			volatile struct e1000_tx_desc *d = &q->ring[tail];
			uint8_t cmd = E1000_TXD_CMD_IFCS;
			if (!s->next)
				cmd |= E1000_TXD_CMD_EOP;
			if ((tail & (RS_THRESH - 1)) == RS_THRESH - 1)
				cmd |= E1000_TXD_CMD_RS;
			d->addr = bp_mbuf_data_iova(s);
			d->length = s->data_len;
			d->cmd = cmd;
			d->status = 0;
			q->sw[tail] = s;
			tail = (tail + 1) & q->mask;
		}
		q->nb_free = (uint16_t)(q->nb_free - m->nb_segs);
	}
	if (tail != q->tail) {
		q->tail = tail;
		bp_write32(q->regs, E1000_TDT, tail);
	}
	q->st.bytes += bytes;
	q->st.packets += (uint16_t)(sent - refused); /* refused ones count as errors */
	return sent;
}

/* ---- control path ---- */

static void read_mac(struct e1000_adapter *a, struct bp_ether_addr *mac)
{
	uint32_t lo = bp_read32(a->regs, E1000_RAL0), hi = bp_read32(a->regs, E1000_RAH0);
	if (!(hi & E1000_RAH_AV) || (!lo && !(hi & 0xffff))) {
		/* RAL0/RAH0 not loaded: words 0-2 of the EEPROM hold the address
		 * (SDM 5.6.1), read through EERD (SDM 13.4.4). */
		uint16_t w[3] = { 0, 0, 0 };
		for (uint32_t i = 0; i < 3; i++) {
			bp_write32(a->regs, E1000_EERD, E1000_EERD_START | (i << E1000_EERD_ADDR_SHIFT));
			if (bp_wait32(a->regs, E1000_EERD, E1000_EERD_DONE, E1000_EERD_DONE, 10) == 0)
				w[i] = (uint16_t)(bp_read32(a->regs, E1000_EERD) >> E1000_EERD_DATA_SHIFT);
		}
		lo = w[0] | (uint32_t)w[1] << 16;
		hi = w[2];
		bp_write32(a->regs, E1000_RAL0, lo);
		bp_write32(a->regs, E1000_RAH0, hi | E1000_RAH_AV);
	}
	for (int i = 0; i < 4; i++)
		mac->b[i] = (uint8_t)(lo >> (8 * i));
	mac->b[4] = (uint8_t)hi;
	mac->b[5] = (uint8_t)(hi >> 8);
}

static int e1000_link_update(struct bp_eth_dev *dev, int wait)
{
	struct e1000_adapter *a = dev->priv;
	uint32_t st = bp_read32(a->regs, E1000_STATUS);
	for (int i = 0; wait && !(st & E1000_STATUS_LU) && i < 90; i++) {
		bp_delay_us(100000); /* up to 9 s, like the kernel's autonegotiation wait */
		st = bp_read32(a->regs, E1000_STATUS);
	}
	static const uint32_t speeds[] = { 10, 100, 1000, 1000 };
	dev->link.up = !!(st & E1000_STATUS_LU);
	dev->link.full_duplex = !!(st & E1000_STATUS_FD);
	dev->link.speed_mbps = dev->link.up ? speeds[(st & E1000_STATUS_SPEED_MASK) >> E1000_STATUS_SPEED_SHIFT] : 0;
	dev->link.autoneg = 1;
	return 0;
}

/* Reset and general configuration, SDM 14.2-14.3. */
static int e1000_hw_init(struct e1000_adapter *a)
{
	/* 1. Mask all interrupts, then issue a global reset (CTRL.RST); it
	 *    self-clears when done (SDM 14.2, 13.4.1). */
	bp_write32_relaxed(a->regs, E1000_IMC, 0xffffffff);
	bp_set32(a->regs, E1000_CTRL, E1000_CTRL_RST);
	bp_delay_us(1000);
	if (bp_wait32(a->regs, E1000_CTRL, E1000_CTRL_RST, 0, 100) < 0) {
		BP_LOG(ERR, "%s: the NIC did not come out of reset", a->pci->addr);
		return -EIO;
	}
	/* 2. Mask interrupts again (reset re-enables nothing, but be explicit) and
	 *    clear pending causes. */
	bp_write32_relaxed(a->regs, E1000_IMC, 0xffffffff);
	(void)bp_read32(a->regs, E1000_ICR);
	/* 3. General configuration (SDM 14.3): link up with auto-speed detection;
	 *    no link reset, PHY reset, loss-of-signal inversion or VLAN mode. */
	uint32_t ctrl = bp_read32(a->regs, E1000_CTRL);
	ctrl |= E1000_CTRL_SLU | E1000_CTRL_ASDE;
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_VME);
	bp_write32(a->regs, E1000_CTRL, ctrl);
	/* 4. Receive address and an empty multicast table (SDM 14.4 steps 1-2). */
	read_mac(a, &a->eth->mac);
	for (uint32_t i = 0; i < 128; i++)
		bp_write32_relaxed(a->regs, E1000_MTA + 4 * i, 0);
	/* 5. Statistics are clear-on-read: start from zero. */
	for (uint32_t r = E1000_CRCERRS; r <= 0x040FC; r += 4)
		(void)bp_read32(a->regs, r);
	return 0;
}

static void e1000_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	(void)dev;
	info->max_rx_queues = info->max_tx_queues = 1;
	info->rx_desc_min = info->tx_desc_min = E1000_RING_MIN;
	info->rx_desc_max = info->tx_desc_max = E1000_RING_MAX;
	info->max_rx_pktlen = MAX_FRAME;
	info->min_rx_bufsize = 2048; /* RCTL.BSIZE 2048 */
}

static int check_ring_size(struct bp_eth_dev *dev, const char *dir, uint16_t nb)
{
	if (!bp_is_power_of_2(nb)) {
		BP_LOG(ERR, "%s: %u %s descriptors: use a power of two from %u to %u", dev->name, nb, dir,
		       E1000_RING_MIN, E1000_RING_MAX);
		return -EINVAL;
	}
	return 0;
}

static void rxq_free(struct e1000_rxq *q)
{
	if (!q)
		return;
	for (uint16_t i = 0; q->sw && i < q->nb; i++)
		if (q->sw[i])
			bp_pktmbuf_free_seg(q->sw[i]);
	free(q->sw);
	bp_memzone_free(q->mz);
	free(q);
}

static int e1000_rxq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb, struct bp_mempool *mp)
{
	struct e1000_adapter *a = dev->priv;
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
	q->regs = a->regs;
	q->rearm = (uint64_t)BP_PKTMBUF_HEADROOM | (1ull << 16) | (1ull << 32) | ((uint64_t)dev->port_id << 48);
	q->sw = calloc(nb, sizeof(*q->sw));
	q->mz = bp_memzone_reserve("e1000_rx", BP_ALIGN_UP((size_t)nb * sizeof(*q->ring), (size_t)E1000_RING_ALIGN));
	if (!q->sw || !q->mz) {
		rxq_free(q);
		return -ENOMEM;
	}
	q->ring = q->mz->va;
	if (bp_pktmbuf_alloc_bulk(mp, q->sw, nb) < 0) {
		BP_LOG(ERR, "%s: mempool %s ran out filling the rx ring of %u", dev->name, mp->name, nb);
		memset(q->sw, 0, nb * sizeof(*q->sw));
		rxq_free(q);
		return -ENOBUFS;
	}
	for (uint16_t i = 0; i < nb; i++) {
		q->sw[i]->rearm = q->rearm;
		q->ring[i].addr = q->sw[i]->buf_iova + BP_PKTMBUF_HEADROOM;
		q->ring[i].status = 0;
	}
	dev->rx_queues[qi] = q;
	dev->rxq_stats[qi] = &q->st;
	return 0;
}

static void txq_free(struct e1000_txq *q)
{
	if (!q)
		return;
	for (uint16_t i = q->clean; q->sw && i != q->tail; i = (i + 1) & q->mask)
		bp_pktmbuf_free_seg(q->sw[i]);
	free(q->sw);
	bp_memzone_free(q->mz);
	free(q);
}

static int e1000_txq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb)
{
	struct e1000_adapter *a = dev->priv;
	struct e1000_txq *q;
	if (check_ring_size(dev, "tx", nb) < 0)
		return -EINVAL;
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->nb = q->nb_free = nb;
	q->mask = (uint16_t)(nb - 1);
	q->regs = a->regs;
	q->sw = calloc(nb, sizeof(*q->sw));
	q->mz = bp_memzone_reserve("e1000_tx", BP_ALIGN_UP((size_t)nb * sizeof(*q->ring), (size_t)E1000_RING_ALIGN));
	if (!q->sw || !q->mz) {
		txq_free(q);
		return -ENOMEM;
	}
	q->ring = q->mz->va;
	dev->tx_queues[qi] = q;
	dev->txq_stats[qi] = &q->st;
	return 0;
}

static void e1000_rxq_release(struct bp_eth_dev *dev, uint16_t q) { rxq_free(dev->rx_queues[q]); }
static void e1000_txq_release(struct bp_eth_dev *dev, uint16_t q) { txq_free(dev->tx_queues[q]); }

static uint32_t rctl_value(const struct bp_eth_dev *dev)
{
	uint32_t rctl = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | E1000_RCTL_BSIZE_2048 |
			E1000_RCTL_RDMTS_HALF;
	if (dev->promiscuous || dev->conf.promiscuous)
		rctl |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	return rctl;
}

static int e1000_start(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	struct e1000_rxq *rq = dev->rx_queues[0];
	struct e1000_txq *tq = dev->tx_queues[0];

	/* Receive initialization, SDM 14.4: ring base and length, head and tail
	 * at zero, then RCTL, then hand the descriptors over through RDT. */
	if (rq) {
		bp_iova_t base = bp_memzone_iova(rq->mz, rq->ring);
		bp_write32(a->regs, E1000_RDBAL, (uint32_t)base);
		bp_write32(a->regs, E1000_RDBAH, (uint32_t)(base >> 32));
		bp_write32(a->regs, E1000_RDLEN, (uint32_t)rq->nb * sizeof(*rq->ring));
		bp_write32(a->regs, E1000_RDH, 0);
		bp_write32(a->regs, E1000_RDT, 0);
		bp_write32(a->regs, E1000_RDTR, 0); /* no receive delay: we poll */
		rq->next = 0;
		bp_write32(a->regs, E1000_RCTL, rctl_value(dev));
		bp_write32(a->regs, E1000_RDT, rq->nb - 1u);
	}
	/* Transmit initialization, SDM 14.5: ring, head and tail, then TCTL with
	 * padding and the full-duplex collision distance, then TIPG. */
	if (tq) {
		bp_iova_t base = bp_memzone_iova(tq->mz, tq->ring);
		bp_write32(a->regs, E1000_TDBAL, (uint32_t)base);
		bp_write32(a->regs, E1000_TDBAH, (uint32_t)(base >> 32));
		bp_write32(a->regs, E1000_TDLEN, (uint32_t)tq->nb * sizeof(*tq->ring));
		bp_write32(a->regs, E1000_TDH, 0);
		bp_write32(a->regs, E1000_TDT, 0);
		tq->tail = tq->clean = 0;
		tq->nb_free = tq->nb;
		bp_write32(a->regs, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
			   (E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT) |
			   (E1000_TCTL_COLD_FULL_DUPLEX << E1000_TCTL_COLD_SHIFT));
		bp_write32(a->regs, E1000_TIPG, E1000_TIPG_COPPER);
	}
	e1000_link_update(dev, 0);
	return 0;
}

static int e1000_stop(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	struct e1000_rxq *rq = dev->rx_queues[0];
	struct e1000_txq *tq = dev->tx_queues[0];
	BP_LOG(DEBUG, "%s: stop: rx RDH %u RDT %u next %u; tx TDH %u TDT %u clean %u free %u", dev->name,
	       bp_read32(a->regs, E1000_RDH), bp_read32(a->regs, E1000_RDT), rq ? rq->next : 0,
	       bp_read32(a->regs, E1000_TDH), bp_read32(a->regs, E1000_TDT), tq ? tq->clean : 0,
	       tq ? tq->nb_free : 0);
	bp_write32(a->regs, E1000_RCTL, 0);
	bp_write32(a->regs, E1000_TCTL, 0);
	/* Let in-flight DMA finish before the rings can be freed. */
	bp_delay_us(1000);
	if (tq) { /* everything not reclaimed goes back to the pool */
		for (uint16_t i = tq->clean; i != tq->tail; i = (i + 1) & tq->mask)
			bp_pktmbuf_free_seg(tq->sw[i]);
		tq->clean = tq->tail;
		tq->nb_free = tq->nb;
	}
	dev->link.up = 0;
	return 0;
}

static int e1000_promisc(struct bp_eth_dev *dev, int on)
{
	struct e1000_adapter *a = dev->priv;
	uint32_t old = bp_read32(a->regs, E1000_RCTL), rctl = old;
	if (on)
		rctl |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	else
		rctl &= ~(E1000_RCTL_UPE | E1000_RCTL_MPE);
	/* Write only a change: QEMU's e1000 stops receiving for a second after
	 * every RCTL write (its flush_queue_timer). */
	if (rctl != old)
		bp_write32(a->regs, E1000_RCTL, rctl);
	return 0;
}

static void accumulate_hw(struct e1000_adapter *a)
{
	a->hw_missed += bp_read32(a->regs, E1000_MPC);
	a->hw_errors += bp_read32(a->regs, E1000_CRCERRS) + bp_read32(a->regs, E1000_RLEC) +
			bp_read32(a->regs, E1000_RUC) + bp_read32(a->regs, E1000_ROC);
}

static int e1000_stats_get(struct bp_eth_dev *dev, struct bp_eth_stats *st)
{
	struct e1000_adapter *a = dev->priv;
	accumulate_hw(a);
	st->imissed += a->hw_missed;
	st->ierrors += a->hw_errors;
	return 0;
}

static int e1000_stats_reset(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	accumulate_hw(a);
	a->hw_missed = a->hw_errors = 0;
	return 0;
}

static void e1000_close(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	/* Quiet the NIC before its memory goes away. */
	bp_write32_relaxed(a->regs, E1000_IMC, 0xffffffff);
	bp_set32(a->regs, E1000_CTRL, E1000_CTRL_RST);
	a->pci->drv_data = NULL;
	free(a);
	dev->priv = NULL;
}

static const struct bp_eth_dev_ops e1000_ops = {
	.start = e1000_start,
	.stop = e1000_stop,
	.close = e1000_close,
	.info_get = e1000_info,
	.rx_queue_setup = e1000_rxq_setup,
	.tx_queue_setup = e1000_txq_setup,
	.rx_queue_release = e1000_rxq_release,
	.tx_queue_release = e1000_txq_release,
	.link_update = e1000_link_update,
	.stats_get = e1000_stats_get,
	.stats_reset = e1000_stats_reset,
	.promiscuous_set = e1000_promisc,
};

static int e1000_probe(struct bp_pci_device *pci)
{
	if (!pci->bar[0].va || pci->bar[0].len < 0x10000) {
		BP_LOG(ERR, "%s: BAR0 (registers) is not mapped", pci->addr);
		return -ENODEV;
	}
	struct e1000_adapter *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->pci = pci;
	a->regs = pci->bar[0].va;
	a->eth = bp_eth_dev_allocate(pci->addr);
	if (!a->eth) {
		free(a);
		return -errno;
	}
	int rc = e1000_hw_init(a);
	if (rc < 0) {
		bp_eth_dev_release(a->eth);
		free(a);
		return rc;
	}
	a->eth->priv = a;
	a->eth->ops = &e1000_ops;
	a->eth->driver_name = "net_e1000";
	a->eth->rx_burst = e1000_rx;
	a->eth->tx_burst = e1000_tx;
	pci->drv_data = a;
	char mac[32];
	bp_ether_format_addr(mac, sizeof(mac), &a->eth->mac);
	BP_LOG(INFO, "%s: 82540EM family, MAC %s, port %u", pci->addr, mac, a->eth->port_id);
	return 0;
}

static void e1000_remove(struct bp_pci_device *pci)
{
	struct e1000_adapter *a = pci->drv_data;
	if (a)
		bp_eth_dev_close(a->eth->port_id);
}

static const struct bp_pci_id e1000_ids[] = {
	{ 0x8086, 0x100e }, /* 82540EM (QEMU e1000) */
	{ 0x8086, 0x100f }, /* 82545EM copper (QEMU e1000-82545em) */
	{ 0, 0 },
};

const struct bp_pci_driver bp_pci_net_e1000 = {
	.name = "net_e1000",
	.ids = e1000_ids,
	.probe = e1000_probe,
	.remove = e1000_remove,
};
