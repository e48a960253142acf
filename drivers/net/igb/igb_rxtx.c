/* SPDX-License-Identifier: MIT
 * The 82576's queues, for the PF and VF PMDs (igb.h): the family's bursts
 * instantiated for advanced descriptors, and what the 82576 adds to a
 * ring's life: SRRCTL and the per-queue enable bit.
 */
#include <errno.h>
#include <bypass/log.h>
#include <bypass/mmio.h>
#include "igb.h"

static const struct e1000_rxd_layout adv_rx = IGB_RXD_ADV_LAYOUT;
static const struct e1000_txd_layout adv_tx = IGB_TXD_ADV_LAYOUT;

uint16_t igb_rx(void *rxq, struct bp_mbuf **pkts, uint16_t n) { return e1000_rx_burst(rxq, pkts, n, &adv_rx); }

uint16_t igb_tx(void *txq, struct bp_mbuf **pkts, uint16_t n) { return e1000_tx_burst(txq, pkts, n, &adv_tx); }

uint32_t igb_rx_queue_count(void *rxq) { return e1000_rxq_count(rxq, &adv_rx); }

/* Thresholds (8.10.11, 8.12.14): fetch descriptors in groups of 8 when
 * fewer than 8 are cached and 8 are free in host memory; write each back at
 * once (WTHRESH 1: a frame is visible as soon as it is stored, which rx
 * polling and tx reclaim both want). */
#define RXDCTL_VALUE (IGB_XDCTL_PTHRESH(8) | IGB_XDCTL_HTHRESH(8) | IGB_XDCTL_WTHRESH(1))
#define TXDCTL_VALUE (IGB_XDCTL_PTHRESH(8) | IGB_XDCTL_HTHRESH(1) | IGB_XDCTL_WTHRESH(1))

/* Turns one queue on or off and waits until its ENABLE bit says so: the
 * queue has fetched its first descriptors, or finished what it was doing
 * (8.10.11: software waits for the bit before it touches the ring). */
static int queue_switch(struct bp_eth_dev *dev, volatile void *qregs, uint32_t xdctl, bool on, const char *dir,
			uint16_t q)
{
	uint32_t want = on ? IGB_XDCTL_ENABLE : 0;
	bp_write32(qregs, IGB_Q_XDCTL, xdctl | want);
	if (bp_wait32(qregs, IGB_Q_XDCTL, IGB_XDCTL_ENABLE, want, 10) < 0) {
		BP_LOG(ERR, "%s: %s queue %u did not %s within 10 ms (its ENABLE bit); close the port and "
			    "attach it again to reset the device", dev->name, dir, q, on ? "start" : "stop");
		return -EIO;
	}
	return 0;
}

/* Every configured queue on or off; the first failure stops it. */
static int queues_switch(struct bp_eth_dev *dev, bool on)
{
	int rc = 0;
	for (uint16_t i = 0; i < dev->nb_rx_queues && rc == 0; i++) {
		struct e1000_rxq *q = dev->rx_queues[i];
		if (q)
			rc = queue_switch(dev, q->qregs, RXDCTL_VALUE, on, "rx", i);
	}
	for (uint16_t i = 0; i < dev->nb_tx_queues && rc == 0; i++) {
		struct e1000_txq *q = dev->tx_queues[i];
		if (q)
			rc = queue_switch(dev, q->qregs, TXDCTL_VALUE, on, "tx", i);
	}
	return rc;
}

int igb_queues_start(struct bp_eth_dev *dev)
{
	int rc = queues_switch(dev, false); /* queue 0 runs after reset; the others may from a last user */
	if (rc == 0)
		rc = e1000_rings_program(dev);
	if (rc < 0)
		return rc;
	uint32_t srrctl = (IGB_RX_BUF_SIZE >> IGB_SRRCTL_BSIZEPKT_SHIFT) | IGB_SRRCTL_DESCTYPE_ADV_ONEBUF |
			  (dev->nb_rx_queues > 1 ? IGB_SRRCTL_DROP_EN : 0);
	for (uint16_t i = 0; i < dev->nb_rx_queues; i++) {
		struct e1000_rxq *q = dev->rx_queues[i];
		if (q)
			bp_write32(q->qregs, IGB_Q_SRRCTL, srrctl);
	}
	if ((rc = queues_switch(dev, true)) < 0) {
		queues_switch(dev, false);
		e1000_queues_drop_mbufs(dev);
	}
	return rc;
}

void igb_queues_stop(struct bp_eth_dev *dev, volatile void *regs)
{
	e1000_tx_drain(dev, regs);
	if (!dev->removed) /* its ENABLE bits would never clear */
		queues_switch(dev, false);
	e1000_queues_drop_mbufs(dev);
}
