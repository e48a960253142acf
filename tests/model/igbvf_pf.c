/* SPDX-License-Identifier: MIT
 * The PF's side of an 82576 VF's mailbox, as the kernel's igb driver plays
 * it (its public protocol; see igbvf_model.h). Written from the protocol,
 * independently of drivers/net/igb/igb_mbx.c. Everything here runs under
 * the model's lock. */
#include <string.h>
#include "igbvf_model.h"

#define R(off) IGBVF_MODEL_REG(m, off)

void igbvf_pf_vf_wrote_locked(struct igbvf_model *m, uint32_t v)
{
	uint32_t *box = &R(IGBVF_V2PMAILBOX);
	if (v & IGBVF_MBX_REQ)
		m->pf.req = true;
	if (v & IGBVF_MBX_ACK)
		m->pf.acks_from_vf++;
	/* VFU: granted only while the PF does not hold the buffer; a write
	 * without it gives the buffer back. */
	if (!(v & IGBVF_MBX_VFU))
		*box &= ~IGBVF_MBX_VFU;
	else if (!(*box & IGBVF_MBX_PFU))
		*box |= IGBVF_MBX_VFU;
}

uint32_t igbvf_pf_vf_read_locked(struct igbvf_model *m)
{
	uint32_t v = R(IGBVF_V2PMAILBOX);
	R(IGBVF_V2PMAILBOX) = v & ~IGBVF_MBX_R2C;
	return v;
}

void igbvf_pf_vflr_locked(struct igbvf_model *m)
{
	/* The PF forgets what the VF set up and waits for its VF_RESET. */
	m->pf.vflr++;
	m->pf.cts = false;
	m->pf.nb_mc = 0;
	m->pf.allmulti = false;
}

static void reply1(struct igbvf_model *m, uint32_t w0)
{
	m->pf.reply[0] = w0;
	m->pf.reply_len = 1;
	m->pf.reply_pending = true;
}

/* What the PF does with one message: the reply it queues. */
static void handle(struct igbvf_model *m, const uint32_t *msg)
{
	struct igbvf_pf *pf = &m->pf;
	uint32_t id = IGBVF_MSG_ID(msg[0]);
	bool ok = true;
	pf->requests++;
	pf->last_id = id;
	if (id == IGBVF_MSG_VF_RESET) {
		pf->cts = true;
		memset(pf->reply, 0, sizeof(pf->reply));
		pf->reply[0] = IGBVF_MSG_VF_RESET | (pf->has_mac ? IGBVF_MSG_ACK : IGBVF_MSG_NACK);
		if (pf->has_mac) {
			pf->reply[1] = pf->mac[0] | (uint32_t)pf->mac[1] << 8 | (uint32_t)pf->mac[2] << 16 |
				       (uint32_t)pf->mac[3] << 24;
			pf->reply[2] = pf->mac[4] | (uint32_t)pf->mac[5] << 8;
		}
		pf->reply_len = 3;
		pf->reply_pending = true;
		return;
	}
	if (!pf->cts) { /* not until the VF has reset: refused, and not clear to send */
		pf->nacks++;
		reply1(m, id | IGBVF_MSG_NACK);
		return;
	}
	switch (id) {
	case IGBVF_MSG_SET_MAC_ADDR: {
		uint8_t mac[6];
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)(msg[1 + i / 4] >> (8 * (i % 4)));
		if (pf->admin_mac && memcmp(mac, pf->mac, 6) != 0) {
			ok = false;
		} else {
			memcpy(pf->mac, mac, 6);
			pf->has_mac = true;
		}
		break;
	}
	case IGBVF_MSG_SET_MULTICAST: {
		unsigned n = (msg[0] & IGBVF_MSG_INFO_MASK) >> IGBVF_MSG_INFO_SHIFT;
		if (n > IGBVF_MAX_MC_HASHES)
			n = IGBVF_MAX_MC_HASHES;
		for (unsigned i = 0; i < n; i++)
			pf->mc[i] = (uint16_t)(msg[1 + i / 2] >> (16 * (i % 2)));
		pf->nb_mc = n;
		break;
	}
	case IGBVF_MSG_SET_LPE:
		pf->max_frame = msg[1];
		break;
	case IGBVF_MSG_SET_PROMISC:
		if (msg[0] & IGBVF_MSG_INFO_MASK & ~IGBVF_PROMISC_MULTICAST)
			ok = false; /* unicast promiscuity is not the VF's to have */
		else
			pf->allmulti = msg[0] & IGBVF_PROMISC_MULTICAST;
		break;
	default:
		ok = false;
	}
	if (!ok)
		pf->nacks++;
	reply1(m, (msg[0] & ~(IGBVF_MSG_ACK | IGBVF_MSG_NACK | IGBVF_MSG_CTS)) |
			  (ok ? IGBVF_MSG_ACK : IGBVF_MSG_NACK) | IGBVF_MSG_CTS);
}

bool igbvf_pf_step_locked(struct igbvf_model *m)
{
	struct igbvf_pf *pf = &m->pf;
	bool did = false;
	if (pf->dead || pf->resetting)
		return false;
	/* 1. A message from the VF: read it (the VF gave the buffer back with
	 *    REQ), acknowledge it (PFACK), work out the reply. First: the
	 *    buffer holds the VF's words until the PF writes its own. A control
	 *    message not yet delivered gives way to the reply (its news, link
	 *    or reset, is in VTSTATUS and V2PMailbox as well). */
	if (pf->req) {
		uint32_t msg[IGBVF_MBX_WORDS];
		for (unsigned i = 0; i < IGBVF_MBX_WORDS; i++)
			msg[i] = R(IGBVF_VMBMEM + 4 * i);
		pf->req = false;
		R(IGBVF_V2PMAILBOX) |= IGBVF_MBX_PFACK;
		igbvf_model_mbx_irq_locked(m);
		handle(m, msg);
		did = true;
	}
	/* 2. A reply or a control message: only while the VF does not hold the
	 *    buffer (PFU is not granted then); the PF tries again later. */
	if (pf->reply_pending && !(R(IGBVF_V2PMAILBOX) & IGBVF_MBX_VFU)) {
		R(IGBVF_V2PMAILBOX) |= IGBVF_MBX_PFU;
		for (unsigned i = 0; i < IGBVF_MBX_WORDS; i++)
			R(IGBVF_VMBMEM + 4 * i) = i < pf->reply_len ? pf->reply[i] : 0;
		R(IGBVF_V2PMAILBOX) = (R(IGBVF_V2PMAILBOX) & ~IGBVF_MBX_PFU) | IGBVF_MBX_PFSTS;
		pf->reply_pending = false;
		pf->replies++;
		igbvf_model_mbx_irq_locked(m);
		did = true;
	}
	return did;
}
