/* SPDX-License-Identifier: MIT
 * Poll-mode driver for the Intel 82540EM/82545EM (QEMU "e1000" and
 * "e1000-82545em"). One rx and one tx queue of legacy descriptors. This file
 * has what is the 82540EM's own: probe, start/stop, its one interrupt (INTx);
 * the queues, bursts and device helpers it shares with the e1000e PMD are in
 * e1000_common.h. Register names and steps follow the SDM cited in
 * e1000_regs.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <bypass/intr.h>
#include <bypass/ethdev.h>
#include <bypass/log.h>
#include <bypass/mem.h>
#include <bypass/mmio.h>
#include <bypass/pci.h>
#include "e1000.h"

/* ---- control path ---- */

/* 82540EM EERD, SDM 13.4.4 */
static const struct e1000_eerd_layout eerd_82540 = {
	.start = E1000_EERD_START, .done = E1000_EERD_DONE,
	.addr_shift = E1000_EERD_ADDR_SHIFT, .data_shift = E1000_EERD_DATA_SHIFT,
};

static const struct e1000_rxd_layout legacy = E1000_RXD_LEGACY_LAYOUT;

static uint16_t e1000_rx(void *rxq, struct bp_mbuf **pkts, uint16_t n)
{
	return e1000_rx_burst(rxq, pkts, n, &legacy);
}

static uint32_t e1000_rx_queue_count(void *rxq) { return e1000_rxq_count(rxq, &legacy); }

static void e1000_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	(void)dev;
	info->dma = true; /* the NIC writes the buffers by IOVA */
	info->max_rx_queues = info->max_tx_queues = 1;
	info->rx_desc_min = info->tx_desc_min = E1000_RING_MIN;
	info->rx_desc_max = info->tx_desc_max = E1000_RING_MAX;
	info->max_rx_pktlen = MAX_FRAME;
	info->min_rx_bufsize = 2048; /* RCTL.BSIZE 2048 */
}

static int e1000_stop(struct bp_eth_dev *dev);

/* ---- interrupts ---- */

/* On the interrupt thread, each time the line fires: ICR says why, and
 * reading it clears every cause (SDM 13.4.17). */
static void e1000_intr(void *arg)
{
	struct e1000_adapter *a = arg;
	struct bp_eth_dev *eth = a->hw.eth;
	uint32_t icr;
	if (!e1000_intr_causes(&a->hw, &icr))
		return;
	if ((icr & RX_CAUSES) && e1000_rx_wake_take(&a->wake)) {
		bp_write32(a->hw.regs, E1000_IMC, RX_CAUSES); /* one wake-up per arming */
		e1000_rx_wake_signal(eth, &a->wake);
	}
	e1000_intr_done(&a->hw, icr); /* last: it may free a */
}

static void intr_stop(struct e1000_adapter *a)
{
	if (!a->intr_on)
		return;
	bp_write32(a->hw.regs, E1000_IMC, 0xffffffff);
	bp_intr_callback_unregister(bp_intr_fd(&a->hw.pci->intr, 0), e1000_intr, a);
	bp_pci_intr_disable(a->hw.pci);
	(void)bp_read32(a->hw.regs, E1000_ICR);
	e1000_rx_wake_close(a->hw.eth, &a->wake);
	a->intr_on = false;
}

static int intr_start(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	struct bp_intr_handle *h = &a->hw.pci->intr;
	int rc = bp_pci_intr_enable(a->hw.pci, 1);
	if (rc < 0)
		return rc;
	a->intr_on = true;
	if (dev->conf.rx_intr && (rc = e1000_rx_wake_open(dev, &a->wake)) < 0) {
		intr_stop(a);
		return rc;
	}
	bp_write32(a->hw.regs, E1000_ITR, ITR_INTERVAL);
	(void)bp_read32(a->hw.regs, E1000_ICR); /* causes from before start */
	if ((rc = bp_intr_callback_register(bp_intr_fd(h, 0), h->read_len, e1000_intr, a)) < 0) {
		intr_stop(a);
		return rc;
	}
	if (dev->conf.link_intr)
		bp_write32(a->hw.regs, E1000_IMS, E1000_ICR_LSC);
	bp_intr_unmask(h);
	return 0;
}

static int e1000_rx_intr_enable(struct bp_eth_dev *dev, uint16_t q)
{
	struct e1000_adapter *a = dev->priv;
	(void)q;
	e1000_rx_wake_arm(&a->wake, true);
	bp_write32(a->hw.regs, E1000_IMS, RX_CAUSES);
	return 0;
}

static int e1000_rx_intr_disable(struct bp_eth_dev *dev, uint16_t q)
{
	struct e1000_adapter *a = dev->priv;
	(void)q;
	e1000_rx_wake_arm(&a->wake, false);
	bp_write32(a->hw.regs, E1000_IMC, RX_CAUSES);
	return 0;
}

static int e1000_start(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	/* Receive initialization, SDM 14.4: ring base and length, head and tail
	 * at zero, then RCTL, then hand the descriptors over through RDT.
	 * Transmit initialization, SDM 14.5: ring, head and tail, then TCTL with
	 * padding and the full-duplex collision distance, then TIPG. */
	int rc = e1000_rings_program(dev);
	if (rc < 0)
		return rc;
	if (dev->rx_queues[0]) {
		bp_write32(a->hw.regs, E1000_RDTR, 0); /* no receive delay: we poll */
		bp_write32(a->hw.regs, E1000_RCTL, e1000_rctl_value(dev));
		e1000_rx_give(dev);
	}
	if (dev->tx_queues[0])
		e1000_tx_enable(&a->hw);
	e1000_link_update(dev, 0);
	if (dev->conf.rx_intr || dev->conf.link_intr) {
		rc = intr_start(dev);
		if (rc < 0) {
			e1000_stop(dev);
			return rc;
		}
	}
	return 0;
}

/* Stops both directions and gives every mbuf back; start rebuilds the rings. */
static int e1000_stop(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	struct e1000_rxq *rq = dev->rx_queues[0];
	struct e1000_txq *tq = dev->tx_queues[0];
	BP_LOG(DEBUG, "%s: stop: rx RDH %u RDT %u next %u; tx TDH %u TDT %u clean %u free %u", dev->name,
	       bp_read32(a->hw.regs, E1000_RDH), bp_read32(a->hw.regs, E1000_RDT), rq ? rq->next : 0,
	       bp_read32(a->hw.regs, E1000_TDH), bp_read32(a->hw.regs, E1000_TDT), tq ? tq->clean : 0,
	       tq ? tq->nb_free : 0);
	intr_stop(a);
	e1000_quiesce(dev);
	return 0;
}

static const struct bp_eth_dev_ops e1000_ops = {
	.start = e1000_start,
	.stop = e1000_stop,
	.info_get = e1000_info,
	E1000_FAMILY_OPS,
	.rx_intr_enable = e1000_rx_intr_enable,
	.rx_intr_disable = e1000_rx_intr_disable,
	.rx_queue_count = e1000_rx_queue_count,
};

/* QEMU's e1000 (subsystem 1af4:1100) neither clears its statistics on read
 * nor on CTRL.RST, which resets nothing there. */
static const struct e1000_model e1000_82540 = {
	.chip = "82540EM family", .driver_name = "net_e1000", .eerd = &eerd_82540, .ops = &e1000_ops,
	.rx_burst = e1000_rx, .qemu_sub_vendor = 0x1af4, .qemu_sub_device = 0x1100, .qemu_kept = ~0u,
};

static int e1000_pmd_probe(struct bp_pci_device *pci)
{
	struct e1000_adapter *a = (struct e1000_adapter *)e1000_probe(pci, sizeof(*a), &e1000_82540);
	if (!a)
		return -errno;
	a->wake.fd = -1;
	return 0;
}

static const struct bp_pci_id e1000_ids[] = {
	{ 0x8086, 0x100e }, /* 82540EM (QEMU e1000) */
	{ 0x8086, 0x100f }, /* 82545EM copper (QEMU e1000-82545em) */
	{ 0, 0 },
};

const struct bp_pci_driver bp_pci_net_e1000 = {
	.name = "net_e1000",
	.ids = e1000_ids,
	.probe = e1000_pmd_probe,
	.remove = e1000_remove,
	.removed = e1000_removed,
};
