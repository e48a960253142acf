/* SPDX-License-Identifier: MIT
 * Poll-mode driver for the Intel 82574L (QEMU "e1000e"): two rx queues of
 * extended descriptors spread by RSS, two tx queues of legacy descriptors,
 * MSI-X with a vector per rx queue and one for link changes. The queues,
 * bursts and device helpers (reset, station address, link, statistics, stop)
 * are the family's, shared with the 82540EM PMD (../e1000/e1000_common.h);
 * this file has what is the 82574L's own: RSS, MSI-X through IVAR, start.
 * Registers are cited from the datasheet in e1000e_regs.h.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/intr.h>
#include <bypass/log.h>
#include "../e1000/e1000_common.h"
#include "e1000e_regs.h"

/* Per-vector throttling: at most one interrupt per 390 x 256 ns = 100 us
 * (EITR counts 256 ns units, datasheet 10.2.4). QEMU raises any value below
 * 500 to 500 (128 us). */
#define EITR_INTERVAL 390
/* MSI-X vectors: 0 for link and other causes, 1 + q for rx queue q (the
 * convention of bypass/intr.h); transmit raises none. */
#define VEC_OTHER 0
#define VEC_RXQ(q) (1 + (q))

struct e1000e_adapter {
	struct e1000_hw hw; /* first: the shared helpers' view */
	bool intr_on, link_cb, msix;
};

static const struct e1000_eerd_layout eerd_82574 = {
	.start = E1000E_EERD_START, .done = E1000E_EERD_DONE,
	.addr_shift = E1000E_EERD_ADDR_SHIFT, .data_shift = E1000E_EERD_DATA_SHIFT,
};

static const struct e1000_rxd_layout extended = E1000E_RXD_EXT_LAYOUT;

static uint16_t e1000e_rx(void *rxq, struct bp_mbuf **pkts, uint16_t n)
{
	return e1000_rx_burst(rxq, pkts, n, &extended);
}

static uint32_t e1000e_rx_queue_count(void *rxq) { return e1000_rxq_count(rxq, &extended); }

/* What the 82574L hashes on, as bypass names it. TCP/IPv6 and IPv6 are the
 * hardware's TcpIPv6Ex and IPv6: for frames without IPv6 extension headers
 * (what bypass/rss.h hashes) the input is the same; with a Home Address
 * option or a type 2 routing header the NIC hashes those addresses. */
#define HASH_TYPES (BP_ETH_RSS_IPV4 | BP_ETH_RSS_IPV4_TCP | BP_ETH_RSS_IPV6 | BP_ETH_RSS_IPV6_TCP)

static void e1000e_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	(void)dev;
	info->dma = true; /* the NIC writes the buffers by IOVA */
	info->max_rx_queues = info->max_tx_queues = E1000_MAX_QUEUES;
	info->rx_desc_min = info->tx_desc_min = E1000_RING_MIN;
	info->rx_desc_max = info->tx_desc_max = E1000_RING_MAX;
	info->max_rx_pktlen = MAX_FRAME;
	info->min_rx_bufsize = 2048; /* RCTL.BSIZE 2048 */
	info->rss_hash_types = HASH_TYPES;
	info->reta_size = E1000E_RETA_SIZE;
	info->rss_key_len = E1000E_RSS_KEY_LEN;
}

/* ---- RSS ---- */

static uint32_t mrqc_value(uint32_t types)
{
	uint32_t v = 0;
	if (types & BP_ETH_RSS_IPV4)
		v |= E1000E_MRQC_IPV4;
	if (types & BP_ETH_RSS_IPV4_TCP)
		v |= E1000E_MRQC_TCPIPV4;
	if (types & BP_ETH_RSS_IPV6)
		v |= E1000E_MRQC_IPV6;
	if (types & BP_ETH_RSS_IPV6_TCP)
		v |= E1000E_MRQC_TCPIPV6EX;
	return v ? v | E1000E_MRQC_RSS : 0; /* no type: no RSS, every frame to queue 0 */
}

/* The redirection table: entry i in byte i mod 4 of register i / 4, its
 * queue in bit 7 (datasheet 10.2.5, RETA). May change while frames arrive:
 * a frame then goes by the old or the new entry. */
static int e1000e_reta_update(struct bp_eth_dev *dev)
{
	e1000_reta_program(dev->priv, dev->reta, 1, E1000E_RETA_QUEUE_SHIFT);
	return 0;
}

/* Hash types and key: RSS off while the key changes (the datasheet lets the
 * RSS registers change while RSS is disabled), then on with the new types.
 * The key's byte i is byte i mod 4 of RSSRK register i / 4. */
static int e1000e_rss_hash_update(struct bp_eth_dev *dev)
{
	e1000_rss_key_program(dev->priv, dev->conf.rss.key, mrqc_value(dev->conf.rss.hash_types));
	return 0;
}

/* ---- interrupts ---- */

/* Link and other causes, on the interrupt thread: vector 0 under MSI-X (the
 * OTHER cause), the one vector under MSI or INTx. ICR says why; it is
 * cleared by writing its bits back, which works whether or not this read
 * cleared it (QEMU's e1000e clears ICR on read only while IMS is 0). Queue
 * causes are left alone: an armed rx queue's belongs to its own vector. */
static void e1000e_intr(void *arg)
{
	struct e1000e_adapter *a = arg;
	uint32_t icr;
	if (!e1000_intr_causes(&a->hw, &icr))
		return;
	bp_write32(a->hw.regs, E1000_ICR, icr & ~E1000E_ICR_QUEUES);
	/* A real 82574L clears every cause on this read, also an rx queue's
	 * whose message EITR still holds back: set it again (ICS), so that an
	 * armed queue still hears of its frame. */
	if (icr & (E1000E_ICR_RXQ0 | E1000E_ICR_RXQ1))
		bp_write32(a->hw.regs, E1000_ICS, icr & (E1000E_ICR_RXQ0 | E1000E_ICR_RXQ1));
	e1000_intr_done(&a->hw, icr); /* last: it may free a */
}

static void intr_stop(struct e1000e_adapter *a)
{
	if (!a->intr_on)
		return;
	bp_write32(a->hw.regs, E1000_IMC, 0xffffffff);
	if (a->link_cb) /* when it returns, e1000e_intr is not running */
		bp_intr_callback_unregister(bp_intr_fd(&a->hw.pci->intr, VEC_OTHER), e1000e_intr, a);
	bp_pci_intr_disable(a->hw.pci);
	bp_write32(a->hw.regs, E1000_ICR, 0xffffffff);
	bp_write32(a->hw.regs, E1000E_IVAR, 0);
	bp_write32(a->hw.regs, E1000E_EIAC, 0);
	bp_write32(a->hw.regs, E1000E_IAM, 0);
	for (uint16_t q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
		a->hw.eth->rx_intr_fd[q] = -1;
	a->intr_on = a->link_cb = a->msix = false;
}

/* MSI-X (datasheet 7.4, 10.2.4): IVAR sends each rx queue's cause to its
 * vector and the OTHER cause to vector 0. EIAC clears a queue's cause as its
 * message goes out and, with CTRL_EXT.EIAME, IAM masks it in IMS: an armed
 * queue interrupts once and disarms itself. (QEMU masks the EIAC causes in
 * IMS itself when CTRL_EXT.IAME is clear, as here.) Without MSI-X (MSI, INTx
 * under uio_pci_generic) only link changes interrupt. */
static int intr_start(struct bp_eth_dev *dev)
{
	struct e1000e_adapter *a = dev->priv;
	struct bp_intr_handle *h = &a->hw.pci->intr;
	uint16_t nrx = dev->nb_rx_queues;
	int rc = bp_pci_intr_enable(a->hw.pci, (uint16_t)(1 + nrx));
	if (rc < 0)
		return rc;
	a->intr_on = true;
	/* MSI-X with fewer vectors than asked still carries link changes on
	 * vector 0; rx queues need their own. */
	a->msix = h->mode == BP_INTR_MSIX;
	if (dev->conf.rx_intr && !(a->msix && h->nb_vec >= 1 + nrx)) {
		BP_LOG(ERR, "%s: 82574L rx interrupts need MSI-X with %u vectors (the device has 5): bind it "
			    "to vfio-pci or bypass_uio, or poll it", a->hw.pci->addr, 1 + nrx);
		intr_stop(a);
		return -ENOTSUP;
	}
	uint32_t queues = 0;
	if (a->msix) {
		uint32_t ivar = (E1000E_IVAR_VALID | VEC_OTHER) << E1000E_IVAR_OTHER_SHIFT;
		for (uint16_t q = 0; dev->conf.rx_intr && q < nrx; q++) {
			ivar |= (E1000E_IVAR_VALID | VEC_RXQ(q)) << E1000E_IVAR_RXQ_SHIFT(q);
			queues |= E1000E_ICR_RXQ(q);
		}
		for (uint16_t v = 0; v < h->nb_vec && v < 1 + nrx; v++)
			bp_write32(a->hw.regs, E1000E_EITR(v), EITR_INTERVAL);
		bp_write32(a->hw.regs, E1000E_IVAR, ivar);
		bp_write32(a->hw.regs, E1000E_EIAC, queues);
		bp_write32(a->hw.regs, E1000E_IAM, queues);
		bp_set32(a->hw.regs, E1000_CTRL_EXT, E1000E_CTRL_EXT_EIAME);
		bp_clear32(a->hw.regs, E1000_CTRL_EXT, E1000E_CTRL_EXT_IAME);
		for (uint16_t q = 0; dev->conf.rx_intr && q < nrx; q++)
			dev->rx_intr_fd[q] = bp_intr_fd(h, VEC_RXQ(q));
	} else {
		bp_write32(a->hw.regs, E1000_ITR, EITR_INTERVAL);
	}
	bp_write32(a->hw.regs, E1000_ICR, 0xffffffff); /* causes from before start */
	if (dev->conf.link_intr) {
		if ((rc = bp_intr_callback_register(bp_intr_fd(h, VEC_OTHER), h->read_len, e1000e_intr, a)) < 0) {
			intr_stop(a);
			return rc;
		}
		a->link_cb = true;
		bp_write32(a->hw.regs, E1000_IMS, E1000_ICR_LSC | (a->msix ? E1000E_ICR_OTHER : 0));
	}
	bp_intr_unmask(h);
	return 0;
}

/* Arms queue q: its stale cause (a frame that came while it was not armed)
 * is cleared first, so that only what comes from now on wakes it. (IAM
 * holds every rx queue's cause since start: the message masks it again.) */
static int e1000e_rx_intr_enable(struct bp_eth_dev *dev, uint16_t q)
{
	struct e1000_hw *hw = dev->priv;
	bp_write32(hw->regs, E1000_ICR, E1000E_ICR_RXQ(q));
	bp_write32(hw->regs, E1000_IMS, E1000E_ICR_RXQ(q));
	return 0;
}

static int e1000e_rx_intr_disable(struct bp_eth_dev *dev, uint16_t q)
{
	struct e1000_hw *hw = dev->priv;
	bp_write32(hw->regs, E1000_IMC, E1000E_ICR_RXQ(q));
	return 0;
}

/* ---- start, stop ---- */

static int e1000e_stop(struct bp_eth_dev *dev)
{
	intr_stop(dev->priv);
	e1000_quiesce(dev);
	return 0;
}

/* Receive initialization (datasheet 4.6.5 / SDM 14.4) with extended
 * descriptors and RSS, transmit initialization (4.6.6 / SDM 14.5) with both
 * queues enabled in TARC. */
static int e1000e_start(struct bp_eth_dev *dev)
{
	struct e1000e_adapter *a = dev->priv;
	volatile void *regs = a->hw.regs;
	int rc = e1000_rings_program(dev);
	if (rc < 0)
		return rc;
	/* Extended descriptors carry the RSS type and hash back; RXCSUM.PCSD
	 * puts the hash where the packet checksum would be (QEMU's e1000e
	 * computes RSS only with both set). */
	bp_write32(regs, E1000E_RFCTL, E1000E_RFCTL_EXSTEN);
	bp_write32(regs, E1000E_RXCSUM, E1000E_RXCSUM_PCSD);
	e1000e_reta_update(dev);
	e1000e_rss_hash_update(dev);
	bp_write32(regs, E1000_RDTR, 0); /* no receive delay: we poll */
	for (uint16_t q = 0; q < E1000_MAX_QUEUES; q++)
		bp_set32(regs, E1000E_TARC(q), E1000E_TARC_ENABLE);
	if (dev->nb_rx_queues) {
		bp_write32(regs, E1000_RCTL, e1000_rctl_value(dev));
		e1000_rx_give(dev);
	}
	if (dev->nb_tx_queues)
		e1000_tx_enable(&a->hw);
	e1000_link_update(dev, 0);
	if (dev->conf.rx_intr || dev->conf.link_intr) {
		if ((rc = intr_start(dev)) < 0) {
			e1000e_stop(dev);
			return rc;
		}
	}
	return 0;
}

static const struct bp_eth_dev_ops e1000e_ops = {
	.start = e1000e_start,
	.stop = e1000e_stop,
	.info_get = e1000e_info,
	E1000_FAMILY_OPS,
	.rx_intr_enable = e1000e_rx_intr_enable,
	.rx_intr_disable = e1000e_rx_intr_disable,
	.rx_queue_count = e1000e_rx_queue_count,
	.rss_hash_update = e1000e_rss_hash_update,
	.reta_update = e1000e_reta_update,
};

/* The ops write RSS registers at once, started or stopped: start writes them
 * all again, so a stopped port's update is not lost either way. */

/* QEMU's e1000e has the subsystem ids 8086:0000: MPC, CRCERRS and RLEC read
 * there without clearing, and RUC counts every frame shorter than 60 bytes
 * that it pads and delivers. */
static const struct e1000_model e1000e_82574 = {
	.chip = "82574L", .driver_name = "net_e1000e", .eerd = &eerd_82574, .ops = &e1000e_ops,
	.rx_burst = e1000e_rx, .qemu_sub_vendor = 0x8086, .qemu_sub_device = 0x0000,
	.qemu_kept = 1u << E1000_HW_MPC | 1u << E1000_HW_CRCERRS | 1u << E1000_HW_RLEC,
	.qemu_ignored = 1u << E1000_HW_RUC,
};

static int e1000e_probe(struct bp_pci_device *pci)
{
	struct e1000_hw *hw = e1000_probe(pci, sizeof(struct e1000e_adapter), &e1000e_82574);
	if (!hw)
		return -errno;
	/* Nothing of a previous user's RSS or MSI-X set-up survives: QEMU's
	 * CTRL.RST resets neither. */
	bp_write32(hw->regs, E1000E_MRQC, 0);
	bp_write32(hw->regs, E1000E_IVAR, 0);
	return 0;
}

static const struct bp_pci_id e1000e_ids[] = {
	{ 0x8086, 0x10d3 }, /* 82574L (QEMU e1000e) */
	{ 0, 0 },
};

const struct bp_pci_driver bp_pci_net_e1000e = {
	.name = "net_e1000e",
	.ids = e1000e_ids,
	.probe = e1000e_probe,
	.remove = e1000_remove,
	.removed = e1000_removed,
};
