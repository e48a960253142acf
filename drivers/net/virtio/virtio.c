/* SPDX-License-Identifier: MIT
 * virtio-net ports: what every transport shares (virtio 1.2 §5.1).
 *
 * Features are negotiated at configure; queues are recorded at set-up and
 * built at start, all in one memory zone (a vhost-user peer maps each zone
 * it is given, and takes at most 8); stop has the transport stop the device
 * before the rings are emptied and freed, so every start begins clean.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <bypass/log.h>
#include "virtio.h"

static const char *feature_names(uint64_t f, char *buf, size_t len)
{
	static const struct { int bit; const char *name; } names[] = {
		{ VIRTIO_F_VERSION_1, "VERSION_1" }, { VIRTIO_F_IN_ORDER, "IN_ORDER" },
		{ VIRTIO_RING_F_EVENT_IDX, "EVENT_IDX" }, { VIRTIO_F_RING_PACKED, "RING_PACKED" },
		{ VIRTIO_NET_F_MQ, "MQ" }, { VIRTIO_NET_F_MAC, "MAC" }, { VIRTIO_NET_F_STATUS, "STATUS" },
		{ VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM" },
	};
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < BP_ARRAY_SIZE(names); i++)
		if (f & VIRTIO_BIT(names[i].bit))
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
						 used ? " " : "", names[i].name);
	return buf;
}

static void virtio_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	struct virtio_dev *vd = dev->priv;
	info->dma = true; /* the NIC, or the vhost-user peer, reaches the buffers itself */
	info->max_rx_queues = info->max_tx_queues = vd->max_pairs;
	info->rx_desc_min = info->tx_desc_min = VIRTIO_RING_MIN;
	info->rx_desc_max = info->tx_desc_max = VIRTIO_RING_MAX;
	info->max_rx_pktlen = BP_ETHER_MAX_LEN;
	info->min_rx_bufsize = BP_ETHER_MAX_LEN;
}

static int virtio_configure(struct bp_eth_dev *dev)
{
	struct virtio_dev *vd = dev->priv;
	char buf[160];

	if (dev->nb_rx_queues != dev->nb_tx_queues) {
		BP_LOG(ERR, "%s: virtio queues come in pairs: configure as many rx as tx queues (%u, %u)",
		       dev->name, dev->nb_rx_queues, dev->nb_tx_queues);
		return -EINVAL;
	}
	if (dev->nb_rx_queues > vd->max_pairs) {
		BP_LOG(ERR, "%s: %u queue pairs asked for, the device has %u%s", dev->name, dev->nb_rx_queues,
		       vd->max_pairs, vd->max_pairs == 1 ? " (give queues=N to the device)" : "");
		return -EINVAL;
	}
	if (!(vd->offered & VIRTIO_BIT(VIRTIO_F_VERSION_1)) && vd->tr->hdr_len != 10) {
		BP_LOG(ERR, "%s: the device offers only legacy virtio (no VERSION_1); not supported over %s",
		       dev->name, vd->tr->name);
		return -ENOTSUP;
	}
	if (dev->conf.rx_intr && vd->tr->no_rx_intr) {
		BP_LOG(ERR, "%s: rx interrupts over %s are not built yet; poll this port", dev->name, vd->tr->name);
		return -ENOTSUP;
	}
	uint64_t want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |
			VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM);
	if (vd->want_event_idx)
		want |= VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	if (vd->want_in_order)
		want |= VIRTIO_BIT(VIRTIO_F_IN_ORDER);
	if (vd->want_packed)
		want |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	if (vd->want_packed > 0 && !(vd->offered & VIRTIO_BIT(VIRTIO_F_RING_PACKED))) {
		BP_LOG(ERR, "%s: packed=1, but the device offers split virtqueues only; drop packed=1", dev->name);
		return -ENOTSUP;
	}
	/* Packed rings notify by flags unless event_idx=1 says otherwise:
	 * QEMU 10's virtio-net turns tx notifications on (writing the device
	 * event offset, §2.8.10) before its bottom half empties the ring and
	 * leaves the offset behind, so a driver that honours it waits for a
	 * kick it is never asked for (seen in the lab: the sender stops after
	 * ~10,000 frames). DPDK's PMD does not take EVENT_IDX either. */
	if ((vd->offered & want & VIRTIO_BIT(VIRTIO_F_RING_PACKED)) && vd->want_event_idx < 0)
		want &= ~VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	if (dev->nb_rx_queues > 1)
		want |= VIRTIO_BIT(VIRTIO_NET_F_MQ);
	vd->features = vd->offered & want;
	vd->nb_vq = (uint16_t)(2 * dev->nb_rx_queues);
	BP_LOG(INFO, "%s: features %s", dev->name, feature_names(vd->features, buf, sizeof(buf)));
	return 0;
}

/* Closes a queue's eventfds and frees it (whole or half built). */
static void vq_destroy(struct virtqueue *vq)
{
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	free(vq->rx_sw); /* tx_sw: the same pointer */
	free(vq->free_ids);
	free(vq);
}

static struct virtqueue *vq_alloc(struct bp_eth_dev *dev, uint16_t index, uint16_t nb, bool is_tx)
{
	struct virtio_dev *vd = dev->priv;
	struct virtqueue *vq;
	uint16_t max = vd->tr->queue_max(vd, index);
	if (max && (nb > max || (vd->tr->fixed_size && nb != max))) {
		/* as DPDK's virtio does: the device's size, not an error */
		BP_LOG(NOTICE, "%s: %u descriptors asked for, the device's rings %s %u: using %u", dev->name, nb,
		       vd->tr->fixed_size ? "have (legacy: fixed)" : "take at most", max, max);
		nb = max;
	}

	if (!bp_is_power_of_2(nb) || nb < VIRTIO_RING_MIN || nb > VIRTIO_RING_MAX || (max && nb > max)) {
		BP_LOG(ERR, "%s: a ring of %u descriptors: give a power of two from %u to %u", dev->name, nb,
		       VIRTIO_RING_MIN, max && max < VIRTIO_RING_MAX ? max : VIRTIO_RING_MAX);
		errno = EINVAL;
		return NULL;
	}
	if (posix_memalign((void **)&vq, BP_CACHE_LINE, sizeof(*vq)) != 0)
		return NULL;
	memset(vq, 0, sizeof(*vq));
	vq->nb = nb;
	vq->index = index;
	vq->is_tx = is_tx;
	vq->dev = vd;
	vq->hdr_len = vd->tr->hdr_len;
	vq->used_align = vd->tr->used_align;
	/* notifications as eventfds where the transport passes them on */
	vq->kick_fd = vd->tr->eventfds ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
	vq->call_fd = vd->tr->eventfds ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
	if (is_tx) {
		vq->tx_sw = calloc(nb, sizeof(*vq->tx_sw));
		vq->free_ids = calloc(nb, sizeof(*vq->free_ids));
	} else {
		vq->rx_sw = calloc(nb, sizeof(*vq->rx_sw));
	}
	if ((vd->tr->eventfds && (vq->kick_fd < 0 || vq->call_fd < 0)) || !vq->rx_sw || (is_tx && !vq->free_ids)) {
		int err = errno ? errno : ENOMEM;
		vq_destroy(vq);
		errno = err;
		return NULL;
	}
	vd->vq[index] = vq;
	return vq;
}

static void vq_free(struct virtio_dev *vd, uint16_t index)
{
	if (vd->vq[index])
		vq_destroy(vd->vq[index]);
	vd->vq[index] = NULL;
}

static int virtio_rxq_setup(struct bp_eth_dev *dev, uint16_t q, uint16_t nb_desc, struct bp_mempool *mp)
{
	uint32_t room = bp_pktmbuf_data_room(mp);
	if (room < BP_PKTMBUF_HEADROOM + dev->conf.max_rx_pktlen) {
		BP_LOG(ERR, "%s: pool %s has %u bytes per mbuf; frames of %u need %u (headroom included): "
			    "create it with a larger data room", dev->name, mp->name, room,
		       dev->conf.max_rx_pktlen, BP_PKTMBUF_HEADROOM + dev->conf.max_rx_pktlen);
		return -EINVAL;
	}
	struct virtqueue *vq = vq_alloc(dev, (uint16_t)(2 * q), nb_desc, false);
	if (!vq)
		return -errno;
	vq->mp = mp;
	vq->rearm = bp_pktmbuf_rx_rearm(mp, dev->port_id);
	/* the header goes in the headroom: each buffer offers headroom-less room + header */
	vq->rx_buf_len = room - BP_PKTMBUF_HEADROOM + vq->hdr_len;
	dev->rx_queues[q] = vq;
	dev->rxq_stats[q] = &vq->st;
	return 0;
}

static int virtio_txq_setup(struct bp_eth_dev *dev, uint16_t q, uint16_t nb_desc)
{
	struct virtqueue *vq = vq_alloc(dev, (uint16_t)(2 * q + 1), nb_desc, true);
	if (!vq)
		return -errno;
	dev->tx_queues[q] = vq;
	dev->txq_stats[q] = &vq->st;
	return 0;
}

static void virtio_rxq_release(struct bp_eth_dev *dev, uint16_t q) { vq_free(dev->priv, (uint16_t)(2 * q)); }
static void virtio_txq_release(struct bp_eth_dev *dev, uint16_t q) { vq_free(dev->priv, (uint16_t)(2 * q + 1)); }

static void rings_free(struct virtio_dev *vd)
{
	for (uint16_t i = 0; i < vd->nb_vq; i++)
		if (vd->vq[i])
			vq_drain(vd->vq[i]);
	bp_memzone_free(vd->mz);
	vd->mz = NULL;
}

static int virtio_start(struct bp_eth_dev *dev)
{
	struct virtio_dev *vd = dev->priv;
	size_t total = 0;
	int rc;

	bool packed = vd->features & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	size_t (*ring_size)(uint16_t, bool, size_t) = packed ? vq_packed_ring_size : vq_ring_size;
	/* each ring at a page boundary: what a legacy device's page frame number needs */
	const size_t page = 4096;
	for (uint16_t i = 0; i < vd->nb_vq; i++)
		total += BP_ALIGN_UP(ring_size(vd->vq[i]->nb, vd->vq[i]->is_tx, vd->tr->used_align), page);
	char name[32];
	snprintf(name, sizeof(name), "virtio_rings_%u", dev->port_id);
	vd->mz = bp_memzone_reserve(name, total);
	if (!vd->mz)
		return -errno;
	size_t off = 0;
	for (uint16_t i = 0; i < vd->nb_vq; i++) {
		struct virtqueue *vq = vd->vq[i];
		vq->event_idx = vd->features & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
		vq->in_order = vd->features & VIRTIO_BIT(VIRTIO_F_IN_ORDER);
		vq->packed = packed;
		/* VERSION_1: any descriptor layout (§2.6.4), so the header may
		 * share the frame's descriptor; a legacy device may want it alone */
		vq->hdr_inline = vq->is_tx && (vd->features & VIRTIO_BIT(VIRTIO_F_VERSION_1)) && vq->hdr_len == 12;
		void *va = (char *)vd->mz->va + off;
		rc = (packed ? vq_init_packed : vq_init)(vq, va, bp_memzone_iova(vd->mz, va));
		if (rc < 0) {
			BP_LOG(ERR, "%s: pool %s cannot fill rx ring %u (%u mbufs): make the pool larger",
			       dev->name, vq->mp->name, i / 2, vq->nb);
			rings_free(vd);
			return rc;
		}
		off += BP_ALIGN_UP(ring_size(vq->nb, vq->is_tx, vd->tr->used_align), page);
	}
	dev->rx_burst = packed ? virtio_rx_packed : virtio_rx;
	dev->tx_burst = packed ? virtio_tx_packed : virtio_tx;
	if ((rc = vd->tr->start(vd)) < 0) {
		rings_free(vd);
		return rc;
	}
	for (uint16_t q = 0; q < dev->nb_rx_queues; q++) /* else the transport set it (MSI-X) */
		if (vd->vq[2 * q]->call_fd >= 0)
			dev->rx_intr_fd[q] = dev->conf.rx_intr ? vd->vq[2 * q]->call_fd : -1;
	return 0;
}

/* Lets the device finish the frames tx_burst accepted, as long as the link is
 * up and for at most 100 ms: a reset drops every chain the device has not
 * used yet, and QEMU's virtio-net sends from a bottom half of its main loop,
 * some time after the notification (a sender that stopped right after its
 * last burst lost up to 27 of 5000 frames that way). Returns how long it took. */
static unsigned tx_finish(struct bp_eth_dev *dev)
{
	unsigned ms = 0;
	for (uint16_t q = 0; q < dev->nb_tx_queues; q++) {
		struct virtqueue *vq = dev->tx_queues[q];
		if (!vq)
			continue;
		dev->tx_burst(vq, NULL, 0); /* takes back what the device has used */
		while (vq->nb_free != vq->nb && dev->link.up && ms < 100) {
			bp_delay_us(1000);
			ms++;
			dev->tx_burst(vq, NULL, 0);
		}
		if (vq->nb_free != vq->nb)
			BP_LOG(DEBUG, "%s: stop: tx queue %u: %u descriptors still in flight after %u ms", dev->name, q,
			       (unsigned)(vq->nb - vq->nb_free), ms);
	}
	return ms;
}

static int virtio_stop(struct bp_eth_dev *dev)
{
	struct virtio_dev *vd = dev->priv;
	unsigned ms = tx_finish(dev);
	if (ms)
		BP_LOG(DEBUG, "%s: stop: the device took %u ms to finish sending", dev->name, ms);
	vd->tr->stop(vd);
	rings_free(vd);
	for (uint16_t q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
		dev->rx_intr_fd[q] = -1;
	dev->link.up = 0; /* the application stopped it: no event */
	return 0;
}

static void virtio_close(struct bp_eth_dev *dev)
{
	struct virtio_dev *vd = dev->priv;
	vd->tr->close(vd);
	free(vd);
	dev->priv = NULL;
}

static int virtio_link_update(struct bp_eth_dev *dev, int wait)
{
	struct virtio_dev *vd = dev->priv;
	bool up;
	(void)wait;
	/* a transport that reads the link; else it keeps dev->link current */
	if (vd->tr->link && dev->state == BP_ETH_STARTED && vd->tr->link(vd, &up) == 0)
		dev->link.up = up;
	return 0;
}

static int virtio_promisc(struct bp_eth_dev *dev, int on)
{
	(void)dev, (void)on; /* without a control queue the device passes every frame */
	return 0;
}

/* Arms (on) or disarms rx queue q's interrupt, whichever the ring layout. A
 * frame already there when armed raises nothing: bp_eth_rx_intr_wait looks. */
static int rx_intr_set(struct bp_eth_dev *dev, uint16_t q, bool on)
{
	struct virtio_dev *vd = dev->priv;
	struct virtqueue *vq = vd->vq[2 * q];
	if (on)
		(void)(vq->packed ? vq_intr_enable_packed(vq) : vq_intr_enable(vq));
	else if (vq->packed)
		vq_intr_disable_packed(vq);
	else
		vq_intr_disable(vq);
	return 0;
}
static int virtio_rx_intr_enable(struct bp_eth_dev *dev, uint16_t q) { return rx_intr_set(dev, q, true); }
static int virtio_rx_intr_disable(struct bp_eth_dev *dev, uint16_t q) { return rx_intr_set(dev, q, false); }

static uint32_t virtio_queue_count(void *rxq)
{
	struct virtqueue *vq = rxq;
	return vq->packed ? virtio_rx_queue_count_packed(rxq) : virtio_rx_queue_count(rxq);
}

void virtio_link_changed(struct virtio_dev *vd, bool up)
{
	struct bp_eth_dev *dev = vd->eth;
	if (dev->link.up == up)
		return;
	dev->link.up = up;
	if (up)
		BP_LOG(INFO, "%s: link up", dev->name);
	else
		BP_LOG(WARNING, "%s: link down (the peer is gone)", dev->name);
	bp_eth_dev_event(dev, BP_ETH_EVENT_LINK);
}

static const struct bp_eth_dev_ops virtio_ops = {
	.configure = virtio_configure,
	.start = virtio_start,
	.stop = virtio_stop,
	.close = virtio_close,
	.info_get = virtio_info,
	.rx_queue_setup = virtio_rxq_setup,
	.tx_queue_setup = virtio_txq_setup,
	.rx_queue_release = virtio_rxq_release,
	.tx_queue_release = virtio_txq_release,
	.link_update = virtio_link_update,
	.promiscuous_set = virtio_promisc,
	.rx_intr_enable = virtio_rx_intr_enable,
	.rx_intr_disable = virtio_rx_intr_disable,
	.rx_queue_count = virtio_queue_count,
};

int virtio_port_create(const struct virtio_transport *tr, void *tr_priv, const struct virtio_port_args *a,
		       struct virtio_dev **out)
{
	struct virtio_dev *vd = calloc(1, sizeof(*vd));
	if (!vd)
		return -ENOMEM;
	struct bp_eth_dev *dev = bp_eth_dev_allocate(a->name);
	if (!dev) {
		int rc = -errno;
		free(vd);
		return rc;
	}
	vd->eth = dev;
	vd->tr = tr;
	vd->tr_priv = tr_priv;
	vd->offered = tr->features(vd);
	vd->max_pairs = a->queues ? a->queues : 1;
	vd->want_in_order = a->in_order != 0;
	vd->want_event_idx = (int8_t)a->event_idx;
	vd->want_packed = (int8_t)a->packed;
	dev->priv = vd;
	dev->ops = &virtio_ops;
	dev->driver_name = "net_virtio";
	dev->rx_burst = virtio_rx;
	dev->tx_burst = virtio_tx;
	dev->link = (struct bp_eth_link){ .speed_mbps = 10000, .full_duplex = 1 };
	for (uint16_t q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
		dev->rx_intr_fd[q] = -1;
	if (a->mac) {
		dev->mac = *a->mac;
	} else {
		if (getrandom(dev->mac.b, sizeof(dev->mac.b), 0) != (ssize_t)sizeof(dev->mac.b))
			memset(dev->mac.b, 0x5a, sizeof(dev->mac.b));
		dev->mac.b[0] = (uint8_t)((dev->mac.b[0] & 0xfe) | 0x02); /* unicast, locally administered */
	}
	*out = vd;
	return 0;
}
