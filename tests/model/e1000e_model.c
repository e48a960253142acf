/* SPDX-License-Identifier: MIT
 * The 82574L's parts of the e1000 model (see e1000_model.h): RSS, extended
 * receive descriptors, MSI-X. Layouts are the datasheet's (cited in
 * drivers/net/e1000e/e1000e_regs.h); the behaviour is written here from the
 * datasheet, and from QEMU's e1000e where the model follows that device. */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <bypass/rss.h>
#include "../../drivers/net/e1000e/e1000e_regs.h"
#include "e1000_model.h"

#define R(off) E1000_MODEL_REG(m, off)

/* RSS type codes of the extended write-back's MRQ field */
enum { RSS_NONE, RSS_TCPIPV4, RSS_IPV4, RSS_TCPIPV6EX, RSS_IPV6EX, RSS_IPV6 };

bool e1000e_model_extended(const struct e1000_model *m)
{
	return m->i82574 && (m->reg[E1000E_RFCTL / 4] & E1000E_RFCTL_EXSTEN);
}

static bool ipv6(const struct model_frame *f)
{
	uint32_t off = 12;
	if (f->len >= 16 && f->data[12] == 0x81 && f->data[13] == 0x00)
		off = 16;
	return f->len >= off + 2 && f->data[off] == 0x86 && f->data[off + 1] == 0xdd;
}

/* The datasheet's order: the TCP type where it applies and is on, else the
 * IP type (IPv6Ex before IPv6, alike for frames without extension headers),
 * else no hash. RSS runs only with MRQE = 01b, RXCSUM.PCSD and extended
 * descriptors (as in QEMU's e1000e_rss_enabled). */
unsigned e1000e_model_rss(struct e1000_model *m, const struct model_frame *f, uint32_t *hash, uint32_t *type)
{
	uint32_t mrqc = R(E1000E_MRQC);
	uint8_t key[E1000E_RSS_KEY_LEN];
	*hash = 0;
	*type = RSS_NONE;
	if (!e1000e_model_extended(m) || (mrqc & 3) != E1000E_MRQC_RSS || !(R(E1000E_RXCSUM) & E1000E_RXCSUM_PCSD))
		return 0;
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(R(E1000E_RSSRK + (i & ~3u)) >> (8 * (i & 3)));
	uint32_t tcp = (mrqc & E1000E_MRQC_TCPIPV4 ? BP_ETH_RSS_IPV4_TCP : 0) |
		       (mrqc & E1000E_MRQC_TCPIPV6EX ? BP_ETH_RSS_IPV6_TCP : 0);
	uint32_t ip = (mrqc & E1000E_MRQC_IPV4 ? BP_ETH_RSS_IPV4 : 0) |
		      (mrqc & (E1000E_MRQC_IPV6 | E1000E_MRQC_IPV6EX) ? BP_ETH_RSS_IPV6 : 0);
	bool v6 = ipv6(f);
	if (tcp && bp_rss_hash_frame(f->data, f->len, tcp, key, hash))
		*type = v6 ? RSS_TCPIPV6EX : RSS_TCPIPV4;
	else if (ip && bp_rss_hash_frame(f->data, f->len, ip, key, hash))
		*type = !v6 ? RSS_IPV4 : (mrqc & E1000E_MRQC_IPV6EX) ? RSS_IPV6EX : RSS_IPV6;
	else
		return 0;
	uint32_t entry = R(E1000E_RETA + (*hash & 0x7c)) >> (8 * (*hash & 3));
	return (entry >> E1000E_RETA_QUEUE_SHIFT) & 1;
}

/* Extended write-back (datasheet 7.1): MRQ, RSS hash, status and errors,
 * length and VLAN tag. DD last, with release order, as the NIC's DMA
 * writes the descriptor as a whole before software can see DD. */
void e1000e_model_write_ext(void *desc, uint16_t len, bool last, bool crc_error, uint32_t hash, uint32_t type)
{
	uint32_t *dw = desc;
	dw[0] = last ? type : 0;
	dw[1] = last ? hash : 0;
	((uint16_t *)desc)[6] = len;
	((uint16_t *)desc)[7] = 0;
	uint32_t status = E1000_RXD_STAT_DD | (last ? E1000_RXD_STAT_EOP : 0) |
			  (last && crc_error ? (uint32_t)E1000_RXD_ERR_CE << 24 : 0);
	__atomic_store_n(&dw[2], status, __ATOMIC_RELEASE);
}

/* The vector IVAR gives a cause (entry valid, vector in range), or -1. */
static int vector_of(struct e1000_model *m, uint32_t cause)
{
	unsigned shift = cause == E1000E_ICR_OTHER ? E1000E_IVAR_OTHER_SHIFT
						    : 4u * (unsigned)(__builtin_ctz(cause) - 20);
	uint32_t e = (R(E1000E_IVAR) >> shift) & 0xf;
	return (e & E1000E_IVAR_VALID) && (e & 7) < m->nb_vec ? (int)(e & 7) : -1;
}

/* Datasheet 7.4 (MSI-X): the causes without a queue of their own (here link
 * and overrun) raise OTHER; a cause enabled in IMS sends its vector's message once; EIAC
 * clears it in ICR as the message goes out, and with CTRL_EXT.EIAME the IAM
 * causes are masked in IMS. */
void e1000e_model_msix_locked(struct e1000_model *m)
{
	if (R(E1000_ICR) & (E1000_ICR_LSC | E1000_ICR_RXO))
		R(E1000_ICR) |= E1000E_ICR_OTHER;
	uint32_t active = R(E1000_ICR) & R(E1000_IMS) & (E1000E_ICR_QUEUES | E1000E_ICR_OTHER);
	m->msix_sent &= active;
	for (uint32_t fire = active & ~m->msix_sent; fire; fire &= fire - 1) {
		uint32_t cause = fire & -fire;
		int v = vector_of(m, cause);
		if (v >= 0)
			e1000_model_msix_send(m, (unsigned)v);
		m->msix_sent |= cause;
		if (R(E1000E_EIAC) & cause) {
			R(E1000_ICR) &= ~cause;
			m->msix_sent &= ~cause;
		}
		if (R(E1000_CTRL_EXT) & E1000E_CTRL_EXT_EIAME)
			R(E1000_IMS) &= ~(R(E1000E_IAM) & cause);
	}
}

void e1000_model_msix_send(struct e1000_model *m, unsigned v)
{
	uint64_t one = 1;
	m->vec_irqs[v]++;
	if (write(m->vec_fd[v], &one, sizeof(one)) != sizeof(one))
		abort();
}

int e1000_model_msix_open(struct e1000_model *m, unsigned n, struct bp_intr_handle *h,
			  void (*update_locked)(struct e1000_model *m))
{
	int rc = model_msix_handle_open(h, n);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&m->lock);
	memcpy(m->vec_fd, h->fd, n * sizeof(int));
	m->nb_vec = n;
	m->msix = true;
	m->msix_sent = 0;
	update_locked(m);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int e1000e_model_msix_enable(struct e1000_model *m, uint16_t want, struct bp_intr_handle *h)
{
	return e1000_model_msix_open(m, want < E1000E_MSIX_VECTORS ? want : E1000E_MSIX_VECTORS, h,
				     e1000e_model_msix_locked);
}

void e1000e_model_msix_disable(struct e1000_model *m)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned v = 0; v < m->nb_vec; v++)
		close(m->vec_fd[v]);
	m->nb_vec = 0;
	m->msix = false;
	pthread_mutex_unlock(&m->lock);
}
