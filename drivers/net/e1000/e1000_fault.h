/* SPDX-License-Identifier: MIT
 * TEST ONLY: fault injection into the e1000 family's rx rings, for the lab's
 * fault tests (tests/lab/rx_faults.c). Nothing in the library, the drivers or
 * the apps calls it, and this header is not installed: a program reaches it
 * only by including a driver's private header on purpose.
 */
#ifndef BYPASS_E1000_FAULT_H
#define BYPASS_E1000_FAULT_H

#include <bypass/common.h>

/* Writes `iova` as the buffer address of the rx descriptor the NIC fills
 * next (the one at its head register) on rx queue q of a started port of
 * the e1000 family, as a driver bug or a stray write would. The queue must
 * be idle (every frame the NIC wrote back taken by rx_burst), so that this
 * is the descriptor of the very next frame. *intended is the data buffer of
 * the mbuf the driver put behind that descriptor, which the NIC should have
 * written. rx_burst takes the descriptor back as usual once the NIC is done
 * with it and writes a fresh mbuf's address in its place. Returns the
 * descriptor's index, or -ENODEV (not a started port of the family),
 * -EINVAL (no such queue), -EBUSY (the queue is not idle). */
int e1000_fault_rx_misdirect(uint16_t port, uint16_t q, bp_iova_t iova, void **intended);

#endif
