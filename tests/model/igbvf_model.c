/* SPDX-License-Identifier: MIT
 * The 82576 VF model: see igbvf_model.h. Written from the datasheet's VF
 * register descriptions (drivers/net/igb/igbvf_regs.h names them),
 * independently of the driver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "igbvf_model.h"

#define R(off) IGBVF_MODEL_REG(m, off)

static void kick_locked(struct igbvf_model *m)
{
	m->work_seq++;
	m->is_quiet = false;
	pthread_cond_broadcast(&m->kick);
}

/* ---- MSI-X: cause bit v is vector v ---- */

/* Sends a message for each cause newly set and enabled (one per assertion);
 * VTEIAC clears the cause as it goes, VTEIAM masks it. */
static void msix_locked(struct igbvf_model *m)
{
	uint32_t due = R(IGBVF_EICR) & R(IGBVF_EIMS) & ~m->msix_sent;
	m->msix_sent &= R(IGBVF_EICR);
	if (!m->msix)
		return;
	for (unsigned v = 0; v < IGBVF_MSIX_VECTORS; v++) {
		if (!(due & (1u << v)))
			continue;
		uint64_t one = 1;
		if (v < m->nb_vec && write(m->vec_fd[v], &one, sizeof(one)) != sizeof(one))
			abort();
		m->vec_irqs[v]++;
		m->msix_sent |= 1u << v;
		if (R(IGBVF_EIAC) & (1u << v)) {
			R(IGBVF_EICR) &= ~(1u << v);
			m->msix_sent &= ~(1u << v);
		}
		if (R(IGBVF_EIAM) & (1u << v))
			R(IGBVF_EIMS) &= ~(1u << v);
	}
}

static void raise_locked(struct igbvf_model *m, uint32_t ivar_byte)
{
	if (!(ivar_byte & IGBVF_IVAR_VALID))
		return;
	R(IGBVF_EICR) |= 1u << (ivar_byte & 3);
	msix_locked(m);
}

void igbvf_model_mbx_irq_locked(struct igbvf_model *m)
{
	uint32_t ent = R(IGBVF_IVAR_MISC) & 0xff;
	if (m->mbx_irq_none)
		return;
	if (m->misc_as_mask) { /* QEMU 10: the vector field as a mask of vectors */
		if (ent & IGBVF_IVAR_VALID) {
			R(IGBVF_EICR) |= ent & 3;
			msix_locked(m);
		}
		return;
	}
	raise_locked(m, ent);
}

/* ---- registers ---- */

/* VTCTRL.RST: the VF's queues stop, its interrupt set-up is cleared, and the
 * PF hears of it. The mailbox and the statistics stay. */
static void vf_reset_locked(struct igbvf_model *m)
{
	for (unsigned q = 0; q < IGBVF_MAX_QUEUES; q++) {
		R(IGBVF_RXDCTL(q)) &= ~IGBVF_XDCTL_ENABLE;
		R(IGBVF_TXDCTL(q)) &= ~IGBVF_XDCTL_ENABLE;
	}
	R(IGBVF_EIMS) = R(IGBVF_EIAC) = R(IGBVF_EIAM) = R(IGBVF_EICR) = 0;
	R(IGBVF_IVAR0) = R(IGBVF_IVAR_MISC) = 0;
	m->msix_sent = 0;
	igbvf_pf_vflr_locked(m);
}

static uint32_t reg_read(void *ctx, uint32_t off)
{
	struct igbvf_model *m = ctx;
	uint32_t v;
	pthread_mutex_lock(&m->lock);
	if (m->gone) {
		m->late_accesses++;
		off = UINT32_MAX; /* nobody answers: a master abort reads all ones */
	}
	switch (off) {
	case UINT32_MAX:
		v = UINT32_MAX;
		break;
	case IGBVF_V2PMAILBOX:
		v = igbvf_pf_vf_read_locked(m);
		break;
	case IGBVF_STATUS: /* the port's: full duplex at 1 Gb/s, LU as the wire is */
		v = IGBVF_STATUS_FD | (2u << IGBVF_STATUS_SPEED_SHIFT) | (m->link_up ? IGBVF_STATUS_LU : 0);
		break;
	case IGBVF_EICS:
	case IGBVF_EIMC:
		v = 0; /* write-only */
		break;
	default:
		v = R(off);
	}
	pthread_mutex_unlock(&m->lock);
	return v;
}

static void reg_write(void *ctx, uint32_t off, uint32_t v)
{
	struct igbvf_model *m = ctx;
	pthread_mutex_lock(&m->lock);
	if (m->gone) {
		m->late_accesses++;
		off = UINT32_MAX; /* lost: nobody is there */
	}
	switch (off) {
	case UINT32_MAX:
		break;
	case IGBVF_CTRL:
		if (v & IGBVF_CTRL_RST)
			vf_reset_locked(m);
		R(off) = v & ~IGBVF_CTRL_RST; /* self-clearing */
		break;
	case IGBVF_STATUS:
		break; /* read-only to the VF */
	case IGBVF_V2PMAILBOX:
		igbvf_pf_vf_wrote_locked(m, v);
		break;
	case IGBVF_EICS:
		R(IGBVF_EICR) |= v & 7;
		msix_locked(m);
		break;
	case IGBVF_EIMS:
		R(IGBVF_EIMS) |= v & 7;
		msix_locked(m);
		break;
	case IGBVF_EIMC:
		R(IGBVF_EIMS) &= ~v;
		break;
	case IGBVF_EICR: /* write 1 to clear */
		R(IGBVF_EICR) &= ~v;
		m->msix_sent &= ~v;
		break;
	default:
		R(off) = v;
	}
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

/* ---- rings: advanced descriptors ---- */

static bool q_on(struct igbvf_model *m, uint32_t xdctl) { return R(xdctl) & IGBVF_XDCTL_ENABLE; }

static uint64_t ring_base(struct igbvf_model *m, uint32_t bal)
{
	return R(bal) | (uint64_t)R(bal + 4) << 32;
}

/* Counts a frame in a VF counter pair (packets, octets): 32 bits, wrapping. */
static void count(struct igbvf_model *m, uint32_t pkts, uint32_t octets, uint32_t len)
{
	R(pkts) += 1;
	R(octets) += len;
}

/* One arriving frame into rx queue q: a descriptor from RDH, or missed. */
static void rx_frame(struct igbvf_model *m, unsigned q, const struct model_frame *f)
{
	uint32_t nb = R(IGBVF_RDLEN(q)) / 16, h = R(IGBVF_RDH(q));
	if (!m->link_up) {
		m->lost_link_down++;
		return;
	}
	if (!q_on(m, IGBVF_RXDCTL(q)) || nb == 0 || h == R(IGBVF_RDT(q))) {
		m->rx_missed++; /* no descriptor the NIC may use */
		return;
	}
	uint32_t *d = model_dma(ring_base(m, IGBVF_RDBAL(q)) + 16ull * h, 16);
	uint32_t bsize = (R(IGBVF_SRRCTL(q)) & 0x7f) * 1024;
	void *buf = d ? model_dma(d[0] | (uint64_t)d[1] << 32, f->len) : NULL;
	if (!d || !buf || f->len > bsize) {
		m->dma_faults += !d || !buf;
		m->rx_missed++;
		return;
	}
	memcpy(buf, f->data, f->len);
	/* write-back (7.1.5): no RSS, status DD | EOP, the length */
	d[0] = d[1] = 0;
	d[3] = f->len;
	__atomic_store_n(&d[2], 3u, __ATOMIC_RELEASE);
	R(IGBVF_RDH(q)) = (h + 1) % nb;
	count(m, IGBVF_GPRC, IGBVF_GORC, f->len);
	if (f->data[0] & 1)
		R(IGBVF_MPRC) += 1;
	m->rx_frames++;
	raise_locked(m, (R(IGBVF_IVAR0) >> IGBVF_IVAR_RX_SHIFT(q)) & 0xff);
}

/* Tx queue q: every descriptor up to TDT, a frame sent at each EOP. */
static bool tx_step(struct igbvf_model *m, unsigned q, uint8_t *frame, uint32_t *len)
{
	uint32_t nb = R(IGBVF_TDLEN(q)) / 16;
	bool did = false;
	if (!q_on(m, IGBVF_TXDCTL(q)) || nb == 0 || !m->link_up)
		return false;
	while (R(IGBVF_TDH(q)) != R(IGBVF_TDT(q))) {
		uint32_t h = R(IGBVF_TDH(q));
		uint32_t *d = model_dma(ring_base(m, IGBVF_TDBAL(q)) + 16ull * h, 16);
		if (!d) {
			m->dma_faults++;
			return did;
		}
		uint32_t dlen = d[2] & 0xffff, cmd = d[2] >> 24;
		void *buf = model_dma(d[0] | (uint64_t)d[1] << 32, dlen);
		if (!buf || *len + dlen > MODEL_FRAME_MAX)
			m->dma_faults++;
		else
			memcpy(frame + *len, buf, dlen);
		*len += dlen;
		if (cmd & 0x01) { /* EOP */
			fq_push(&m->out, frame, *len);
			count(m, IGBVF_GPTC, IGBVF_GOTC, *len);
			m->tx_frames++;
			*len = 0;
		}
		if (cmd & 0x08) /* RS: DD back */
			__atomic_store_n(&d[3], d[3] | 1u, __ATOMIC_RELEASE);
		R(IGBVF_TDH(q)) = (h + 1) % nb;
		did = true;
	}
	return did;
}

static bool rx_step(struct igbvf_model *m)
{
	bool did = false;
	struct model_frame *f;
	while ((f = fq_pop(&m->in))) {
		rx_frame(m, m->rx_queue % IGBVF_MAX_QUEUES, f);
		free(f);
		did = true;
	}
	return did;
}

/* ---- the model's thread: the PF's driver and the NIC ---- */

static void *model_main(void *arg)
{
	struct igbvf_model *m = arg;
	static __thread uint8_t frame[IGBVF_MAX_QUEUES][MODEL_FRAME_MAX];
	uint32_t len[IGBVF_MAX_QUEUES] = { 0, 0 };
	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		uint64_t seq = m->work_seq;
		if (m->gone) {
			fq_clear(&m->in); /* the wire leads nowhere */
			m->is_quiet = true;
			pthread_cond_broadcast(&m->quiet);
			while (!m->stop && m->work_seq == seq)
				model_cond_wait_ms(&m->kick, &m->lock, 2);
			continue;
		}
		bool did = igbvf_pf_step_locked(m);
		if (!m->paused) {
			for (unsigned q = 0; q < IGBVF_MAX_QUEUES; q++)
				did |= tx_step(m, q, frame[q], &len[q]);
			did |= rx_step(m);
		}
		if (did)
			continue;
		m->is_quiet = true;
		pthread_cond_broadcast(&m->quiet);
		while (!m->stop && m->work_seq == seq) {
			model_cond_wait_ms(&m->kick, &m->lock, 2);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* ---- interrupts: MSI-X only (a VF has no INTx pin) ---- */

static int intr_enable(void *ctx, uint16_t want, struct bp_intr_handle *h)
{
	struct igbvf_model *m = ctx;
	unsigned most = m->one_vector ? 1 : IGBVF_MSIX_VECTORS;
	unsigned n = want < most ? want : most;
	int rc = model_msix_handle_open(h, n);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&m->lock);
	memcpy(m->vec_fd, h->fd, n * sizeof(int));
	m->nb_vec = n;
	m->msix = true;
	m->msix_sent = 0;
	msix_locked(m);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static void intr_disable(void *ctx, struct bp_intr_handle *h)
{
	struct igbvf_model *m = ctx;
	(void)h;
	pthread_mutex_lock(&m->lock);
	for (unsigned v = 0; v < m->nb_vec; v++)
		close(m->vec_fd[v]);
	m->nb_vec = 0;
	m->msix = false;
	pthread_mutex_unlock(&m->lock);
}

/* Config space, a type 0 header (PCI 3.0 §6.1): 8086:10ca, class 020000,
 * Interrupt Pin 0 (a VF has no INTx, PCIe SR-IOV 1.1 §3.5). */
static int cfg_access(void *ctx, uint32_t off, void *buf, uint32_t len, bool write)
{
	(void)ctx;
	uint8_t cfg[64] = { 0x86, 0x80, 0xca, 0x10, [11] = 0x02, [0x3d] = 0 };
	if (off + len > sizeof(cfg))
		return -EINVAL;
	if (!write)
		memcpy(buf, cfg + off, len);
	return 0;
}

/* ---- hot-unplug: see igbvf_model.h ---- */

static void request_set(void *ctx, int fd)
{
	struct igbvf_model *m = ctx;
	pthread_mutex_lock(&m->lock);
	m->req_fd = fd;
	pthread_mutex_unlock(&m->lock);
}

static void release(void *ctx)
{
	struct igbvf_model *m = ctx;
	pthread_mutex_lock(&m->lock);
	m->gone = true;
	m->msix = false; /* the kernel turns the device off when we let go */
	kick_locked(m);
	pthread_cond_broadcast(&m->quiet);
	pthread_mutex_unlock(&m->lock);
}

bool igbvf_model_unplug(struct igbvf_model *m)
{
	pthread_mutex_lock(&m->lock);
	bool ok = model_eventfd_signal(m->req_fd);
	pthread_mutex_unlock(&m->lock);
	return ok;
}

bool igbvf_model_wait_gone(struct igbvf_model *m, unsigned timeout_ms)
{
	return model_wait_flag(&m->lock, &m->quiet, &m->gone, timeout_ms);
}

struct igbvf_model *igbvf_model_new(const char *addr, const uint8_t *mac, bool admin_mac, bool attach)
{
	struct igbvf_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->kick, NULL);
	pthread_cond_init(&m->quiet, NULL);
	fq_init(&m->in);
	fq_init(&m->out);
	snprintf(m->addr, sizeof(m->addr), "%s", addr);
	m->link_up = true;
	if (mac) {
		memcpy(m->pf.mac, mac, 6);
		m->pf.has_mac = true;
		m->pf.admin_mac = admin_mac;
	}
	/* The PF's driver finished its reset long ago (it set PFRSTD, and the
	 * VF's driver of before took the RSTD). */
	model_bar_register(m->reg, sizeof(m->reg), reg_read, reg_write, m);
	if (pthread_create(&m->thread, NULL, model_main, m) != 0) {
		model_bar_unregister(m->reg);
		free(m);
		return NULL;
	}
	m->pci = (struct bp_pci_model){ .id = { 0x8086, 0x10ca }, .sub_vendor = 0x8086, .sub_device = 0x0000,
					.cfg = cfg_access, .intr_enable = intr_enable, .intr_disable = intr_disable,
					.request_set = request_set, .release = release, .ctx = m };
	m->req_fd = -1;
	m->pci.bar[0] = (struct bp_pci_bar){ m->reg, sizeof(m->reg) };
	if (attach && bp_pci_model_attach(addr, &m->pci) < 0) {
		igbvf_model_free(m);
		return NULL;
	}
	return m;
}

void igbvf_model_free(struct igbvf_model *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_broadcast(&m->kick);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	model_bar_unregister(m->reg);
	fq_clear(&m->in);
	fq_clear(&m->out);
	free(m);
}

void igbvf_model_inject(struct igbvf_model *m, const void *frame, uint32_t len)
{
	fq_push(&m->in, frame, len);
	pthread_mutex_lock(&m->lock);
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

bool igbvf_model_wait_quiet(struct igbvf_model *m, unsigned timeout_ms)
{
	pthread_mutex_lock(&m->lock);
	bool ok = model_wait_quiet_locked(&m->lock, &m->quiet, &m->is_quiet, &m->paused, &m->in, timeout_ms);
	pthread_mutex_unlock(&m->lock);
	return ok;
}

void igbvf_model_pause(struct igbvf_model *m, bool paused)
{
	pthread_mutex_lock(&m->lock);
	m->paused = paused;
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

void igbvf_model_pf_dead(struct igbvf_model *m, bool dead)
{
	pthread_mutex_lock(&m->lock);
	m->pf.dead = dead;
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

/* A PF reset clears every queue register, the VF's among them (they are the
 * PF's queues), and takes the link down until it is up again. */
void igbvf_model_pf_reset(struct igbvf_model *m)
{
	pthread_mutex_lock(&m->lock);
	m->pf.resetting = true;
	m->pf.cts = false;
	m->pf.req = m->pf.reply_pending = false;
	m->link_up = false;
	R(IGBVF_V2PMAILBOX) |= IGBVF_MBX_RSTI;
	igbvf_model_mbx_irq_locked(m); /* the PF's driver tells its VFs the link went */
	for (unsigned q = 0; q < IGBVF_MAX_QUEUES; q++)
		for (uint32_t r = 0; r < 0x40; r += 4) {
			R(IGBVF_RDBAL(q) + r) = 0;
			R(IGBVF_TDBAL(q) + r) = 0;
		}
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

void igbvf_model_pf_reset_done(struct igbvf_model *m)
{
	pthread_mutex_lock(&m->lock);
	m->pf.resetting = false;
	m->link_up = true;
	R(IGBVF_V2PMAILBOX) = (R(IGBVF_V2PMAILBOX) & ~IGBVF_MBX_RSTI) | IGBVF_MBX_RSTD;
	/* and it tells its VFs, not clear to send: they must reset */
	m->pf.reply[0] = IGBVF_MSG_PF_CONTROL;
	m->pf.reply_len = 1;
	m->pf.reply_pending = true;
	igbvf_model_mbx_irq_locked(m);
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

void igbvf_model_set_link(struct igbvf_model *m, bool up)
{
	pthread_mutex_lock(&m->lock);
	m->link_up = up;
	m->pf.reply[0] = IGBVF_MSG_PF_CONTROL | (m->pf.cts ? IGBVF_MSG_CTS : 0);
	m->pf.reply_len = 1;
	m->pf.reply_pending = true;
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

uint32_t igbvf_model_reg(struct igbvf_model *m, uint32_t off)
{
	pthread_mutex_lock(&m->lock);
	uint32_t v = R(off);
	pthread_mutex_unlock(&m->lock);
	return v;
}

void igbvf_model_poke(struct igbvf_model *m, uint32_t off, uint32_t v)
{
	pthread_mutex_lock(&m->lock);
	R(off) = v;
	pthread_mutex_unlock(&m->lock);
}
