/* SPDX-License-Identifier: MIT
 * The virtio-net data path over split virtqueues (virtio 1.2 §2.7).
 *
 * rx: a used entry (§2.7.8) hands its descriptor's mbuf out; the next burst
 *     gives the descriptor a fresh one and offers it again (vq_rx_refill:
 *     when the application freed the burst in order, each descriptor gets
 *     its own buffer back and its line is not written). When the pool stays
 *     dry for a whole burst, frames are dropped and their buffers offered
 *     again: the device is never short of more than one burst. The 12-byte
 *     net header (§5.1.6) lands in the mbuf's headroom, just before the
 *     frame: no copy, no second descriptor. One avail->idx store per burst.
 * tx: a lone frame (one segment, refcnt 1, headroom for it) carries its
 *     all-zero net header in its own headroom: one descriptor for both
 *     (VERSION_1 implies any layout, §2.6.4). It costs a cache line written
 *     here and read there per frame, but the backend walks one descriptor
 *     instead of a chain: against DPDK's vhost-user backend, txonly went from
 *     ~7 M to ~22 M frames/s (bench/virtio). Any other frame (chained,
 *     shared with another port, no headroom; a legacy device) is a chain:
 *     the queue's one all-zero header, then the frame. The header's
 *     descriptor and the available ring's entries come out the same on every
 *     lap, so they are compared, not written, and stay shared with the
 *     device.
 *     With IN_ORDER (§2.7.9 "In-order use of descriptors") the device uses
 *     descriptors in the order offered and may report a batch with one used
 *     entry: reclaim counts used->idx and walks our own order, never reading
 *     an entry. Without it, heads come back from the used ring and their
 *     chains go on a free stack.
 * Notifications (§2.7.10, §2.7.7): one kick per burst at most, only when the
 *     device asks for it (NO_NOTIFY clear, or avail_event crossed with
 *     EVENT_IDX); interrupts stay suppressed unless an rx queue is armed.
 * Memory order: the device runs on another CPU (vhost-user) or is a device
 *     (PCI): descriptors are written before the release store of avail->idx;
 *     used entries are read after the acquire load of used->idx; a full
 *     fence separates publishing avail->idx from reading the device's
 *     notification wish (a store then a load: §2.7.13 step 4).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bypass/log.h>
#include "virtio.h"

static inline uint16_t *avail_used_event(struct virtqueue *vq)
{
	return &vq->avail->ring[vq->mask + 1];
}
static inline volatile uint16_t *used_avail_event(struct virtqueue *vq)
{
	return (volatile uint16_t *)&vq->used->ring[vq->mask + 1];
}

/* Offsets of the used ring and of the tx headers in a ring of nb. The used
 * ring starts a cache line of its own: the device writes it, we write the
 * rest. */
static size_t used_off(uint16_t nb, size_t align)
{
	size_t desc = (size_t)nb * sizeof(struct vring_desc);
	size_t avail = 4 + 2 * (size_t)nb + 2;
	return BP_ALIGN_UP(desc + avail, align);
}
static size_t hdrs_off(uint16_t nb, size_t align)
{
	return BP_ALIGN_UP(used_off(nb, align) + 4 + 8 * (size_t)nb + 2, (size_t)BP_CACHE_LINE);
}

size_t vq_ring_size(uint16_t nb, bool is_tx, size_t align)
{
	return hdrs_off(nb, align) + (is_tx ? (size_t)BP_CACHE_LINE : 0);
}

/* Publishes avail_idx and kicks the device if it wants to hear of it. */
static inline void vq_publish(struct virtqueue *vq)
{
	uint16_t new_idx = vq->avail_idx, old = vq->kicked;
	__atomic_store_n(&vq->avail->idx, new_idx, __ATOMIC_RELEASE);
	/* the device may have gone to sleep after reading the old idx: read its
	 * wish only after our store is visible */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	bool kick = vq->event_idx ? vring_need_event(*used_avail_event(vq), new_idx, old)
				  : !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY);
	vq->kicked = new_idx;
	if (bp_unlikely(kick))
		vq_notify(vq);
}

/* Writes v at p unless it is there already: a descriptor field that stays
 * the same from one lap of the ring to the next then never leaves the cache
 * line the device shares with us. */
#define SET_IF_CHANGED(p, v)                                                         \
	do {                                                                         \
		if ((p) != (v))                                                      \
			(p) = (v);                                                   \
	} while (0)

/* ---- rx ---- */

static inline void rx_offer(struct virtqueue *vq, uint16_t id, const struct bp_mbuf *m)
{
	SET_IF_CHANGED(vq->desc[id].addr, bp_mbuf_data_iova(m) - vq->hdr_len);
	/* in order, id is the slot's own every lap: the line stays shared */
	SET_IF_CHANGED(vq->avail->ring[vq->avail_idx & vq->mask], id);
	vq->avail_idx++;
}

uint16_t virtio_rx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct virtqueue *vq = qp;
	uint16_t cons = vq->used_cons, got = 0, offered = vq->avail_idx;
	uint64_t bytes = 0;

	if (vq->nb_empty)
		vq_rx_refill(vq, rx_offer);
	uint16_t ready = (uint16_t)(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) - cons);
	ready = BP_MIN(ready, BP_MIN(n, (uint16_t)VIRTIO_MAX_BURST));
	for (uint16_t i = 0; i < ready; i++) {
		const struct vring_used_elem *e = &vq->used->ring[(uint16_t)(cons + i) & vq->mask];
		uint32_t id = e->id;
		if (bp_unlikely(id > vq->mask)) {
			vq->st.errors++; /* a device bug: nothing to hand out or offer again */
			continue;
		}
		if (bp_unlikely(!vq_rx_out(vq, (uint16_t)id, e->len, pkts, &got, &bytes)))
			rx_offer(vq, (uint16_t)id, vq->rx_sw[id]);
	}
	vq->used_cons = (uint16_t)(cons + ready);
	if (vq->avail_idx != offered)
		vq_publish(vq);
	vq->st.packets += got;
	vq->st.bytes += bytes;
	return got;
}

uint32_t virtio_rx_queue_count(void *qp)
{
	struct virtqueue *vq = qp;
	return (uint16_t)(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) - vq->used_cons);
}

bool vq_intr_enable(struct virtqueue *vq)
{
	vq->armed = true;
	if (vq->event_idx)
		__atomic_store_n(avail_used_event(vq), vq->used_cons, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->avail->flags, 0, __ATOMIC_RELAXED);
	/* a frame used before the device saw the wish raises nothing */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->used_cons;
}

void vq_intr_disable(struct virtqueue *vq)
{
	vq->armed = false;
	if (vq->event_idx) /* half a ring-index space away: never crossed soon */
		__atomic_store_n(avail_used_event(vq), (uint16_t)(vq->used_cons + 0x8000), __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->avail->flags, VRING_AVAIL_F_NO_INTERRUPT, __ATOMIC_RELAXED);
}

/* ---- tx ---- */

static uint16_t tx_reclaim(struct virtqueue *vq)
{
	uint16_t cons = vq->used_cons;
	uint16_t done = (uint16_t)(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) - cons);
	struct bp_mbuf *free_list[VIRTIO_MAX_BURST];
	uint16_t nfree = 0, freed = 0;

	for (uint16_t i = 0; i < done; i++) {
		uint16_t head;
		if (vq->in_order) {
			head = vq->clean;
			vq->clean = (uint16_t)((head + vq->tx_sw[head].ndesc) & vq->mask);
		} else {
			head = (uint16_t)vq->used->ring[(uint16_t)(cons + i) & vq->mask].id;
			if (bp_unlikely(head > vq->mask))
				continue; /* a device bug */
		}
		struct vq_tx_slot *s = &vq->tx_sw[head];
		uint16_t nd = s->ndesc;
		if (!vq->in_order) { /* its chain goes back on the free stack */
			uint16_t d = head;
			for (uint16_t k = 0; k < nd; k++) {
				vq->free_ids[vq->nb_free + k] = d;
				d = vq->desc[d].next;
			}
		}
		vq->nb_free = (uint16_t)(vq->nb_free + nd);
		freed = (uint16_t)(freed + nd);
		if (nfree == VIRTIO_MAX_BURST) {
			bp_pktmbuf_free_bulk(free_list, nfree);
			nfree = 0;
		}
		free_list[nfree++] = s->m;
		s->m = NULL;
	}
	if (nfree)
		bp_pktmbuf_free_bulk(free_list, nfree);
	vq->used_cons = (uint16_t)(cons + done);
	return freed;
}

/* The next descriptor to fill. */
static inline uint16_t tx_take(struct virtqueue *vq)
{
	vq->nb_free--;
	if (vq->in_order) {
		uint16_t d = vq->next_desc;
		vq->next_desc = (uint16_t)((d + 1) & vq->mask);
		return d;
	}
	return vq->free_ids[vq->nb_free];
}

uint16_t virtio_tx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct virtqueue *vq = qp;
	struct vring_desc *const desc = vq->desc;
	uint16_t *const avail_ring = vq->avail->ring;
	const uint16_t mask = vq->mask;
	const uint64_t hdr = vq->hdr_iova;
	uint16_t sent, refused = 0, avail_idx = vq->avail_idx;
	uint64_t bytes = 0;

	if (vq->nb_free < VIRTIO_TX_FREE_THRESH || vq->nb_free < n || n == 0)
		tx_reclaim(vq);
	for (sent = 0; sent < n; sent++) {
		struct bp_mbuf *m = pkts[sent];
		if (bp_likely(vq->nb_free) && vq_tx_push_hdr(vq, m)) {
			/* one descriptor: header and frame */
			uint16_t head = tx_take(vq);
			desc[head].addr = bp_mbuf_data_iova(m) - 12;
			desc[head].len = 12u + m->data_len;
			SET_IF_CHANGED(desc[head].flags, (uint16_t)0);
			vq->tx_sw[head].m = m;
			vq->tx_sw[head].ndesc = 1;
			SET_IF_CHANGED(avail_ring[avail_idx & mask], head);
			avail_idx++;
			bytes += m->pkt_len;
			continue;
		}
		uint16_t ndesc = (uint16_t)(m->nb_segs + 1);
		if (bp_unlikely(ndesc > vq->nb_free)) {
			if (ndesc <= vq->nb)
				break; /* no room now: the caller keeps the rest */
			/* more segments than the ring holds: never sendable */
			bp_pktmbuf_free(m);
			refused++;
			continue;
		}
		/* The chain: the queue's one all-zero net header (no offloads:
		 * §5.1.6.2), then the frame's segments. The header's descriptor
		 * is the same every lap; only the frame's address and length
		 * change. */
		uint16_t head = tx_take(vq), d = head;
		SET_IF_CHANGED(desc[d].addr, hdr);
		SET_IF_CHANGED(desc[d].len, (uint32_t)vq->hdr_len);
		SET_IF_CHANGED(desc[d].flags, (uint16_t)VRING_DESC_F_NEXT);
		for (struct bp_mbuf *seg = m; seg; seg = seg->next) {
			uint16_t nd = tx_take(vq);
			SET_IF_CHANGED(desc[d].next, nd);
			d = nd;
			desc[d].addr = bp_mbuf_data_iova(seg);
			desc[d].len = seg->data_len;
			SET_IF_CHANGED(desc[d].flags, (uint16_t)(seg->next ? VRING_DESC_F_NEXT : 0));
		}
		vq->tx_sw[head].m = m;
		vq->tx_sw[head].ndesc = ndesc;
		SET_IF_CHANGED(avail_ring[avail_idx & mask], head);
		avail_idx++;
		bytes += m->pkt_len;
	}
	vq->avail_idx = avail_idx;
	if (sent)
		vq_publish(vq);
	vq->st.packets += (uint64_t)(sent - refused);
	vq->st.bytes += bytes;
	vq->st.errors += refused;
	return sent;
}

/* ---- set-up ---- */

int vq_init(struct virtqueue *vq, void *va, bp_iova_t iova)
{
	uint16_t nb = vq->nb;
	size_t desc = (size_t)nb * sizeof(struct vring_desc);

	size_t align = vq->used_align;
	memset(va, 0, vq_ring_size(nb, vq->is_tx, align));
	vq->desc = va;
	vq->avail = (struct vring_avail *)((char *)va + desc);
	vq->used = (struct vring_used *)((char *)va + used_off(nb, align));
	vq->desc_iova = iova;
	vq->avail_iova = iova + desc;
	vq->used_iova = iova + used_off(nb, align);
	vq->hdr_iova = iova + hdrs_off(nb, align); /* tx: zeroed with the ring, never written again */
	vq->mask = (uint16_t)(nb - 1);
	vq->avail_idx = vq->used_cons = vq->kicked = 0;
	vq->next_desc = vq->clean = 0;
	vq->nb_empty = 0;
	vq->armed = false;
	vq_intr_disable(vq);

	if (vq->is_tx) {
		vq->nb_free = nb;
		for (uint16_t i = 0; i < nb; i++) {
			vq->free_ids[i] = (uint16_t)(nb - 1 - i); /* the stack hands out 0 first */
			vq->tx_sw[i] = (struct vq_tx_slot){ 0 };
		}
		return 0;
	}
	/* rx: every descriptor offers an mbuf, header room included */
	vq->nb_free = 0;
	for (uint16_t i = 0; i < nb; i++) {
		struct bp_mbuf *m;
		if (bp_mempool_get(vq->mp, (void **)&m) < 0) {
			vq_drain(vq);
			return -ENOBUFS;
		}
		m->rearm = vq->rearm;
		m->next = NULL;
		vq->rx_sw[i] = m;
		vq->desc[i].len = vq->rx_buf_len;
		vq->desc[i].flags = VRING_DESC_F_WRITE;
		rx_offer(vq, i, m);
	}
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	vq->kicked = vq->avail_idx;
	return 0;
}

void vq_drain(struct virtqueue *vq)
{
	for (uint16_t i = 0; i < vq->nb; i++) {
		if (vq->is_tx) {
			if (vq->tx_sw[i].m)
				bp_pktmbuf_free(vq->tx_sw[i].m);
			vq->tx_sw[i].m = NULL;
		} else if (vq->rx_sw[i]) {
			bp_pktmbuf_free(vq->rx_sw[i]);
			vq->rx_sw[i] = NULL;
		}
	}
}
