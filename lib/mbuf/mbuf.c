/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <errno.h>
#include <bypass/mbuf.h>
#include <bypass/log.h>

/* arg is the layout while the pool is created; a debug pool runs this at every
 * get, with arg NULL, when the layout is in the pool's private area. */
static void mbuf_init(struct bp_mempool *mp, void *arg, void *obj, uint32_t idx)
{
	const struct bp_pktmbuf_pool_priv *l = arg ? arg : bp_mempool_get_priv(mp);
	struct bp_mbuf *m = obj;
	(void)idx;

	memset(m, 0, sizeof(*m));
	m->pool = mp;
	m->priv_size = l->priv_size;
	m->buf_len = l->data_room;
	m->buf_addr = (char *)m + sizeof(*m) + l->priv_size;
	m->buf_iova = bp_mempool_virt2iova(mp, m->buf_addr);
	m->rearm = bp__mbuf_rearm_value(m);
	m->next = NULL;
}

struct bp_mempool *bp_pktmbuf_pool_create(const char *name, uint32_t n, uint32_t cache_size,
					  uint16_t priv_size, uint16_t data_room)
{
	struct bp_pktmbuf_pool_priv l = { .data_room = data_room,
					  .priv_size = BP_ALIGN_UP(priv_size, (uint16_t)8) };
	uint32_t elt = (uint32_t)sizeof(struct bp_mbuf) + l.priv_size + data_room;
	struct bp_mempool *mp;

	if (data_room < BP_PKTMBUF_HEADROOM) {
		BP_LOG(ERR, "mbuf pool %s: data room %u is smaller than the %u-byte headroom", name,
		       data_room, BP_PKTMBUF_HEADROOM);
		errno = EINVAL;
		return NULL;
	}
	mp = bp_mempool_create(name, n, elt, cache_size, sizeof(struct bp_pktmbuf_pool_priv),
			       mbuf_init, &l);
	if (!mp)
		return NULL;
	struct bp_pktmbuf_pool_priv *priv = bp_mempool_get_priv(mp);
	priv->data_room = data_room;
	priv->priv_size = l.priv_size;
	return mp;
}

/* Returns freed segments to their pools, a run of the same pool at a time. */
struct free_batch {
	void *objs[64];
	struct bp_mempool *pool;
	uint32_t n;
};

static inline void batch_add(struct free_batch *b, struct bp_mbuf *seg)
{
	struct bp_mbuf *f = bp__pktmbuf_prefree_seg(seg);
	if (!f)
		return;
	if (bp_unlikely(f->pool != b->pool || b->n == BP_ARRAY_SIZE(b->objs))) {
		if (b->n)
			bp_mempool_put_bulk(b->pool, b->objs, b->n);
		b->pool = f->pool;
		b->n = 0;
	}
	b->objs[b->n++] = f;
}

void bp_pktmbuf_free_bulk(struct bp_mbuf **mbufs, uint32_t n)
{
	struct free_batch b = { .n = 0 };
	for (uint32_t i = 0; i < n; i++)
		for (struct bp_mbuf *m = mbufs[i], *next; m; m = next) {
			next = m->next;
			batch_add(&b, m);
		}
	if (b.n)
		bp_mempool_put_bulk(b.pool, b.objs, b.n);
}

void bp_pktmbuf_free_seg_bulk(struct bp_mbuf **segs, uint32_t n)
{
	struct free_batch b = { .n = 0 };
	for (uint32_t i = 0; i < n; i++)
		batch_add(&b, segs[i]);
	if (b.n)
		bp_mempool_put_bulk(b.pool, b.objs, b.n);
}

int bp_pktmbuf_read(const struct bp_mbuf *m, uint32_t off, uint32_t len, void *dst)
{
	char *out = dst;
	if ((uint64_t)off + len > m->pkt_len)
		return -EINVAL;
	for (; m && len; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		uint32_t chunk = BP_MIN(len, (uint32_t)m->data_len - off);
		memcpy(out, (const char *)m->buf_addr + m->data_off + off, chunk);
		out += chunk;
		len -= chunk;
		off = 0;
	}
	return len ? -EINVAL : 0;
}

struct bp_mbuf *bp_pktmbuf_copy_from(struct bp_mempool *mp, const void *data, uint32_t len, uint16_t port)
{
	const uint64_t rearm = bp_pktmbuf_rx_rearm(mp, port);
	const uint32_t room = bp_pktmbuf_data_room(mp) - BP_PKTMBUF_HEADROOM; /* pools have the headroom */
	const uint32_t nseg = len <= room ? 1 : room ? (len + room - 1) / room : UINT32_MAX;
	struct bp_mbuf *segs[BP_PKTMBUF_COPY_MAX_SEGS];
	if (nseg > BP_ARRAY_SIZE(segs)) {
		errno = EMSGSIZE;
		return NULL;
	}
	if (bp_mempool_get_bulk(mp, (void **)segs, nseg) < 0) {
		errno = ENOBUFS;
		return NULL;
	}
	const char *src = data;
	for (uint32_t i = 0; i < nseg; i++) {
		struct bp_mbuf *m = segs[i];
		uint32_t chunk = BP_MIN(room, len - i * room);
		m->rearm = rearm;
		m->ol_flags = 0;
		m->vlan_tci = 0;
		m->packet_type = 0;
		m->data_len = (uint16_t)chunk;
		m->pkt_len = chunk;
		m->next = i + 1 < nseg ? segs[i + 1] : NULL;
		memcpy(bp_pktmbuf_mtod(m, char *), src + (size_t)i * room, chunk);
	}
	segs[0]->nb_segs = (uint16_t)nseg;
	segs[0]->pkt_len = len;
	return segs[0];
}

const char *bp_mbuf_check(const struct bp_mbuf *m, bool is_header)
{
	if (!m)
		return "mbuf is NULL";
	if (!m->pool || !bp_mempool_owns(m->pool, m))
		return "mbuf is not an object of its pool";
	if (m->buf_addr != (const char *)m + sizeof(*m) + m->priv_size)
		return "buffer address does not follow the header";
	if (bp_mbuf_refcnt_read(m) == 0)
		return "reference count is 0 (freed mbuf in use?)";
	if ((uint32_t)m->data_off + m->data_len > m->buf_len)
		return "data runs past the end of the buffer";
	if (!is_header)
		return NULL;
	uint32_t segs = 0, bytes = 0;
	for (const struct bp_mbuf *s = m; s; s = s->next) {
		if (++segs > m->nb_segs)
			return "more segments than nb_segs";
		bytes += s->data_len;
	}
	if (segs != m->nb_segs)
		return "fewer segments than nb_segs";
	if (bytes != m->pkt_len)
		return "pkt_len is not the sum of the segment lengths";
	return NULL;
}
