/* SPDX-License-Identifier: MIT
 * net_af_packet: any Linux network interface as a port, through packet
 * sockets with memory-mapped rings (packet(7); the ring layout is
 * Documentation/networking/packet_mmap.rst and <linux/if_packet.h>).
 *
 *   --vdev net_af_packet0,iface=NAME[,queues=N][,qdisc_bypass=0|1][,blocks_kb=64]
 *
 * rx, per queue: a socket with a TPACKET_V3 ring. The kernel writes frames
 * back to back into blocks and hands a whole block to user space when it is
 * full or when the retire timer (1 ms) runs out; rx walks the block's frames
 * and gives the block back (block_status = TP_STATUS_KERNEL) once it has
 * taken the last. Frames are copied into mbufs: a block is given back whole,
 * so its memory cannot travel in an mbuf to wherever the application keeps
 * it (zero copy out of the ring would hold the kernel's block hostage).
 * Frames the interface sends are not ours (PACKET_IGNORE_OUTGOING, and
 * sll_pkttype PACKET_OUTGOING skipped on kernels without it); a VLAN tag the
 * kernel took off is put back, so the mbuf holds the frame as it came.
 * With queues=N the N sockets join one PACKET_FANOUT group of type
 * PACKET_FANOUT_HASH: the kernel spreads flows over them by its flow hash.
 *
 * tx, per queue: a socket with a TPACKET_V2 ring of fixed-size frames and no
 * protocol (it receives nothing). tx_burst copies each frame into the next
 * frame whose status is TP_STATUS_AVAILABLE, sets TP_STATUS_SEND_REQUEST,
 * frees the mbufs, and ends with one sendto(MSG_DONTWAIT) for the burst; the
 * kernel sets each frame back to AVAILABLE once sent. A ring with no
 * available frame is full: tx takes fewer. PACKET_QDISC_BYPASS (default on)
 * hands frames straight to the driver, past the interface's queueing
 * discipline (a frame the driver's queue cannot take is then dropped, not
 * queued: packet(7)); PACKET_LOSS lets the kernel skip a malformed frame instead of
 * stopping the ring at it.
 *
 * Sockets and rings are made at start and closed at stop: a stopped port
 * receives nothing, and a started one only what arrived since.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include "../kif/kif.h"

#define AFP_MAX_QUEUES 16
#define AFP_RETIRE_MS 1 /* a block with frames goes to user space at least this often */

struct afp_rxq {
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t block_size, nb_blocks, cur;
	uint32_t left;    /* frames not yet taken from the open block */
	uint8_t *pkt;     /* next frame of the open block; NULL: none open */
	struct bp_mempool *mp;
	uint16_t port;
	uint8_t *scratch; /* a frame with its VLAN tag put back */
	struct bp_eth_queue_stats st;
	uint64_t drops;   /* the kernel's tp_drops so far: no free block */
	struct kif_intr intr;
} BP_CACHE_ALIGNED;

struct afp_txq {
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t frame_size, nb_frames, cur;
	uint32_t max_len; /* the interface's MTU + Ethernet header (+ 4: tx_len_ok) */
	bool pending;     /* the last sendto failed: frames wait in the ring */
	struct bp_eth_queue_stats st;
} BP_CACHE_ALIGNED;

struct afp_port {
	char ifname[IFNAMSIZ];
	uint16_t queues;
	bool qdisc_bypass;
	bool was_up;
	bool promisc;
	uint32_t block_size;
	uint16_t rx_desc[AFP_MAX_QUEUES], tx_desc[AFP_MAX_QUEUES];
};

static inline struct tpacket_block_desc *block(const struct afp_rxq *q, uint32_t i)
{
	return (struct tpacket_block_desc *)(q->map + (size_t)i * q->block_size);
}

/* The open block's last frame was taken: it goes back to the kernel. */
static inline void rx_block_done(struct afp_rxq *q)
{
	__atomic_store_n(&block(q, q->cur)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	q->cur = q->cur + 1 == q->nb_blocks ? 0 : q->cur + 1;
	q->pkt = NULL;
}

/* The frame at h as an mbuf chain, its VLAN tag (if the kernel took it off)
 * back after the addresses (IEEE 802.1Q: TPID then TCI). */
static struct bp_mbuf *rx_frame(struct afp_rxq *q, const struct tpacket3_hdr *h)
{
	const uint8_t *data = (const uint8_t *)h + h->tp_mac;
	uint32_t len = h->tp_snaplen;
	if (bp_unlikely(h->tp_status & TP_STATUS_VLAN_VALID)) {
		uint16_t tpid = h->tp_status & TP_STATUS_VLAN_TPID_VALID ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
		uint8_t tag[4] = { (uint8_t)(tpid >> 8), (uint8_t)tpid, (uint8_t)(h->hv1.tp_vlan_tci >> 8),
				   (uint8_t)h->hv1.tp_vlan_tci };
		memcpy(q->scratch, data, 12);
		memcpy(q->scratch + 12, tag, 4);
		memcpy(q->scratch + 16, data + 12, len - 12);
		data = q->scratch;
		len += 4;
	}
	return bp_pktmbuf_copy_from(q->mp, data, len, q->port);
}

static uint16_t afp_rx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct afp_rxq *q = qp;
	uint16_t got = 0;
	uint64_t bytes = 0;

	while (got < n) {
		if (!q->pkt) {
			struct tpacket_block_desc *b = block(q, q->cur);
			if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
				break;
			q->left = b->hdr.bh1.num_pkts;
			q->pkt = (uint8_t *)b + b->hdr.bh1.offset_to_first_pkt;
			if (bp_unlikely(!q->left)) {
				rx_block_done(q);
				continue;
			}
		}
		const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)q->pkt;
		const struct sockaddr_ll *sll =
			(const struct sockaddr_ll *)((const uint8_t *)h + TPACKET_ALIGN(sizeof(*h)));
		if (bp_unlikely(h->tp_snaplen < h->tp_len || h->tp_snaplen < BP_ETHER_HDR_LEN)) {
			q->st.errors++; /* longer than the ring's frames: cut short */
		} else if (bp_likely(sll->sll_pkttype != PACKET_OUTGOING)) {
			struct bp_mbuf *m = rx_frame(q, h);
			if (bp_likely(m != NULL)) {
				pkts[got++] = m;
				bytes += m->pkt_len;
			} else {
				q->st.nombuf++;
			}
		}
		q->pkt += h->tp_next_offset;
		if (--q->left == 0)
			rx_block_done(q);
	}
	q->st.packets += got;
	q->st.bytes += bytes;
	return got;
}

static inline struct tpacket2_hdr *tx_frame(const struct afp_txq *q, uint32_t i)
{
	return (struct tpacket2_hdr *)(q->map + (size_t)i * q->frame_size);
}

/* The kernel sends a frame 4 bytes past MTU + Ethernet header when it is
 * VLAN-tagged, TPID 0x8100 only (net/packet/af_packet.c,
 * packet_extra_vlan_len_allowed: an 802.1ad 0x88a8 frame is refused there,
 * and with PACKET_LOSS dropped unseen, so it is refused here, counted). rx
 * puts tags back, so a full-size tagged frame received on one af_packet
 * port is one of these when another sends it. */
static inline bool tx_len_ok(const struct afp_txq *q, const struct bp_mbuf *m)
{
	if (bp_likely(m->pkt_len <= q->max_len))
		return m->pkt_len >= BP_ETHER_HDR_LEN;
	uint8_t tpid[2];
	return m->pkt_len <= q->max_len + 4 && bp_pktmbuf_read(m, 12, 2, tpid) == 0 && tpid[0] == 0x81 &&
	       tpid[1] == 0x00;
}

static uint16_t afp_tx(void *qp, struct bp_mbuf **pkts, uint16_t n)
{
	struct afp_txq *q = qp;
	uint16_t i;
	uint32_t queued = 0;
	uint64_t bytes = 0;

	for (i = 0; i < n; i++) {
		struct bp_mbuf *m = pkts[i];
		struct tpacket2_hdr *h = tx_frame(q, q->cur);
		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
			break; /* the ring is full: the caller keeps the rest */
		if (bp_unlikely(!tx_len_ok(q, m))) {
			q->st.errors++; /* unsendable: freed below */
			continue;
		}
		/* TPACKET_V2 tx: the frame's bytes start after the aligned header
		 * (the sockaddr_ll that follows it on rx is not used). */
		uint8_t *dst = (uint8_t *)h + TPACKET_ALIGN(sizeof(*h));
		if (bp_likely(m->nb_segs == 1))
			memcpy(dst, bp_pktmbuf_mtod(m, void *), m->data_len);
		else
			bp_pktmbuf_read(m, 0, m->pkt_len, dst);
		h->tp_len = m->pkt_len;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		q->cur = q->cur + 1 == q->nb_frames ? 0 : q->cur + 1;
		queued++;
		bytes += m->pkt_len;
	}
	bp_pktmbuf_free_bulk(pkts, i);
	/* Frames the kernel could not take now (EAGAIN, ENOBUFS, ENETDOWN...)
	 * stay requested in the ring: every later burst asks again. */
	if (queued || q->pending)
		q->pending = sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0;
	q->st.packets += queued;
	q->st.bytes += bytes;
	return i;
}

static void afp_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	struct afp_port *p = dev->priv;
	unsigned mtu = 1500;
	kif_mtu_get(p->ifname, &mtu);
	info->max_rx_queues = info->max_tx_queues = p->queues;
	info->max_rx_pktlen = mtu + BP_ETHER_HDR_LEN + 4; /* a VLAN tag put back */
	info->rx_desc_min = info->tx_desc_min = 64;
	info->rx_desc_max = info->tx_desc_max = 32768;
}

/* Rings are made at start; set-up keeps the sizes (and the pool). */
static int afp_rxq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb_desc, struct bp_mempool *mp)
{
	struct afp_port *p = dev->priv;
	struct afp_rxq *q;
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->fd = q->intr.efd = -1;
	q->mp = mp;
	q->port = dev->port_id;
	p->rx_desc[qi] = nb_desc;
	dev->rx_queues[qi] = q;
	dev->rxq_stats[qi] = &q->st;
	return 0;
}

static int afp_txq_setup(struct bp_eth_dev *dev, uint16_t qi, uint16_t nb_desc)
{
	struct afp_port *p = dev->priv;
	struct afp_txq *q;
	if (posix_memalign((void **)&q, BP_CACHE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->fd = -1;
	p->tx_desc[qi] = nb_desc;
	dev->tx_queues[qi] = q;
	dev->txq_stats[qi] = &q->st;
	return 0;
}

static void afp_rxq_release(struct bp_eth_dev *dev, uint16_t q) { free(dev->rx_queues[q]); }
static void afp_txq_release(struct bp_eth_dev *dev, uint16_t q) { free(dev->tx_queues[q]); }

static int sockopt(int fd, int opt, const void *v, socklen_t len, const char *dev, const char *what)
{
	if (setsockopt(fd, SOL_PACKET, opt, v, len) == 0)
		return 0;
	int rc = -errno;
	BP_LOG(ERR, "%s: %s: %s", dev, what, strerror(errno));
	return rc;
}

/* packet(7): a socket of no protocol receives nothing until bind() names one. */
static int open_socket(const char *dev, int version)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		BP_LOG(ERR, "%s: socket(AF_PACKET): %s (needs CAP_NET_RAW)", dev, strerror(errno));
		return -errno;
	}
	if (sockopt(fd, PACKET_VERSION, &version, sizeof(version), dev, "PACKET_VERSION") < 0) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static int bind_to(int fd, const char *ifname, uint16_t proto, const char *dev)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				   .sll_ifindex = (int)if_nametoindex(ifname) };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0)
		return 0;
	int rc = -errno;
	BP_LOG(ERR, "%s: bind to %s: %s", dev, ifname, strerror(errno));
	return rc;
}

static int ring_map(int fd, size_t len, uint8_t **map, const char *dev)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
	if (m == MAP_FAILED)
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		BP_LOG(ERR, "%s: mmap of a %zu-byte packet ring: %s", dev, len, strerror(errno));
		return -errno;
	}
	*map = m;
	return 0;
}

static int set_promisc(struct bp_eth_dev *dev, int fd, int on)
{
	struct afp_port *p = dev->priv;
	struct packet_mreq mr = { .mr_ifindex = (int)if_nametoindex(p->ifname), .mr_type = PACKET_MR_PROMISC };
	return sockopt(fd, on ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &mr, sizeof(mr), dev->name,
		       "promiscuous membership");
}

#define FANOUT_TAKEN 1 /* rxq_open: the fan-out group id is in use */

/* 0, FANOUT_TAKEN, or negative errno. */
static int rxq_open(struct bp_eth_dev *dev, uint16_t qi, unsigned mtu, int fanout)
{
	struct afp_port *p = dev->priv;
	struct afp_rxq *q = dev->rx_queues[qi];
	/* Frames of up to 2 KiB nominally (the ring is sized in them; V3 packs
	 * frames at their own length), blocks of blocks_kb, a whole frame of
	 * the largest size in one. */
	uint32_t frame = 2048, bs = p->block_size;
	while (bs < TPACKET3_HDRLEN + mtu + BP_ETHER_HDR_LEN + 64)
		bs *= 2;
	uint32_t nb = BP_MAX(2u, (uint32_t)p->rx_desc[qi] * frame / bs);
	struct tpacket_req3 req = { .tp_block_size = bs, .tp_block_nr = nb, .tp_frame_size = frame,
				    .tp_frame_nr = bs / frame * nb, .tp_retire_blk_tov = AFP_RETIRE_MS };
	int one = 1, rc;
	if ((q->fd = open_socket(dev->name, TPACKET_V3)) < 0)
		return q->fd;
	if ((rc = sockopt(q->fd, PACKET_RX_RING, &req, sizeof(req), dev->name, "PACKET_RX_RING")) < 0 ||
	    (rc = ring_map(q->fd, (size_t)bs * nb, &q->map, dev->name)) < 0)
		return rc;
	q->map_len = (size_t)bs * nb;
	q->block_size = bs;
	q->nb_blocks = nb;
	q->cur = 0;
	q->pkt = NULL;
	if (!(q->scratch = malloc(bs)))
		return -ENOMEM;
	if (setsockopt(q->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		BP_LOG(DEBUG, "%s: no PACKET_IGNORE_OUTGOING (%s): outgoing frames skipped in rx", dev->name,
		       strerror(errno));
	if ((rc = bind_to(q->fd, p->ifname, ETH_P_ALL, dev->name)) < 0)
		return rc;
	if (fanout >= 0) {
		int arg = fanout | PACKET_FANOUT_HASH << 16;
		if (setsockopt(q->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
			if (errno == EINVAL)
				return FANOUT_TAKEN; /* a group of that id and another type */
			rc = -errno;
			BP_LOG(ERR, "%s: PACKET_FANOUT: %s", dev->name, strerror(errno));
			return rc;
		}
	}
	if (p->promisc && (rc = set_promisc(dev, q->fd, 1)) < 0)
		return rc;
	if (dev->conf.rx_intr)
		return kif_intr_start(dev, qi, &q->intr, q->fd);
	return 0;
}

static int txq_open(struct bp_eth_dev *dev, uint16_t qi, unsigned mtu)
{
	struct afp_port *p = dev->priv;
	struct afp_txq *q = dev->tx_queues[qi];
	uint32_t frame = 2048;
	while (frame < TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) + mtu + BP_ETHER_HDR_LEN + 4)
		frame *= 2;
	uint32_t bs = BP_MAX(frame, 65536u), per = bs / frame;
	uint32_t nb = BP_MAX(1u, (p->tx_desc[qi] + per - 1) / per);
	struct tpacket_req req = { .tp_block_size = bs, .tp_block_nr = nb, .tp_frame_size = frame,
				   .tp_frame_nr = per * nb };
	int one = 1, rc;
	if ((q->fd = open_socket(dev->name, TPACKET_V2)) < 0)
		return q->fd;
	if ((rc = sockopt(q->fd, PACKET_LOSS, &one, sizeof(one), dev->name, "PACKET_LOSS")) < 0 ||
	    (p->qdisc_bypass &&
	     (rc = sockopt(q->fd, PACKET_QDISC_BYPASS, &one, sizeof(one), dev->name, "PACKET_QDISC_BYPASS")) < 0) ||
	    (rc = sockopt(q->fd, PACKET_TX_RING, &req, sizeof(req), dev->name, "PACKET_TX_RING")) < 0 ||
	    (rc = ring_map(q->fd, (size_t)bs * nb, &q->map, dev->name)) < 0)
		return rc;
	q->map_len = (size_t)bs * nb;
	q->frame_size = frame;
	q->nb_frames = per * nb;
	q->cur = 0;
	q->pending = false;
	q->max_len = mtu + BP_ETHER_HDR_LEN;
	return bind_to(q->fd, p->ifname, 0, dev->name); /* protocol 0: sends, receives nothing */
}

/* The kernel's count of frames it dropped for want of a free block; reading
 * it clears it (packet(7), PACKET_STATISTICS). */
static void rxq_take_drops(struct afp_rxq *q)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);
	if (q->fd >= 0 && getsockopt(q->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		__atomic_fetch_add(&q->drops, st.tp_drops, __ATOMIC_RELAXED);
}

/* Every socket and ring of the port closed; the interface as it is. */
static void close_queues(struct bp_eth_dev *dev)
{
	for (uint16_t i = 0; i < dev->nb_rx_queues; i++) {
		struct afp_rxq *q = dev->rx_queues[i];
		kif_intr_stop(dev, i, &q->intr);
		rxq_take_drops(q);
		if (q->map)
			munmap(q->map, q->map_len);
		if (q->fd >= 0)
			close(q->fd);
		free(q->scratch);
		q->scratch = NULL;
		q->map = NULL;
		q->fd = -1;
	}
	for (uint16_t i = 0; i < dev->nb_tx_queues; i++) {
		struct afp_txq *q = dev->tx_queues[i];
		if (q->map)
			munmap(q->map, q->map_len);
		if (q->fd >= 0)
			close(q->fd);
		q->map = NULL;
		q->fd = -1;
	}
}

static int afp_stop(struct bp_eth_dev *dev)
{
	struct afp_port *p = dev->priv;
	close_queues(dev);
	if (!p->was_up)
		kif_flags_change(p->ifname, 0, IFF_UP);
	dev->link.up = 0;
	return 0;
}

static int afp_start(struct bp_eth_dev *dev)
{
	struct afp_port *p = dev->priv;
	unsigned mtu = 1500, flags = 0;
	int rc = kif_flags_get(p->ifname, &flags);
	if (rc < 0) {
		BP_LOG(ERR, "%s: interface %s: %s", dev->name, p->ifname, strerror(-rc));
		return rc;
	}
	p->was_up = flags & IFF_UP;
	/* Up before the sockets bind: a packet socket bound to a down
	 * interface carries ENETDOWN as a pending error, and poll() reports it
	 * until someone reads it. */
	if ((rc = kif_flags_change(p->ifname, IFF_UP, 0)) < 0) {
		BP_LOG(ERR, "%s: cannot bring %s up: %s (needs CAP_NET_ADMIN)", dev->name, p->ifname, strerror(-rc));
		return rc;
	}
	kif_mtu_get(p->ifname, &mtu);
	/* A fan-out group id is global to the network namespace: ours is made
	 * of our pid and port, and the next ones are tried if it is taken. */
	int fanout = -1;
	for (int attempt = 0; attempt < 16; attempt++) {
		if (dev->nb_rx_queues > 1)
			fanout = (int)((getpid() * 32 + dev->port_id + attempt * 7919) & 0xffff);
		rc = 0;
		for (uint16_t i = 0; i < dev->nb_rx_queues && !rc; i++)
			rc = rxq_open(dev, i, mtu, fanout);
		if (rc != FANOUT_TAKEN)
			break;
		close_queues(dev); /* the interface stays up: the next id */
	}
	if (rc == FANOUT_TAKEN) {
		BP_LOG(ERR, "%s: PACKET_FANOUT: 16 group ids tried, each in use by another group", dev->name);
		rc = -EADDRINUSE;
	}
	for (uint16_t i = 0; i < dev->nb_tx_queues && !rc; i++)
		rc = txq_open(dev, i, mtu);
	if (rc < 0) {
		afp_stop(dev);
		return rc;
	}
	kif_link_update(dev, p->ifname);
	return 0;
}

static int afp_link_update(struct bp_eth_dev *dev, int wait)
{
	(void)wait;
	return kif_link_update(dev, ((struct afp_port *)dev->priv)->ifname);
}

/* A configured port's queues may not be set up yet (statistics are read at
 * any time, by the telemetry thread too): those count nothing. */
static int afp_stats_get(struct bp_eth_dev *dev, struct bp_eth_stats *st)
{
	for (uint16_t i = 0; i < dev->nb_rx_queues; i++) {
		struct afp_rxq *q = dev->rx_queues[i];
		if (!q)
			continue;
		rxq_take_drops(q);
		st->imissed += __atomic_load_n(&q->drops, __ATOMIC_RELAXED);
	}
	return 0;
}

static int afp_stats_reset(struct bp_eth_dev *dev)
{
	for (uint16_t i = 0; i < dev->nb_rx_queues; i++) {
		struct afp_rxq *q = dev->rx_queues[i];
		if (!q)
			continue;
		rxq_take_drops(q);
		__atomic_store_n(&q->drops, 0, __ATOMIC_RELAXED);
	}
	return 0;
}

static int afp_promisc(struct bp_eth_dev *dev, int on)
{
	struct afp_port *p = dev->priv;
	int rc = 0;
	if (p->promisc == !!on)
		return 0;
	for (uint16_t i = 0; i < dev->nb_rx_queues && !rc; i++) {
		struct afp_rxq *q = dev->rx_queues[i];
		if (q && q->fd >= 0)
			rc = set_promisc(dev, q->fd, on);
	}
	if (!rc)
		p->promisc = on;
	return rc;
}

static int afp_mac_set(struct bp_eth_dev *dev, const struct bp_ether_addr *mac)
{
	return kif_mac_set(((struct afp_port *)dev->priv)->ifname, mac);
}

static int afp_intr_enable(struct bp_eth_dev *dev, uint16_t q)
{
	struct afp_rxq *rq = dev->rx_queues[q];
	int err;
	socklen_t len = sizeof(err);
	/* A pending error (ENETDOWN: the interface went down) reads as
	 * "ready" for ever: clear it, or the queue never sleeps. */
	getsockopt(rq->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return kif_intr_enable(&rq->intr);
}
static int afp_intr_disable(struct bp_eth_dev *dev, uint16_t q)
{
	return kif_intr_disable(&((struct afp_rxq *)dev->rx_queues[q])->intr);
}

static uint32_t afp_rx_count(void *qp)
{
	struct afp_rxq *q = qp;
	if (q->pkt)
		return q->left;
	const struct tpacket_block_desc *b = block(q, q->cur);
	return __atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER ? b->hdr.bh1.num_pkts : 0;
}

static void afp_close(struct bp_eth_dev *dev)
{
	free(dev->priv);
	dev->priv = NULL;
}

static const struct bp_eth_dev_ops afp_ops = {
	.start = afp_start,
	.stop = afp_stop,
	.close = afp_close,
	.info_get = afp_info,
	.rx_queue_setup = afp_rxq_setup,
	.tx_queue_setup = afp_txq_setup,
	.rx_queue_release = afp_rxq_release,
	.tx_queue_release = afp_txq_release,
	.link_update = afp_link_update,
	.stats_get = afp_stats_get,
	.stats_reset = afp_stats_reset,
	.promiscuous_set = afp_promisc,
	.mac_addr_set = afp_mac_set,
	.rx_intr_enable = afp_intr_enable,
	.rx_intr_disable = afp_intr_disable,
	.rx_queue_count = afp_rx_count,
};

static int afp_probe(const char *name, const char *args)
{
	static const char *const keys[] = { "iface", "queues", "qdisc_bypass", "blocks_kb", NULL };
	struct bp_kvargs *kv = bp_kvargs_parse(args, keys);
	unsigned long queues = 1, bypass = 1, kb = 64;
	int rc = -EINVAL;
	if (!kv)
		return -EINVAL;
	const char *iface = bp_kvargs_get(kv, "iface");
	if (bp_kvargs_get_uint(kv, name, "queues", 1, AFP_MAX_QUEUES, &queues) < 0 ||
	    bp_kvargs_get_uint(kv, name, "qdisc_bypass", 0, 1, &bypass) < 0 ||
	    bp_kvargs_get_uint(kv, name, "blocks_kb", 4, 4096, &kb) < 0)
		goto out;
	if (!iface || !*iface) {
		BP_LOG(ERR, "%s: name the interface: --vdev %s,iface=eth1", name, name);
		goto out;
	}
	if (strlen(iface) >= IFNAMSIZ || !if_nametoindex(iface)) {
		BP_LOG(ERR, "%s: there is no interface %s here (ip link lists them; in a network namespace, "
			    "run under ip netns exec)", name, iface);
		rc = -ENODEV;
		goto out;
	}
	if (kb & (kb - 1)) {
		BP_LOG(ERR, "%s: blocks_kb=%lu: give a power of two", name, kb);
		goto out;
	}
	struct afp_port *p = calloc(1, sizeof(*p));
	if (!p) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(p->ifname, sizeof(p->ifname), "%s", iface);
	p->queues = (uint16_t)queues;
	p->qdisc_bypass = bypass;
	p->block_size = (uint32_t)kb * 1024;
	struct bp_eth_dev *dev = bp_eth_dev_allocate(name);
	if (!dev) {
		rc = -errno;
		free(p);
		goto out;
	}
	dev->priv = p;
	dev->ops = &afp_ops;
	dev->driver_name = "net_af_packet";
	dev->rx_burst = afp_rx;
	dev->tx_burst = afp_tx;
	kif_mac_get(p->ifname, &dev->mac);
	rc = 0;
out:
	bp_kvargs_free(kv);
	return rc;
}

const struct bp_vdev_driver bp_vdev_net_af_packet = {
	.name = "net_af_packet",
	.params = "iface=<name>,queues=<1..16>,qdisc_bypass=0|1,blocks_kb=<power of two, 4..4096>",
	.probe = afp_probe,
};
