/* SPDX-License-Identifier: MIT
 * The virtio-net data path over packed virtqueues (virtio 1.2 §2.8).
 *
 * One ring of descriptors, written by both sides: we make a descriptor
 * available by writing it and then its flags (AVAIL = our wrap counter, USED
 * = its inverse); the device marks buffers used by writing a descriptor, in
 * the order it uses them, at its own position in the ring, with the buffer's
 * id and both flag bits equal to its wrap counter (§2.8.1-§2.8.6). Each side
 * reads the other's writes in ring order: no separate available and used
 * rings, so a packet costs one or two descriptors of traffic.
 *
 * Indices are kept free-running in 16 bits; a position is idx & mask and its
 * wrap counter (idx >> log2(nb)) & 1, inverted, since the counters start at
 * 1 (§2.8.1) and 65536 is a whole even number of laps of any ring size.
 *
 * rx: a used descriptor hands out the buffer of its id; at the next burst a
 *     fresh buffer takes that id and goes into the next slot to offer, which
 *     trails the used position by the buffers waiting (at most one burst).
 * tx: as on the split ring, a lone frame is one descriptor with its net
 *     header in its headroom (DPDK's vhost backend takes such descriptors
 *     four at a time); any other is the queue's one zero header, then the
 *     frame. With IN_ORDER a buffer's id is its first slot and one used
 *     descriptor may stand for a whole batch (§2.8.8 "In-order use of
 *     descriptors"): everything up to its id is done. Without it, ids come
 *     from a free stack.
 * A burst (tx) or a refill (rx) is one batch: every descriptor is written,
 * then the batch's first flags, with release order (§2.8.21.1 "Placing
 * Available Buffers Into The Descriptor Ring": the first descriptor's flags
 * are written last). The device processes descriptors in ring order, so it
 * never sees a chain half written, and a device polling the slot we write
 * next sees the batch whole: it pulls that line from us once per batch, not
 * once per descriptor.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "virtio.h"

static inline unsigned shift_of(const struct virtqueue *vq) { return (unsigned)__builtin_ctz((unsigned)vq->nb); }
static inline bool wrap_of(const struct virtqueue *vq, uint16_t idx) { return !((idx >> shift_of(vq)) & 1); }
/* The flags that make a descriptor available in the lap of idx. */
static inline uint16_t avail_bits(const struct virtqueue *vq, uint16_t idx)
{
	return wrap_of(vq, idx) ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED;
}
/* Has the device marked the descriptor at idx used (in idx's lap)? */
static inline bool is_used(const struct virtqueue *vq, uint16_t idx, uint16_t flags)
{
	bool w = wrap_of(vq, idx);
	return !!(flags & VRING_PACKED_DESC_F_AVAIL) == w && !!(flags & VRING_PACKED_DESC_F_USED) == w;
}
static inline uint16_t load_flags(const struct virtqueue *vq, uint16_t idx)
{
	return __atomic_load_n(&vq->pdesc[idx & vq->mask].flags, __ATOMIC_ACQUIRE);
}

static size_t event_off(uint16_t nb)
{
	return BP_ALIGN_UP((size_t)nb * sizeof(struct vring_packed_desc), (size_t)BP_CACHE_LINE);
}

size_t vq_packed_ring_size(uint16_t nb, bool is_tx, size_t align)
{
	(void)align; /* packed rings have no legacy layout */
	/* descriptors; our event area; the device's, a line of its own; the
	 * tx header */
	return event_off(nb) + 2 * BP_CACHE_LINE + (is_tx ? BP_CACHE_LINE : 0);
}

/* Kicks the device if it asked to hear of descriptors up to avail_idx. */
static inline void publish(struct virtqueue *vq)
{
	uint16_t new_idx = vq->avail_idx, old = vq->kicked;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* our flags before its wish */
	uint32_t ev = __atomic_load_n((const uint32_t *)vq->device_event, __ATOMIC_RELAXED);
	uint16_t flags = (uint16_t)(ev >> 16), off_wrap = (uint16_t)ev;
	bool kick = flags == VRING_PACKED_EVENT_ENABLE;
	if (flags == VRING_PACKED_EVENT_DESC) {
		/* the event's index, free-running in the lap of new_idx */
		uint16_t e = (uint16_t)((new_idx & ~vq->mask) | (off_wrap & 0x7fff));
		if (!!(off_wrap >> 15) != wrap_of(vq, new_idx))
			e = (uint16_t)(e - vq->nb);
		kick = vring_need_event(e, new_idx, old);
	}
	vq->kicked = new_idx;
	if (bp_unlikely(kick))
		vq_notify(vq);
}

/* Makes descriptor d available with flags, unless it is a batch's first:
 * then the flags wait in *first_flags until the batch is written. The
 * others are plain stores: the release store of the first orders them. */
static inline void batch_flags(struct vring_packed_desc *d, uint16_t flags, bool is_first, uint16_t *first_flags)
{
	if (is_first)
		*first_flags = flags;
	else
		__atomic_store_n(&d->flags, flags, __ATOMIC_RELAXED);
}

/* The rx descriptor at the next slot to offer, for buffer id in m; its
 * flags are the caller's. */
static inline struct vring_packed_desc *fill_rx(struct virtqueue *vq, uint16_t id, const struct bp_mbuf *m)
{
	struct vring_packed_desc *d = &vq->pdesc[vq->avail_idx & vq->mask];
	d->addr = bp_mbuf_data_iova(m) - vq->hdr_len;
	d->len = vq->rx_buf_len;
	d->id = id;
	return d;
}

static inline void offer_rx(struct virtqueue *vq, uint16_t id, const struct bp_mbuf *m)
{
	struct vring_packed_desc *d = fill_rx(vq, id, m);
	__atomic_store_n(&d->flags, (uint16_t)(VRING_DESC_F_WRITE | avail_bits(vq, vq->avail_idx)), __ATOMIC_RELEASE);
	vq->avail_idx++;
}

/* offer_rx within a refill: the refill's first slot (vq->batch_first) keeps
 * its flags back until the refill is written (refill_rx). */
static inline void offer_rx_batch(struct virtqueue *vq, uint16_t id, const struct bp_mbuf *m)
{
	struct vring_packed_desc *d = fill_rx(vq, id, m);
	batch_flags(d, (uint16_t)(VRING_DESC_F_WRITE | avail_bits(vq, vq->avail_idx)), vq->avail_idx == vq->batch_first,
		    &vq->batch_flags);
	vq->avail_idx++;
}

/* Refills what the last burst emptied, visible to the device all at once. */
static inline void refill_rx(struct virtqueue *vq)
{
	uint16_t first = vq->batch_first = vq->avail_idx;
	vq_rx_refill(vq, offer_rx_batch);
	if (vq->avail_idx != first)
		__atomic_store_n(&vq->pdesc[first & vq->mask].flags, vq->batch_flags, __ATOMIC_RELEASE);
}

uint16_t virtio_rx_packed(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct virtqueue *vq = qp;
	uint16_t cons = vq->used_cons, ready = 0, got = 0, offered = vq->avail_idx;
	uint64_t bytes = 0;

	if (vq->nb_empty)
		refill_rx(vq);
	n = BP_MIN(n, (uint16_t)VIRTIO_MAX_BURST);
	while (ready < n && is_used(vq, (uint16_t)(cons + ready), load_flags(vq, (uint16_t)(cons + ready))))
		ready++;
	for (uint16_t i = 0; i < ready; i++) {
		const struct vring_packed_desc *d = &vq->pdesc[(uint16_t)(cons + i) & vq->mask];
		uint16_t id = d->id;
		if (bp_unlikely(id > vq->mask)) {
			vq->st.errors++; /* a device bug: its slot stays empty */
			continue;
		}
		/* read before an offer may write this very slot */
		if (bp_unlikely(!vq_rx_out(vq, id, d->len, pkts, &got, &bytes)))
			offer_rx(vq, id, vq->rx_sw[id]);
	}
	vq->used_cons = (uint16_t)(cons + ready);
	if (vq->avail_idx != offered)
		publish(vq);
	vq->st.packets += got;
	vq->st.bytes += bytes;
	return got;
}

uint32_t virtio_rx_queue_count_packed(void *qp)
{
	struct virtqueue *vq = qp;
	uint32_t n = 0;
	while (n < vq->nb && is_used(vq, (uint16_t)(vq->used_cons + n), load_flags(vq, (uint16_t)(vq->used_cons + n))))
		n++;
	return n;
}

bool vq_intr_enable_packed(struct virtqueue *vq)
{
	vq->armed = true;
	__atomic_store_n(&vq->driver_event->flags, VRING_PACKED_EVENT_ENABLE, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return is_used(vq, vq->used_cons, load_flags(vq, vq->used_cons));
}

void vq_intr_disable_packed(struct virtqueue *vq)
{
	vq->armed = false;
	__atomic_store_n(&vq->driver_event->flags, VRING_PACKED_EVENT_DISABLE, __ATOMIC_RELAXED);
}

/* ---- tx ---- */

static void tx_reclaim(struct virtqueue *vq)
{
	struct bp_mbuf *done[VIRTIO_MAX_BURST];
	uint16_t cons = vq->used_cons, ndone = 0;

	while (is_used(vq, cons, load_flags(vq, cons))) {
		uint16_t id = vq->pdesc[cons & vq->mask].id;
		if (bp_unlikely(id > vq->mask))
			break; /* a device bug: stop here rather than free what is not done */
		uint16_t b;
		do { /* in order: every buffer up to id; else id alone */
			b = vq->in_order ? (uint16_t)(cons & vq->mask) : id;
			struct vq_tx_slot *s = &vq->tx_sw[b];
			cons = (uint16_t)(cons + s->ndesc);
			vq->nb_free = (uint16_t)(vq->nb_free + s->ndesc);
			if (ndone == VIRTIO_MAX_BURST) {
				bp_pktmbuf_free_bulk(done, ndone);
				ndone = 0;
			}
			done[ndone++] = s->m;
			s->m = NULL;
			if (!vq->in_order)
				vq->free_ids[vq->next_desc++] = id;
		} while (b != id);
	}
	if (ndone)
		bp_pktmbuf_free_bulk(done, ndone);
	vq->used_cons = cons;
}

uint16_t virtio_tx_packed(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct virtqueue *vq = qp;
	struct vring_packed_desc *const ring = vq->pdesc;
	const uint16_t mask = vq->mask, first = vq->avail_idx;
	uint16_t sent, refused = 0, idx = first, first_flags = 0;
	uint64_t bytes = 0;

	if (vq->nb_free < VIRTIO_TX_FREE_THRESH || vq->nb_free < n || n == 0)
		tx_reclaim(vq);
	/* one batch: the first descriptor's flags wait in first_flags */
	for (sent = 0; sent < n; sent++) {
		struct bp_mbuf *m = pkts[sent];
		if (bp_likely(vq->nb_free) && vq_tx_push_hdr(vq, m)) {
			/* one descriptor: header and frame */
			uint16_t id = vq->in_order ? (uint16_t)(idx & mask) : vq->free_ids[--vq->next_desc];
			struct vring_packed_desc *d = &ring[idx & mask];
			d->addr = bp_mbuf_data_iova(m) - 12;
			d->len = 12u + m->data_len;
			d->id = id;
			batch_flags(d, avail_bits(vq, idx), idx == first, &first_flags);
			idx++;
			vq->tx_sw[id].m = m;
			vq->tx_sw[id].ndesc = 1;
			vq->nb_free--;
			bytes += m->pkt_len;
			continue;
		}
		uint16_t ndesc = (uint16_t)(m->nb_segs + 1);
		if (bp_unlikely(ndesc > vq->nb_free)) {
			if (ndesc <= vq->nb)
				break;
			bp_pktmbuf_free(m);
			refused++;
			continue;
		}
		/* a chain: its head's flags after the rest (§2.8.21.1); inside
		 * a burst the burst's first flags already hold it back */
		uint16_t head = idx, id = vq->in_order ? (uint16_t)(head & mask) : vq->free_ids[--vq->next_desc];
		idx++;
		for (struct bp_mbuf *seg = m; seg; seg = seg->next, idx++) {
			struct vring_packed_desc *d = &ring[idx & mask];
			d->addr = bp_mbuf_data_iova(seg);
			d->len = seg->data_len;
			d->id = id;
			__atomic_store_n(&d->flags, (uint16_t)((seg->next ? VRING_DESC_F_NEXT : 0) | avail_bits(vq, idx)),
					 __ATOMIC_RELAXED); /* never a batch's first: the head is before it */
		}
		struct vring_packed_desc *h = &ring[head & mask];
		h->addr = vq->hdr_iova;
		h->len = vq->hdr_len;
		h->id = id;
		batch_flags(h, (uint16_t)(VRING_DESC_F_NEXT | avail_bits(vq, head)), head == first, &first_flags);
		vq->tx_sw[id].m = m;
		vq->tx_sw[id].ndesc = ndesc;
		vq->nb_free = (uint16_t)(vq->nb_free - ndesc);
		bytes += m->pkt_len;
	}
	vq->avail_idx = idx;
	if (idx != first) {
		__atomic_store_n(&ring[first & mask].flags, first_flags, __ATOMIC_RELEASE);
		publish(vq);
	}
	vq->st.packets += (uint64_t)(sent - refused);
	vq->st.bytes += bytes;
	vq->st.errors += refused;
	return sent;
}

/* ---- set-up ---- */

int vq_init_packed(struct virtqueue *vq, void *va, bp_iova_t iova)
{
	uint16_t nb = vq->nb;
	memset(va, 0, vq_packed_ring_size(nb, vq->is_tx, 0));
	vq->pdesc = va;
	vq->driver_event = (struct vring_packed_event *)((char *)va + event_off(nb));
	vq->device_event = (struct vring_packed_event *)((char *)va + event_off(nb) + BP_CACHE_LINE);
	vq->desc_iova = iova;
	vq->avail_iova = iova + event_off(nb);
	vq->used_iova = iova + event_off(nb) + BP_CACHE_LINE;
	vq->hdr_iova = iova + event_off(nb) + 2 * BP_CACHE_LINE;
	vq->mask = (uint16_t)(nb - 1);
	vq->avail_idx = vq->used_cons = vq->kicked = 0;
	vq->nb_empty = 0;
	vq->armed = false;
	vq_intr_disable_packed(vq);
	if (vq->is_tx) {
		vq->nb_free = nb;
		vq->next_desc = nb; /* the id stack: all free */
		for (uint16_t i = 0; i < nb; i++) {
			vq->free_ids[i] = (uint16_t)(nb - 1 - i);
			vq->tx_sw[i] = (struct vq_tx_slot){ 0 };
		}
		return 0;
	}
	vq->nb_free = 0;
	for (uint16_t i = 0; i < nb; i++) {
		struct bp_mbuf *m;
		if (bp_mempool_get(vq->mp, (void **)&m) < 0) {
			vq_drain(vq);
			return -ENOBUFS;
		}
		m->rearm = vq->rearm;
		vq->rx_sw[i] = m;
		offer_rx(vq, i, m);
	}
	vq->kicked = vq->avail_idx;
	return 0;
}

uint16_t vq_packed_device_base(struct virtqueue *vq)
{
	uint16_t pos = vq->used_cons;
	for (unsigned guard = 0; guard < vq->nb && is_used(vq, pos, load_flags(vq, pos)); guard++) {
		uint16_t id = vq->pdesc[pos & vq->mask].id;
		if (!vq->is_tx || id > vq->mask) {
			pos++;
		} else if (vq->in_order) { /* up to and past buffer id */
			pos = (uint16_t)(pos + ((id - (pos & vq->mask)) & vq->mask) + vq->tx_sw[id].ndesc);
		} else {
			pos = (uint16_t)(pos + vq->tx_sw[id].ndesc);
		}
	}
	return (uint16_t)((pos & vq->mask) | (wrap_of(vq, pos) ? 0x8000 : 0));
}
