/* SPDX-License-Identifier: MIT
 * net_ring: see include/bypass/eth_ring.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/eth_ring.h>
#include <bypass/log.h>

#define RING_MAX_QUEUES 16

/* Rings one port receives from; shared with a peer that sends into them, so
 * they are freed (and the mbufs still in them) when the last user closes. */
struct ring_set {
	unsigned refcnt;
	bool owned; /* created by the driver (not handed in by bp_eth_from_rings) */
	uint16_t n;
	struct bp_ring *rings[RING_MAX_QUEUES];
};

struct ring_q {
	struct bp_ring *ring;
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

struct ring_port {
	struct ring_set *rx_set; /* rings we receive from */
	struct ring_set *tx_set; /* rings we send into (ours when looped back) */
	struct ring_q rxq[RING_MAX_QUEUES];
	struct ring_q txq[RING_MAX_QUEUES];
};

static uint16_t ring_rx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct ring_q *q = qp;
	uint16_t got = (uint16_t)bp_ring_dequeue_burst(q->ring, (void **)pkts, n, NULL);
	uint64_t bytes = 0;
	for (uint16_t i = 0; i < got; i++)
		bytes += pkts[i]->pkt_len;
	q->st.packets += got;
	q->st.bytes += bytes;
	return got;
}

static uint16_t ring_tx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct ring_q *q = qp;
	uint16_t sent = (uint16_t)bp_ring_enqueue_burst(q->ring, (void *const *)pkts, n, NULL);
	uint64_t bytes = 0;
	for (uint16_t i = 0; i < sent; i++)
		bytes += pkts[i]->pkt_len;
	q->st.packets += sent;
	q->st.bytes += bytes;
	return sent;
}

static void set_put(struct ring_set *s)
{
	if (!s || --s->refcnt)
		return;
	if (s->owned) {
		for (uint16_t i = 0; i < s->n; i++) {
			void *m;
			while (bp_ring_dequeue(s->rings[i], &m) == 0)
				bp_pktmbuf_free(m);
			bp_ring_free(s->rings[i]);
		}
	}
	free(s);
}

static struct ring_set *set_new(uint16_t n, uint32_t size, const char *name)
{
	struct ring_set *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->refcnt = 1;
	s->owned = true;
	for (uint16_t i = 0; i < n; i++) {
		char rn[BP_RING_NAMESIZE];
		snprintf(rn, sizeof(rn), "%.20s_rx%u", name, (unsigned)i);
		s->rings[i] = bp_ring_create(rn, size, BP_RING_F_SP_ENQ | BP_RING_F_SC_DEQ);
		if (!s->rings[i]) {
			set_put(s);
			return NULL;
		}
		s->n = (uint16_t)(i + 1);
	}
	return s;
}

static void ring_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	struct ring_port *p = dev->priv;
	info->max_rx_queues = p->rx_set->n;
	info->max_tx_queues = p->tx_set->n;
	info->max_rx_pktlen = 9600;
}

static int ring_rxq_setup(struct bp_eth_dev *dev, uint16_t q, uint16_t nb_desc,
			  struct bp_mempool *mp)
{
	struct ring_port *p = dev->priv;
	(void)nb_desc, (void)mp;
	p->rxq[q].ring = p->rx_set->rings[q];
	dev->rx_queues[q] = &p->rxq[q];
	dev->rxq_stats[q] = memset(&p->rxq[q].st, 0, sizeof(p->rxq[q].st));
	return 0;
}

static int ring_txq_setup(struct bp_eth_dev *dev, uint16_t q, uint16_t nb_desc)
{
	struct ring_port *p = dev->priv;
	(void)nb_desc;
	p->txq[q].ring = p->tx_set->rings[q];
	dev->tx_queues[q] = &p->txq[q];
	dev->txq_stats[q] = memset(&p->txq[q].st, 0, sizeof(p->txq[q].st));
	return 0;
}

static void ring_close(struct bp_eth_dev *dev)
{
	struct ring_port *p = dev->priv;
	set_put(p->rx_set);
	set_put(p->tx_set);
	free(p);
	dev->priv = NULL;
}

static const struct bp_eth_dev_ops ring_ops = {
	.close = ring_close,
	.info_get = ring_info,
	.rx_queue_setup = ring_rxq_setup,
	.tx_queue_setup = ring_txq_setup,
	.link_update = bp_eth_link_update_virtual,
};

static int ring_port_create(const char *name, struct ring_set *rx, struct ring_set *tx)
{
	struct ring_port *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	struct bp_eth_dev *dev = bp_eth_dev_allocate(name);
	if (!dev) {
		free(p);
		return -errno;
	}
	p->rx_set = rx;
	p->tx_set = tx;
	dev->priv = p;
	dev->ops = &ring_ops;
	dev->driver_name = "net_ring";
	dev->rx_burst = ring_rx;
	dev->tx_burst = ring_tx;
	dev->mac = (struct bp_ether_addr){ { 0x02, 0x72, 0, 0, 0, (uint8_t)dev->port_id } };
	return dev->port_id;
}

static int ring_probe(const char *name, const char *args)
{
	static const char *const keys[] = { "queues", "size", "peer", NULL };
	struct bp_kvargs *kv = bp_kvargs_parse(args, keys);
	unsigned long queues = 1, size = 1024;
	int rc = -EINVAL;

	if (!kv)
		return -EINVAL;
	if (bp_kvargs_get_uint(kv, name, "queues", 1, RING_MAX_QUEUES, &queues) < 0 ||
	    bp_kvargs_get_uint(kv, name, "size", 2, 1u << 20, &size) < 0)
		goto out;
	if (!bp_is_power_of_2(size)) {
		BP_LOG(ERR, "%s: size=%lu is not a power of two", name, size);
		goto out;
	}
	struct bp_eth_dev *peer = NULL;
	const char *peer_name = bp_kvargs_get(kv, "peer");
	if (peer_name) {
		uint16_t pp;
		if (bp_eth_dev_get_port_by_name(peer_name, &pp) < 0 ||
		    strcmp(bp_eth_dev_get(pp)->driver_name, "net_ring") != 0) {
			BP_LOG(ERR, "%s: peer=%s is not an earlier net_ring port; list the peer's --vdev first",
			       name, peer_name);
			goto out;
		}
		peer = bp_eth_dev_get(pp);
		struct ring_port *pr = peer->priv;
		if (pr->tx_set != pr->rx_set || peer->state != BP_ETH_ATTACHED) {
			BP_LOG(ERR, "%s: peer %s is already joined to another port or in use", name, peer_name);
			goto out;
		}
		if (pr->rx_set->n != queues) {
			BP_LOG(ERR, "%s: queues=%lu differs from peer %s's %u", name, queues, peer_name,
			       pr->rx_set->n);
			goto out;
		}
	}
	struct ring_set *own = set_new((uint16_t)queues, (uint32_t)size, name);
	if (!own) {
		rc = -ENOMEM;
		goto out;
	}
	if (peer) {
		/* We send into the peer's rings; the peer now sends into ours. */
		struct ring_port *pr = peer->priv;
		pr->rx_set->refcnt++;
		rc = ring_port_create(name, own, pr->rx_set);
		if (rc < 0) {
			set_put(pr->rx_set);
			set_put(own);
			goto out;
		}
		set_put(pr->tx_set); /* was the peer's own set: drop its loopback reference */
		own->refcnt++;
		pr->tx_set = own;
	} else {
		own->refcnt++; /* rx and tx of the same port */
		rc = ring_port_create(name, own, own);
		if (rc < 0) {
			set_put(own);
			set_put(own);
			goto out;
		}
	}
	rc = 0;
out:
	bp_kvargs_free(kv);
	return rc;
}

int bp_eth_from_rings(const char *name, struct bp_ring *const rx[], uint16_t nb_rx,
		      struct bp_ring *const tx[], uint16_t nb_tx)
{
	if (nb_rx > RING_MAX_QUEUES || nb_tx > RING_MAX_QUEUES || (!nb_rx && !nb_tx)) {
		BP_LOG(ERR, "%s: give 1..%d rx and tx rings", name, RING_MAX_QUEUES);
		return -EINVAL;
	}
	struct ring_set *rs = calloc(1, sizeof(*rs)), *ts = calloc(1, sizeof(*ts));
	if (!rs || !ts) {
		free(rs);
		free(ts);
		return -ENOMEM;
	}
	rs->refcnt = ts->refcnt = 1;
	rs->n = nb_rx;
	ts->n = nb_tx;
	for (uint16_t i = 0; i < nb_rx; i++)
		rs->rings[i] = rx[i];
	for (uint16_t i = 0; i < nb_tx; i++)
		ts->rings[i] = tx[i];
	int rc = ring_port_create(name, rs, ts);
	if (rc < 0) {
		free(rs);
		free(ts);
	}
	return rc;
}

const struct bp_vdev_driver bp_vdev_net_ring = {
	.name = "net_ring",
	.params = "queues=<1..16>,size=<power of two>,peer=<earlier net_ring port>",
	.probe = ring_probe,
};
