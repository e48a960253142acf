/* SPDX-License-Identifier: MIT
 * net_null: a port with no wire. rx hands out fresh mbufs of a fixed size taken
 * from the queue's mempool; tx frees what it is given. It measures what the
 * framework itself costs per packet.
 *
 *   --vdev net_null0[,size=64][,no-rx=1][,queues=4]
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/ethdev.h>
#include <bypass/log.h>

#define NULL_MAX_QUEUES 16

struct null_rxq {
	struct bp_mempool *mp;
	uint64_t rearm; /* headroom, refcnt 1, one segment, our port */
	uint32_t size;
	bool no_rx;
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

struct null_txq {
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

struct null_port {
	uint32_t size;
	uint16_t queues;
	bool no_rx;
};

static uint16_t null_rx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct null_rxq *q = qp;

	if (bp_unlikely(q->no_rx || n == 0))
		return 0;
	if (bp_unlikely(bp_mempool_get_bulk(q->mp, (void **)pkts, n) < 0)) {
		q->st.nombuf += n;
		return 0;
	}
	const uint64_t rearm = q->rearm;
	const uint32_t size = q->size;
	for (uint16_t i = 0; i < n; i++) {
		struct bp_mbuf *m = pkts[i];
		m->rearm = rearm;
		m->ol_flags = 0;
		m->pkt_len = size;
		m->data_len = (uint16_t)size;
		m->vlan_tci = 0;
		m->packet_type = 0;
	}
	q->st.packets += n;
	q->st.bytes += (uint64_t)n * size;
	return n;
}

static uint16_t null_tx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct null_txq *q = qp;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	bp_pktmbuf_free_bulk(pkts, n);
	q->st.packets += n;
	q->st.bytes += bytes;
	return n;
}

static void null_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	struct null_port *p = dev->priv;
	info->max_rx_queues = info->max_tx_queues = p->queues;
	info->max_rx_pktlen = 9600;
}

static int null_rxq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb_desc,
			  struct bp_mempool *mp)
{
	struct null_port *p = dev->priv;
	struct null_rxq *q;
	(void)nb_desc;

	if (p->size + BP_PKTMBUF_HEADROOM > bp_pktmbuf_data_room(mp)) {
		BP_LOG(ERR, "%s: packets of %u bytes do not fit the mbufs of pool %s (%u after headroom)",
		       dev->name, p->size, mp->name, bp_pktmbuf_data_room(mp) - BP_PKTMBUF_HEADROOM);
		return -EINVAL;
	}
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->mp = mp;
	q->size = p->size;
	q->no_rx = p->no_rx;
	q->rearm = bp_pktmbuf_rx_rearm(mp, dev->port_id);
	dev->rx_queues[qi] = q;
	dev->rxq_stats[qi] = &q->st;
	return 0;
}

static int null_txq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb_desc)
{
	struct null_txq *q;
	(void)nb_desc;
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	dev->tx_queues[qi] = q;
	dev->txq_stats[qi] = &q->st;
	return 0;
}

static void null_rxq_release(struct bp_eth_dev *dev, uint16_t q) { free(dev->rx_queues[q]); }
static void null_txq_release(struct bp_eth_dev *dev, uint16_t q) { free(dev->tx_queues[q]); }

static int null_start(struct bp_eth_dev *dev)
{
	dev->link.up = 1;
	return 0;
}

static int null_stop(struct bp_eth_dev *dev)
{
	dev->link.up = 0;
	return 0;
}

static int null_promisc(struct bp_eth_dev *dev, int on)
{
	(void)dev, (void)on;
	return 0;
}

static void null_close(struct bp_eth_dev *dev)
{
	free(dev->priv);
	dev->priv = NULL;
}

static const struct bp_eth_dev_ops null_ops = {
	.start = null_start,
	.stop = null_stop,
	.close = null_close,
	.info_get = null_info,
	.rx_queue_setup = null_rxq_setup,
	.tx_queue_setup = null_txq_setup,
	.rx_queue_release = null_rxq_release,
	.tx_queue_release = null_txq_release,
	.link_update = bp_eth_link_update_virtual,
	.promiscuous_set = null_promisc,
};

static int null_probe(const char *name, const char *args)
{
	static const char *const keys[] = { "size", "no-rx", "queues", NULL };
	struct bp_kvargs *kv = bp_kvargs_parse(args, keys);
	unsigned long size = 64, no_rx = 0, queues = 1;
	int rc = -EINVAL;

	if (!kv)
		return -EINVAL;
	if (bp_kvargs_get_uint(kv, name, "size", 1, 9600, &size) < 0 ||
	    bp_kvargs_get_uint(kv, name, "no-rx", 0, 1, &no_rx) < 0 ||
	    bp_kvargs_get_uint(kv, name, "queues", 1, NULL_MAX_QUEUES, &queues) < 0)
		goto out;

	struct null_port *p = calloc(1, sizeof(*p));
	if (!p) {
		rc = -ENOMEM;
		goto out;
	}
	p->size = (uint32_t)size;
	p->no_rx = no_rx;
	p->queues = (uint16_t)queues;
	struct bp_eth_dev *dev = bp_eth_dev_allocate(name);
	if (!dev) {
		rc = -errno;
		free(p);
		goto out;
	}
	dev->priv = p;
	dev->ops = &null_ops;
	dev->driver_name = "net_null";
	dev->rx_burst = null_rx;
	dev->tx_burst = null_tx;
	/* Locally administered address with the port id in the last byte. */
	dev->mac = (struct bp_ether_addr){ { 0x02, 0, 0, 0, 0, (uint8_t)dev->port_id } };
	rc = 0;
out:
	bp_kvargs_free(kv);
	return rc;
}

const struct bp_vdev_driver bp_vdev_net_null = {
	.name = "net_null",
	.params = "size=<bytes 1..9600, default 64>,no-rx=0|1,queues=<1..16>",
	.probe = null_probe,
};
