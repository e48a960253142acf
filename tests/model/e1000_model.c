/* SPDX-License-Identifier: MIT
 * The 82540EM model: see e1000_model.h. Register and descriptor layouts are the
 * SDM's (drivers/net/e1000/e1000_regs.h cites the sections); the behaviour is
 * written here from the SDM, independently of the driver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <bypass/log.h>
#include "../../drivers/net/e1000e/e1000e_regs.h"
#include "e1000_model.h"

#define R(off) E1000_MODEL_REG(m, off)
#define STATS_FIRST 0x04000 /* clear-on-read statistics, SDM 13.7 */
#define STATS_LAST 0x040FC
#define MAX_LEGAL_FRAME 1522 /* without LPE: 1518 + one VLAN tag, SDM 13.4.22 */

/* Power-on or CTRL.RST: registers to their defaults (SDM 13.3 table 13-2:
 * zero for everything the driver uses), link as the wire has it, and the
 * receive address loaded from the EEPROM (SDM 5.6.1). */
static void reset_locked(struct e1000_model *m)
{
	memset(m->reg, 0, sizeof(m->reg));
	R(E1000_STATUS) = E1000_STATUS_FD | (2u << E1000_STATUS_SPEED_SHIFT) |
			  (m->link_up ? E1000_STATUS_LU : 0);
	if (!m->eeprom_dead) {
		R(E1000_RAL0) = m->eeprom[0] | (uint32_t)m->eeprom[1] << 16;
		R(E1000_RAH0) = m->eeprom[2] | E1000_RAH_AV;
	}
	if (m->i82574) /* both tx rings enabled, as QEMU's e1000e has them */
		R(E1000E_TARC(0)) = R(E1000E_TARC(1)) = E1000E_TARC_ENABLE;
	if (m->i82576)
		igb_model_reset_locked(m);
	m->resets++;
}

/* INTx is level-triggered: asserted while a cause is both set and enabled
 * (ICR & IMS, SDM 13.4.17-20); VFIO masks the line when it fires. */
static void update_irq_locked(struct e1000_model *m)
{
	if (m->i82576) {
		igb_model_irq_locked(m);
		return;
	}
	if (m->msix) {
		e1000e_model_msix_locked(m);
		return;
	}
	if (m->intr_on && !m->irq_masked && (R(E1000_ICR) & R(E1000_IMS))) {
		uint64_t one = 1;
		m->irq_masked = true;
		m->irqs++;
		if (write(m->irq_fd, &one, sizeof(one)) != sizeof(one))
			abort();
	}
}

static void kick_locked(struct e1000_model *m)
{
	m->work_seq++;
	m->is_quiet = false;
	pthread_cond_broadcast(&m->kick);
}

/* QEMU's e1000 keeps every statistic across reads; its e1000e only CRCERRS
 * to MPC and RLEC (plain reads in e1000e_core.c), the rest clear on read. */
static bool kept_by_qemu(const struct e1000_model *m, uint32_t off)
{
	return m->qemu && (!(m->i82574 || m->i82576) || off <= E1000_MPC || off == E1000_RLEC);
}

static uint32_t reg_read(void *ctx, uint32_t off)
{
	struct e1000_model *m = ctx;
	uint32_t v;
	pthread_mutex_lock(&m->lock);
	v = R(off);
	if (m->gone) {
		v = UINT32_MAX; /* nobody answers: a master abort reads all ones */
		m->late_accesses++;
	} else if (m->i82576 && igb_model_read_locked(m, off, &v))
		; /* the 82576's own */
	else if (off == E1000_ICR && m->i82574)
		R(off) = R(E1000_IMS) ? R(off) : 0; /* as QEMU's e1000e: see e1000_model.h */
	else if (off == E1000_ICR || (off >= STATS_FIRST && off <= STATS_LAST && !kept_by_qemu(m, off)))
		R(off) = 0; /* clear on read: SDM 13.4.17, 13.7 */
	else if (off == E1000_IMC || off == E1000_ICS)
		v = 0; /* write-only */
	pthread_mutex_unlock(&m->lock);
	return v;
}

static void reg_write(void *ctx, uint32_t off, uint32_t v)
{
	struct e1000_model *m = ctx;
	pthread_mutex_lock(&m->lock);
	if (m->gone) {
		m->late_accesses++;
		off = UINT32_MAX; /* lost: nobody is there */
	} else if (m->i82576 && igb_model_write_locked(m, off, v)) {
		off = UINT32_MAX; /* done: the switch below finds nothing */
	}
	switch (off) {
	case UINT32_MAX:
		break;
	case E1000_CTRL:
		if ((v & E1000_CTRL_RST) && !m->reset_seen) {
			m->reset_seen = true;
			m->command_at_reset = m->command;
		}
		if ((v & E1000_CTRL_RST) && (!m->qemu || m->i82576)) /* QEMU's igb resets */
			reset_locked(m); /* and RST reads back as 0: self-clearing */
		else
			R(off) = v & ~E1000_CTRL_RST;
		break;
	case E1000_STATUS:
		break; /* read-only */
	case E1000_EERD: {
		/* SDM 13.4.4: software sets START with the word address; the NIC
		 * answers with DONE and the data. The 82574L's fields sit
		 * elsewhere (datasheet 10.2.2, EERD). */
		bool late = m->i82574 || m->i82576; /* the 82576 has the 82574L's layout */
		uint32_t done = late ? E1000E_EERD_DONE : E1000_EERD_DONE;
		unsigned shift = late ? E1000E_EERD_ADDR_SHIFT : E1000_EERD_ADDR_SHIFT;
		if ((v & E1000_EERD_START) && !m->eeprom_dead) {
			uint32_t a = (v >> shift) & 0xff;
			uint16_t data = a < 64 ? m->eeprom[a] : 0xffff;
			R(off) = done | a << shift | (uint32_t)data << E1000_EERD_DATA_SHIFT;
		} else {
			R(off) = v & ~done;
		}
		break;
	}
	case E1000_ICR:
		R(off) &= ~v; /* write 1 to clear */
		break;
	case E1000_ICS:
		R(E1000_ICR) |= v;
		break;
	case E1000_IMS:
		R(off) |= v;
		break;
	case E1000_IMC:
		R(E1000_IMS) &= ~v;
		break;
	case E1000_RDH:
	case E1000_RDT:
	case E1000_TDH:
	case E1000_TDT:
	case E1000_RDH + E1000_QUEUE_STRIDE:
	case E1000_RDT + E1000_QUEUE_STRIDE:
	case E1000_TDH + E1000_QUEUE_STRIDE:
	case E1000_TDT + E1000_QUEUE_STRIDE:
		R(off) = v & 0xffff; /* 16-bit index registers, SDM 13.4.28 */
		break;
	default:
		if (off < E1000_MODEL_BAR_LEN && (off < STATS_FIRST || off > STATS_LAST))
			R(off) = v;
	}
	update_irq_locked(m);
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

static int intr_unmask(struct bp_intr_handle *h)
{
	struct e1000_model *m = h->ctx;
	pthread_mutex_lock(&m->lock);
	m->irq_masked = false;
	update_irq_locked(m); /* still pending: fires again */
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* The 82540EM as QEMU has it: INTx only, whatever is asked for; the 82574L
 * MSI-X. */
static int intr_enable(void *ctx, uint16_t want, struct bp_intr_handle *h)
{
	struct e1000_model *m = ctx;
	if (m->i82576)
		return igb_model_msix_enable(m, want, h);
	if (m->i82574)
		return e1000e_model_msix_enable(m, want, h);
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&m->lock);
	m->irq_fd = fd;
	m->intr_on = true;
	m->irq_masked = false;
	*h = (struct bp_intr_handle){ .mode = BP_INTR_INTX, .nb_vec = 1, .read_len = 8, .unmask = intr_unmask,
				       .ctx = m };
	h->fd[0] = fd;
	update_irq_locked(m);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static void intr_disable(void *ctx, struct bp_intr_handle *h)
{
	struct e1000_model *m = ctx;
	(void)h;
	if (m->i82574 || m->i82576) {
		e1000e_model_msix_disable(m);
		return;
	}
	pthread_mutex_lock(&m->lock);
	m->intr_on = false;
	close(m->irq_fd);
	m->irq_fd = -1;
	pthread_mutex_unlock(&m->lock);
}

/* Config space, a type 0 header (PCI 3.0 §6.1): ids and class 020000
 * (Ethernet); the command register (offset 4) keeps what is written, other
 * writes change nothing. */
static int cfg_access(void *ctx, uint32_t off, void *buf, uint32_t len, bool write)
{
	struct e1000_model *m = ctx;
	uint8_t cfg[64] = { 0x86, 0x80, 0x0e, 0x10, [11] = 0x02 };
	if (m->i82574)
		cfg[2] = 0xd3;
	if (m->i82576)
		cfg[2] = 0xc9;
	if (off + len > sizeof(cfg))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (write && off == 4 && len == 2)
		memcpy(&m->command, buf, 2);
	memcpy(cfg + 4, &m->command, 2);
	pthread_mutex_unlock(&m->lock);
	if (!write)
		memcpy(buf, cfg + off, len);
	return 0;
}

static uint32_t ring_len(const struct e1000_model *m, uint32_t len_reg)
{
	return m->reg[len_reg / 4] / (uint32_t)sizeof(struct e1000_rx_desc);
}

/* The rings: one on the 82540EM, two on the 82574L (their registers at
 * + 0x100, datasheet 10.2.5, 10.2.6), 16 on the 82576 (igb_regs.h) */
static unsigned nb_rings(const struct e1000_model *m) { return m->i82576 ? MODEL_MAX_RINGS : m->i82574 ? 2 : 1; }

uint32_t model_rx_block(const struct e1000_model *m, unsigned q)
{
	return m->i82576 ? 0x0C000u + 0x40u * q : E1000_RDBAL + E1000_QUEUE_STRIDE * q;
}

uint32_t model_tx_block(const struct e1000_model *m, unsigned q)
{
	return m->i82576 ? 0x0E000u + 0x40u * q : E1000_TDBAL + E1000_QUEUE_STRIDE * q;
}

static uint64_t ring_base(const struct e1000_model *m, uint32_t lo)
{
	return m->reg[lo / 4] | (uint64_t)m->reg[lo / 4 + 1] << 32;
}

/* Transmit, SDM 3.3: fetch descriptors from TDH while TDH != TDT, gather the
 * buffers of a frame until EOP, send it, write DD back where RS asks. */
struct tx_state {
	uint8_t frame[MODEL_FRAME_MAX];
	uint32_t len;
	bool overflow;
};

static bool tx_step(struct e1000_model *m, struct tx_state *t, struct frame_queue *sent, unsigned q)
{
	const uint32_t b = model_tx_block(m, q); /* ring q's registers */
	uint32_t n = ring_len(m, b + E1000_RING_LEN);
	unsigned budget = m->budget ? m->budget : UINT32_MAX;
	bool progress = false;
	if (!(R(E1000_TCTL) & E1000_TCTL_EN) || !m->link_up || !n)
		return false;
	if (m->i82574 && !(R(E1000E_TARC(q)) & E1000E_TARC_ENABLE))
		return false;
	if (m->i82576 && !igb_model_queue_on(m, false, q))
		return false;
	while (R(b + E1000_RING_H) != R(b + E1000_RING_T) && budget--) {
		uint32_t h = R(b + E1000_RING_H) % n;
		/* the advanced data descriptor (82576) keeps length, EOP, RS and
		 * DD where the legacy one has them */
		struct e1000_tx_desc *d = model_dma(ring_base(m, b) + h * sizeof(*d), sizeof(*d));
		if (!d) {
			m->dma_faults++;
			return progress; /* a real NIC would hang here: stop */
		}
		uint64_t addr = d->addr;
		uint16_t len = d->length;
		uint8_t cmd = d->cmd;
		if (len) {
			const void *buf = model_dma(addr, len);
			if (!buf)
				m->dma_faults++;
			else if (t->len + len > sizeof(t->frame))
				t->overflow = true;
			else
				memcpy(t->frame + t->len, buf, len);
			t->len += len;
		}
		if (cmd & E1000_TXD_CMD_RS) {
			__atomic_store_n(&d->status, (uint8_t)(d->status | E1000_TXD_STAT_DD), __ATOMIC_RELEASE);
			if (m->i82576)
				igb_model_queue_cause(m, false, q);
			else
				R(E1000_ICR) |= m->msix ? E1000E_ICR_TXQ0 << q : E1000_ICR_TXDW;
		}
		if (cmd & E1000_TXD_CMD_EOP) {
			if (t->overflow || t->len < 14) {
				m->bad_tx_desc++;
			} else {
				uint32_t wire = t->len;
				if (wire < 60 && (R(E1000_TCTL) & E1000_TCTL_PSP)) {
					memset(t->frame + wire, 0, 60 - wire); /* pad short packets */
					wire = 60;
				}
				fq_push(sent, t->frame, wire);
				m->tx_frames++;
				m->tx_queue_frames[q]++;
				R(E1000_GPTC)++;
			}
			t->len = 0;
			t->overflow = false;
		}
		R(b + E1000_RING_H) = (h + 1) % n;
		progress = true;
	}
	if (!m->i82576 && R(b + E1000_RING_H) == R(b + E1000_RING_T))
		R(E1000_ICR) |= E1000_ICR_TXQE;
	return progress;
}

static uint32_t rx_buf_size(const struct e1000_model *m)
{
	/* SDM 13.4.22: BSIZE 00/01/10/11 = 2048/1024/512/256, x16 with BSEX */
	uint32_t bs = 2048u >> ((R(E1000_RCTL) & E1000_RCTL_BSIZE_MASK) >> E1000_RCTL_BSIZE_SHIFT);
	if ((R(E1000_RCTL) & E1000_RCTL_BSEX) && bs != 2048)
		bs *= 16;
	return bs;
}

/* Receive, SDM 3.2: a frame takes descriptors from RDH while RDH != RDT, on
 * the ring RSS chooses (ring 0 without it). */
static void rx_frame(struct e1000_model *m, const struct model_frame *f)
{
	uint32_t hash, type;
	unsigned q = m->i82576 ? igb_model_rss(m, f, &hash, &type) : e1000e_model_rss(m, f, &hash, &type);
	const uint32_t b = model_rx_block(m, q);
	bool ext = e1000e_model_extended(m);
	if (m->i82576 && !igb_model_queue_on(m, true, q)) {
		m->lost_rx_off++;
		return;
	}
	uint32_t n = ring_len(m, b + E1000_RING_LEN), bs = m->i82576 ? igb_model_rx_buf(m, q) : rx_buf_size(m);
	uint32_t need = (f->len + bs - 1) / bs;
	uint32_t owned = n ? (R(b + E1000_RING_T) + n - R(b + E1000_RING_H)) % n : 0;
	if (owned < need) {
		if (m->i82576) {
			igb_model_no_room(m, q);
		} else {
			R(E1000_MPC)++; /* no room: missed, SDM 13.7.4 */
			R(E1000_ICR) |= E1000_ICR_RXO;
		}
		return;
	}
	bool crc = m->bad_crc_next > 0;
	if (crc)
		m->bad_crc_next--;
	for (uint32_t off = 0; off < f->len; off += bs) {
		uint32_t h = R(b + E1000_RING_H) % n, chunk = BP_MIN(bs, f->len - off);
		struct e1000_rx_desc *d = model_dma(ring_base(m, b) + h * sizeof(*d), sizeof(*d));
		void *buf = d ? model_dma(d->addr, chunk) : NULL;
		if (!d || !buf) {
			m->dma_faults++;
			break;
		}
		memcpy(buf, f->data + off, chunk);
		bool last = off + chunk >= f->len;
		if (m->i82576) {
			igb_model_write_adv(d, (uint16_t)chunk, last, crc, hash, type);
		} else if (ext) {
			e1000e_model_write_ext(d, (uint16_t)chunk, last, crc, hash, type);
		} else {
			d->length = (uint16_t)chunk;
			d->csum = 0;
			d->special = 0;
			d->errors = last && crc ? E1000_RXD_ERR_CE : 0;
			__atomic_store_n(&d->status, (uint8_t)(E1000_RXD_STAT_DD | (last ? E1000_RXD_STAT_EOP : 0)),
					 __ATOMIC_RELEASE);
		}
		R(b + E1000_RING_H) = (h + 1) % n;
	}
	if (crc)
		R(E1000_CRCERRS)++;
	else
		R(E1000_GPRC)++;
	m->rx_frames++;
	m->rx_queue_frames[q]++;
	if (m->i82576) {
		igb_model_queue_cause(m, true, q);
		return;
	}
	R(E1000_ICR) |= m->msix ? E1000E_ICR_RXQ(q) : E1000_ICR_RXT0;
	owned -= need;
	/* RDMTS 00: half the ring, SDM 13.4.22 */
	if (owned < n / 2)
		R(E1000_ICR) |= E1000_ICR_RXDMT0;
}

static bool rx_step(struct e1000_model *m)
{
	unsigned budget = m->budget ? m->budget : UINT32_MAX;
	bool progress = false;
	struct model_frame *f;
	while (budget && (f = fq_pop(&m->in))) {
		progress = true;
		if (m->drop_next) {
			m->drop_next--;
			m->lost_on_wire++;
		} else if (!m->link_up) {
			m->lost_link_down++;
		} else if (!(R(E1000_RCTL) & E1000_RCTL_EN)) {
			m->lost_rx_off++;
		} else if (f->len > MAX_LEGAL_FRAME && !(R(E1000_RCTL) & E1000_RCTL_LPE) && !m->deliver_oversize) {
			R(E1000_ROC)++;
		} else if (m->bad_crc_next && !(R(E1000_RCTL) & E1000_RCTL_SBP)) {
			/* without "store bad packets" the NIC drops it, SDM 13.4.22 */
			m->bad_crc_next--;
			R(E1000_CRCERRS)++;
		} else {
			rx_frame(m, f);
		}
		free(f);
		budget--;
	}
	return progress;
}

static void *model_main(void *arg)
{
	struct e1000_model *m = arg;
	struct tx_state *tx = calloc(MODEL_MAX_RINGS, sizeof(*tx)); /* the frame each ring is gathering */
	struct frame_queue sent;
	if (!tx)
		abort();
	fq_init(&sent);
	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		uint64_t seq = m->work_seq;
		bool progress = false;
		for (struct model_frame *f; m->gone && (f = fq_pop(&m->in)); free(f))
			m->lost_gone++; /* the wire leads nowhere */
		if (!m->paused && !m->gone) {
			for (unsigned q = 0; q < nb_rings(m); q++)
				progress |= tx_step(m, &tx[q], &sent, q);
			progress |= rx_step(m);
			update_irq_locked(m);
		}
		struct e1000_model *peer = m->peer;
		unsigned step_us = m->step_us;
		if (!progress) {
			m->is_quiet = true;
			pthread_cond_broadcast(&m->quiet);
			while (!m->stop && m->work_seq == seq && fq_count(&m->in) == 0) {
				model_cond_wait_ms(&m->kick, &m->lock, 2);
			}
			continue;
		}
		m->is_quiet = false;
		pthread_mutex_unlock(&m->lock);
		/* Send what went out, with no lock of ours held. */
		for (struct model_frame *f; (f = fq_pop(&sent)); free(f)) {
			if (peer)
				e1000_model_inject(peer, f->data, f->len);
			else
				fq_push(&m->out, f->data, f->len);
		}
		if (step_us)
			usleep(step_us);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	fq_clear(&sent);
	free(tx);
	return NULL;
}

/* ---- hot-unplug: see e1000_model.h ---- */

static void request_set(void *ctx, int fd)
{
	struct e1000_model *m = ctx;
	pthread_mutex_lock(&m->lock);
	m->req_fd = fd;
	pthread_mutex_unlock(&m->lock);
}

static void release(void *ctx)
{
	struct e1000_model *m = ctx;
	pthread_mutex_lock(&m->lock);
	m->gone = true;
	m->intr_on = false; /* the kernel turns the device off when we let go */
	kick_locked(m);
	pthread_cond_broadcast(&m->quiet);
	pthread_mutex_unlock(&m->lock);
}

bool e1000_model_unplug(struct e1000_model *m)
{
	pthread_mutex_lock(&m->lock);
	bool ok = model_eventfd_signal(m->req_fd);
	if (ok)
		m->requests++;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

bool e1000_model_wait_gone(struct e1000_model *m, unsigned timeout_ms)
{
	return model_wait_flag(&m->lock, &m->quiet, &m->gone, timeout_ms);
}

struct e1000_model *e1000_model_attach(const char *addr, const struct bp_ether_addr *mac,
				       unsigned flags)
{
	struct e1000_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->kick, NULL);
	pthread_cond_init(&m->quiet, NULL);
	fq_init(&m->in);
	fq_init(&m->out);
	snprintf(m->addr, sizeof(m->addr), "%s", addr);
	/* EEPROM words 0-2: the Ethernet address, SDM 5.6.1 */
	for (int i = 0; i < 3; i++)
		m->eeprom[i] = (uint16_t)(mac->b[2 * i] | mac->b[2 * i + 1] << 8);
	m->link_up = true;
	m->eeprom_dead = flags & E1000_MODEL_EEPROM_DEAD;
	m->qemu = flags & E1000_MODEL_QEMU;
	m->i82574 = flags & E1000_MODEL_82574;
	m->i82576 = flags & E1000_MODEL_82576;
	m->numvfs = flags & E1000_MODEL_VFS_STATUS ? 2 : 0;
	m->max_vec = m->qemu ? 10 : MODEL_MAX_VEC; /* the 82576: QEMU's igb has 10 */
	reset_locked(m);
	m->resets = 0;
	model_bar_register(m->reg, sizeof(m->reg), reg_read, reg_write, m);
	m->running = pthread_create(&m->thread, NULL, model_main, m) == 0;
	m->irq_fd = -1;
	m->req_fd = -1;
	m->pci = (struct bp_pci_model){ .id = { 0x8086, m->i82576 ? 0x10c9 : m->i82574 ? 0x10d3 : 0x100e },
					.cfg = cfg_access, .intr_enable = intr_enable, .intr_disable = intr_disable,
					.request_set = request_set, .release = release, .ctx = m };
	if (m->i82576) {
		/* QEMU's igb: 1af4:1100; an Intel Gigabit ET Dual Port adapter: 8086:a02c */
		m->pci.sub_vendor = m->qemu ? 0x1af4 : 0x8086;
		m->pci.sub_device = m->qemu ? 0x1100 : 0xa02c;
		m->pci.sriov_numvfs = flags & E1000_MODEL_VFS_SYSFS ? 2 : 0;
	} else if (m->i82574) {
		/* QEMU's e1000e: 8086:0000; an Intel Gigabit CT Desktop Adapter: 8086:a01f */
		m->pci.sub_vendor = 0x8086;
		m->pci.sub_device = m->qemu ? 0x0000 : 0xa01f;
	} else if (m->qemu) {
		m->pci.sub_vendor = 0x1af4;
		m->pci.sub_device = 0x1100;
	} else {
		m->pci.sub_vendor = 0x8086;
		m->pci.sub_device = 0x001e;
	}
	m->pci.bar[0] = (struct bp_pci_bar){ m->reg, sizeof(m->reg) };
	if (!m->running || bp_pci_model_attach(addr, &m->pci) < 0) {
		e1000_model_free(m);
		return NULL;
	}
	return m;
}

void e1000_model_free(struct e1000_model *m)
{
	if (!m)
		return;
	if (m->running) {
		pthread_mutex_lock(&m->lock);
		m->stop = true;
		pthread_cond_broadcast(&m->kick);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	model_bar_unregister(m->reg);
	fq_clear(&m->in);
	fq_clear(&m->out);
	free(m);
}

void e1000_model_connect(struct e1000_model *a, struct e1000_model *b)
{
	E1000_MODEL_SET(a, peer, b);
	E1000_MODEL_SET(b, peer, a);
}

void e1000_model_inject(struct e1000_model *m, const void *frame, uint32_t len)
{
	fq_push(&m->in, frame, len);
	pthread_mutex_lock(&m->lock);
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

bool e1000_model_wait_quiet(struct e1000_model *m, unsigned timeout_ms)
{
	pthread_mutex_lock(&m->lock);
	bool ok = model_wait_quiet_locked(&m->lock, &m->quiet, &m->is_quiet, &m->paused, &m->in, timeout_ms);
	pthread_mutex_unlock(&m->lock);
	return ok;
}

void e1000_model_pause(struct e1000_model *m, bool paused) { E1000_MODEL_SET(m, paused, paused); }

void e1000_model_set_link(struct e1000_model *m, bool up)
{
	pthread_mutex_lock(&m->lock);
	m->link_up = up;
	if (up)
		R(E1000_STATUS) |= E1000_STATUS_LU;
	else
		R(E1000_STATUS) &= ~E1000_STATUS_LU;
	R(E1000_ICR) |= E1000_ICR_LSC; /* SDM 13.4.17 */
	update_irq_locked(m);
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

void e1000_model_set_speed(struct e1000_model *m, unsigned budget, unsigned step_us)
{
	pthread_mutex_lock(&m->lock);
	m->budget = budget;
	m->step_us = step_us;
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

int e1000_model_reattach(struct e1000_model *m) { return bp_pci_model_attach(m->addr, &m->pci); }

void e1000_model_poke(struct e1000_model *m, uint32_t off, uint32_t v)
{
	pthread_mutex_lock(&m->lock);
	R(off) = v;
	kick_locked(m);
	pthread_mutex_unlock(&m->lock);
}

uint32_t e1000_model_reg(struct e1000_model *m, uint32_t off)
{
	pthread_mutex_lock(&m->lock);
	uint32_t v = R(off);
	pthread_mutex_unlock(&m->lock);
	return v;
}
