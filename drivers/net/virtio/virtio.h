/* SPDX-License-Identifier: MIT
 * The virtio-net PMD: one driver, several ways to reach the device.
 *
 * virtio.c holds what every virtio-net device shares (features, ports,
 * queues), virtqueue.c the data path over split virtqueues (virtio 1.2 §2.7),
 * and each transport a small table of operations (struct virtio_transport):
 * vhost_user.c speaks the vhost-user protocol to a backend process over a
 * UNIX socket (the rings live in our memory, shared with the backend through
 * the fds of the memory zones).
 */
#ifndef BYPASS_VIRTIO_H
#define BYPASS_VIRTIO_H

#include <bypass/ethdev.h>
#include <bypass/mem.h>
#include <string.h>
#include <unistd.h>
#include "virtio_regs.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the virtio PMD writes rings in host order: it supports little-endian hosts only"
#endif

#define VIRTIO_MAX_QUEUE_PAIRS 8
#define VIRTIO_MAX_VQS (2 * VIRTIO_MAX_QUEUE_PAIRS)
#define VIRTIO_MAX_BURST 64
#define VIRTIO_RING_MIN 64
#define VIRTIO_RING_MAX 4096
#define VIRTIO_TX_FREE_THRESH 32 /* reclaim when fewer descriptors are free */

/* What the tx ring remembers of a descriptor chain, by its head. */
struct vq_tx_slot {
	struct bp_mbuf *m;
	uint16_t ndesc;
};

/* One split virtqueue: rx queue q is virtqueue 2q, tx queue q is 2q + 1
 * (§5.1.2). The first line is what every burst touches. */
struct virtqueue {
	union {
		struct vring_desc *desc;               /* split */
		struct vring_packed_desc *pdesc;       /* packed */
	};
	union {
		struct vring_avail *avail;             /* split */
		struct vring_packed_event *driver_event; /* packed: ours */
	};
	union {
		struct vring_used *used;               /* split */
		struct vring_packed_event *device_event; /* packed: the device's */
	};
	uint16_t mask;      /* nb - 1 */
	uint16_t avail_idx; /* our copy of avail->idx: the next slot to offer */
	uint16_t used_cons; /* the next used entry to read */
	uint16_t nb_free;   /* descriptors not offered to the device */
	uint16_t kicked;    /* avail_idx when the device was last considered for a kick */
	uint16_t next_desc; /* in order: the next descriptor to use */
	uint16_t clean;     /* in order: the oldest descriptor in flight */
	bool event_idx;
	bool in_order;
	bool packed;
	bool hdr_inline;    /* tx: a lone direct frame carries its net header in its headroom */
	bool avail_wrap;    /* packed: the driver's wrap counter (§2.8.1) */
	bool used_wrap;     /* packed: the wrap counter of the next used descriptor */
	uint8_t hdr_len;    /* net header: 12 (VERSION_1), 10 (legacy without MRG_RXBUF, §5.1.6.1) */
	volatile uint16_t *notify_addr; /* PCI modern: where to write our index; else NULL */
	int kick_fd;        /* vhost-user: the eventfd the backend waits on; else -1 */
	uint64_t rearm; /* rx: what a fresh mbuf gets */
	struct bp_mempool *mp;
	union {
		struct bp_mbuf **rx_sw;        /* rx: the mbuf behind each descriptor */
		struct vq_tx_slot *tx_sw;      /* tx: the chain behind each head */
	};
	uint16_t *free_ids;                    /* tx without IN_ORDER: free descriptors (packed: buffer ids) */
	bp_iova_t hdr_iova;                    /* tx: the all-zero net header every frame uses */
	struct bp_eth_queue_stats st;

	/* control */
	uint16_t nb;
	uint16_t index;  /* virtqueue index */
	bool is_tx;
	bool armed;      /* rx interrupt armed */
	uint32_t rx_buf_len; /* rx: bytes each descriptor offers, header included */
	uint32_t used_align; /* split: the used ring's alignment (4096 for legacy PCI, §2.7) */
	int call_fd;     /* eventfd the device signals (rx interrupts) */
	bp_iova_t desc_iova, avail_iova, used_iova;
	struct virtio_dev *dev;
	/* rx: descriptors (packed: buffer ids) whose buffers the last burst
	 * handed out, in the order it did, refilled at the next burst */
	uint16_t nb_empty;
	uint16_t batch_first; /* packed rx: the slot whose flags a refill writes last */
	uint16_t batch_flags; /* ... and those flags */
	uint16_t empty[VIRTIO_MAX_BURST];
} BP_CACHE_ALIGNED;

/* tx: writes the frame's net header into its own headroom, one descriptor
 * for both, if it can: a frame that is ours alone (refcnt 1: no other port
 * sends the same bytes) in one segment with the room. The header is all zero:
 * no offloads (§5.1.6.2), and num_buffers zero (§5.1.6.2.1). A buffer sent
 * before still holds zeros there: they are compared, not rewritten, so its
 * line stays shared with the device. False: the frame goes with the queue's
 * shared header. */
static inline bool vq_tx_push_hdr(const struct virtqueue *vq, struct bp_mbuf *m)
{
	if (!vq->hdr_inline || m->nb_segs != 1 || bp_mbuf_refcnt_read(m) != 1 || m->data_off < vq->hdr_len)
		return false;
	char *h = bp_pktmbuf_mtod(m, char *) - 12; /* hdr_len is 12 here: VERSION_1 */
	uint64_t lo;
	uint32_t hi;
	memcpy(&lo, h, sizeof(lo));
	memcpy(&hi, h + 8, sizeof(hi));
	if (lo | hi)
		memset(h, 0, 12);
	return true;
}

struct virtio_dev;

/* A way to reach the device. Every call is control path. */
struct virtio_transport {
	const char *name;
	/* Features the device offers (§2.2). */
	uint64_t (*features)(struct virtio_dev *vd);
	/* Largest ring the device takes for virtqueue index (0: no such queue). */
	uint16_t (*queue_max)(struct virtio_dev *vd, uint16_t index);
	/* Tells the device the negotiated features and every ring in vd->vq[],
	 * then lets it run. */
	int (*start)(struct virtio_dev *vd);
	/* Stops the device from touching the rings (they may be freed after). */
	void (*stop)(struct virtio_dev *vd);
	/* Frees the transport's state. */
	void (*close)(struct virtio_dev *vd);
	/* Tells the device a queue has work, where neither notify_addr nor
	 * kick_fd can (legacy PCI's I/O port). */
	void (*notify)(struct virtqueue *vq);
	/* Reads the link from the device (NULL: the transport reports changes). */
	int (*link)(struct virtio_dev *vd, bool *up);
	uint8_t hdr_len;     /* 12, or 10 for a legacy device */
	uint32_t used_align; /* split ring's used-ring alignment: 4096 for legacy */
	bool fixed_size;     /* the device sets the ring size (legacy) */
	bool no_rx_intr;     /* rx interrupts not offered through this transport yet */
	bool eventfds;       /* each queue has kick and call eventfds (vhost-user) */
};

struct virtio_dev {
	struct bp_eth_dev *eth;
	const struct virtio_transport *tr;
	void *tr_priv;
	uint64_t offered;    /* features the device offers */
	uint64_t features;   /* negotiated */
	uint16_t max_pairs;  /* queue pairs the device has */
	uint16_t nb_vq;      /* virtqueues in use: 2 per configured pair */
	struct virtqueue *vq[VIRTIO_MAX_VQS];
	uint16_t nb_desc[VIRTIO_MAX_VQS];       /* asked for at queue set-up */
	struct bp_mempool *rx_mp[VIRTIO_MAX_QUEUE_PAIRS];
	struct bp_memzone *mz; /* every ring of the port, built at start */
	bool want_in_order;
	int8_t want_event_idx; /* -1: when offered, split rings only (PCI); 0: never; 1: when offered */
	int8_t want_packed; /* -1: when offered, 0: never, 1: required */
};

/* Ring layout (§2.7): descriptor table, then the available ring (with
 * used_event), then the used ring (with avail_event), then for tx the net
 * header all its frames share. */
size_t vq_ring_size(uint16_t nb, bool is_tx, size_t used_align);

/* ---- virtqueue.c ---- */
uint16_t virtio_rx(void *rxq, struct bp_mbuf **pkts, uint16_t n);
uint16_t virtio_tx(void *txq, struct bp_mbuf **pkts, uint16_t n);
uint32_t virtio_rx_queue_count(void *rxq);
/* Lays out a ring at va/iova (vq_ring_size(nb) bytes), fills an rx ring
 * with mbufs; 0 or -ENOBUFS. */
int vq_init(struct virtqueue *vq, void *va, bp_iova_t iova);
/* Returns every mbuf the ring holds. */
void vq_drain(struct virtqueue *vq);
/* rx interrupts: after enable, the device signals call_fd for the next
 * frame; returns true if a frame is already there (no signal will come). */
bool vq_intr_enable(struct virtqueue *vq);
void vq_intr_disable(struct virtqueue *vq);

/* ---- packed.c: the same over packed virtqueues (§2.8) ---- */
size_t vq_packed_ring_size(uint16_t nb, bool is_tx, size_t used_align);
uint16_t virtio_rx_packed(void *rxq, struct bp_mbuf **pkts, uint16_t n);
uint16_t virtio_tx_packed(void *txq, struct bp_mbuf **pkts, uint16_t n);
uint32_t virtio_rx_queue_count_packed(void *rxq);
int vq_init_packed(struct virtqueue *vq, void *va, bp_iova_t iova);
bool vq_intr_enable_packed(struct virtqueue *vq);
void vq_intr_disable_packed(struct virtqueue *vq);
/* Where the device stands: the first descriptor it has not marked used,
 * with its wrap counter in bit 15 (what SET_VRING_BASE takes for packed). */
uint16_t vq_packed_device_base(struct virtqueue *vq);

/* ---- virtio.c: a transport creates the port ---- */
struct virtio_port_args {
	const char *name;
	uint16_t queues;       /* queue pairs wanted (0: 1) */
	int in_order;          /* -1: when offered, 0: never */
	int event_idx;         /* -1: when offered, 0: never */
	int packed;            /* -1: when offered, 0: never, 1: required */
	const struct bp_ether_addr *mac; /* NULL: random, locally administered */
};
int virtio_port_create(const struct virtio_transport *tr, void *tr_priv,
		       const struct virtio_port_args *a, struct virtio_dev **out);
/* The transport tells the port its link changed (interrupt thread). */
void virtio_link_changed(struct virtio_dev *vd, bool up);

/* rx (both layouts): the device hands a buffer back; its mbuf goes out and
 * its descriptor waits in vq->empty for the next burst to refill it (see
 * vq_rx_refill). */

/* The buffer of descriptor id came back with len bytes, net header
 * included: hands its mbuf out into pkts and returns true; or returns false
 * and the caller offers the same buffer again — a bad length, or the pool
 * dry for a whole burst (vq->empty full): the frame is dropped and counted,
 * and the ring never runs short by more than one burst. */
static inline bool vq_rx_out(struct virtqueue *vq, uint16_t id, uint32_t len, struct bp_mbuf **pkts, uint16_t *got,
			     uint64_t *bytes)
{
	bool bad = len <= vq->hdr_len || len > vq->rx_buf_len;
	if (bp_unlikely(bad || vq->nb_empty == VIRTIO_MAX_BURST)) {
		if (bad)
			vq->st.errors++;
		else
			vq->st.nombuf++;
		return false;
	}
	struct bp_mbuf *m = vq->rx_sw[id];
	len -= vq->hdr_len;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->ol_flags = 0;
	m->packet_type = 0;
	m->vlan_tci = 0;
	pkts[(*got)++] = m;
	*bytes += len;
	vq->rx_sw[id] = NULL;
	vq->empty[vq->nb_empty++] = id;
	return true;
}

/* Gives the descriptors the last burst emptied a fresh buffer each (offer()
 * makes one available), as many as the pool has; the rest wait. They are
 * offered in the order they were used, and the mbufs go to them in reverse:
 * the pool hands out the last freed first, so when the application freed
 * the burst in order (rxonly, a drop) each descriptor gets its own buffer
 * back, and the split ring's descriptor compares equal and stays shared
 * with the device. */
static inline void vq_rx_refill(struct virtqueue *vq, void (*offer)(struct virtqueue *, uint16_t, const struct bp_mbuf *))
{
	struct bp_mbuf *fresh[VIRTIO_MAX_BURST];
	uint16_t k = vq->nb_empty, got = k;
	if (bp_unlikely(bp_mempool_get_bulk(vq->mp, (void **)fresh, k) < 0))
		got = (uint16_t)bp_mempool_get_upto(vq->mp, (void **)fresh, k);
	for (uint16_t i = 0; i < got; i++) {
		struct bp_mbuf *m = fresh[got - 1 - i];
		m->rearm = vq->rearm;
		vq->rx_sw[vq->empty[i]] = m;
		offer(vq, vq->empty[i], m);
	}
	vq->nb_empty = (uint16_t)(k - got);
	if (bp_unlikely(vq->nb_empty))
		memmove(vq->empty, &vq->empty[got], vq->nb_empty * sizeof(vq->empty[0]));
}

/* Tells the device that queue vq has new work (data path). */
static inline void vq_notify(struct virtqueue *vq)
{
	if (vq->notify_addr) {
		__atomic_thread_fence(__ATOMIC_RELEASE); /* ring writes before the doorbell */
		*vq->notify_addr = vq->index;
	} else if (vq->kick_fd >= 0) {
		uint64_t one = 1;
		if (write(vq->kick_fd, &one, sizeof(one)) < 0) {
			/* only on overflow: a kick is pending anyway */
		}
	} else {
		vq->dev->tr->notify(vq);
	}
}

#endif
