/* SPDX-License-Identifier: MIT
 * net_tap: a kernel TAP interface as a port — bypass's exception path to the
 * kernel. What the port sends, the kernel receives on the interface; what the
 * kernel sends out of the interface, the port receives.
 *
 *   --vdev net_tap0[,iface=NAME][,queues=N][,mac=02:00:00:00:00:01]
 *
 * The kernel's interface (Documentation/networking/tuntap.rst):
 *  - 3.1 "Network device allocation": open /dev/net/tun, TUNSETIFF with
 *    IFF_TAP (Ethernet frames) | IFF_NO_PI (no 4-byte packet-information
 *    prefix): each read() gives one whole frame, each write() sends one.
 *    An existing interface of that name (`ip tuntap add mode tap`, say) is
 *    attached to; otherwise one is made, and goes away when the port closes.
 *  - 3.3 "Multiqueue tuntap interface": with IFF_MULTI_QUEUE each TUNSETIFF
 *    on a new fd adds a queue, and the kernel spreads its outgoing flows over
 *    the queues; TUNSETQUEUE (IFF_ATTACH_QUEUE / IFF_DETACH_QUEUE) takes a
 *    queue in and out of that spreading. queues=N opens N fds; start attaches
 *    the ones the port uses and detaches the others, so no frame waits on a
 *    queue nobody polls.
 *  - No IFF_VNET_HDR, and TUNSETOFFLOAD 0: the kernel computes every checksum
 *    and segments every TSO frame before it reaches us, and expects the same.
 *
 * rx: one read() per frame, straight into an mbuf (no copy). A TAP fd is a
 * character device, not a socket: there is no recvmmsg, and readv() fills
 * one frame's segments, not several frames. So a burst is a loop of read()s
 * into mbufs taken from the pool in bulk and kept between bursts (an empty
 * poll costs one readv() that says EAGAIN, and no trip to the pool). A port
 * whose max_rx_pktlen exceeds one mbuf reads into as many, and every read
 * has one byte more past them, to tell a frame cut short.
 * tx: one write() per frame, writev() for a chain; the kernel has the bytes
 * when it returns, so the mbufs are freed at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <linux/if_tun.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include "../kif/kif.h"

#define TAP_MAX_QUEUES 16
#define TAP_SPARE 64     /* mbufs a queue keeps ready for the next reads */
#define TAP_MAX_SEGS 8   /* mbufs one frame may take */

struct tap_rxq {
	int fd;
	uint16_t nseg;   /* mbufs read into for one frame */
	uint16_t nspare;
	uint32_t room;   /* data bytes per mbuf */
	uint32_t max;    /* nseg * room: the longest frame a read takes whole */
	uint8_t past_end[1]; /* read into only by a frame longer than max */
	uint64_t rearm;
	struct bp_mempool *mp;
	struct bp_eth_queue_stats st;
	struct kif_intr intr;
	struct bp_mbuf *spare[TAP_SPARE]; /* from the pool, free-mbuf invariant intact */
} BP_CACHE_ALIGNED;

struct tap_txq {
	int fd;
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

struct tap_port {
	char ifname[IFNAMSIZ];
	uint16_t nfd;
	bool multi;    /* IFF_MULTI_QUEUE */
	bool was_up;   /* the interface was up before our start */
	int fd[TAP_MAX_QUEUES];
	uint64_t drops_base; /* the interface's tx_dropped at the last reset */
};

/* Takes mbufs from the pool into the queue's spares: as many as fit, else
 * one frame's worth. */
static void rx_refill(struct tap_rxq *q)
{
	uint32_t want = TAP_SPARE - q->nspare;
	if (bp_mempool_get_bulk(q->mp, (void **)q->spare + q->nspare, want) == 0)
		q->nspare = TAP_SPARE;
	else if (bp_mempool_get_bulk(q->mp, (void **)q->spare + q->nspare, q->nseg) == 0)
		q->nspare = (uint16_t)(q->nspare + q->nseg);
}

/* No mbuf to read into: the frame is read into a scratch buffer and counted
 * as nombuf (a NIC drops it the same way), so the kernel's queue drains.
 * false when there was no frame to drop: nothing waits (EAGAIN), or the fd
 * fails (EIO, EBADFD: the interface was deleted or the queue detached),
 * counted as an error; either way the burst ends. */
static bool rx_drop_one(struct tap_rxq *q)
{
	char scratch[64];
	ssize_t r = read(q->fd, scratch, sizeof(scratch));
	if (r <= 0) {
		if (r == 0 || errno != EAGAIN)
			q->st.errors++;
		return false;
	}
	q->st.nombuf++;
	return true;
}

static uint16_t tap_rx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct tap_rxq *q = qp;
	uint16_t got = 0;
	uint64_t bytes = 0;

	while (got < n) {
		if (bp_unlikely(q->nspare < q->nseg)) {
			rx_refill(q);
			if (q->nspare < q->nseg) {
				if (!rx_drop_one(q))
					break;
				continue;
			}
		}
		struct bp_mbuf *m = q->spare[q->nspare - 1];
		/* One byte past what the mbufs take: a longer frame reaches it. */
		struct iovec iov[TAP_MAX_SEGS + 1];
		for (uint16_t s = 0; s < q->nseg; s++)
			iov[s] = (struct iovec){
				(char *)q->spare[q->nspare - 1 - s]->buf_addr + BP_PKTMBUF_HEADROOM, q->room };
		iov[q->nseg] = (struct iovec){ q->past_end, sizeof(q->past_end) };
		ssize_t r = readv(q->fd, iov, q->nseg + 1);
		if (r <= 0) {
			if (r == 0 || errno != EAGAIN)
				q->st.errors++; /* EIO: the interface went away */
			break;
		}
		/* A frame longer than the mbufs take was cut short: depending on
		 * the kernel, read() returns the frame's whole length or what it
		 * copied, one byte past max here. Either way it is more than
		 * max: dropped, the spares stay. */
		if (bp_unlikely((uint32_t)r > q->max)) {
			q->st.errors++;
			continue;
		}
		/* The frame's segments are the top spares, in order from the last. */
		uint32_t len = (uint32_t)r, used = q->nseg == 1 ? 1 : (len + q->room - 1) / q->room;
		for (uint32_t s = 0; s < used; s++) {
			struct bp_mbuf *seg = q->spare[q->nspare - 1 - s];
			seg->rearm = q->rearm;
			seg->ol_flags = 0;
			seg->vlan_tci = 0;
			seg->packet_type = 0;
			seg->data_len = (uint16_t)BP_MIN(q->room, len - s * q->room);
			seg->pkt_len = seg->data_len;
			seg->next = s + 1 < used ? q->spare[q->nspare - 2 - s] : NULL;
		}
		m->nb_segs = (uint16_t)used;
		m->pkt_len = len;
		q->nspare = (uint16_t)(q->nspare - used);
		pkts[got++] = m;
		bytes += len;
	}
	q->st.packets += got;
	q->st.bytes += bytes;
	return got;
}

static uint16_t tap_tx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct tap_txq *q = qp;
	uint16_t i;
	uint64_t bytes = 0, sent = 0;

	for (i = 0; i < n; i++) {
		struct bp_mbuf *m = pkts[i];
		ssize_t r;
		if (bp_likely(m->nb_segs == 1)) {
			r = write(q->fd, bp_pktmbuf_mtod(m, void *), m->data_len);
		} else {
			struct iovec iov[TAP_MAX_SEGS];
			int k = 0;
			for (struct bp_mbuf *s = m; s && k < TAP_MAX_SEGS; s = s->next, k++)
				iov[k] = (struct iovec){ bp_pktmbuf_mtod(s, void *), s->data_len };
			r = m->nb_segs <= TAP_MAX_SEGS ? writev(q->fd, iov, k) : (errno = EMSGSIZE, -1);
		}
		if (bp_unlikely(r < 0)) {
			if (errno == EAGAIN || errno == ENOBUFS)
				break; /* the caller keeps this one and the rest */
			q->st.errors++; /* unsendable (too short, too long, interface down): freed */
			continue;
		}
		sent++;
		bytes += m->pkt_len;
	}
	bp_pktmbuf_free_bulk(pkts, i);
	q->st.packets += sent;
	q->st.bytes += bytes;
	return i;
}

static void tap_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	struct tap_port *p = dev->priv;
	info->max_rx_queues = info->max_tx_queues = p->nfd;
	info->max_rx_pktlen = 9000 + BP_ETHER_HDR_LEN;
}

static int tap_rxq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb_desc,
			 struct bp_mempool *mp)
{
	struct tap_port *p = dev->priv;
	struct tap_rxq *q;
	(void)nb_desc; /* the kernel's queue is the ring: its length is the interface's txqueuelen */
	uint32_t room = bp_pktmbuf_data_room(mp) - BP_PKTMBUF_HEADROOM;
	uint32_t nseg = (dev->conf.max_rx_pktlen + room - 1) / room;
	if (nseg > TAP_MAX_SEGS) {
		BP_LOG(ERR, "%s: frames of %u bytes take %u mbufs of pool %s; give a pool of larger mbufs "
			    "(at most %d per frame)", dev->name, dev->conf.max_rx_pktlen, nseg, mp->name, TAP_MAX_SEGS);
		return -EINVAL;
	}
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->fd = p->fd[qi];
	q->mp = mp;
	q->room = room;
	q->nseg = (uint16_t)nseg;
	q->max = nseg * room;
	q->rearm = bp_pktmbuf_rx_rearm(mp, dev->port_id);
	q->intr.efd = -1;
	dev->rx_queues[qi] = q;
	dev->rxq_stats[qi] = &q->st;
	return 0;
}

static int tap_txq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb_desc)
{
	struct tap_port *p = dev->priv;
	struct tap_txq *q;
	(void)nb_desc;
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->fd = p->fd[qi];
	dev->tx_queues[qi] = q;
	dev->txq_stats[qi] = &q->st;
	return 0;
}

/* The spares go back to the pool: a stopped port holds no mbuf. */
static void rxq_drain(struct tap_rxq *q)
{
	bp_mempool_put_bulk(q->mp, (void *const *)q->spare, q->nspare);
	q->nspare = 0;
}

static void tap_rxq_release(struct bp_eth_dev *dev, uint16_t q)
{
	rxq_drain(dev->rx_queues[q]);
	free(dev->rx_queues[q]);
}
static void tap_txq_release(struct bp_eth_dev *dev, uint16_t q) { free(dev->tx_queues[q]); }

static int set_queue(int fd, bool attach)
{
	struct ifreq ifr = { .ifr_flags = attach ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };
	return ioctl(fd, TUNSETQUEUE, &ifr) < 0 && errno != EINVAL ? -errno : 0;
}

static int tap_stop(struct bp_eth_dev *dev);

/* The kernel may send frames of its MTU, a VLAN tag and the Ethernet header;
 * longer than an rx queue reads, they are dropped (ierrors): say so once. */
static void warn_mtu(struct bp_eth_dev *dev)
{
	struct tap_port *p = dev->priv;
	unsigned mtu;
	if (kif_mtu_get(p->ifname, &mtu) < 0)
		return;
	for (uint16_t q = 0; q < dev->nb_rx_queues; q++) {
		const struct tap_rxq *rq = dev->rx_queues[q];
		if (mtu + BP_ETHER_HDR_LEN + 4 > rq->max) {
			BP_LOG(WARNING, "%s: %s has MTU %u, but rx queue %u reads frames of at most %u bytes: "
					"longer ones are dropped and counted in ierrors; configure max_rx_pktlen %u",
			       dev->name, p->ifname, mtu, q, rq->max, mtu + BP_ETHER_HDR_LEN + 4);
			return;
		}
	}
}

static int tap_start(struct bp_eth_dev *dev)
{
	struct tap_port *p = dev->priv;
	uint16_t used = BP_MAX(dev->nb_rx_queues, dev->nb_tx_queues);
	int rc = 0;
	/* Attach first, then detach: a multi-queue interface keeps one queue. */
	for (uint16_t i = 0; p->multi && i < p->nfd && !rc; i++)
		if (i < used)
			rc = set_queue(p->fd[i], true);
	for (uint16_t i = used; p->multi && i < p->nfd && !rc; i++)
		rc = set_queue(p->fd[i], false);
	if (rc < 0) {
		BP_LOG(ERR, "%s: %s: TUNSETQUEUE: %s", dev->name, p->ifname, strerror(-rc));
		return rc;
	}
	for (uint16_t q = 0; dev->conf.rx_intr && q < dev->nb_rx_queues && !rc; q++) {
		struct tap_rxq *rq = dev->rx_queues[q];
		rc = kif_intr_start(dev, q, &rq->intr, rq->fd);
	}
	unsigned flags = 0;
	if (!rc && (rc = kif_flags_get(p->ifname, &flags)) == 0) {
		p->was_up = flags & IFF_UP;
		rc = kif_flags_change(p->ifname, IFF_UP, 0);
	}
	if (rc < 0) {
		BP_LOG(ERR, "%s: cannot bring %s up: %s (needs CAP_NET_ADMIN)", dev->name, p->ifname,
		       strerror(-rc));
		tap_stop(dev);
		return rc;
	}
	warn_mtu(dev);
	kif_link_update(dev, p->ifname);
	return 0;
}

static int tap_stop(struct bp_eth_dev *dev)
{
	struct tap_port *p = dev->priv;
	for (uint16_t q = 0; q < dev->nb_rx_queues; q++) {
		struct tap_rxq *rq = dev->rx_queues[q];
		if (!rq)
			continue;
		kif_intr_stop(dev, q, &rq->intr);
		rxq_drain(rq);
	}
	if (!p->was_up)
		kif_flags_change(p->ifname, 0, IFF_UP); /* as we found it */
	dev->link.up = 0;
	return 0;
}

static int tap_link_update(struct bp_eth_dev *dev, int wait)
{
	(void)wait;
	struct tap_port *p = dev->priv;
	return kif_link_update(dev, p->ifname);
}

/* imissed: frames the kernel meant for us but dropped because the queue was
 * full (the interface's tx_dropped: it transmits towards us). */
static int tap_stats_get(struct bp_eth_dev *dev, struct bp_eth_stats *st)
{
	struct tap_port *p = dev->priv;
	st->imissed += kif_sysfs_counter(p->ifname, "tx_dropped") - p->drops_base;
	return 0;
}

static int tap_stats_reset(struct bp_eth_dev *dev)
{
	struct tap_port *p = dev->priv;
	p->drops_base = kif_sysfs_counter(p->ifname, "tx_dropped");
	return 0;
}

/* Every frame the kernel sends on the interface comes to us anyway. */
static int tap_promisc(struct bp_eth_dev *dev, int on)
{
	(void)dev, (void)on;
	return 0;
}

/* The port's address is the interface's: what the kernel answers ARP with. */
static int tap_mac_set(struct bp_eth_dev *dev, const struct bp_ether_addr *mac)
{
	struct tap_port *p = dev->priv;
	int rc = kif_mac_set(p->ifname, mac);
	if (rc < 0) /* (on success ethdev records it in dev->mac; probe reads it back) */
		BP_LOG(ERR, "%s: cannot set the MAC address of %s: %s", dev->name, p->ifname, strerror(-rc));
	return rc;
}

static int tap_intr_enable(struct bp_eth_dev *dev, uint16_t q)
{
	return kif_intr_enable(&((struct tap_rxq *)dev->rx_queues[q])->intr);
}
static int tap_intr_disable(struct bp_eth_dev *dev, uint16_t q)
{
	return kif_intr_disable(&((struct tap_rxq *)dev->rx_queues[q])->intr);
}
static uint32_t tap_rx_count(void *qp) { return kif_fd_readable(((struct tap_rxq *)qp)->fd); }

static void close_fds(struct tap_port *p)
{
	for (uint16_t i = 0; i < p->nfd; i++)
		close(p->fd[i]);
	p->nfd = 0;
}

static void tap_close(struct bp_eth_dev *dev)
{
	close_fds(dev->priv); /* an interface we made goes with its last fd */
	free(dev->priv);
	dev->priv = NULL;
}

static const struct bp_eth_dev_ops tap_ops = {
	.start = tap_start,
	.stop = tap_stop,
	.close = tap_close,
	.info_get = tap_info,
	.rx_queue_setup = tap_rxq_setup,
	.tx_queue_setup = tap_txq_setup,
	.rx_queue_release = tap_rxq_release,
	.tx_queue_release = tap_txq_release,
	.link_update = tap_link_update,
	.stats_get = tap_stats_get,
	.stats_reset = tap_stats_reset,
	.promiscuous_set = tap_promisc,
	.mac_addr_set = tap_mac_set,
	.rx_intr_enable = tap_intr_enable,
	.rx_intr_disable = tap_intr_disable,
	.rx_queue_count = tap_rx_count,
};

/* tuntap.rst 3.1/3.3: one fd per queue, all named alike. The first TUNSETIFF
 * makes the interface (or attaches to one of that name) and returns its name
 * (a template with %d gets a number). */
static int open_queues(struct tap_port *p, const char *dev, const char *want, unsigned queues)
{
	for (unsigned i = 0; i < queues; i++) {
		struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | (queues > 1 ? IFF_MULTI_QUEUE : 0) };
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", i ? p->ifname : want);
		int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			int rc = -errno;
			BP_LOG(ERR, "%s: cannot open /dev/net/tun: %s (load the tun module, or run as root)",
			       dev, strerror(errno));
			return rc;
		}
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			int rc = -errno;
			BP_LOG(ERR, "%s: cannot %s TAP interface %s: %s%s", dev, i ? "add a queue to" : "create or attach",
			       ifr.ifr_name, strerror(errno),
			       errno == EPERM ? " (needs CAP_NET_ADMIN)"
			       : errno == EINVAL ? " (a TUN or a TAP with other flags has this name; choose another iface=)"
						 : "");
			close(fd);
			return rc;
		}
		p->fd[p->nfd++] = fd;
		if (i == 0)
			snprintf(p->ifname, sizeof(p->ifname), "%s", ifr.ifr_name);
		/* No offloads: every frame whole and checksummed, both ways. */
		if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
			BP_LOG(DEBUG, "%s: TUNSETOFFLOAD 0: %s", dev, strerror(errno));
	}
	return 0;
}

static int parse_mac(const char *dev, const char *s, struct bp_ether_addr *mac)
{
	unsigned b[6];
	int end = 0;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6 || s[end]) {
		BP_LOG(ERR, "%s: mac=%s: write six hex bytes, e.g. mac=02:00:00:00:00:01", dev, s);
		return -EINVAL;
	}
	for (int i = 0; i < 6; i++)
		mac->b[i] = (uint8_t)b[i];
	return 0;
}

static int tap_probe(const char *name, const char *args)
{
	static const char *const keys[] = { "iface", "queues", "mac", NULL };
	struct bp_kvargs *kv = bp_kvargs_parse(args, keys);
	unsigned long queues = 1;
	struct bp_ether_addr mac;
	struct tap_port *p = NULL;
	struct bp_eth_dev *dev = NULL;
	int rc = -EINVAL;

	if (!kv)
		return -EINVAL;
	const char *iface = bp_kvargs_get(kv, "iface"), *mac_s = bp_kvargs_get(kv, "mac");
	if (bp_kvargs_get_uint(kv, name, "queues", 1, TAP_MAX_QUEUES, &queues) < 0 ||
	    (mac_s && parse_mac(name, mac_s, &mac) < 0))
		goto out;
	if (iface && (!*iface || strlen(iface) >= IFNAMSIZ)) {
		BP_LOG(ERR, "%s: iface=%s: give an interface name of 1 to %d characters", name, iface, IFNAMSIZ - 1);
		goto out;
	}
	rc = -ENOMEM;
	if (!(p = calloc(1, sizeof(*p))))
		goto out;
	p->multi = queues > 1;
	if ((rc = open_queues(p, name, iface ? iface : "bptap%d", (unsigned)queues)) < 0)
		goto out;
	if (!(dev = bp_eth_dev_allocate(name))) {
		rc = -errno;
		goto out;
	}
	dev->priv = p;
	dev->ops = &tap_ops;
	dev->driver_name = "net_tap";
	dev->rx_burst = tap_rx;
	dev->tx_burst = tap_tx;
	p->drops_base = kif_sysfs_counter(p->ifname, "tx_dropped");
	if (mac_s && (rc = tap_mac_set(dev, &mac)) < 0)
		goto out;
	if ((rc = kif_mac_get(p->ifname, &dev->mac)) < 0) {
		BP_LOG(ERR, "%s: cannot read the MAC address of %s: %s", name, p->ifname, strerror(-rc));
		goto out;
	}
	BP_LOG(INFO, "%s: TAP interface %s, %lu queue(s)", name, p->ifname, queues);
	rc = 0;
out:
	if (rc < 0 && dev) {
		bp_eth_dev_release(dev);
		dev = NULL;
	}
	if (rc < 0 && p) {
		close_fds(p);
		free(p);
	}
	bp_kvargs_free(kv);
	return rc;
}

const struct bp_vdev_driver bp_vdev_net_tap = {
	.name = "net_tap",
	.params = "iface=<name, default bptapN>,queues=<1..16>,mac=<xx:xx:xx:xx:xx:xx>",
	.probe = tap_probe,
};
