/* SPDX-License-Identifier: MIT
 * The VF side of the 82576 PF <-> VF mailbox; see igb_mbx.h. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/mmio.h>
#include "igb_mbx.h"

#define POLL_US 20

void igb_mbx_init(struct igb_mbx *m, volatile void *regs, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->regs = regs;
	m->name = name;
	m->timeout_ms = 1000;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint32_t igb_mbx_state(struct igb_mbx *m)
{
	uint32_t v = bp_read32(m->regs, IGBVF_V2PMAILBOX);
	m->seen |= v & IGBVF_MBX_R2C;
	return v | m->seen;
}

/* Takes a read-to-clear bit: true if the PF set it since it was last taken. */
static bool take(struct igb_mbx *m, uint32_t bit)
{
	bool set = igb_mbx_state(m) & bit;
	m->seen &= ~bit;
	return set;
}

bool igb_mbx_pf_reset(struct igb_mbx *m)
{
	uint32_t v = igb_mbx_state(m);
	if (!(v & (IGBVF_MBX_RSTI | IGBVF_MBX_RSTD)))
		return false;
	m->seen &= ~IGBVF_MBX_RSTD;
	m->cts = false;
	m->st.pf_resets++;
	return true;
}

/* Waits until `bit` was set (and takes it). 0, -ETIMEDOUT, or -ENETRESET
 * when the PF resets meanwhile. */
static int wait_for(struct igb_mbx *m, uint32_t bit)
{
	uint64_t end = now_ms() + m->timeout_ms;
	for (;;) {
		if (take(m, bit))
			return 0;
		if (m->seen & IGBVF_MBX_RSTD || igb_mbx_state(m) & IGBVF_MBX_RSTI)
			return -ENETRESET;
		if (now_ms() > end)
			return -ETIMEDOUT;
		bp_delay_us(POLL_US);
	}
}

/* The buffer is ours once VFU reads back set: the device sets it only while
 * the PF does not hold the buffer (PFU). */
static int lock(struct igb_mbx *m)
{
	uint64_t end = now_ms() + m->timeout_ms;
	for (;;) {
		bp_write32(m->regs, IGBVF_V2PMAILBOX, IGBVF_MBX_VFU);
		if (igb_mbx_state(m) & IGBVF_MBX_VFU)
			return 0;
		if (now_ms() > end) {
			BP_LOG(ERR, "%s: the PF has held the mailbox for %u ms; its driver may be stuck: "
				    "reload it (rmmod igb; modprobe igb) or reset the PF", m->name, m->timeout_ms);
			return -EBUSY;
		}
		bp_delay_us(POLL_US);
	}
}

static void say_wait_failed(struct igb_mbx *m, int rc, const char *what, uint32_t id)
{
	if (rc == -ENETRESET) {
		BP_LOG(WARNING, "%s: the PF reset while we waited for %s of message %#x; the VF resets too", m->name,
		       what, id);
		return;
	}
	m->st.timeouts++;
	BP_LOG(ERR, "%s: the PF did not %s message %#x within %u ms; is the PF's kernel driver (igb) loaded "
		    "and its interface up (ip link set PF up)? The PF answers VFs only while it is up",
	       m->name, what, id, m->timeout_ms);
}

int igb_mbx_post(struct igb_mbx *m, const uint32_t *msg, unsigned n)
{
	if (n == 0 || n > IGBVF_MBX_WORDS)
		return -EINVAL;
	if (igb_mbx_state(m) & IGBVF_MBX_RSTI)
		return -ENETRESET;
	int rc = lock(m);
	if (rc < 0)
		return rc;
	/* What the PF wrote and we did not read is overwritten now: drop its
	 * flag, and an old acknowledgement, so that only this message's counts. */
	if (take(m, IGBVF_MBX_PFSTS))
		m->st.dropped++;
	take(m, IGBVF_MBX_PFACK);
	for (unsigned i = 0; i < n; i++)
		bp_write32_relaxed(m->regs, IGBVF_VMBMEM + 4 * i, msg[i]);
	/* REQ without VFU: the PF is told, and the buffer is its to read. */
	bp_write32(m->regs, IGBVF_V2PMAILBOX, IGBVF_MBX_REQ);
	if ((rc = wait_for(m, IGBVF_MBX_PFACK)) < 0) {
		say_wait_failed(m, rc, "acknowledge", IGBVF_MSG_ID(msg[0]));
		return rc;
	}
	m->st.posted++;
	return 0;
}

int igb_mbx_read(struct igb_mbx *m, uint32_t *msg, unsigned n, bool wait)
{
	int rc;
	if (n == 0 || n > IGBVF_MBX_WORDS)
		return -EINVAL;
	if (!wait) {
		if (!take(m, IGBVF_MBX_PFSTS))
			return -EAGAIN;
	} else if ((rc = wait_for(m, IGBVF_MBX_PFSTS)) < 0) {
		say_wait_failed(m, rc, "answer", 0);
		return rc;
	}
	if ((rc = lock(m)) < 0)
		return rc;
	for (unsigned i = 0; i < n; i++)
		msg[i] = bp_read32(m->regs, IGBVF_VMBMEM + 4 * i);
	/* ACK without VFU: read, and the buffer given back. */
	bp_write32(m->regs, IGBVF_V2PMAILBOX, IGBVF_MBX_ACK);
	m->st.read++;
	return 0;
}

int igb_mbx_request(struct igb_mbx *m, const uint32_t *msg, unsigned n, uint32_t *reply, unsigned rn)
{
	uint32_t id = IGBVF_MSG_ID(msg[0]);
	int rc = igb_mbx_post(m, msg, n);
	if (rc < 0)
		return rc;
	/* A PF control message (link, reset news) may come first: not ours. */
	for (int tries = 0; tries < 4; tries++) {
		if ((rc = igb_mbx_read(m, reply, rn, true)) < 0)
			return rc;
		if (IGBVF_MSG_ID(reply[0]) == IGBVF_MSG_PF_CONTROL)
			continue;
		if (IGBVF_MSG_ID(reply[0]) != id)
			break;
		if (reply[0] & IGBVF_MSG_ACK)
			return 0;
		if (reply[0] & IGBVF_MSG_NACK) {
			m->st.nacks++;
			return -EPERM;
		}
		break;
	}
	BP_LOG(ERR, "%s: the PF answered message %#x with %#x, not an ACK or NACK of it; is its driver the "
		    "kernel's igb?", m->name, id, reply[0]);
	return -EPROTO;
}

/* ---- the messages ---- */

int igb_mbx_vf_reset(struct igb_mbx *m, uint8_t mac[6], bool *has_mac)
{
	/* 1. The PF must be out of its own reset (RSTI clear) before it can
	 *    hear us; a reset it finished (RSTD) is consumed here too. */
	uint64_t end = now_ms() + m->timeout_ms;
	m->seen &= ~IGBVF_MBX_RSTD;
	while (igb_mbx_state(m) & IGBVF_MBX_RSTI) {
		if (now_ms() > end) {
			m->st.timeouts++;
			BP_LOG(ERR, "%s: the PF is still in reset after %u ms (V2PMailbox.RSTI); bring the PF's "
				    "interface up (ip link set PF up): the kernel's igb finishes its reset then",
			       m->name, m->timeout_ms);
			return -ETIMEDOUT;
		}
		bp_delay_us(POLL_US);
	}
	m->seen &= ~IGBVF_MBX_RSTD;
	m->cts = false;
	/* 2. VF_RESET; the reply holds the address the PF keeps for us. */
	uint32_t msg = IGBVF_MSG_VF_RESET, reply[3] = { 0, 0, 0 };
	int rc = igb_mbx_request(m, &msg, 1, reply, 3);
	if (rc < 0 && rc != -EPERM)
		return rc;
	/* words 1-2 carry the address's bytes in order, byte 0 lowest */
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(reply[1 + i / 4] >> (8 * (i % 4)));
	*has_mac = rc == 0;
	m->cts = true;
	return 0;
}

static int simple(struct igb_mbx *m, const uint32_t *msg, unsigned n)
{
	uint32_t reply;
	if (!m->cts)
		return -ENETRESET; /* the PF ignores us until VF_RESET */
	return igb_mbx_request(m, msg, n, &reply, 1);
}

static void put_mac(uint32_t *w, const uint8_t mac[6])
{
	w[0] = mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 | (uint32_t)mac[3] << 24;
	w[1] = mac[4] | (uint32_t)mac[5] << 8;
}

int igb_mbx_set_mac(struct igb_mbx *m, const uint8_t mac[6])
{
	uint32_t msg[3] = { IGBVF_MSG_SET_MAC_ADDR };
	put_mac(&msg[1], mac);
	return simple(m, msg, 3);
}

int igb_mbx_set_multicast(struct igb_mbx *m, const uint8_t (*addrs)[6], unsigned n)
{
	if (n > IGBVF_MAX_MC_HASHES)
		return -EINVAL;
	uint32_t msg[IGBVF_MBX_WORDS] = { IGBVF_MSG_SET_MULTICAST | n << IGBVF_MSG_INFO_SHIFT };
	/* two 16-bit hashes a word, low half first, from word 1 */
	for (unsigned i = 0; i < n; i++)
		msg[1 + i / 2] |= (uint32_t)IGBVF_MC_HASH(addrs[i]) << (16 * (i % 2));
	return simple(m, msg, 1 + (n + 1) / 2);
}

int igb_mbx_set_max_frame(struct igb_mbx *m, uint32_t bytes)
{
	uint32_t msg[2] = { IGBVF_MSG_SET_LPE, bytes };
	return simple(m, msg, 2);
}

int igb_mbx_set_allmulti(struct igb_mbx *m, bool on)
{
	uint32_t msg = IGBVF_MSG_SET_PROMISC | (on ? IGBVF_PROMISC_MULTICAST : 0);
	return simple(m, &msg, 1);
}
