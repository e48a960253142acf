/* SPDX-License-Identifier: MIT
 * Poll-mode driver for the Intel 82540EM/82545EM (QEMU "e1000" and
 * "e1000-82545em"). One rx and one tx queue of legacy descriptors. This file
 * has the device: probe, reset, start/stop, link, statistics, its interrupt;
 * e1000_rxtx.c the data path and the queues. Register names and steps follow
 * the SDM cited in e1000_regs.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <bypass/intr.h>
#include <bypass/ethdev.h>
#include <bypass/log.h>
#include <bypass/mem.h>
#include <bypass/mmio.h>
#include <bypass/pci.h>
#include "e1000.h"

/* ---- control path ---- */

static bool valid_unicast(const struct bp_ether_addr *mac)
{
	static const struct bp_ether_addr zero;
	return !(mac->b[0] & 1) && memcmp(mac, &zero, sizeof(zero)) != 0;
}

/* The station address: RAL0/RAH0 as the NIC loaded them from its EEPROM after
 * reset, else words 0-2 of the EEPROM (SDM 5.6.1) read through EERD (SDM
 * 13.4.4); never an address that is not a valid unicast one. */
static void read_mac(struct e1000_adapter *a, struct bp_ether_addr *mac)
{
	uint32_t lo = bp_read32(a->regs, E1000_RAL0), hi = bp_read32(a->regs, E1000_RAH0);
	bool ok = true;
	if (!(hi & E1000_RAH_AV) || (!lo && !(hi & 0xffff))) {
		uint16_t w[3] = { 0, 0, 0 };
		for (uint32_t i = 0; i < 3 && ok; i++) {
			bp_write32(a->regs, E1000_EERD, E1000_EERD_START | (i << E1000_EERD_ADDR_SHIFT));
			ok = bp_wait32(a->regs, E1000_EERD, E1000_EERD_DONE, E1000_EERD_DONE, 10) == 0;
			w[i] = (uint16_t)(bp_read32(a->regs, E1000_EERD) >> E1000_EERD_DATA_SHIFT);
		}
		lo = w[0] | (uint32_t)w[1] << 16;
		hi = w[2];
	}
	for (int i = 0; i < 4; i++)
		mac->b[i] = (uint8_t)(lo >> (8 * i));
	mac->b[4] = (uint8_t)hi;
	mac->b[5] = (uint8_t)(hi >> 8);
	if (!ok || !valid_unicast(mac)) {
		char bad[32], now[32];
		bp_ether_format_addr(bad, sizeof(bad), mac);
		if (getrandom(mac->b, sizeof(mac->b), 0) != (ssize_t)sizeof(mac->b))
			for (unsigned i = 0; i < sizeof(mac->b); i++)
				mac->b[i] = (uint8_t)(bp_rdtsc() >> (8 * i));
		mac->b[0] = (uint8_t)((mac->b[0] & 0xfe) | 0x02); /* unicast, locally administered */
		bp_ether_format_addr(now, sizeof(now), mac);
		BP_LOG(WARNING, "%s: %s%s%s; using the random address %s", a->pci->addr,
		       ok ? "the EEPROM holds " : "the EEPROM did not answer", ok ? bad : "",
		       ok ? ", not a unicast address" : "", now);
		lo = mac->b[0] | (uint32_t)mac->b[1] << 8 | (uint32_t)mac->b[2] << 16 | (uint32_t)mac->b[3] << 24;
		hi = mac->b[4] | (uint32_t)mac->b[5] << 8;
	}
	bp_write32(a->regs, E1000_RAL0, lo);
	bp_write32(a->regs, E1000_RAH0, (hi & 0xffff) | E1000_RAH_AV);
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

static void accumulate_hw(struct e1000_adapter *a)
{
	for (unsigned i = 0; i < HW_STATS; i++) {
		uint32_t v = bp_read32(a->regs, hw_stat_regs[i]);
		a->hw_total[i] += a->stats_kept ? (uint32_t)(v - a->hw_last[i]) : v;
		a->hw_last[i] = v;
	}
}

/* Reset and general configuration, SDM 14.2-14.3. */
static int e1000_hw_init(struct e1000_adapter *a)
{
	/* 0. Quiet the NIC by hand first: a process that died may have left it
	 *    receiving into memory that is no longer its own, and QEMU's e1000
	 *    ignores CTRL.RST. (RCTL only if set: QEMU's receiver pauses for a
	 *    second after every RCTL write.) */
	if (bp_read32(a->regs, E1000_RCTL))
		bp_write32(a->regs, E1000_RCTL, 0);
	if (bp_read32(a->regs, E1000_TCTL))
		bp_write32(a->regs, E1000_TCTL, 0);
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
	/* 5. Statistics start from zero: a read clears them (and QEMU's running
	 *    values become the baseline). */
	for (uint32_t r = E1000_CRCERRS; r <= 0x040FC; r += 4)
		(void)bp_read32(a->regs, r);
	accumulate_hw(a);
	memset(a->hw_total, 0, sizeof(a->hw_total));
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

static uint32_t rctl_value(const struct bp_eth_dev *dev)
{
	uint32_t rctl = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | E1000_RCTL_BSIZE_2048 |
			E1000_RCTL_RDMTS_HALF;
	if (dev->promiscuous || dev->conf.promiscuous)
		rctl |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	return rctl;
}

static int e1000_stop(struct bp_eth_dev *dev);

/* ---- interrupts ---- */

/* On the interrupt thread, each time the line fires: ICR says why, and
 * reading it clears every cause (SDM 13.4.17). */
static void e1000_intr(void *arg)
{
	struct e1000_adapter *a = arg;
	struct bp_eth_dev *eth = a->eth;
	uint32_t icr = bp_read32(a->regs, E1000_ICR);
	if (bp_unlikely(icr == UINT32_MAX)) {
		/* Reads of a device that left the bus return all ones: no
		 * cause is real, and the line stays masked. */
		BP_LOG(ERR, "%s: the device does not answer (removed?); its interrupts stop here", eth->name);
		return;
	}
	if (icr & E1000_ICR_LSC)
		e1000_link_update(eth, 0);
	if ((icr & RX_CAUSES) && __atomic_exchange_n(&a->rx_armed, 0, __ATOMIC_ACQ_REL)) {
		bp_write32(a->regs, E1000_IMC, RX_CAUSES); /* one wake-up per arming */
		uint64_t one = 1;
		if (write(a->wake_fd, &one, sizeof(one)) < 0)
			BP_LOG(DEBUG, "%s: rx wake-up: %s", eth->name, strerror(errno));
	}
	bp_intr_unmask(&a->pci->intr);
	/* Last: a callback may stop or close the port, which frees a. */
	if (icr & E1000_ICR_LSC)
		bp_eth_dev_event(eth, BP_ETH_EVENT_LINK);
}

static void intr_stop(struct e1000_adapter *a)
{
	if (!a->intr_on)
		return;
	bp_write32(a->regs, E1000_IMC, 0xffffffff);
	bp_intr_callback_unregister(bp_intr_fd(&a->pci->intr, 0), e1000_intr, a);
	bp_pci_intr_disable(a->pci);
	(void)bp_read32(a->regs, E1000_ICR);
	if (a->wake_fd >= 0)
		close(a->wake_fd);
	a->wake_fd = -1;
	a->eth->rx_intr_fd[0] = -1;
	a->rx_armed = 0;
	a->intr_on = false;
}

static int intr_start(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	struct bp_intr_handle *h = &a->pci->intr;
	int rc = bp_pci_intr_enable(a->pci, 1);
	if (rc < 0)
		return rc;
	a->intr_on = true;
	if (dev->conf.rx_intr) {
		a->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (a->wake_fd < 0) {
			rc = -errno;
			intr_stop(a);
			return rc;
		}
		dev->rx_intr_fd[0] = a->wake_fd;
	}
	bp_write32(a->regs, E1000_ITR, ITR_INTERVAL);
	(void)bp_read32(a->regs, E1000_ICR); /* causes from before start */
	if ((rc = bp_intr_callback_register(bp_intr_fd(h, 0), h->read_len, e1000_intr, a)) < 0) {
		intr_stop(a);
		return rc;
	}
	if (dev->conf.link_intr)
		bp_write32(a->regs, E1000_IMS, E1000_ICR_LSC);
	bp_intr_unmask(h);
	return 0;
}

static int e1000_rx_intr_enable(struct bp_eth_dev *dev, uint16_t q)
{
	struct e1000_adapter *a = dev->priv;
	(void)q;
	__atomic_store_n(&a->rx_armed, 1, __ATOMIC_RELEASE);
	bp_write32(a->regs, E1000_IMS, RX_CAUSES);
	return 0;
}

static int e1000_rx_intr_disable(struct bp_eth_dev *dev, uint16_t q)
{
	struct e1000_adapter *a = dev->priv;
	(void)q;
	__atomic_store_n(&a->rx_armed, 0, __ATOMIC_RELEASE);
	bp_write32(a->regs, E1000_IMC, RX_CAUSES);
	return 0;
}

static int e1000_start(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	struct e1000_rxq *rq = dev->rx_queues[0];
	struct e1000_txq *tq = dev->tx_queues[0];

	/* Receive initialization, SDM 14.4: ring base and length, head and tail
	 * at zero, then RCTL, then hand the descriptors over through RDT. */
	if (rq) {
		int rc = e1000_rxq_fill(dev, rq);
		if (rc < 0)
			return rc;
		bp_iova_t base = bp_memzone_iova(rq->mz, (const void *)rq->ring);
		bp_write32(a->regs, E1000_RDBAL, (uint32_t)base);
		bp_write32(a->regs, E1000_RDBAH, (uint32_t)(base >> 32));
		bp_write32(a->regs, E1000_RDLEN, (uint32_t)rq->nb * sizeof(*rq->ring));
		bp_write32(a->regs, E1000_RDH, 0);
		bp_write32(a->regs, E1000_RDT, 0);
		bp_write32(a->regs, E1000_RDTR, 0); /* no receive delay: we poll */
		bp_write32(a->regs, E1000_RCTL, rctl_value(dev));
		bp_write32(a->regs, E1000_RDT, rq->nb - 1u);
	}
	/* Transmit initialization, SDM 14.5: ring, head and tail, then TCTL with
	 * padding and the full-duplex collision distance, then TIPG. */
	if (tq) {
		e1000_txq_reset(tq);
		bp_iova_t base = bp_memzone_iova(tq->mz, (const void *)tq->ring);
		bp_write32(a->regs, E1000_TDBAL, (uint32_t)base);
		bp_write32(a->regs, E1000_TDBAH, (uint32_t)(base >> 32));
		bp_write32(a->regs, E1000_TDLEN, (uint32_t)tq->nb * sizeof(*tq->ring));
		bp_write32(a->regs, E1000_TDH, 0);
		bp_write32(a->regs, E1000_TDT, 0);
		bp_write32(a->regs, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
			   (E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT) |
			   (E1000_TCTL_COLD_FULL_DUPLEX << E1000_TCTL_COLD_SHIFT));
		bp_write32(a->regs, E1000_TIPG, E1000_TIPG_COPPER);
	}
	e1000_link_update(dev, 0);
	if (dev->conf.rx_intr || dev->conf.link_intr) {
		int rc = intr_start(dev);
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
	       bp_read32(a->regs, E1000_RDH), bp_read32(a->regs, E1000_RDT), rq ? rq->next : 0,
	       bp_read32(a->regs, E1000_TDH), bp_read32(a->regs, E1000_TDT), tq ? tq->clean : 0,
	       tq ? tq->nb_free : 0);
	intr_stop(a);
	/* Let the transmitter finish what it was given while the link is up (a
	 * full ring of the longest frames takes 50 ms at 1 Gb/s). */
	for (int i = 0; tq && i < 100 && bp_read32(a->regs, E1000_TDH) != tq->tail &&
			(bp_read32(a->regs, E1000_STATUS) & E1000_STATUS_LU); i++)
		bp_delay_us(1000);
	bp_write32(a->regs, E1000_RCTL, 0);
	bp_write32(a->regs, E1000_TCTL, 0);
	/* The receiver and transmitter stop after the frame in progress (SDM
	 * 13.4.22, 13.4.33): let that DMA finish before the buffers go back. */
	bp_delay_us(1000);
	if (tq)
		e1000_txq_drop_mbufs(tq);
	if (rq)
		e1000_rxq_drop_mbufs(rq);
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

static int e1000_stats_get(struct bp_eth_dev *dev, struct bp_eth_stats *st)
{
	struct e1000_adapter *a = dev->priv;
	accumulate_hw(a);
	st->imissed += a->hw_total[0];
	for (unsigned i = 1; i < HW_STATS; i++)
		st->ierrors += a->hw_total[i];
	return 0;
}

static int e1000_stats_reset(struct bp_eth_dev *dev)
{
	struct e1000_adapter *a = dev->priv;
	accumulate_hw(a);
	memset(a->hw_total, 0, sizeof(a->hw_total));
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
	.rx_intr_enable = e1000_rx_intr_enable,
	.rx_intr_disable = e1000_rx_intr_disable,
	.rx_queue_count = e1000_rx_queue_count,
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
	a->stats_kept = pci->sub_vendor == 0x1af4 && pci->sub_device == 0x1100; /* QEMU */
	a->wake_fd = -1;
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
