/* SPDX-License-Identifier: MIT
 * The e1000 PMD's adapter (e1000.c); the queues, bursts and device helpers
 * it shares with the e1000e PMD are in e1000_common.h. */
#ifndef BYPASS_E1000_H
#define BYPASS_E1000_H

#include "e1000_common.h"

/* Interrupt throttling: at most 10000 interrupts a second, i.e. one every
 * 390 x 256 ns = 100 us (ITR counts 256 ns units, SDM 13.4.18). An idle
 * queue's first frame still interrupts at once. */
#define ITR_INTERVAL 390
/* What wakes a sleeping rx queue: a frame written back, the ring running low,
 * a frame missed for want of descriptors (SDM 13.4.17). */
#define RX_CAUSES (E1000_ICR_RXT0 | E1000_ICR_RXDMT0 | E1000_ICR_RXO)

struct e1000_adapter {
	struct e1000_hw hw; /* first: the shared helpers' view */
	/* Interrupts (conf.rx_intr or conf.link_intr): the 82540EM has one, INTx;
	 * its handler reads ICR once and hands each cause to whom it concerns. */
	bool intr_on;
	struct e1000_rx_wake wake; /* rx queue 0's eventfd, signalled by the handler */
};

#endif
