/* SPDX-License-Identifier: MIT
 * Packet buffers.
 *
 * An mbuf is a 128-byte header followed by its data buffer, both inside one
 * mempool object. Everything rx and tx touch is in the first cache line.
 * Invariant of a free mbuf (in its pool): refcnt 1, nb_segs 1, next NULL, so that
 * allocation writes one 8-byte word (`rearm`) and the lengths.
 */
#ifndef BYPASS_MBUF_H
#define BYPASS_MBUF_H

#include <bypass/common.h>
#include <bypass/mempool.h>

#define BP_PKTMBUF_HEADROOM 128
#define BP_MBUF_DEFAULT_DATAROOM 2048
#define BP_MBUF_DEFAULT_BUF_SIZE (BP_MBUF_DEFAULT_DATAROOM + BP_PKTMBUF_HEADROOM)
#define BP_MBUF_PORT_INVALID UINT16_MAX

/* ol_flags */
#define BP_MBUF_F_RX_IP_CKSUM_BAD (1ull << 4)
#define BP_MBUF_F_RX_L4_CKSUM_BAD (1ull << 3)
#define BP_MBUF_F_RX_VLAN (1ull << 0)
#define BP_MBUF_F_RX_RSS_HASH (1ull << 1) /* hash holds the port's RSS hash */

struct bp_mbuf {
	void *buf_addr;     /* start of the buffer (headroom included) */
	bp_iova_t buf_iova; /* device address of buf_addr */
	union {
		uint64_t rearm; /* the four fields below, written at once on alloc */
		struct {
			uint16_t data_off; /* data starts at buf_addr + data_off */
			uint16_t refcnt;   /* atomic when shared */
			uint16_t nb_segs;  /* segments in this packet (first segment only) */
			uint16_t port;     /* input port */
		};
	};
	uint64_t ol_flags;
	uint32_t pkt_len;  /* bytes in the whole packet (first segment only) */
	uint16_t data_len; /* bytes in this segment */
	uint16_t vlan_tci;
	uint32_t hash; /* RSS hash, with BP_MBUF_F_RX_RSS_HASH */
	uint32_t packet_type;
	struct bp_mempool *pool;
	struct bp_mbuf *next; /* next segment */

	/* second cache line: rarely touched */
	uint16_t buf_len;   /* bytes in the buffer, headroom included */
	uint16_t priv_size; /* application area between header and buffer */
	uint32_t seqn;
	uint64_t timestamp;
	uint64_t udata64;
} BP_CACHE_ALIGNED;

_Static_assert(sizeof(struct bp_mbuf) == 2 * BP_CACHE_LINE, "mbuf header is two lines");
_Static_assert(offsetof(struct bp_mbuf, next) < BP_CACHE_LINE, "hot fields in line 0");

/* Stored in the mempool's private area. */
struct bp_pktmbuf_pool_priv {
	uint16_t data_room; /* buffer bytes per mbuf, headroom included */
	uint16_t priv_size;
};

#define bp_pktmbuf_mtod_offset(m, t, off) ((t)((char *)(m)->buf_addr + (m)->data_off + (off)))
#define bp_pktmbuf_mtod(m, t) bp_pktmbuf_mtod_offset(m, t, 0)

/* Creates a pool of n packet buffers of data_room bytes (headroom included);
 * cache_size per lcore, priv_size bytes of application area per mbuf. */
struct bp_mempool *bp_pktmbuf_pool_create(const char *name, uint32_t n, uint32_t cache_size,
					  uint16_t priv_size, uint16_t data_room);

static inline uint16_t bp_pktmbuf_data_room(const struct bp_mempool *mp)
{
	return ((const struct bp_pktmbuf_pool_priv *)(mp + 1))->data_room;
}
static inline bp_iova_t bp_mbuf_data_iova(const struct bp_mbuf *m)
{
	return m->buf_iova + m->data_off;
}
static inline uint16_t bp_pktmbuf_headroom(const struct bp_mbuf *m) { return m->data_off; }
static inline uint16_t bp_pktmbuf_tailroom(const struct bp_mbuf *m)
{
	return (uint16_t)(m->buf_len - m->data_off - m->data_len);
}
static inline struct bp_mbuf *bp_pktmbuf_lastseg(struct bp_mbuf *m)
{
	while (m->next)
		m = m->next;
	return m;
}

/* The rearm word of a fresh mbuf: data at data_off, refcnt 1, one segment,
 * input port. Built through the same layout as the mbuf, so it holds on any
 * byte order. */
static inline uint64_t bp_mbuf_rearm_word(uint16_t data_off, uint16_t port)
{
	union {
		uint64_t word;
		struct {
			uint16_t data_off, refcnt, nb_segs, port;
		};
	} u = { .data_off = data_off, .refcnt = 1, .nb_segs = 1, .port = port };
	return u.word;
}

/* What a receive queue writes into each mbuf it hands out: the pool's headroom
 * and the port. Drivers compute it once per queue; one store per packet then
 * makes a fresh mbuf. */
static inline uint64_t bp_pktmbuf_rx_rearm(const struct bp_mempool *mp, uint16_t port)
{
	return bp_mbuf_rearm_word(BP_MIN((uint16_t)BP_PKTMBUF_HEADROOM, bp_pktmbuf_data_room(mp)), port);
}

static inline uint64_t bp__mbuf_rearm_value(const struct bp_mbuf *m)
{
	return bp_mbuf_rearm_word(BP_MIN((uint16_t)BP_PKTMBUF_HEADROOM, m->buf_len), BP_MBUF_PORT_INVALID);
}

static inline void bp_pktmbuf_reset(struct bp_mbuf *m)
{
	m->rearm = bp__mbuf_rearm_value(m);
	m->next = NULL;
	m->ol_flags = 0;
	m->pkt_len = 0;
	m->data_len = 0;
	m->vlan_tci = 0;
	m->packet_type = 0;
}

static inline struct bp_mbuf *bp_pktmbuf_alloc(struct bp_mempool *mp)
{
	struct bp_mbuf *m;
	if (bp_mempool_get(mp, (void **)&m) < 0)
		return NULL;
	bp_pktmbuf_reset(m);
	return m;
}

/* n fresh mbufs or none (-ENOBUFS). */
static inline int bp_pktmbuf_alloc_bulk(struct bp_mempool *mp, struct bp_mbuf **mbufs,
					uint32_t n)
{
	if (bp_mempool_get_bulk(mp, (void **)mbufs, n) < 0)
		return -ENOBUFS;
	/* Every mbuf of a packet pool has the pool's data room: the rearm word
	 * comes from the pool, not from each mbuf's second cache line. */
	const uint64_t rearm = bp_mbuf_rearm_word(BP_MIN((uint16_t)BP_PKTMBUF_HEADROOM, bp_pktmbuf_data_room(mp)),
						  BP_MBUF_PORT_INVALID);
	for (uint32_t i = 0; i < n; i++) {
		struct bp_mbuf *m = mbufs[i];
		m->rearm = rearm;
		m->ol_flags = 0;
		m->pkt_len = 0;
		m->data_len = 0;
		m->vlan_tci = 0;
		m->packet_type = 0; /* next is NULL already: a free mbuf's invariant */
	}
	return 0;
}

static inline uint16_t bp_mbuf_refcnt_read(const struct bp_mbuf *m)
{
	return __atomic_load_n(&m->refcnt, __ATOMIC_RELAXED);
}
static inline uint16_t bp_mbuf_refcnt_update(struct bp_mbuf *m, int16_t v)
{
	/* The sole owner may change it without an atomic operation. */
	if (bp_likely(bp_mbuf_refcnt_read(m) == 1) && v > 0) {
		m->refcnt = (uint16_t)(1 + v);
		return m->refcnt;
	}
	return __atomic_add_fetch(&m->refcnt, v, __ATOMIC_ACQ_REL);
}

/* Drops one reference to segment m. Returns m if it is now free (restored to the
 * free-mbuf invariant, ready for its pool), NULL if others still hold it. */
static inline struct bp_mbuf *bp__pktmbuf_prefree_seg(struct bp_mbuf *m)
{
	if (bp_likely(bp_mbuf_refcnt_read(m) == 1)) {
		if (m->next) {
			m->next = NULL;
			m->nb_segs = 1;
		}
		return m;
	}
	if (__atomic_sub_fetch(&m->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return NULL;
	m->refcnt = 1;
	m->next = NULL;
	m->nb_segs = 1;
	return m;
}

static inline void bp_pktmbuf_free_seg(struct bp_mbuf *m)
{
	m = bp__pktmbuf_prefree_seg(m);
	if (m)
		bp_mempool_put(m->pool, m);
}

/* Frees every segment of the packet. NULL is allowed. */
static inline void bp_pktmbuf_free(struct bp_mbuf *m)
{
	while (m) {
		struct bp_mbuf *next = m->next;
		bp_pktmbuf_free_seg(m);
		m = next;
	}
}

/* Frees n packets, returning runs of mbufs from the same pool in one bulk put. */
void bp_pktmbuf_free_bulk(struct bp_mbuf **mbufs, uint32_t n);
/* Frees n single segments (their next links are not followed), e.g. the
 * segments a NIC has finished sending. */
void bp_pktmbuf_free_seg_bulk(struct bp_mbuf **segs, uint32_t n);

/* Appends len bytes at the end of the last segment; returns where they start, or
 * NULL if the tailroom is too small (nothing changed). */
static inline char *bp_pktmbuf_append(struct bp_mbuf *m, uint16_t len)
{
	struct bp_mbuf *last = bp_pktmbuf_lastseg(m);
	if (len > bp_pktmbuf_tailroom(last))
		return NULL;
	char *p = (char *)last->buf_addr + last->data_off + last->data_len;
	last->data_len = (uint16_t)(last->data_len + len);
	m->pkt_len += len;
	return p;
}
/* Moves the start of data back by len bytes; NULL if the headroom is too small. */
static inline char *bp_pktmbuf_prepend(struct bp_mbuf *m, uint16_t len)
{
	if (len > m->data_off)
		return NULL;
	m->data_off = (uint16_t)(m->data_off - len);
	m->data_len = (uint16_t)(m->data_len + len);
	m->pkt_len += len;
	return (char *)m->buf_addr + m->data_off;
}
/* Removes len bytes from the front of the first segment. */
static inline char *bp_pktmbuf_adj(struct bp_mbuf *m, uint16_t len)
{
	if (len > m->data_len)
		return NULL;
	m->data_off = (uint16_t)(m->data_off + len);
	m->data_len = (uint16_t)(m->data_len - len);
	m->pkt_len -= len;
	return (char *)m->buf_addr + m->data_off;
}
/* Removes len bytes from the end of the last segment; -EINVAL if it is shorter. */
static inline int bp_pktmbuf_trim(struct bp_mbuf *m, uint16_t len)
{
	struct bp_mbuf *last = bp_pktmbuf_lastseg(m);
	if (len > last->data_len)
		return -EINVAL;
	last->data_len = (uint16_t)(last->data_len - len);
	m->pkt_len -= len;
	return 0;
}
/* Appends packet tail to packet head; -EOVERFLOW if the segment count would
 * not fit in nb_segs. */
static inline int bp_pktmbuf_chain(struct bp_mbuf *head, struct bp_mbuf *tail)
{
	if ((uint32_t)head->nb_segs + tail->nb_segs > UINT16_MAX)
		return -EOVERFLOW;
	bp_pktmbuf_lastseg(head)->next = tail;
	head->nb_segs = (uint16_t)(head->nb_segs + tail->nb_segs);
	head->pkt_len += tail->pkt_len;
	tail->pkt_len = tail->data_len;
	tail->nb_segs = 1;
	return 0;
}
/* Most segments bp_pktmbuf_copy_from makes. */
#define BP_PKTMBUF_COPY_MAX_SEGS 64
/* len bytes at data copied into a fresh packet from mp: a chain of as many
 * segments as the pool's data room needs (after the headroom), input port
 * port (BP_MBUF_PORT_INVALID: none). NULL with errno ENOBUFS when the pool
 * has too few mbufs (none is taken), EMSGSIZE when len needs more than
 * BP_PKTMBUF_COPY_MAX_SEGS segments. */
struct bp_mbuf *bp_pktmbuf_copy_from(struct bp_mempool *mp, const void *data, uint32_t len, uint16_t port);
/* Copies len bytes from offset off of the packet (across segments) into dst.
 * Returns 0, or -EINVAL if the packet is shorter than off + len. */
int bp_pktmbuf_read(const struct bp_mbuf *m, uint32_t off, uint32_t len, void *dst);
/* Checks the mbuf's invariants; returns NULL or a description of what is wrong. */
const char *bp_mbuf_check(const struct bp_mbuf *m, bool is_header);

#endif
