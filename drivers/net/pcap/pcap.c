/* SPDX-License-Identifier: MIT
 * net_pcap: a port whose wire is a pair of capture files, through libpcap
 * (pcap(3PCAP)): rx replays one, tx records into the other.
 *
 *   --vdev net_pcap0,rx_pcap=IN.pcap[,tx_pcap=OUT.pcap][,infinite_rx=1]
 *
 * rx reads the file's frames in order (pcap or pcapng, whatever libpcap
 * opens), each copied into an mbuf chain, its capture time in mbuf->timestamp
 * (ns). At the end of the file rx gives nothing more; with infinite_rx=1 it
 * opens the file again and goes on. A record cut short in the file
 * (captured length below the frame's length), shorter than an Ethernet
 * header or longer than the port's max_rx_pktlen is counted in ierrors and
 * skipped; a frame that finds the
 * pool empty is lost (rx_nombuf) and ends the burst, as on a NIC, and the
 * next burst goes on from the frame after it. Each start replays the file
 * from its beginning.
 *
 * tx appends each frame whole to OUT (a nanosecond-resolution pcap file,
 * link type Ethernet), stamped with the time it was sent, and frees the
 * mbufs; the file is flushed at stop and closed at close. The file is made
 * (or emptied) when the port is created.
 *
 * One rx and one tx queue. The link is up while the port runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <pcap/pcap.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/ethdev.h>

#define PCAP_SNAPLEN 65535
#define PCAP_MAX_PKTLEN 9600
/* Destination, source, type/length (IEEE 802.3 §3.1.1): no port hands out
 * a frame without them, and the programs that read them take them as there. */
#define PCAP_MIN_PKTLEN 14

struct pcap_rxq {
	pcap_t *p;
	struct bp_mempool *mp;
	uint16_t port_id;
	uint32_t max_len;
	uint64_t records; /* read since the file was (re)opened */
	struct bp_eth_queue_stats st;
	struct pcap_port *port;
} BP_CACHE_ALIGNED;

struct pcap_txq {
	struct bp_eth_queue_stats st;
	struct pcap_port *port;
	uint8_t scratch[PCAP_SNAPLEN]; /* a chained frame made contiguous */
} BP_CACHE_ALIGNED;

struct pcap_port {
	char *rx_path, *tx_path;
	bool infinite;
	pcap_t *dead;       /* the tx file's link type and resolution */
	pcap_dumper_t *dump;
	uint64_t loops;     /* times infinite_rx started the file again */
};

static pcap_t *open_rx(const char *dev, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p)
		BP_LOG(ERR, "%s: rx_pcap=%s: %s (give a pcap or pcapng file)", dev, path, err);
	else if (pcap_datalink(p) != DLT_EN10MB) {
		BP_LOG(ERR, "%s: rx_pcap=%s holds %s frames; give a capture of Ethernet frames", dev, path,
		       pcap_datalink_val_to_name(pcap_datalink(p)));
		pcap_close(p);
		p = NULL;
	}
	return p;
}

static uint16_t pcap_rx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct pcap_rxq *q = qp;
	uint16_t got = 0, got_at_end = 0;
	uint64_t bytes = 0;
	bool ended = false;

	while (got < n && q->p) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(q->p, &h, &data);
		if (rc == PCAP_ERROR_BREAK) { /* the end of the file */
			pcap_close(q->p);
			q->p = NULL;
			/* infinite_rx: again, unless the file has no record at all */
			if (q->port->infinite && q->records) {
				q->p = open_rx("net_pcap", q->port->rx_path);
				q->records = 0;
				q->port->loops++;
			}
			/* A whole pass in this burst gave nothing (every record
			 * skipped as an error): the next burst goes on. */
			if (ended && got == got_at_end)
				break;
			ended = true;
			got_at_end = got;
			continue;
		}
		if (rc != 1) {
			q->st.errors++; /* a damaged record: the rest of the file is unreadable */
			pcap_close(q->p);
			q->p = NULL;
			break;
		}
		q->records++;
		if (bp_unlikely(h->caplen < h->len || h->len > q->max_len || h->len < PCAP_MIN_PKTLEN)) {
			q->st.errors++;
			continue;
		}
		struct bp_mbuf *m = bp_pktmbuf_copy_from(q->mp, data, h->caplen, q->port_id);
		if (bp_unlikely(!m)) {
			q->st.nombuf++; /* this frame is lost, as a NIC loses it; the pool is empty */
			break;
		}
		m->timestamp = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec; /* ns: NANO precision */
		pkts[got++] = m;
		bytes += h->caplen;
	}
	q->st.packets += got;
	q->st.bytes += bytes;
	return got;
}

static uint16_t pcap_tx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct pcap_txq *q = qp;
	struct timespec now;
	uint64_t bytes = 0, sent = 0;
	clock_gettime(CLOCK_REALTIME, &now);
	/* With a nanosecond dumper, tv_usec carries nanoseconds. */
	struct pcap_pkthdr h = { .ts = { .tv_sec = now.tv_sec, .tv_usec = now.tv_nsec } };
	for (uint16_t i = 0; i < n; i++) {
		struct bp_mbuf *m = pkts[i];
		const u_char *data = bp_pktmbuf_mtod(m, const u_char *);
		if (bp_unlikely(m->pkt_len > PCAP_SNAPLEN)) {
			q->st.errors++;
			continue;
		}
		if (m->nb_segs > 1) {
			bp_pktmbuf_read(m, 0, m->pkt_len, q->scratch);
			data = q->scratch;
		}
		h.caplen = h.len = m->pkt_len;
		pcap_dump((u_char *)q->port->dump, &h, data);
		sent++;
		bytes += m->pkt_len;
	}
	bp_pktmbuf_free_bulk(pkts, n);
	q->st.packets += sent;
	q->st.bytes += bytes;
	return n;
}

/* No tx_pcap: what is sent is dropped (and counted as sent). */
static uint16_t pcap_tx_drop(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct pcap_txq *q = qp;
	for (uint16_t i = 0; i < n; i++)
		q->st.bytes += pkts[i]->pkt_len;
	q->st.packets += n;
	bp_pktmbuf_free_bulk(pkts, n);
	return n;
}

/* No rx_pcap: nothing arrives. */
static uint16_t pcap_rx_none(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	(void)qp, (void)pkts, (void)n;
	return 0;
}

static void pcap_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	(void)dev;
	info->max_rx_pktlen = PCAP_MAX_PKTLEN;
}

static int pcap_rxq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb_desc, struct bp_mempool *mp)
{
	struct pcap_rxq *q;
	(void)nb_desc;
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->mp = mp;
	q->port_id = dev->port_id;
	q->max_len = dev->conf.max_rx_pktlen;
	q->port = dev->priv;
	dev->rx_queues[qi] = q;
	dev->rxq_stats[qi] = &q->st;
	return 0;
}

static int pcap_txq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb_desc)
{
	struct pcap_txq *q;
	(void)nb_desc;
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, offsetof(struct pcap_txq, scratch));
	q->port = dev->priv;
	dev->tx_queues[qi] = q;
	dev->txq_stats[qi] = &q->st;
	return 0;
}

static void close_rx(struct bp_eth_dev *dev)
{
	struct pcap_rxq *q = dev->nb_rx_queues ? dev->rx_queues[0] : NULL;
	if (q && q->p) {
		pcap_close(q->p);
		q->p = NULL;
	}
}

static void pcap_rxq_release(struct bp_eth_dev *dev, uint16_t q)
{
	close_rx(dev);
	free(dev->rx_queues[q]);
}
static void pcap_txq_release(struct bp_eth_dev *dev, uint16_t q) { free(dev->tx_queues[q]); }

static int pcap_start(struct bp_eth_dev *dev)
{
	struct pcap_port *p = dev->priv;
	struct pcap_rxq *q = dev->nb_rx_queues ? dev->rx_queues[0] : NULL;
	if (q && p->rx_path && !(q->p = open_rx(dev->name, p->rx_path)))
		return -EIO;
	if (q)
		q->records = 0;
	dev->link = (struct bp_eth_link){ .speed_mbps = 10000, .up = 1, .full_duplex = 1 };
	return 0;
}

static int pcap_stop(struct bp_eth_dev *dev)
{
	struct pcap_port *p = dev->priv;
	close_rx(dev);
	if (p->dump)
		pcap_dump_flush(p->dump);
	dev->link.up = 0;
	return 0;
}

static int pcap_promisc(struct bp_eth_dev *dev, int on)
{
	(void)dev, (void)on;
	return 0;
}

static void port_free(struct pcap_port *p)
{
	if (p->dump)
		pcap_dump_close(p->dump); /* flushes */
	if (p->dead)
		pcap_close(p->dead);
	free(p->rx_path);
	free(p->tx_path);
	free(p);
}

static void pcap_close_port(struct bp_eth_dev *dev)
{
	port_free(dev->priv);
	dev->priv = NULL;
}

static const struct bp_eth_dev_ops pcap_ops = {
	.start = pcap_start,
	.stop = pcap_stop,
	.close = pcap_close_port,
	.info_get = pcap_info,
	.rx_queue_setup = pcap_rxq_setup,
	.tx_queue_setup = pcap_txq_setup,
	.rx_queue_release = pcap_rxq_release,
	.tx_queue_release = pcap_txq_release,
	.link_update = bp_eth_link_update_virtual,
	.promiscuous_set = pcap_promisc,
};

static int pcap_probe(const char *name, const char *args)
{
	static const char *const keys[] = { "rx_pcap", "tx_pcap", "infinite_rx", NULL };
	struct bp_kvargs *kv = bp_kvargs_parse(args, keys);
	unsigned long infinite = 0;
	struct pcap_port *p = NULL;
	int rc = -EINVAL;
	if (!kv)
		return -EINVAL;
	const char *rx = bp_kvargs_get(kv, "rx_pcap"), *tx = bp_kvargs_get(kv, "tx_pcap");
	if (bp_kvargs_get_uint(kv, name, "infinite_rx", 0, 1, &infinite) < 0)
		goto out;
	if (!rx && !tx) {
		BP_LOG(ERR, "%s: give a file to replay, to record into, or both: rx_pcap=IN.pcap,tx_pcap=OUT.pcap", name);
		goto out;
	}
	rc = -ENOMEM;
	if (!(p = calloc(1, sizeof(*p))) || (rx && !(p->rx_path = strdup(rx))) || (tx && !(p->tx_path = strdup(tx))))
		goto out;
	p->infinite = infinite;
	rc = -EIO;
	if (rx) { /* readable and of Ethernet frames: say so now, not at start */
		pcap_t *t = open_rx(name, rx);
		if (!t)
			goto out;
		pcap_close(t);
	}
	if (tx) {
		p->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, PCAP_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
		if (!p->dead || !(p->dump = pcap_dump_open(p->dead, tx))) {
			BP_LOG(ERR, "%s: tx_pcap=%s cannot be written: %s", name, tx,
			       p->dead ? pcap_geterr(p->dead) : "out of memory");
			goto out;
		}
	}
	struct bp_eth_dev *dev = bp_eth_dev_allocate(name);
	if (!dev) {
		rc = -errno;
		goto out;
	}
	dev->priv = p;
	dev->ops = &pcap_ops;
	dev->driver_name = "net_pcap";
	dev->rx_burst = rx ? pcap_rx : pcap_rx_none;
	dev->tx_burst = tx ? pcap_tx : pcap_tx_drop;
	dev->mac = (struct bp_ether_addr){ { 0x02, 0x70, 0x63, 0x61, 0x70, (uint8_t)dev->port_id } };
	p = NULL;
	rc = 0;
out:
	if (p)
		port_free(p);
	bp_kvargs_free(kv);
	return rc;
}

const struct bp_vdev_driver bp_vdev_net_pcap = {
	.name = "net_pcap",
	.params = "rx_pcap=<file to replay>,tx_pcap=<file to record into>,infinite_rx=0|1",
	.probe = pcap_probe,
};
