/* SPDX-License-Identifier: MIT
 * The 82576 PF's parts of the e1000 model (E1000_MODEL_82576, see
 * e1000_model.h): 16 rx and 16 tx rings with their registers at 0xC000 /
 * 0xE000 + 0x40 q, each running only while its RXDCTL/TXDCTL.ENABLE is set;
 * SRRCTL's buffer size and Drop_En (a frame for a ring with no free
 * descriptor is dropped into RQDPC, else missed into MPC); advanced receive
 * descriptors written back with the RSS type and hash; RSS (MRQC 010b with
 * RXCSUM.PCSD, RETA bits 3:0, RSSRK; hashed with bypass/rss.h) over the 16
 * rings, UDP types included; interrupts at the 82576's offsets (ICR/IMS at
 * 0x1500, EICR/EIMS/EIAC/EIAM, IVAR/IVAR_MISC, GPIE) with MSI-X: 25 vectors
 * (10 as QEMU's igb); the PHY's BMCR through MDIC; STATUS in IOV mode when
 * VFs are enabled. With E1000_MODEL_QEMU it also does what QEMU's igb does:
 * CTRL.RST takes the link down until auto-negotiation restarts (a real
 * 82576 keeps its PHY). Layouts are the datasheet's (cited in
 * drivers/net/igb/igb_regs.h); the behaviour is written here from the
 * datasheet, independently of the driver. */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <bypass/rss.h>
#include "../../drivers/net/igb/igb_regs.h"
#include "e1000_model.h"

#define R(off) E1000_MODEL_REG(m, off)
#define OTHER_RAISED (1u << 31) /* in msix_sent: ICR & IMS has raised the other vector */

_Static_assert(IGB_ICR == IGB_MODEL_ICR, "the model's ICR is the 82576's");

void igb_model_reset_locked(struct e1000_model *m)
{
	/* queue 0 runs after reset (8.10.11, 8.12.14), write-back threshold 1 */
	R(IGB_RXQ_REGS(0) + IGB_Q_XDCTL) = IGB_XDCTL_ENABLE | IGB_XDCTL_WTHRESH(1);
	R(IGB_TXQ_REGS(0) + IGB_Q_XDCTL) = IGB_XDCTL_ENABLE;
	if (m->numvfs)
		R(E1000_STATUS) |= IGB_STATUS_IOV_MODE | (uint32_t)m->numvfs << IGB_STATUS_NUM_VFS_SHIFT;
	if (m->qemu && m->running) { /* CTRL.RST, not power-on */
		m->an_pending = true;
		R(E1000_STATUS) &= ~E1000_STATUS_LU;
	}
	m->msix_sent = 0;
}

static bool rqdpc(uint32_t off)
{
	return off >= IGB_RQDPC(0) && off <= IGB_RQDPC(IGB_MAX_QUEUES - 1) && (off - IGB_RQDPC(0)) % 0x40 == 0;
}

static bool ring_index_reg(uint32_t off)
{
	if (off < IGB_RXQ_REGS(0) || off >= IGB_TXQ_REGS(IGB_MAX_QUEUES))
		return false;
	uint32_t in = (off - IGB_RXQ_REGS(0)) % 0x40;
	return in == E1000_RING_H || in == E1000_RING_T;
}

bool igb_model_read_locked(struct e1000_model *m, uint32_t off, uint32_t *v)
{
	switch (off) {
	case IGB_ICR:
		/* 8.8.7: a read clears ICR when GPIE.NSICR is set, outside MSI-X
		 * mode, or with no cause enabled */
		if ((R(IGB_GPIE) & IGB_GPIE_NSICR) || !(R(IGB_GPIE) & IGB_GPIE_MULTIPLE_MSIX) || !R(IGB_IMS))
			R(off) = 0;
		return true;
	case IGB_EICR: /* 8.8.1: clear on read */
		R(off) = 0;
		return true;
	case IGB_ICS:
	case IGB_IMC:
	case IGB_EICS:
	case IGB_EIMC:
		*v = 0; /* write-only */
		return true;
	}
	if (rqdpc(off)) { /* 8.19: clear on read */
		R(off) = 0;
		return true;
	}
	return false;
}

/* MDIC (8.2.4): the internal PHY at address 1; a write of its BMCR with
 * auto-negotiation enabled and restarted brings the link up at once here. */
static void mdic_write(struct e1000_model *m, uint32_t v)
{
	uint32_t phy = (v >> IGB_MDIC_PHY_SHIFT) & 0x1f, reg = (v >> IGB_MDIC_REG_SHIFT) & 0x1f;
	uint32_t data = v & IGB_MDIC_DATA_MASK;
	bool ok = phy == IGB_PHY_ADDR;
	if (ok && (v & IGB_MDIC_OP_WRITE) && reg == IGB_PHY_BMCR && (data & IGB_BMCR_AUTOEN) &&
	    (data & IGB_BMCR_ANRESTART)) {
		m->an_restarts++;
		m->an_pending = false;
		if (m->link_up && !(R(E1000_STATUS) & E1000_STATUS_LU)) {
			R(E1000_STATUS) |= E1000_STATUS_LU;
			R(IGB_ICR) |= E1000_ICR_LSC;
		}
	}
	R(IGB_MDIC) = (v & ~(IGB_MDIC_READY | IGB_MDIC_ERROR)) | IGB_MDIC_READY | (ok ? 0 : IGB_MDIC_ERROR);
}

bool igb_model_write_locked(struct e1000_model *m, uint32_t off, uint32_t v)
{
	switch (off) {
	case IGB_ICR:
	case IGB_EICR:
		R(off) &= ~v; /* write 1 to clear */
		return true;
	case IGB_ICS:
		R(IGB_ICR) |= v;
		return true;
	case IGB_EICS:
		R(IGB_EICR) |= v;
		return true;
	case IGB_IMS:
	case IGB_EIMS:
		R(off) |= v;
		return true;
	case IGB_IMC:
		R(IGB_IMS) &= ~v;
		return true;
	case IGB_EIMC:
		R(IGB_EIMS) &= ~v;
		return true;
	case IGB_MDIC:
		mdic_write(m, v);
		return true;
	}
	if (ring_index_reg(off)) {
		R(off) = v & 0xffff; /* 16-bit index registers */
		return true;
	}
	return rqdpc(off); /* read-only */
}

bool igb_model_queue_on(const struct e1000_model *m, bool rx, unsigned q)
{
	uint32_t b = rx ? IGB_RXQ_REGS(q) : IGB_TXQ_REGS(q);
	return m->reg[(b + IGB_Q_XDCTL) / 4] & IGB_XDCTL_ENABLE;
}

uint32_t igb_model_rx_buf(const struct e1000_model *m, unsigned q)
{
	uint32_t kb = m->reg[(IGB_RXQ_REGS(q) + IGB_Q_SRRCTL) / 4] & 0x7f;
	if (kb)
		return kb << IGB_SRRCTL_BSIZEPKT_SHIFT;
	/* BSIZEPACKET 0: RCTL.BSIZE decides, as on the 82540EM (8.10.2) */
	return 2048u >> ((m->reg[E1000_RCTL / 4] & E1000_RCTL_BSIZE_MASK) >> E1000_RCTL_BSIZE_SHIFT);
}

/* The datasheet's order (7.1.2.10): the TCP type where it applies and is
 * on, then UDP, then the IP type, else no hash. RSS runs with MRQC's
 * enable field 010b and RXCSUM.PCSD (without PCSD the descriptor has no room
 * for the hash: QEMU's igb then does no RSS at all, and neither does this). */
unsigned igb_model_rss(struct e1000_model *m, const struct model_frame *f, uint32_t *hash, uint32_t *type)
{
	uint32_t mrqc = R(IGB_MRQC);
	uint8_t key[IGB_RSS_KEY_LEN + 4] = { 0 };
	*hash = 0;
	*type = IGB_RSS_NONE;
	if ((mrqc & 7) != IGB_MRQC_RSS || !(R(IGB_RXCSUM) & IGB_RXCSUM_PCSD))
		return 0;
	for (unsigned i = 0; i < IGB_RSS_KEY_LEN; i++)
		key[i] = (uint8_t)(R(IGB_RSSRK + (i & ~3u)) >> (8 * (i & 3)));
	const struct {
		uint32_t mrqc, bp, type4, type6;
	} order[] = {
		{ IGB_MRQC_TCPIPV4, BP_ETH_RSS_IPV4_TCP, IGB_RSS_TCPIPV4, 0 },
		{ IGB_MRQC_TCPIPV6EX, BP_ETH_RSS_IPV6_TCP, 0, IGB_RSS_TCPIPV6EX },
		{ IGB_MRQC_UDPIPV4, BP_ETH_RSS_IPV4_UDP, IGB_RSS_UDPIPV4, 0 },
		{ IGB_MRQC_UDPIPV6 | IGB_MRQC_UDPIPV6EX, BP_ETH_RSS_IPV6_UDP, 0, IGB_RSS_UDPIPV6 },
		{ IGB_MRQC_IPV4, BP_ETH_RSS_IPV4, IGB_RSS_IPV4, 0 },
		{ IGB_MRQC_IPV6 | IGB_MRQC_IPV6EX, BP_ETH_RSS_IPV6, 0, IGB_RSS_IPV6 },
	};
	for (unsigned i = 0; i < BP_ARRAY_SIZE(order); i++)
		if ((mrqc & order[i].mrqc) && bp_rss_hash_frame(f->data, f->len, order[i].bp, key, hash)) {
			*type = order[i].type4 ? order[i].type4 : order[i].type6;
			uint32_t entry = R(IGB_RETA + (*hash & 0x7c)) >> (8 * (*hash & 3));
			return entry & IGB_RETA_QUEUE_MASK;
		}
	*hash = 0;
	return 0;
}

/* Advanced write-back (7.1.5): RSS type, hash, status and errors, length.
 * DD last, with release order, as the NIC's DMA writes the descriptor as a
 * whole before software can see DD. */
void igb_model_write_adv(void *desc, uint16_t len, bool last, bool crc_error, uint32_t hash, uint32_t type)
{
	uint32_t *dw = desc;
	dw[0] = last ? type : 0;
	dw[1] = last ? hash : 0;
	((uint16_t *)desc)[6] = len;
	((uint16_t *)desc)[7] = 0;
	uint32_t status = E1000_RXD_STAT_DD | (last ? E1000_RXD_STAT_EOP : 0) | (last && crc_error ? IGB_RXD_ERR_RXE : 0);
	__atomic_store_n(&dw[2], status, __ATOMIC_RELEASE);
}

void igb_model_queue_cause(struct e1000_model *m, bool rx, unsigned q)
{
	uint32_t e = (R(IGB_IVAR_REG(q)) >> (rx ? IGB_IVAR_RX_SHIFT(q) : IGB_IVAR_TX_SHIFT(q))) & 0xff;
	if ((R(IGB_GPIE) & IGB_GPIE_MULTIPLE_MSIX) && (e & IGB_IVAR_VALID))
		R(IGB_EICR) |= 1u << (e & 0x1f);
	R(IGB_ICR) |= rx ? E1000_ICR_RXT0 : E1000_ICR_TXDW; /* RXDW, TXDW (8.8.7) */
}

void igb_model_no_room(struct e1000_model *m, unsigned q)
{
	if (R(IGB_RXQ_REGS(q) + IGB_Q_SRRCTL) & IGB_SRRCTL_DROP_EN)
		R(IGB_RQDPC(q))++;
	else
		R(E1000_MPC)++;
	R(IGB_ICR) |= E1000_ICR_RXO;
}

/* 7.3 (MSI-X with GPIE.Multiple_MSIX): an ICR cause enabled in IMS sets the
 * EICR bit of IVAR_MISC's other vector once; a vector's cause enabled in
 * EIMS sends its message once; EIAC clears the cause as the message goes
 * out; with GPIE.EIAME the EIAM bits are masked in EIMS. */
void igb_model_irq_locked(struct e1000_model *m)
{
	if (!m->msix || !(R(IGB_GPIE) & IGB_GPIE_MULTIPLE_MSIX))
		return; /* the model offers MSI-X only, and the PMD always sets Multiple_MSIX */
	if (!(R(IGB_ICR) & R(IGB_IMS))) {
		m->msix_sent &= ~OTHER_RAISED;
	} else if (!(m->msix_sent & OTHER_RAISED)) {
		uint32_t e = (R(IGB_IVAR_MISC) >> IGB_IVAR_MISC_OTHER_SHIFT) & 0xff;
		m->msix_sent |= OTHER_RAISED;
		if (e & IGB_IVAR_VALID)
			R(IGB_EICR) |= 1u << (e & 0x1f);
	}
	uint32_t active = R(IGB_EICR) & R(IGB_EIMS) & ((1u << MODEL_MAX_VEC) - 1);
	m->msix_sent &= active | OTHER_RAISED;
	for (uint32_t fire = active & ~m->msix_sent; fire; fire &= fire - 1) {
		uint32_t cause = fire & -fire;
		unsigned v = (unsigned)__builtin_ctz(cause);
		if (v < m->nb_vec)
			e1000_model_msix_send(m, v);
		m->msix_sent |= cause;
		if (R(IGB_EIAC) & cause) {
			R(IGB_EICR) &= ~cause;
			m->msix_sent &= ~cause;
		}
		if (R(IGB_GPIE) & IGB_GPIE_EIAME)
			R(IGB_EIMS) &= ~(R(IGB_EIAM) & cause);
	}
}

/* As VFIO gives it: one vector per cause when the device has that many,
 * else one vector that every cause shares. */
int igb_model_msix_enable(struct e1000_model *m, uint16_t want, struct bp_intr_handle *h)
{
	unsigned n = want <= m->max_vec ? want : 1;
	*h = (struct bp_intr_handle){ .mode = BP_INTR_MSIX, .nb_vec = (uint16_t)n, .read_len = 8 };
	for (unsigned v = 0; v < n; v++) {
		if ((h->fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			int rc = -errno;
			while (v--)
				close(h->fd[v]);
			return rc;
		}
	}
	pthread_mutex_lock(&m->lock);
	memcpy(m->vec_fd, h->fd, n * sizeof(int));
	m->nb_vec = n;
	m->msix = true;
	m->msix_sent = 0;
	igb_model_irq_locked(m);
	pthread_mutex_unlock(&m->lock);
	return 0;
}
