/* SPDX-License-Identifier: MIT
 * Poll-mode driver for the Intel 82576 physical function (QEMU "igb"): up to
 * 16 rx and 16 tx queues of advanced descriptors (igb.h, shared with the VF
 * PMD), RSS over the rx queues, MSI-X with one vector for link and other
 * causes and one per rx queue. It drives the PF only while no VFs are
 * enabled on it: with VFs the PF is the VFs' switch and mailbox, which this
 * PMD does not serve, so probe refuses it.
 *
 * What it shares with the e1000/e1000e PMDs (../e1000/e1000_common.h): the
 * reset and general configuration, station address, link, statistics, close.
 * What is the 82576's own is here: queue registers (through igb.h), RSS,
 * MSI-X through GPIE and IVAR, start and stop. Registers are cited from the
 * datasheet in igb_regs.h.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/intr.h>
#include <bypass/log.h>
#include "igb.h"

/* Per-vector throttling: at most one interrupt per 100 us (EITR, 8.8.12). */
#define EITR_US 100
/* MSI-X vectors: 0 for link and other causes, 1 + q for rx queue q (the
 * convention of bypass/intr.h); transmit raises none. */
#define VEC_OTHER 0
#define VEC_RXQ(q) (1u + (q))

struct igb_adapter {
	struct e1000_hw hw; /* first: the family helpers' view */
	bool intr_on, link_cb, msix;
	/* rx queue drops (SRRCTL.Drop_En, RQDPC clears on read), per queue */
	uint64_t rqdpc[IGB_MAX_QUEUES];
};

static const struct e1000_eerd_layout eerd_82576 = {
	.start = IGB_EERD_START, .done = IGB_EERD_DONE,
	.addr_shift = IGB_EERD_ADDR_SHIFT, .data_shift = IGB_EERD_DATA_SHIFT,
};

/* What the 82576 hashes on, as bypass names it (7.1.2.10): all six. The
 * IPv6 types are the NIC's TcpIPv6Ex/UdpIPv6Ex and IPv6Ex with IPv6: for
 * frames without extension headers (what bypass/rss.h hashes) the input is
 * the same. */
#define HASH_TYPES (BP_ETH_RSS_IPV4 | BP_ETH_RSS_IPV4_TCP | BP_ETH_RSS_IPV4_UDP | BP_ETH_RSS_IPV6 | \
		    BP_ETH_RSS_IPV6_TCP | BP_ETH_RSS_IPV6_UDP)

static void igb_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	(void)dev;
	info->dma = true; /* the NIC writes the buffers by IOVA */
	info->max_rx_queues = info->max_tx_queues = IGB_MAX_QUEUES;
	info->rx_desc_min = info->tx_desc_min = E1000_RING_MIN;
	info->rx_desc_max = info->tx_desc_max = E1000_RING_MAX;
	info->max_rx_pktlen = MAX_FRAME;
	info->min_rx_bufsize = IGB_RX_BUF_SIZE;
	info->rss_hash_types = HASH_TYPES;
	info->reta_size = IGB_RETA_SIZE;
	info->rss_key_len = IGB_RSS_KEY_LEN;
}

static int igb_rxq_setup(struct bp_eth_dev *dev, uint16_t q, uint16_t nb, struct bp_mempool *mp)
{
	struct e1000_hw *hw = dev->priv;
	return e1000_rxq_init(dev, q, nb, mp, (volatile char *)hw->regs + IGB_RXQ_REGS(q));
}

static int igb_txq_setup(struct bp_eth_dev *dev, uint16_t q, uint16_t nb)
{
	struct e1000_hw *hw = dev->priv;
	return e1000_txq_init(dev, q, nb, (volatile char *)hw->regs + IGB_TXQ_REGS(q));
}

/* ---- RSS ---- */

static uint32_t mrqc_value(uint32_t types)
{
	static const struct {
		uint32_t bp, mrqc;
	} map[] = {
		{ BP_ETH_RSS_IPV4, IGB_MRQC_IPV4 },
		{ BP_ETH_RSS_IPV4_TCP, IGB_MRQC_TCPIPV4 },
		{ BP_ETH_RSS_IPV4_UDP, IGB_MRQC_UDPIPV4 },
		{ BP_ETH_RSS_IPV6, IGB_MRQC_IPV6 | IGB_MRQC_IPV6EX },
		{ BP_ETH_RSS_IPV6_TCP, IGB_MRQC_TCPIPV6 | IGB_MRQC_TCPIPV6EX },
		{ BP_ETH_RSS_IPV6_UDP, IGB_MRQC_UDPIPV6 | IGB_MRQC_UDPIPV6EX },
	};
	uint32_t v = 0;
	for (unsigned i = 0; i < BP_ARRAY_SIZE(map); i++)
		if (types & map[i].bp)
			v |= map[i].mrqc;
	return v ? v | IGB_MRQC_RSS : 0; /* no type: no RSS, every frame to queue 0 */
}

/* The redirection table: entry i in byte i mod 4 of register i / 4, its
 * queue in bits 3:0 (8.10.17). May change while frames arrive: a frame then
 * goes by the old or the new entry. */
static int igb_reta_update(struct bp_eth_dev *dev)
{
	e1000_reta_program(dev->priv, dev->reta, IGB_RETA_QUEUE_MASK, 0);
	return 0;
}

/* Hash types and key: RSS off while the key changes, then on with the new
 * types. The key's byte i is byte i mod 4 of RSSRK register i / 4. */
static int igb_rss_hash_update(struct bp_eth_dev *dev)
{
	e1000_rss_key_program(dev->priv, dev->conf.rss.key, mrqc_value(dev->conf.rss.hash_types));
	return 0;
}

/* ---- interrupts ---- */

/* Link and other causes, on the interrupt thread: vector 0 under MSI-X, the
 * one vector under MSI or INTx. ICR says why; GPIE.NSICR makes the read
 * clear it under MSI-X too, and the causes are also written back (QEMU
 * clears ICR on read only in some states). */
static void igb_intr(void *arg)
{
	struct igb_adapter *a = arg;
	uint32_t icr;
	if (!e1000_intr_causes(&a->hw, &icr))
		return;
	BP_LOG(DEBUG, "%s: other interrupt, ICR %#x", a->hw.eth->name, icr);
	bp_write32(a->hw.regs, E1000_ICR, icr);
	e1000_intr_done(&a->hw, icr); /* last: it may free a */
}

static void intr_stop(struct igb_adapter *a)
{
	volatile void *regs = a->hw.regs;
	if (!a->intr_on)
		return;
	bp_write32(regs, IGB_EIMC, 0xffffffff);
	bp_write32(regs, E1000_IMC, 0xffffffff);
	if (a->link_cb) /* when it returns, igb_intr is not running */
		bp_intr_callback_unregister(bp_intr_fd(&a->hw.pci->intr, VEC_OTHER), igb_intr, a);
	bp_pci_intr_disable(a->hw.pci);
	(void)bp_read32(regs, E1000_ICR);
	bp_write32(regs, E1000_ICR, 0xffffffff);
	bp_write32(regs, IGB_EICR, 0xffffffff);
	for (uint32_t r = 0; r < 8; r++)
		bp_write32(regs, IGB_IVAR0 + 4 * r, 0);
	bp_write32(regs, IGB_IVAR_MISC, 0);
	bp_write32(regs, IGB_GPIE, 0);
	for (uint16_t q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
		a->hw.eth->rx_intr_fd[q] = -1;
	a->intr_on = a->link_cb = a->msix = false;
}

/* MSI-X (7.3.1.3, 8.8): GPIE.Multiple_MSIX makes each EICR bit a vector's
 * cause; IVAR sends each rx queue's cause to its vector, IVAR_MISC the other
 * causes (link) to vector 0. EIAC clears a vector's cause as its message goes
 * out; with GPIE.EIAME, EIAM masks an rx vector in EIMS as well, so an armed
 * queue interrupts once and disarms itself. (QEMU's igb does not mask: the
 * queue stays armed until rx_intr_disable, which bp_eth_rx_intr_wait calls.)
 * Without MSI-X (MSI, INTx under uio_pci_generic) only link changes
 * interrupt, through ICR/IMS as on the 82540EM. */
static int intr_start(struct bp_eth_dev *dev)
{
	struct igb_adapter *a = dev->priv;
	struct bp_intr_handle *h = &a->hw.pci->intr;
	volatile void *regs = a->hw.regs;
	uint16_t nrx = dev->nb_rx_queues;
	int rc = bp_pci_intr_enable(a->hw.pci, (uint16_t)(1 + nrx));
	if (rc < 0)
		return rc;
	a->intr_on = true;
	a->msix = h->mode == BP_INTR_MSIX;
	if (dev->conf.rx_intr && !(a->msix && h->nb_vec >= 1 + nrx)) {
		BP_LOG(ERR, "%s: 82576 rx interrupts need MSI-X with %u vectors (the device gave %u, %s): bind it "
			    "to vfio-pci, use fewer rx queues, or poll it",
		       a->hw.pci->addr, 1 + nrx, h->nb_vec, bp_intr_mode_name(h->mode));
		intr_stop(a);
		return -ENOTSUP;
	}
	uint32_t vecs = 0; /* EICR bits of the rx queues' vectors */
	if (a->msix) {
		bp_write32(regs, IGB_GPIE, IGB_GPIE_NSICR | IGB_GPIE_MULTIPLE_MSIX | IGB_GPIE_EIAME | IGB_GPIE_PBA);
		bp_write32(regs, IGB_IVAR_MISC, (IGB_IVAR_VALID | VEC_OTHER) << IGB_IVAR_MISC_OTHER_SHIFT);
		for (uint16_t q = 0; dev->conf.rx_intr && q < nrx; q++) {
			bp_set32(regs, IGB_IVAR_REG(q), (IGB_IVAR_VALID | VEC_RXQ(q)) << IGB_IVAR_RX_SHIFT(q));
			vecs |= 1u << VEC_RXQ(q);
		}
		for (uint16_t v = 0; v < h->nb_vec && v < 1 + nrx; v++)
			bp_write32(regs, IGB_EITR(v), EITR_US << IGB_EITR_INTERVAL_SHIFT);
		bp_write32(regs, IGB_EIAC, vecs | 1u << VEC_OTHER);
		bp_write32(regs, IGB_EIAM, vecs);
		for (uint16_t q = 0; dev->conf.rx_intr && q < nrx; q++)
			dev->rx_intr_fd[q] = bp_intr_fd(h, (uint16_t)VEC_RXQ(q));
	}
	(void)bp_read32(regs, E1000_ICR); /* causes from before start */
	bp_write32(regs, E1000_ICR, 0xffffffff);
	bp_write32(regs, IGB_EICR, 0xffffffff);
	if (dev->conf.link_intr) {
		if ((rc = bp_intr_callback_register(bp_intr_fd(h, VEC_OTHER), h->read_len, igb_intr, a)) < 0) {
			intr_stop(a);
			return rc;
		}
		a->link_cb = true;
		bp_write32(regs, E1000_IMS, E1000_ICR_LSC);
		if (a->msix)
			bp_write32(regs, IGB_EIMS, 1u << VEC_OTHER);
	}
	bp_intr_unmask(h);
	return 0;
}

/* Arms queue q: its stale cause (a frame that came while it was not armed)
 * is cleared first, so that only what comes from now on wakes it. */
static int igb_rx_intr_enable(struct bp_eth_dev *dev, uint16_t q)
{
	struct e1000_hw *hw = dev->priv;
	bp_write32(hw->regs, IGB_EICR, 1u << VEC_RXQ(q));
	bp_write32(hw->regs, IGB_EIMS, 1u << VEC_RXQ(q));
	return 0;
}

static int igb_rx_intr_disable(struct bp_eth_dev *dev, uint16_t q)
{
	struct e1000_hw *hw = dev->priv;
	bp_write32(hw->regs, IGB_EIMC, 1u << VEC_RXQ(q));
	return 0;
}

/* ---- statistics ---- */

/* The family's (missed, receive errors), and the rx queues' drops: with
 * SRRCTL.Drop_En a frame for a queue with no descriptor is dropped and
 * counted in its RQDPC rather than in MPC. */
static void rqdpc_accumulate(struct igb_adapter *a)
{
	for (uint16_t q = 0; q < a->hw.eth->nb_rx_queues && q < IGB_MAX_QUEUES; q++)
		a->rqdpc[q] += bp_read32(a->hw.regs, IGB_RQDPC(q));
}

static int igb_stats_get(struct bp_eth_dev *dev, struct bp_eth_stats *st)
{
	struct igb_adapter *a = dev->priv;
	rqdpc_accumulate(a);
	for (uint16_t q = 0; q < IGB_MAX_QUEUES; q++)
		st->imissed += a->rqdpc[q];
	return e1000_stats_get(dev, st);
}

static int igb_stats_reset(struct bp_eth_dev *dev)
{
	struct igb_adapter *a = dev->priv;
	rqdpc_accumulate(a);
	memset(a->rqdpc, 0, sizeof(a->rqdpc));
	return e1000_stats_reset(dev);
}

/* ---- start, stop ---- */

static int igb_stop(struct bp_eth_dev *dev)
{
	struct igb_adapter *a = dev->priv;
	intr_stop(a);
	igb_queues_stop(dev, a->hw.regs);
	bp_write32(a->hw.regs, E1000_RCTL, 0);
	bp_write32(a->hw.regs, E1000_TCTL, 0);
	dev->link.up = 0;
	return 0;
}

/* Receive initialization (4.5.9) with advanced descriptors and RSS,
 * transmit initialization (4.5.10). */
static int igb_start(struct bp_eth_dev *dev)
{
	struct igb_adapter *a = dev->priv;
	volatile void *regs = a->hw.regs;
	int rc = igb_queues_start(dev);
	if (rc < 0)
		return rc;
	/* The RSS hash in the descriptor, where the packet checksum would be
	 * (QEMU's igb computes RSS only with PCSD set). */
	bp_write32(regs, IGB_RXCSUM, IGB_RXCSUM_PCSD);
	igb_reta_update(dev);
	igb_rss_hash_update(dev);
	if (dev->nb_rx_queues) {
		bp_write32(regs, E1000_RCTL, e1000_rctl_value(dev));
		e1000_rx_give(dev);
	}
	if (dev->nb_tx_queues)
		e1000_tx_enable(&a->hw);
	e1000_link_update(dev, 0);
	if (dev->conf.rx_intr || dev->conf.link_intr) {
		if ((rc = intr_start(dev)) < 0) {
			igb_stop(dev);
			return rc;
		}
	}
	return 0;
}

static const struct bp_eth_dev_ops igb_ops = {
	.start = igb_start,
	.stop = igb_stop,
	.info_get = igb_info,
	.close = e1000_close,
	.rx_queue_setup = igb_rxq_setup,
	.tx_queue_setup = igb_txq_setup,
	.rx_queue_release = e1000_rxq_release,
	.tx_queue_release = e1000_txq_release,
	.link_update = e1000_link_update,
	.stats_get = igb_stats_get,
	.stats_reset = igb_stats_reset,
	.promiscuous_set = e1000_promisc,
	.rx_intr_enable = igb_rx_intr_enable,
	.rx_intr_disable = igb_rx_intr_disable,
	.rx_queue_count = igb_rx_queue_count,
	.rss_hash_update = igb_rss_hash_update,
	.reta_update = igb_reta_update,
};

/* ---- probe ---- */

/* Writes PHY register `reg` through MDIC (8.2.4) and waits for it. */
static int phy_write(struct e1000_hw *hw, uint32_t reg, uint16_t v)
{
	bp_write32(hw->regs, IGB_MDIC, v | reg << IGB_MDIC_REG_SHIFT | IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT |
					       IGB_MDIC_OP_WRITE);
	if (bp_wait32(hw->regs, IGB_MDIC, IGB_MDIC_READY, IGB_MDIC_READY, 10) < 0 ||
	    (bp_read32(hw->regs, IGB_MDIC) & IGB_MDIC_ERROR))
		return -EIO;
	return 0;
}

/* Link set-up (4.5.7, copper): the MAC follows the PHY (CTRL.SLU, set by
 * the family's reset); a link that is not up after the reset gets its
 * auto-negotiation restarted. (QEMU's igb drops the link at CTRL.RST and
 * brings it back only when auto-negotiation restarts; a real 82576 keeps its
 * PHY through CTRL.RST.) */
static void link_setup(struct e1000_hw *hw)
{
	if (bp_read32(hw->regs, E1000_STATUS) & E1000_STATUS_LU)
		return;
	if (phy_write(hw, IGB_PHY_BMCR, IGB_BMCR_AUTOEN | IGB_BMCR_ANRESTART | IGB_BMCR_FD | IGB_BMCR_SPEED1000) < 0)
		BP_LOG(WARNING, "%s: the PHY did not take the auto-negotiation restart (MDIC); the link may stay "
				"down", hw->pci->addr);
}

/* QEMU's igb has the subsystem ids 1af4:1100 (seen in the lab, QEMU 10.0;
 * its e1000 has them too): MPC, CRCERRS and RLEC read there without
 * clearing (igb_core.c), and RUC counts every frame shorter than 60 bytes
 * that it pads and delivers. */
static const struct e1000_model igb_82576 = {
	.chip = "82576", .driver_name = "net_igb", .eerd = &eerd_82576, .ops = &igb_ops,
	.rx_burst = igb_rx, .tx_burst = igb_tx, .qemu_sub_vendor = 0x1af4, .qemu_sub_device = 0x1100,
	.qemu_kept = 1u << E1000_HW_MPC | 1u << E1000_HW_CRCERRS | 1u << E1000_HW_RLEC,
	.qemu_ignored = 1u << E1000_HW_RUC,
};

static int igb_probe(struct bp_pci_device *pci)
{
	/* With VFs enabled the PF must not be reset or reconfigured: refuse
	 * before touching it. sysfs says so at the scan; the device itself
	 * (STATUS.IOV_MODE) whatever the way in. */
	uint32_t status = pci->bar[0].va && pci->bar[0].len >= 0x10000 ?
				  bp_read32(pci->bar[0].va, E1000_STATUS) : 0;
	if (pci->sriov_numvfs || (status & IGB_STATUS_IOV_MODE)) {
		BP_LOG(ERR, "%s: 82576 PF with %u VFs enabled: this PMD drives the PF only without VFs; run "
			    "'echo 0 > /sys/bus/pci/devices/%s/sriov_numvfs' first, or use the VFs (net_igbvf)",
		       pci->addr, pci->sriov_numvfs ? pci->sriov_numvfs :
		       (unsigned)((status & IGB_STATUS_NUM_VFS_MASK) >> IGB_STATUS_NUM_VFS_SHIFT), pci->addr);
		return -EBUSY;
	}
	struct e1000_hw *hw = e1000_probe(pci, sizeof(struct igb_adapter), &igb_82576);
	if (!hw)
		return -errno;
	bp_write32(hw->regs, IGB_EIMC, 0xffffffff); /* reset masks them too; say so */
	link_setup(hw);
	return 0;
}

/* 82576 PF device ids with a copper PHY, the link set-up above (QEMU's igb
 * is 10c9). The fiber and SerDes parts (10e6, 10e7, 150d, 1518) bring
 * their link up through the PCS instead and are not claimed. */
static const struct bp_pci_id igb_ids[] = {
	{ 0x8086, 0x10c9 }, /* 82576 copper */
	{ 0x8086, 0x10e8 }, /* 82576 quad copper */
	{ 0x8086, 0x1526 }, /* 82576 quad copper ET2 */
	{ 0x8086, 0x150a }, /* 82576NS copper */
	{ 0, 0 },
};

const struct bp_pci_driver bp_pci_net_igb = {
	.name = "net_igb",
	.ids = igb_ids,
	.probe = igb_probe,
	.remove = e1000_remove,
	.removed = e1000_removed,
};
