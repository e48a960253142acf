/* SPDX-License-Identifier: MIT
 * Between the files of the e1000 PMD: e1000_rxtx.c (the data path, the
 * queues) and e1000.c (the device: probe, reset, start/stop, interrupts). */
#ifndef BYPASS_E1000_H
#define BYPASS_E1000_H

#include <bypass/ethdev.h>
#include <bypass/mem.h>
#include <bypass/pci.h>
#include "e1000_regs.h"

#define RS_THRESH 32 /* descriptors between status write-backs, at most */
/* Interrupt throttling: at most 10000 interrupts a second, i.e. one every
 * 390 x 256 ns = 100 us (ITR counts 256 ns units, SDM 13.4.18). An idle
 * queue's first frame still interrupts at once. */
#define ITR_INTERVAL 390
/* What wakes a sleeping rx queue: a frame written back, the ring running low,
 * a frame missed for want of descriptors (SDM 13.4.17). */
#define RX_CAUSES (E1000_ICR_RXT0 | E1000_ICR_RXDMT0 | E1000_ICR_RXO)
#define MAX_BURST 64
#define MAX_FRAME 1518 /* without FCS, with one VLAN tag: LPE off (SDM 13.4.22) */

struct e1000_rxq {
	volatile struct e1000_rx_desc *ring;
	struct bp_mbuf **sw; /* the mbuf behind each descriptor */
	volatile void *regs;
	struct bp_mempool *mp;
	struct bp_memzone *mz;
	uint64_t rearm; /* fresh mbuf: headroom, refcnt 1, one segment, our port */
	uint16_t nb, mask, next;
	bool discard; /* inside a frame longer than one buffer: drop up to its EOP */
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

struct e1000_txq {
	volatile struct e1000_tx_desc *ring;
	struct bp_mbuf **sw; /* the segment behind each descriptor */
	uint16_t *rs;        /* descriptors that carry RS, oldest first (a FIFO of nb) */
	volatile void *regs;
	struct bp_memzone *mz;
	uint16_t nb, mask;
	uint16_t tail;     /* next descriptor to fill */
	uint16_t clean;    /* oldest descriptor not yet reclaimed */
	uint16_t nb_free;  /* descriptors we may still fill: nb - 1 when idle */
	uint16_t rs_head, rs_tail; /* free-running indexes into rs[] */
	uint16_t since_rs; /* descriptors filled since the last RS */
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

/* The statistics registers bypass reports (SDM 13.7): missed, then receive
 * errors (CRC, length, undersize, oversize). */
static const uint32_t hw_stat_regs[] = { E1000_MPC, E1000_CRCERRS, E1000_RLEC, E1000_RUC, E1000_ROC };
#define HW_STATS BP_ARRAY_SIZE(hw_stat_regs)

struct e1000_adapter {
	struct bp_pci_device *pci;
	volatile void *regs;
	struct bp_eth_dev *eth;
	/* The 82540EM clears its statistics on read (SDM 13.7): each read adds to
	 * the total. QEMU's e1000 (subsystem 1af4:1100) neither clears them on
	 * read nor on CTRL.RST, which resets nothing there: each read is the
	 * register's running value, and the total follows its growth. */
	bool stats_kept;
	uint64_t hw_total[HW_STATS];
	uint32_t hw_last[HW_STATS];
	/* Interrupts (conf.rx_intr or conf.link_intr): the 82540EM has one, INTx;
	 * its handler reads ICR once and hands each cause to whom it concerns. */
	bool intr_on;
	int wake_fd;  /* rx queue 0's eventfd, signalled by the handler */
	int rx_armed; /* the queue sleeps: the next rx cause wakes it (atomic) */
};

/* e1000_rxtx.c */
uint16_t e1000_rx(void *rxq, struct bp_mbuf **pkts, uint16_t n);
uint16_t e1000_tx(void *txq, struct bp_mbuf **pkts, uint16_t n);
uint32_t e1000_rx_queue_count(void *rxq);
int e1000_rxq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb, struct bp_mempool *mp);
int e1000_txq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb);
void e1000_rxq_release(struct bp_eth_dev *dev, uint16_t q);
void e1000_txq_release(struct bp_eth_dev *dev, uint16_t q);
/* A fresh mbuf behind every descriptor, every status cleared (start). */
int e1000_rxq_fill(struct bp_eth_dev *dev, struct e1000_rxq *q);
/* An empty tx ring (start). */
void e1000_txq_reset(struct e1000_txq *q);
/* Every mbuf back to its pool (stop). */
void e1000_rxq_drop_mbufs(struct e1000_rxq *q);
void e1000_txq_drop_mbufs(struct e1000_txq *q);

#endif
