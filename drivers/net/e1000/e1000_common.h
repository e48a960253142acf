/* SPDX-License-Identifier: MIT
 * What the e1000 family's PMDs share: the 82540EM (drivers/net/e1000), the
 * 82574L (drivers/net/e1000e) and the 82576 (drivers/net/igb, PF and VF)
 * have receive descriptors of the same size that differ only in where the
 * hardware writes status, length and hash back, and transmit descriptors
 * whose command bits and done bit sit in the same places (the 82576's
 * advanced data descriptor adds a type, DEXT and the packet's length). Each
 * ring has the same five registers (base low/high, length, head, tail) at
 * the same offsets from its base-low register, wherever a member keeps that
 * block. So one set of queues (each knowing its register block), one tx
 * burst and one rx burst (parameterised by the descriptor layout, resolved at
 * compile time), and one set of device helpers (station address, link,
 * statistics, ring programming, stop) serve all of them.
 *
 *   e1000_rxtx.c  queues and bursts
 *   e1000_hw.c    device helpers
 */
#ifndef BYPASS_E1000_COMMON_H
#define BYPASS_E1000_COMMON_H

#include <bypass/ethdev.h>
#include <bypass/mem.h>
#include <bypass/mmio.h>
#include <bypass/pci.h>
#include "e1000_regs.h"

#define RS_THRESH 32 /* descriptors between status write-backs, at most */
#define MAX_BURST 64
#define MAX_FRAME 1518 /* without FCS, with one VLAN tag: LPE off (SDM 13.4.22) */
#define E1000_MAX_QUEUES 2 /* the 82574L's; the 82540EM has one */

/* A receive descriptor of either layout: the device reads the buffer address
 * from the first 8 bytes and writes status back over the whole 16. */
union e1000_rxd {
	struct {
		uint64_t addr;
		uint64_t wb; /* written back; zero while the NIC owns it */
	} rd;
	uint32_t dw[4];
	uint16_t w[8];
};
_Static_assert(sizeof(union e1000_rxd) == 16, "16-byte rx descriptors");

/* Where a layout's write-back puts what rx reads. Status and errors share a
 * 32-bit word in both layouts: DD is bit 0, EOP bit 1, and the frame errors
 * (CRC, symbol, sequence, carrier extension, rx data) sit at err_mask. */
struct e1000_rxd_layout {
	uint8_t status_dw; /* index of the status/errors word */
	uint8_t length_w;  /* index of the 16-bit length */
	uint32_t err_mask;
	bool rss; /* dw[0] bits 3:0 the RSS type (0: none), dw[1] the hash */
};
#define E1000_RXD_DD (1u << 0)
#define E1000_RXD_EOP (1u << 1)
#define E1000_RXD_RSS_TYPE_MASK 0xfu

struct e1000_rxq {
	volatile union e1000_rxd *ring;
	struct bp_mbuf **sw; /* the mbuf behind each descriptor */
	volatile void *rdt;  /* this queue's tail register */
	volatile void *qregs; /* its ring's register block (base low first) */
	struct bp_mempool *mp;
	struct bp_memzone *mz;
	uint64_t rearm; /* fresh mbuf: headroom, refcnt 1, one segment, our port */
	uint16_t nb, mask, next;
	bool discard; /* inside a frame longer than one buffer: drop up to its EOP */
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

/* A transmit descriptor of either layout, as the tx burst writes it: the
 * buffer address, then `lower` (legacy: length 15:0, CSO 23:16, CMD 31:24,
 * SDM 3.3.3; 82576 advanced data descriptor: DTALEN 15:0, DTYP 23:20, DCMD
 * 31:24, 82576 datasheet 7.2.2.3) and `upper` (legacy: STA 3:0, CSS, special;
 * advanced: STA 3:0, PAYLEN 31:14). EOP, IFCS and RS have the same bits in
 * CMD and DCMD, DD the same bit in STA. */
struct e1000_txd {
	uint64_t addr;
	uint32_t lower;
	volatile uint32_t upper;
};
_Static_assert(sizeof(struct e1000_txd) == 16, "16-byte tx descriptors");
#define E1000_TXD_CMD_SHIFT 24 /* CMD/DCMD in lower */
#define E1000_TXD_UPPER_DD E1000_TXD_STAT_DD

/* What a layout writes besides length and command: bits every descriptor
 * carries in `lower` (0 for legacy; the advanced data type and DEXT), and
 * whether `upper` carries the packet's length (PAYLEN, bits 31:14). */
struct e1000_txd_layout {
	uint32_t lower;
	bool paylen;
};
#define E1000_TXD_PAYLEN_SHIFT 14
#define E1000_TXD_LEGACY_LAYOUT { .lower = 0, .paylen = false }

struct e1000_txq {
	volatile struct e1000_txd *ring;
	struct bp_mbuf **sw; /* the segment behind each descriptor */
	uint16_t *rs;        /* descriptors that carry RS, oldest first (a FIFO of nb) */
	volatile void *tdt;  /* this queue's tail register */
	volatile void *qregs; /* its ring's register block (base low first) */
	struct bp_memzone *mz;
	uint16_t nb, mask;
	uint16_t tail;     /* next descriptor to fill */
	uint16_t clean;    /* oldest descriptor not yet reclaimed */
	uint16_t nb_free;  /* descriptors we may still fill: nb - 1 when idle */
	uint16_t rs_head, rs_tail; /* free-running indexes into rs[] */
	uint16_t since_rs; /* descriptors filled since the last RS */
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

/* The statistics registers the family reports (SDM 13.7; 82574L datasheet
 * 10.2.7 keeps them at the same offsets): missed, then receive errors (CRC,
 * length, undersize, oversize). */
enum { E1000_HW_MPC, E1000_HW_CRCERRS, E1000_HW_RLEC, E1000_HW_RUC, E1000_HW_ROC, E1000_HW_STATS };

/* The start of each family PMD's adapter (dev->priv points at it), so that
 * the shared helpers find the registers and the statistics. */
struct e1000_hw {
	struct bp_pci_device *pci;
	volatile void *regs;
	struct bp_eth_dev *eth;
	/* The statistics registers clear on read (SDM 13.7): each read adds to
	 * the total. Registers in `kept` are not cleared by their read (QEMU's
	 * models): each read is a running value, the total follows its growth.
	 * Registers in `ignored` count something else there and are left out. */
	uint32_t kept, ignored;
	uint64_t hw_total[E1000_HW_STATS];
	uint32_t hw_last[E1000_HW_STATS];
};

/* EERD's layout differs within the family (82540EM: SDM 13.4.4; 82574L:
 * datasheet 10.2.2.x EERD). */
struct e1000_eerd_layout {
	uint32_t start, done;
	uint8_t addr_shift, data_shift;
};

/* ---- e1000_rxtx.c: queues and bursts ---- */
uint16_t e1000_tx(void *txq, struct bp_mbuf **pkts, uint16_t n);
/* Queue set-up, for a ring whose registers start at qregs (its base-low
 * register): the ops below pass the 82540EM/82574L block of queue qi; the
 * 82576 PF and VF pass theirs. */
int e1000_rxq_init(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb, struct bp_mempool *mp,
		   volatile void *qregs);
int e1000_txq_init(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb, volatile void *qregs);
int e1000_rxq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb, struct bp_mempool *mp);
int e1000_txq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb);
void e1000_rxq_release(struct bp_eth_dev *dev, uint16_t q);
void e1000_txq_release(struct bp_eth_dev *dev, uint16_t q);
/* Start, the part every family member does alike: each rx queue gets fresh
 * mbufs and each tx queue an empty ring, and their base, length, head and
 * tail registers (SDM 14.4, 14.5). The tails are handed over after the
 * receiver is enabled (e1000_rx_give). */
int e1000_rings_program(struct bp_eth_dev *dev);
/* Hands every rx ring's descriptors to the NIC (RDT = nb - 1). */
void e1000_rx_give(struct bp_eth_dev *dev);
/* Every mbuf the rings hold back to its pool (stop). */
void e1000_queues_drop_mbufs(struct bp_eth_dev *dev);
/* Stop, first step: lets each transmitter finish what it was given while the
 * link is up (STATUS.LU of the BAR at regs), 100 ms at most in all; not at
 * all once the device is removed. */
void e1000_tx_drain(struct bp_eth_dev *dev, volatile void *regs);
/* Frees the segments of every descriptor the NIC has written back; how many
 * descriptors came free. */
uint16_t e1000_tx_reclaim(struct e1000_txq *q);
/* Frames the NIC has written back and rx has not taken (layout's DD word). */
uint32_t e1000_rxq_count(const struct e1000_rxq *q, const struct e1000_rxd_layout *l);

/* ---- e1000_hw.c: the device ---- */
/* Quiets a NIC someone else may have left running, masks every interrupt,
 * resets it (SDM 14.2 / 82574L datasheet 4.6), sets the link up with
 * auto-speed detection, loads the station address, empties the multicast
 * table, takes the statistics' baseline. */
int e1000_hw_reset(struct e1000_hw *hw, const struct e1000_eerd_layout *eerd);
/* TCTL and TIPG for full-duplex copper (SDM 14.5). */
void e1000_tx_enable(struct e1000_hw *hw);
/* Stop: lets the transmitters finish while the link is up, turns receive and
 * transmit off, then gives every mbuf back. */
void e1000_quiesce(struct bp_eth_dev *dev);
/* What tells one family PMD from another at probe. */
struct e1000_model {
	const char *chip, *driver_name;
	const struct e1000_eerd_layout *eerd;
	const struct bp_eth_dev_ops *ops;
	bp_rx_burst_fn rx_burst;
	/* QEMU's model of the chip, known by its subsystem ids, and the
	 * statistics registers it keeps across reads or counts otherwise */
	uint16_t qemu_sub_vendor, qemu_sub_device;
	uint32_t qemu_kept, qemu_ignored;
	/* queues: the ops' tx burst (NULL: e1000_tx) */
	bp_tx_burst_fn tx_burst;
};
/* Probe: allocates the adapter (`size` bytes, a struct e1000_hw first) and
 * the port, resets the NIC. The adapter, or NULL with errno set. */
struct e1000_hw *e1000_probe(struct bp_pci_device *pci, size_t size, const struct e1000_model *m);
void e1000_remove(struct bp_pci_device *pci);
/* Hot-unplug (bp_pci_driver.removed): the port reports it. */
void e1000_removed(struct bp_pci_device *pci);
/* Close: masks interrupts and resets the NIC before its memory goes away. */
void e1000_close(struct bp_eth_dev *dev);
int e1000_link_update(struct bp_eth_dev *dev, int wait);
/* An interrupt handler's first step: reads ICR into *icr and, on a link
 * change, the link; false if the device has left the bus (all ones: no
 * cause is real, and its interrupts stop there). */
bool e1000_intr_causes(struct e1000_hw *hw, uint32_t *icr);
/* Its last: lets INTx fire again, then tells link callbacks, which may stop
 * or close the port and so free the adapter. */
void e1000_intr_done(struct e1000_hw *hw, uint32_t icr);
int e1000_stats_get(struct bp_eth_dev *dev, struct bp_eth_stats *st);
int e1000_stats_reset(struct bp_eth_dev *dev);
int e1000_promisc(struct bp_eth_dev *dev, int on);
/* RSS, for the members that have it at the same offsets (82574L datasheet
 * 10.2.5, 82576 datasheet 8.10: MRQC 0x5818, RETA 0x5C00, RSSRK 0x5C80):
 * the key (byte i in byte i mod 4 of RSSRK register i / 4, 40 bytes) written
 * while MRQC is 0, then MRQC; and the 128-entry table, entry i in byte
 * i mod 4 of RETA register i / 4, its queue (dev->reta[i] & mask) at `shift`
 * in that byte. A frame arriving meanwhile goes by the old or new entry. */
#define E1000_MRQC 0x05818
#define E1000_RETA 0x05C00
#define E1000_RSSRK 0x05C80
#define E1000_RETA_ENTRIES 128
#define E1000_RSS_KEY_LEN 40
void e1000_rss_key_program(struct e1000_hw *hw, const uint8_t *key, uint32_t mrqc);
void e1000_reta_program(struct e1000_hw *hw, const uint16_t *reta, uint32_t mask, unsigned shift);
/* RCTL for our rings: 2048-byte buffers, CRC stripped, broadcast accepted. */
uint32_t e1000_rctl_value(const struct bp_eth_dev *dev);

/* One interrupt for the link and rx queue 0 (the 82540EM's INTx, an 82576
 * VF's single UIO vector): the queue's interrupt fd is an eventfd of ours,
 * and the device's handler, on the interrupt thread, signals it when the
 * queue is armed and disarms it (an armed queue wakes once). */
struct e1000_rx_wake {
	int fd;    /* dev->rx_intr_fd[0]; -1: none */
	int armed; /* the queue sleeps: the next rx cause wakes it (atomic) */
};
/* The eventfd, given out as dev->rx_intr_fd[0]. 0 or negative errno. */
int e1000_rx_wake_open(struct bp_eth_dev *dev, struct e1000_rx_wake *w);
void e1000_rx_wake_close(struct bp_eth_dev *dev, struct e1000_rx_wake *w);
static inline void e1000_rx_wake_arm(struct e1000_rx_wake *w, bool on)
{
	__atomic_store_n(&w->armed, on, __ATOMIC_RELEASE);
}
/* From the handler: true if the queue was armed, and disarms it; the
 * handler masks the queue's cause, then signals. (In that order: the woken
 * queue may arm again at once, and its arming must not be undone.) */
static inline bool e1000_rx_wake_take(struct e1000_rx_wake *w)
{
	return w->fd >= 0 && __atomic_exchange_n(&w->armed, 0, __ATOMIC_ACQ_REL);
}
void e1000_rx_wake_signal(struct bp_eth_dev *dev, struct e1000_rx_wake *w);

/* The ops every family PMD takes from here, in its bp_eth_dev_ops. */
#define E1000_FAMILY_OPS                                                             \
	.close = e1000_close, .rx_queue_setup = e1000_rxq_setup, .tx_queue_setup = e1000_txq_setup, \
	.rx_queue_release = e1000_rxq_release, .tx_queue_release = e1000_txq_release,       \
	.link_update = e1000_link_update, .stats_get = e1000_stats_get,                       \
	.stats_reset = e1000_stats_reset, .promiscuous_set = e1000_promisc

/* ---- the rx burst ----
 * Reads the done descriptors of a burst, takes as many fresh mbufs from the
 * pool in one bulk get, swaps them into the ring and hands the filled ones
 * out; when the pool runs short, hands out what can be replaced and drops the
 * rest (their buffers go straight back into the ring, so the NIC never runs
 * dry); writes RDT once. `l` is a compile-time constant in each caller, so
 * every layout gets its own straight-line loop. */
static inline __attribute__((always_inline)) uint16_t
e1000_rx_burst(struct e1000_rxq *q, struct bp_mbuf **pkts, uint16_t n, const struct e1000_rxd_layout *l)
{
	struct bp_mbuf *fresh[MAX_BURST];
	uint16_t idx = q->next, ready = 0, nfresh, got = 0, used = 0;
	uint64_t bytes = 0;

	if (bp_unlikely(n > MAX_BURST))
		n = MAX_BURST;
	while (ready < n && (q->ring[(idx + ready) & q->mask].dw[l->status_dw] & E1000_RXD_DD))
		ready++;
	if (!ready)
		return 0;
	bp_io_rmb(); /* the rest of each descriptor after its DD bit */
	nfresh = ready;
	if (bp_unlikely(bp_mempool_get_bulk(q->mp, (void **)fresh, ready) < 0))
		nfresh = (uint16_t)bp_mempool_get_upto(q->mp, (void **)fresh, ready);
	for (uint16_t i = 0; i < ready; i++) {
		volatile union e1000_rxd *d = &q->ring[idx];
		struct bp_mbuf *m = q->sw[idx];
		uint32_t status = d->dw[l->status_dw];
		uint16_t len = d->w[l->length_w];

		if (bp_unlikely(!(status & E1000_RXD_EOP) || (status & l->err_mask) || q->discard)) {
			/* A bad frame, or one longer than a buffer: every descriptor up
			 * to its EOP is dropped, the frame counted once, at its start. */
			if (!q->discard)
				q->st.errors++;
			q->discard = !(status & E1000_RXD_EOP);
		} else if (bp_likely(used < nfresh)) {
			m->data_len = len;
			m->pkt_len = len;
			m->ol_flags = 0;
			m->packet_type = 0;
			m->vlan_tci = 0;
			if (l->rss && (d->dw[0] & E1000_RXD_RSS_TYPE_MASK)) {
				m->hash = d->dw[1];
				m->ol_flags = BP_MBUF_F_RX_RSS_HASH;
			}
			pkts[got++] = m;
			bytes += len;
			struct bp_mbuf *nm = fresh[used++];
			nm->rearm = q->rearm;
			q->sw[idx] = nm;
		} else {
			/* No mbuf to take its place: drop it, keep its buffer. */
			q->st.nombuf++;
		}
		d->rd.addr = bp_mbuf_data_iova(q->sw[idx]);
		d->rd.wb = 0;
		idx = (idx + 1) & q->mask;
	}
	if (bp_unlikely(used < nfresh))
		bp_mempool_put_bulk(q->mp, (void **)&fresh[used], nfresh - used);
	q->next = idx;
	/* Give the refilled descriptors back: the NIC may use all up to, not
	 * including, the next one we will read. */
	bp_write32(q->rdt, 0, (uint32_t)((idx - 1) & q->mask));
	q->st.packets += got;
	q->st.bytes += bytes;
	return got;
}

/* ---- the tx burst ----
 * One descriptor per segment, one descriptor always unused, so that TDT ==
 * TDH only ever means "empty" (SDM 3.4); a status write-back (RS) every
 * RS_THRESH descriptors and on the last packet of every burst, so that
 * everything sent can be reclaimed even when no more traffic comes; reclaim
 * from the oldest write-back on; one TDT write. `l` is a compile-time
 * constant in each caller. */
static inline void e1000_tx_mark_rs(struct e1000_txq *q, uint16_t i)
{
	q->ring[i].lower |= (uint32_t)E1000_TXD_CMD_RS << E1000_TXD_CMD_SHIFT;
	q->rs[q->rs_tail++ & q->mask] = i;
	q->since_rs = 0;
}

static inline __attribute__((always_inline)) uint16_t
e1000_tx_burst(struct e1000_txq *q, struct bp_mbuf **pkts, uint16_t n, const struct e1000_txd_layout *l)
{
	uint16_t tail = q->tail, sent, refused = 0;
	uint64_t bytes = 0;

	if (q->nb_free < n + RS_THRESH || n == 0) /* n == 0: bp_eth_tx_done_cleanup */
		e1000_tx_reclaim(q);
	for (sent = 0; sent < n; sent++) {
		struct bp_mbuf *m = pkts[sent];
		if (bp_unlikely(m->pkt_len > MAX_FRAME || m->pkt_len < BP_ETHER_HDR_LEN ||
				m->nb_segs >= q->nb)) {
			/* The NIC cannot send it: refuse it here, count it, free it. */
			q->st.errors++;
			refused++;
			bp_pktmbuf_free(m);
			continue;
		}
		if (bp_unlikely(m->nb_segs > q->nb_free) &&
		    (e1000_tx_reclaim(q) == 0 || m->nb_segs > q->nb_free))
			break; /* ring full: the caller keeps the rest */
		bytes += m->pkt_len;
		uint32_t upper = l->paylen ? m->pkt_len << E1000_TXD_PAYLEN_SHIFT : 0;
		for (struct bp_mbuf *s = m; s; s = s->next) {
			volatile struct e1000_txd *d = &q->ring[tail];
			uint32_t cmd = E1000_TXD_CMD_IFCS | (s->next ? 0 : E1000_TXD_CMD_EOP);
			d->addr = bp_mbuf_data_iova(s);
			d->lower = s->data_len | l->lower | cmd << E1000_TXD_CMD_SHIFT;
			d->upper = upper; /* DD clear */
			q->sw[tail] = s;
			tail = (tail + 1) & q->mask;
		}
		q->nb_free = (uint16_t)(q->nb_free - m->nb_segs);
		q->since_rs = (uint16_t)(q->since_rs + m->nb_segs);
		if (q->since_rs >= RS_THRESH)
			e1000_tx_mark_rs(q, (tail - 1) & q->mask);
	}
	if (tail != q->tail) {
		/* The burst's last packet always reports, so that all of it can be
		 * reclaimed even if nothing follows. */
		if (q->since_rs)
			e1000_tx_mark_rs(q, (tail - 1) & q->mask);
		q->tail = tail;
		bp_write32(q->tdt, 0, tail);
	}
	q->st.bytes += bytes;
	q->st.packets += (uint16_t)(sent - refused); /* refused ones count as errors */
	return sent;
}

#endif
