/* SPDX-License-Identifier: MIT
 * The e1000 family's device helpers, shared by the e1000 (82540EM) and
 * e1000e (82574L) PMDs: reset, station address, link, statistics, receive
 * and transmit control, stop, close. Register names and steps follow the
 * SDM cited in e1000_regs.h; the 82574L keeps these registers at the same
 * offsets with the same bits (82574L datasheet 10.2), EERD aside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <bypass/intr.h>
#include <bypass/log.h>
#include "e1000_common.h"

static const uint32_t hw_stat_regs[E1000_HW_STATS] = {
	[E1000_HW_MPC] = E1000_MPC, [E1000_HW_CRCERRS] = E1000_CRCERRS, [E1000_HW_RLEC] = E1000_RLEC,
	[E1000_HW_RUC] = E1000_RUC, [E1000_HW_ROC] = E1000_ROC,
};

static bool valid_unicast(const struct bp_ether_addr *mac)
{
	static const struct bp_ether_addr zero;
	return !(mac->b[0] & 1) && memcmp(mac, &zero, sizeof(zero)) != 0;
}

/* The station address: RAL0/RAH0 as the NIC loaded them from its EEPROM after
 * reset, else words 0-2 of the EEPROM (SDM 5.6.1) read through EERD; never an
 * address that is not a valid unicast one. */
static void read_mac(struct e1000_hw *hw, const struct e1000_eerd_layout *l, struct bp_ether_addr *mac)
{
	uint32_t lo = bp_read32(hw->regs, E1000_RAL0), hi = bp_read32(hw->regs, E1000_RAH0);
	bool ok = true;
	if (!(hi & E1000_RAH_AV) || (!lo && !(hi & 0xffff))) {
		uint16_t w[3] = { 0, 0, 0 };
		for (uint32_t i = 0; i < 3 && ok; i++) {
			bp_write32(hw->regs, E1000_EERD, l->start | (i << l->addr_shift));
			ok = bp_wait32(hw->regs, E1000_EERD, l->done, l->done, 10) == 0;
			w[i] = (uint16_t)(bp_read32(hw->regs, E1000_EERD) >> l->data_shift);
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
		BP_LOG(WARNING, "%s: %s%s%s; using the random address %s", hw->pci->addr,
		       ok ? "the EEPROM holds " : "the EEPROM did not answer", ok ? bad : "",
		       ok ? ", not a unicast address" : "", now);
		lo = mac->b[0] | (uint32_t)mac->b[1] << 8 | (uint32_t)mac->b[2] << 16 | (uint32_t)mac->b[3] << 24;
		hi = mac->b[4] | (uint32_t)mac->b[5] << 8;
	}
	bp_write32(hw->regs, E1000_RAL0, lo);
	bp_write32(hw->regs, E1000_RAH0, (hi & 0xffff) | E1000_RAH_AV);
}

int e1000_link_update(struct bp_eth_dev *dev, int wait)
{
	struct e1000_hw *hw = dev->priv;
	uint32_t st = bp_read32(hw->regs, E1000_STATUS);
	for (int i = 0; wait && !(st & E1000_STATUS_LU) && i < 90; i++) {
		bp_delay_us(100000); /* up to 9 s, like the kernel's autonegotiation wait */
		st = bp_read32(hw->regs, E1000_STATUS);
	}
	if (st == UINT32_MAX) /* nobody answers: the device is gone (hot-unplug) */
		st = 0;
	static const uint32_t speeds[] = { 10, 100, 1000, 1000 };
	dev->link.up = !!(st & E1000_STATUS_LU);
	dev->link.full_duplex = !!(st & E1000_STATUS_FD);
	dev->link.speed_mbps = dev->link.up ? speeds[(st & E1000_STATUS_SPEED_MASK) >> E1000_STATUS_SPEED_SHIFT] : 0;
	dev->link.autoneg = 1;
	return 0;
}

bool e1000_intr_causes(struct e1000_hw *hw, uint32_t *icr)
{
	*icr = bp_read32(hw->regs, E1000_ICR);
	if (bp_unlikely(*icr == UINT32_MAX)) {
		BP_LOG(ERR, "%s: the device does not answer (removed?); its interrupts stop here", hw->eth->name);
		return false;
	}
	if (*icr & E1000_ICR_LSC)
		e1000_link_update(hw->eth, 0);
	return true;
}

void e1000_intr_done(struct e1000_hw *hw, uint32_t icr)
{
	struct bp_eth_dev *eth = hw->eth;
	bp_intr_unmask(&hw->pci->intr);
	if (icr & E1000_ICR_LSC)
		bp_eth_dev_event(eth, BP_ETH_EVENT_LINK);
}

static void accumulate_hw(struct e1000_hw *hw)
{
	for (unsigned i = 0; i < E1000_HW_STATS; i++) {
		uint32_t v = bp_read32(hw->regs, hw_stat_regs[i]);
		if (v == UINT32_MAX)
			continue; /* a device that no longer answers (hot-unplug), not a count */
		hw->hw_total[i] += (hw->kept >> i & 1) ? (uint32_t)(v - hw->hw_last[i]) : v;
		hw->hw_last[i] = v;
	}
}

int e1000_hw_reset(struct e1000_hw *hw, const struct e1000_eerd_layout *eerd)
{
	/* 0. Quiet the NIC by hand first: a process that died may have left it
	 *    receiving into memory that is no longer its own, and QEMU's models
	 *    ignore CTRL.RST. (RCTL only if set: QEMU's e1000 receiver pauses
	 *    for a second after every RCTL write.) */
	if (bp_read32(hw->regs, E1000_RCTL))
		bp_write32(hw->regs, E1000_RCTL, 0);
	if (bp_read32(hw->regs, E1000_TCTL))
		bp_write32(hw->regs, E1000_TCTL, 0);
	/* 1. Mask all interrupts, then issue a global reset (CTRL.RST); it
	 *    self-clears when done (SDM 14.2, 13.4.1). */
	bp_write32_relaxed(hw->regs, E1000_IMC, 0xffffffff);
	bp_set32(hw->regs, E1000_CTRL, E1000_CTRL_RST);
	bp_delay_us(1000);
	if (bp_wait32(hw->regs, E1000_CTRL, E1000_CTRL_RST, 0, 100) < 0) {
		BP_LOG(ERR, "%s: the NIC did not come out of reset", hw->pci->addr);
		return -EIO;
	}
	/* 2. Mask interrupts again (reset re-enables nothing, but be explicit) and
	 *    clear pending causes (write 1s: not every member clears ICR on read). */
	bp_write32_relaxed(hw->regs, E1000_IMC, 0xffffffff);
	bp_write32(hw->regs, E1000_ICR, bp_read32(hw->regs, E1000_ICR));
	/* 3. General configuration (SDM 14.3): link up with auto-speed detection;
	 *    no link reset, PHY reset, loss-of-signal inversion or VLAN mode. */
	uint32_t ctrl = bp_read32(hw->regs, E1000_CTRL);
	ctrl |= E1000_CTRL_SLU | E1000_CTRL_ASDE;
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_VME);
	bp_write32(hw->regs, E1000_CTRL, ctrl);
	/* 4. Receive address and an empty multicast table (SDM 14.4 steps 1-2). */
	read_mac(hw, eerd, &hw->eth->mac);
	for (uint32_t i = 0; i < 128; i++)
		bp_write32_relaxed(hw->regs, E1000_MTA + 4 * i, 0);
	/* 5. Statistics start from zero: a read clears them (and the running
	 *    values of models that keep them become the baseline). */
	for (uint32_t r = E1000_CRCERRS; r <= 0x040FC; r += 4)
		(void)bp_read32(hw->regs, r);
	accumulate_hw(hw);
	memset(hw->hw_total, 0, sizeof(hw->hw_total));
	return 0;
}

uint32_t e1000_rctl_value(const struct bp_eth_dev *dev)
{
	uint32_t rctl = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | E1000_RCTL_BSIZE_2048 |
			E1000_RCTL_RDMTS_HALF;
	if (dev->promiscuous || dev->conf.promiscuous)
		rctl |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	return rctl;
}

void e1000_tx_enable(struct e1000_hw *hw)
{
	bp_write32(hw->regs, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
		   (E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT) |
		   (E1000_TCTL_COLD_FULL_DUPLEX << E1000_TCTL_COLD_SHIFT));
	bp_write32(hw->regs, E1000_TIPG, E1000_TIPG_COPPER);
}

void e1000_quiesce(struct bp_eth_dev *dev)
{
	struct e1000_hw *hw = dev->priv;
	e1000_tx_drain(dev, hw->regs);
	bp_write32(hw->regs, E1000_RCTL, 0);
	bp_write32(hw->regs, E1000_TCTL, 0);
	/* The receiver and transmitter stop after the frame in progress (SDM
	 * 13.4.22, 13.4.33): let that DMA finish before the buffers go back.
	 * A removed device does no more DMA (lib/pci/unplug.c). */
	if (!dev->removed)
		bp_delay_us(1000);
	e1000_queues_drop_mbufs(dev);
	dev->link.up = 0;
}

void e1000_close(struct bp_eth_dev *dev)
{
	struct e1000_hw *hw = dev->priv;
	bp_write32_relaxed(hw->regs, E1000_IMC, 0xffffffff);
	bp_set32(hw->regs, E1000_CTRL, E1000_CTRL_RST);
	hw->pci->drv_data = NULL;
	free(hw);
	dev->priv = NULL;
}

struct e1000_hw *e1000_probe(struct bp_pci_device *pci, size_t size, const struct e1000_model *m)
{
	if (!pci->bar[0].va || pci->bar[0].len < 0x10000) {
		BP_LOG(ERR, "%s: BAR0 (registers) is not mapped", pci->addr);
		errno = ENODEV;
		return NULL;
	}
	struct e1000_hw *hw = calloc(1, size);
	if (!hw)
		return NULL;
	hw->pci = pci;
	hw->regs = pci->bar[0].va;
	if (pci->sub_vendor == m->qemu_sub_vendor && pci->sub_device == m->qemu_sub_device) {
		hw->kept = m->qemu_kept;
		hw->ignored = m->qemu_ignored;
	}
	if (!(hw->eth = bp_eth_dev_allocate(pci->addr))) {
		free(hw);
		return NULL;
	}
	int rc = e1000_hw_reset(hw, m->eerd);
	if (rc < 0) {
		bp_eth_dev_release(hw->eth);
		free(hw);
		errno = -rc;
		return NULL;
	}
	hw->eth->priv = hw;
	hw->eth->ops = m->ops;
	hw->eth->driver_name = m->driver_name;
	hw->eth->rx_burst = m->rx_burst;
	hw->eth->tx_burst = m->tx_burst ? m->tx_burst : e1000_tx;
	pci->drv_data = hw;
	char mac[32];
	bp_ether_format_addr(mac, sizeof(mac), &hw->eth->mac);
	BP_LOG(INFO, "%s: %s, MAC %s, port %u", pci->addr, m->chip, mac, hw->eth->port_id);
	return hw;
}

void e1000_remove(struct bp_pci_device *pci)
{
	struct e1000_hw *hw = pci->drv_data;
	if (hw)
		bp_eth_dev_close(hw->eth->port_id);
}

void e1000_removed(struct bp_pci_device *pci)
{
	struct e1000_hw *hw = pci->drv_data;
	if (hw)
		bp_eth_dev_removed(hw->eth);
}

int e1000_promisc(struct bp_eth_dev *dev, int on)
{
	struct e1000_hw *hw = dev->priv;
	uint32_t old = bp_read32(hw->regs, E1000_RCTL), rctl = old;
	if (on)
		rctl |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	else
		rctl &= ~(E1000_RCTL_UPE | E1000_RCTL_MPE);
	/* Write only a change: QEMU's e1000 stops receiving for a second after
	 * every RCTL write (its flush_queue_timer). */
	if (rctl != old)
		bp_write32(hw->regs, E1000_RCTL, rctl);
	return 0;
}

int e1000_stats_get(struct bp_eth_dev *dev, struct bp_eth_stats *st)
{
	struct e1000_hw *hw = dev->priv;
	accumulate_hw(hw);
	st->imissed += hw->hw_total[E1000_HW_MPC];
	for (unsigned i = E1000_HW_CRCERRS; i < E1000_HW_STATS; i++)
		if (!(hw->ignored >> i & 1))
			st->ierrors += hw->hw_total[i];
	return 0;
}

int e1000_stats_reset(struct bp_eth_dev *dev)
{
	struct e1000_hw *hw = dev->priv;
	accumulate_hw(hw);
	memset(hw->hw_total, 0, sizeof(hw->hw_total));
	return 0;
}

void e1000_rss_key_program(struct e1000_hw *hw, const uint8_t *key, uint32_t mrqc)
{
	bp_write32(hw->regs, E1000_MRQC, 0);
	for (uint32_t r = 0; r < E1000_RSS_KEY_LEN / 4; r++) {
		const uint8_t *k = key + 4 * r;
		bp_write32(hw->regs, E1000_RSSRK + 4 * r,
			   k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16 | (uint32_t)k[3] << 24);
	}
	bp_write32(hw->regs, E1000_MRQC, mrqc);
}

void e1000_reta_program(struct e1000_hw *hw, const uint16_t *reta, uint32_t mask, unsigned shift)
{
	for (uint32_t r = 0; r < E1000_RETA_ENTRIES / 4; r++) {
		uint32_t v = 0;
		for (uint32_t b = 0; b < 4; b++)
			v |= (uint32_t)(reta[4 * r + b] & mask) << (8 * b + shift);
		bp_write32(hw->regs, E1000_RETA + 4 * r, v);
	}
}

int e1000_rx_wake_open(struct bp_eth_dev *dev, struct e1000_rx_wake *w)
{
	w->armed = 0;
	if ((w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		int rc = -errno;
		BP_LOG(ERR, "%s: rx queue 0: eventfd: %s", dev->name, strerror(errno));
		return rc;
	}
	dev->rx_intr_fd[0] = w->fd;
	return 0;
}

void e1000_rx_wake_close(struct bp_eth_dev *dev, struct e1000_rx_wake *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->armed = 0;
	dev->rx_intr_fd[0] = -1;
}

void e1000_rx_wake_signal(struct bp_eth_dev *dev, struct e1000_rx_wake *w)
{
	uint64_t one = 1;
	if (write(w->fd, &one, sizeof(one)) < 0)
		BP_LOG(DEBUG, "%s: rx wake-up: %s", dev->name, strerror(errno));
}
