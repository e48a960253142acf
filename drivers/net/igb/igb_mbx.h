/* SPDX-License-Identifier: MIT
 * The VF side of the 82576's PF <-> VF mailbox (datasheet, "PF/VF Mailbox"):
 * 16 words of shared memory (VMBMEM) and one control register (V2PMailbox)
 * whose bits say who holds the buffer and who has written or read what.
 *
 *   post:  take the buffer (VFU), write the words, raise REQ (which also
 *          gives the buffer back), wait until the PF says it read them (PFACK)
 *   read:  wait until the PF wrote (PFSTS), take the buffer, copy the words,
 *          raise ACK (which gives it back)
 *
 * Every wait ends after a time-out with an error line that names the device
 * and what to look at (the PF's driver, its interface). A PF that resets
 * (RSTI while it does, RSTD when done) makes waits end with -ENETRESET: the
 * VF must then reset itself (igb_mbx_vf_reset) before it is heard again.
 *
 * Control path only: the calls poll with short sleeps, from one thread at a
 * time (the port's control path or its interrupt thread, never both: the
 * owner serialises them).
 */
#ifndef BYPASS_IGB_MBX_H
#define BYPASS_IGB_MBX_H

#include <stdbool.h>
#include <stdint.h>
#include <bypass/common.h>
#include "igbvf_regs.h"

struct igb_mbx {
	volatile void *regs; /* the VF's BAR 0 */
	const char *name;    /* for error lines: the VF's PCI address */
	unsigned timeout_ms; /* each wait (1000: what the PF driver's own VF driver allows) */
	uint32_t seen;       /* read-to-clear bits read and not yet acted on */
	bool cts;            /* the PF answered our VF_RESET: it takes requests */
	struct {
		uint64_t posted, read, nacks, timeouts, pf_resets, dropped;
	} st;
};

void igb_mbx_init(struct igb_mbx *m, volatile void *regs, const char *name);

/* V2PMailbox as it stands, with the read-to-clear bits seen before and not
 * yet acted on. */
uint32_t igb_mbx_state(struct igb_mbx *m);
/* True once per PF reset (RSTD seen), and while the PF is resetting (RSTI). */
bool igb_mbx_pf_reset(struct igb_mbx *m);

/* Sends n words (1..16) and waits for the PF to acknowledge them. 0,
 * -EBUSY (the PF kept the buffer), -ETIMEDOUT (no acknowledgement),
 * -ENETRESET (the PF reset meanwhile); each after one line. */
int igb_mbx_post(struct igb_mbx *m, const uint32_t *msg, unsigned n);
/* Takes the PF's message (n words); with wait, waits for one. 0, -EAGAIN
 * (none and no wait), -ETIMEDOUT, -ENETRESET. */
int igb_mbx_read(struct igb_mbx *m, uint32_t *msg, unsigned n, bool wait);
/* A request and its reply: posts msg, then reads replies until one for this
 * message id comes (PF control messages in between are taken and dropped,
 * their news is in V2PMailbox and STATUS). 0 if the PF acknowledged it,
 * -EPERM if it refused it (reply[0] has NACK), -EPROTO for a reply that is
 * neither, or what post/read returned. reply: rn words (rn >= 1). */
int igb_mbx_request(struct igb_mbx *m, const uint32_t *msg, unsigned n, uint32_t *reply, unsigned rn);

/* ---- the messages the kernel's igb PF driver understands ---- */

/* After the VF's own reset (VTCTRL.RST): waits for the PF to be out of
 * reset, sends VF_RESET and reads the reply. 0 with the permanent address
 * in mac (*has_mac true), or 0 with *has_mac false when the PF has none to
 * give (it answered NACK: the address is then ours to choose and to set);
 * negative errno after one line. Either way the PF is then clear to send. */
int igb_mbx_vf_reset(struct igb_mbx *m, uint8_t mac[6], bool *has_mac);
/* SET_MAC_ADDR: 0, or -EPERM when the PF refuses it (an address the
 * administrator set on the PF for this VF wins). */
int igb_mbx_set_mac(struct igb_mbx *m, const uint8_t mac[6]);
/* SET_MULTICAST: the PF's multicast table for us becomes exactly these
 * addresses' hashes (at most 30; -EINVAL beyond). */
int igb_mbx_set_multicast(struct igb_mbx *m, const uint8_t (*addrs)[6], unsigned n);
/* SET_LPE: the largest frame the PF lets us receive, CRC included. */
int igb_mbx_set_max_frame(struct igb_mbx *m, uint32_t bytes);
/* SET_PROMISC: every multicast frame (on) or only the table's (off). The
 * PF refuses unicast promiscuity to a VF. */
int igb_mbx_set_allmulti(struct igb_mbx *m, bool on);

#endif
