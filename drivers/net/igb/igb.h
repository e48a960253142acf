/* SPDX-License-Identifier: MIT
 * What the 82576 PMDs share: the PF (igb.c, 8086:10c9) and the VF (../igbvf,
 * 8086:10ca) move packets through the same advanced descriptors and the same
 * per-queue registers (a ring's block: base, length, head, tail, SRRCTL,
 * RXDCTL/TXDCTL at fixed offsets from its base), only the block's address
 * differs: the PF's rings at IGB_RXQ_REGS(q)/IGB_TXQ_REGS(q), a VF's at
 * 0x2800/0x3800 + 0x100 q of its own BAR.
 *
 * Everything here takes a queue's register block, never a PF-only offset:
 *   - queue set-up: the family's e1000_rxq_init(dev, q, nb, mp, qregs) and
 *     e1000_txq_init(dev, q, nb, qregs), qregs = BAR + the queue's block;
 *     release: e1000_rxq_release/e1000_txq_release (e1000_common.h);
 *   - bursts: igb_rx, igb_tx (the family's bursts instantiated for the
 *     advanced layouts of igb_regs.h) and igb_rx_queue_count;
 *   - start: igb_queues_start (rings, SRRCTL, queue enables), then the
 *     driver turns its receiver on and hands the rx tails over with
 *     e1000_rx_give;
 *   - stop: igb_queues_stop (drain, queue disables, every mbuf back).
 * The data path is the family's (../e1000/e1000_common.h): tx keeps one
 * descriptor free, asks for RS on each burst's last packet and every 32
 * descriptors and reclaims from a FIFO of RS positions (a burst of 0 only
 * reclaims: bp_eth_tx_done_cleanup); rx refills as much as the pool gives
 * and drops (rx_nombuf) what it cannot replace; stop returns every mbuf and
 * start rebuilds the rings.
 */
#ifndef BYPASS_IGB_H
#define BYPASS_IGB_H

#include "../e1000/e1000_common.h"
#include "igb_regs.h"

#define IGB_RX_BUF_SIZE 2048 /* SRRCTL.BSIZEPACKET: one frame (MAX_FRAME) per buffer */

uint16_t igb_rx(void *rxq, struct bp_mbuf **pkts, uint16_t n);
uint16_t igb_tx(void *txq, struct bp_mbuf **pkts, uint16_t n);
uint32_t igb_rx_queue_count(void *rxq);

/* Start, the queues' part (datasheet 4.5.9 for each rx queue, 4.5.10 for
 * each tx queue): every configured queue stopped (its ENABLE bit cleared and
 * seen clear), its ring programmed afresh (e1000_rings_program: fresh mbufs,
 * base, length, head = tail = 0), SRRCTL (2 KB buffers, advanced one-buffer
 * descriptors, Drop_En when there is more than one rx queue), then enabled
 * and seen enabled. 0, or negative errno after one logged line; nothing is
 * held on failure. */
int igb_queues_start(struct bp_eth_dev *dev);
/* Stop, the queues' part: lets the transmitters finish while the link is up
 * (STATUS at regs + 8, as PF and VF both have it), stops every queue and
 * waits until it has, then gives every mbuf back. */
void igb_queues_stop(struct bp_eth_dev *dev, volatile void *regs);

#endif
