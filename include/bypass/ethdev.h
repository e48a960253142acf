/* SPDX-License-Identifier: MIT
 * Ethernet ports.
 *
 * Control path: configure → queue setup → start → (rx/tx) → stop → close.
 * Data path: bp_eth_rx_burst / bp_eth_tx_burst call the driver through a flat
 * per-port table (bp_eth_fp) of two function pointers and the queue arrays — no
 * branch on the driver, no lookup, one indirect call per burst.
 *
 * tx_burst returns how many packets the port took; the caller still owns the rest
 * (free them or try again).
 */
#ifndef BYPASS_ETHDEV_H
#define BYPASS_ETHDEV_H

#include <bypass/common.h>
#include <bypass/mbuf.h>

#define BP_MAX_ETHPORTS 32
#define BP_MAX_QUEUES_PER_PORT 16
#define BP_ETH_NAME_MAX 64
#define BP_ETHER_ADDR_LEN 6
#define BP_ETHER_HDR_LEN 14
#define BP_ETHER_MIN_LEN 60   /* without FCS */
#define BP_ETHER_MAX_LEN 1514 /* without FCS, no VLAN tag */

struct bp_ether_addr {
	uint8_t b[BP_ETHER_ADDR_LEN];
} __attribute__((packed));

typedef uint16_t (*bp_rx_burst_fn)(void *rxq, struct bp_mbuf **pkts, uint16_t n);
typedef uint16_t (*bp_tx_burst_fn)(void *txq, struct bp_mbuf **pkts, uint16_t n);

/* The data-path view of a port: everything a burst needs, in one cache line. */
struct bp_eth_fp {
	bp_rx_burst_fn rx_burst;
	bp_tx_burst_fn tx_burst;
	void **rxq;
	void **txq;
	/* A capture of the port (bypass/capture.h) while one runs, else NULL:
	 * the one branch a burst pays for it. */
	void *capture;
} BP_CACHE_ALIGNED;

extern struct bp_eth_fp bp_eth_fp[BP_MAX_ETHPORTS];

/* lib/capture: copy a burst into the port's capture (tx: of what the driver
 * takes, so it calls the driver itself). */
void bp__capture_rx(uint16_t port, uint16_t queue, struct bp_mbuf **pkts, uint16_t n);
uint16_t bp__capture_tx(uint16_t port, uint16_t queue, struct bp_mbuf **pkts, uint16_t n);

static inline uint16_t bp_eth_rx_burst(uint16_t port, uint16_t queue, struct bp_mbuf **pkts,
				       uint16_t n)
{
	const struct bp_eth_fp *p = &bp_eth_fp[port];
	uint16_t nb = p->rx_burst(p->rxq[queue], pkts, n);
	if (bp_unlikely(__atomic_load_n(&p->capture, __ATOMIC_RELAXED) != NULL))
		bp__capture_rx(port, queue, pkts, nb);
	return nb;
}

static inline uint16_t bp_eth_tx_burst(uint16_t port, uint16_t queue, struct bp_mbuf **pkts,
				       uint16_t n)
{
	const struct bp_eth_fp *p = &bp_eth_fp[port];
	if (bp_unlikely(__atomic_load_n(&p->capture, __ATOMIC_RELAXED) != NULL))
		return bp__capture_tx(port, queue, pkts, n);
	return p->tx_burst(p->txq[queue], pkts, n);
}

/* Frees the mbufs of every packet the port has finished sending on this queue.
 * tx_burst does this itself when it needs room; a program whose mempool could
 * end up held by tx rings (an io forwarder with a tight pool: rx finds no mbuf,
 * so nothing is sent, so nothing is reclaimed) calls this when rx returns
 * nothing. Every driver honours a tx burst of 0 packets this way. */
static inline void bp_eth_tx_done_cleanup(uint16_t port, uint16_t queue)
{
	bp_eth_tx_burst(port, queue, NULL, 0);
}

/* Counters. Each has one meaning, the same for every driver:
 *   ipackets/ibytes  packets/bytes handed to the application by rx_burst
 *   opackets/obytes  packets/bytes the port accepted in tx_burst
 *   imissed   packets the port received but dropped because the rx ring was full
 *             (the application did not poll fast enough)
 *   rx_nombuf packets the port received but rx_burst dropped because the mempool
 *             had no mbuf to put in their place (the frame's own buffer goes
 *             back into the ring at once, so the ring never runs dry); each
 *             such packet is counted once
 *   ierrors   packets received with an error (bad CRC, too long, too short,
 *             longer than one buffer), each counted once
 *   oerrors   packets tx_burst refused as unsendable (too long, too short, more
 *             segments than the ring holds); it frees them and counts them here
 * Bytes exclude the Ethernet FCS. Per-queue counters cover the first
 * BP_MAX_QUEUES_PER_PORT queues. */
struct bp_eth_stats {
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed, ierrors, oerrors, rx_nombuf;
	uint64_t q_ipackets[BP_MAX_QUEUES_PER_PORT];
	uint64_t q_opackets[BP_MAX_QUEUES_PER_PORT];
	uint64_t q_ibytes[BP_MAX_QUEUES_PER_PORT];
	uint64_t q_obytes[BP_MAX_QUEUES_PER_PORT];
	uint64_t q_rx_nombuf[BP_MAX_QUEUES_PER_PORT];
};

/* Counters a driver keeps per queue, written only by the lcore polling it.
 * The driver registers them at queue set-up (bp_eth_dev.rxq_stats/txq_stats);
 * ethdev sums them into bp_eth_stats and clears them. */
struct bp_eth_queue_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t nombuf; /* rx: packets dropped for want of an mbuf; tx: unused */
	uint64_t errors;
};

struct bp_eth_link {
	uint32_t speed_mbps; /* 0 when unknown */
	uint8_t up;
	uint8_t full_duplex;
	uint8_t autoneg;
};

/* Receive-side scaling: the port hashes each frame's addresses (and ports)
 * with the Toeplitz function and a key, looks the hash's low bits up in its
 * redirection table (RETA) and puts the frame on that rx queue, so one flow
 * always lands on one queue and one lcore. Hash types say which fields feed
 * the hash (Microsoft, "RSS Hashing Types"): a TCP frame is hashed on
 * addresses and ports when the *_TCP type is on, else on its addresses when
 * the plain IPv4/IPv6 type is on, else not at all (queue 0). Fragments are
 * hashed on addresses only. The hash rx computed is in mbuf->hash, with
 * BP_MBUF_F_RX_RSS_HASH in ol_flags. bypass/rss.h computes the same in
 * software. */
#define BP_ETH_RSS_IPV4 (1u << 0)
#define BP_ETH_RSS_IPV4_TCP (1u << 1)
#define BP_ETH_RSS_IPV4_UDP (1u << 2)
#define BP_ETH_RSS_IPV6 (1u << 3)
#define BP_ETH_RSS_IPV6_TCP (1u << 4)
#define BP_ETH_RSS_IPV6_UDP (1u << 5)
#define BP_ETH_RSS_IP (BP_ETH_RSS_IPV4 | BP_ETH_RSS_IPV6)
#define BP_ETH_RSS_TCP (BP_ETH_RSS_IPV4_TCP | BP_ETH_RSS_IPV6_TCP)
#define BP_ETH_RSS_UDP (BP_ETH_RSS_IPV4_UDP | BP_ETH_RSS_IPV6_UDP)
#define BP_ETH_RSS_KEY_MAX 52
#define BP_ETH_RETA_MAX 512

struct bp_eth_rss_conf {
	uint32_t hash_types; /* BP_ETH_RSS_*; 0: no RSS, every frame to rx queue 0 */
	uint8_t key_len;     /* 0: bp_eth_rss_default_key */
	uint8_t key[BP_ETH_RSS_KEY_MAX];
};
/* The 40-byte key Microsoft's RSS verification suite uses, and most NICs' default. */
extern const uint8_t bp_eth_rss_default_key[40];

struct bp_eth_dev_info {
	const char *driver_name;
	uint16_t max_rx_queues, max_tx_queues;
	uint16_t rx_desc_min, rx_desc_max, tx_desc_min, tx_desc_max;
	uint32_t max_rx_pktlen; /* largest frame without FCS */
	uint32_t min_rx_bufsize;
	uint32_t rss_hash_types; /* BP_ETH_RSS_* the port can hash on; 0: no RSS */
	uint16_t reta_size;      /* redirection table entries */
	uint8_t rss_key_len;     /* bytes of key the port takes */
	/* Something other than this process reads and writes the mbufs, by
	 * IOVA or shared memory (a PCI NIC, a vhost-user peer): its pools must be
	 * DMA memory, so debug pools (--mbuf-debug) are refused. */
	bool dma;
};

struct bp_eth_conf {
	size_t size; /* sizeof(struct bp_eth_conf): lets the struct grow */
	uint8_t promiscuous;
	uint8_t rx_intr;     /* rx queues can sleep on an interrupt (bp_eth_rx_intr_*) */
	uint8_t link_intr;   /* link changes raise BP_ETH_EVENT_LINK */
	uint32_t max_rx_pktlen; /* 0: standard 1514 */
	/* With more than one rx queue: how frames spread over them. The
	 * redirection table starts as queue i % nb_rx_queues in entry i. */
	struct bp_eth_rss_conf rss;
};

enum bp_eth_event_type {
	BP_ETH_EVENT_LINK = 0, /* the link went up or down: bp_eth_link_get says how */
	/* The device left (hot-unplug): from now on the port's bursts return 0,
	 * its link reads down and start refuses it; stop and close still give
	 * every mbuf back, without touching the hardware. Raised once. */
	BP_ETH_EVENT_REMOVED,
	BP_ETH_EVENT_MAX,
};
/* Runs on the interrupt thread, never on a forwarding lcore. */
typedef void (*bp_eth_event_cb)(uint16_t port, enum bp_eth_event_type event, void *arg);

struct bp_eth_dev;

struct bp_eth_dev_ops {
	int (*configure)(struct bp_eth_dev *dev);
	int (*start)(struct bp_eth_dev *dev);
	int (*stop)(struct bp_eth_dev *dev);
	void (*close)(struct bp_eth_dev *dev);
	void (*info_get)(struct bp_eth_dev *dev, struct bp_eth_dev_info *info);
	int (*rx_queue_setup)(struct bp_eth_dev *dev, uint16_t q, uint16_t nb_desc,
			      struct bp_mempool *mp);
	int (*tx_queue_setup)(struct bp_eth_dev *dev, uint16_t q, uint16_t nb_desc);
	void (*rx_queue_release)(struct bp_eth_dev *dev, uint16_t q);
	void (*tx_queue_release)(struct bp_eth_dev *dev, uint16_t q);
	int (*link_update)(struct bp_eth_dev *dev, int wait);
	/* Hardware counters only (imissed, ierrors, ...): ethdev has already summed
	 * the queues' software counters into *st. Optional. */
	int (*stats_get)(struct bp_eth_dev *dev, struct bp_eth_stats *st);
	/* Clears the hardware counters; ethdev clears the queues'. Optional. */
	int (*stats_reset)(struct bp_eth_dev *dev);
	int (*promiscuous_set)(struct bp_eth_dev *dev, int on);
	int (*mac_addr_set)(struct bp_eth_dev *dev, const struct bp_ether_addr *mac);
	/* rx interrupts (conf.rx_intr): arm and disarm queue q; an armed queue's
	 * interrupt fires once, signals dev->rx_intr_fd[q] and disarms itself. */
	int (*rx_intr_enable)(struct bp_eth_dev *dev, uint16_t q);
	int (*rx_intr_disable)(struct bp_eth_dev *dev, uint16_t q);
	/* Frames waiting in the queue (may stop counting early). */
	uint32_t (*rx_queue_count)(void *rxq);
	/* RSS (info.rss_hash_types != 0). ethdev has checked the new hash types
	 * and key and put them in dev->conf.rss, or the new redirection table in
	 * dev->reta; a started port writes them to the device now, a stopped one
	 * at start (which always programs dev->conf.rss and dev->reta). */
	int (*rss_hash_update)(struct bp_eth_dev *dev);
	int (*reta_update)(struct bp_eth_dev *dev);
};

enum bp_eth_state { BP_ETH_UNUSED = 0, BP_ETH_ATTACHED, BP_ETH_CONFIGURED, BP_ETH_STARTED };

struct bp_eth_dev {
	char name[BP_ETH_NAME_MAX];
	uint16_t port_id;
	enum bp_eth_state state;
	const struct bp_eth_dev_ops *ops;
	const char *driver_name;
	void *priv; /* driver's private data */
	struct bp_eth_conf conf;
	uint16_t nb_rx_queues, nb_tx_queues;
	void *rx_queues[BP_MAX_QUEUES_PER_PORT];
	void *tx_queues[BP_MAX_QUEUES_PER_PORT];
	/* Each queue's counters, set by the driver's queue set-up. */
	struct bp_eth_queue_stats *rxq_stats[BP_MAX_QUEUES_PER_PORT];
	struct bp_eth_queue_stats *txq_stats[BP_MAX_QUEUES_PER_PORT];
	/* With conf.rx_intr, while started: an eventfd per rx queue that its
	 * interrupt signals (-1 otherwise). Set by the driver's start. */
	int rx_intr_fd[BP_MAX_QUEUES_PER_PORT];
	struct bp_ether_addr mac;
	struct bp_eth_link link;
	uint8_t promiscuous;
	uint16_t reta[BP_ETH_RETA_MAX]; /* the redirection table, info.reta_size entries */
	bp_rx_burst_fn rx_burst; /* copied into bp_eth_fp at start */
	bp_tx_burst_fn tx_burst;
	/* The device is gone (bp_eth_dev_removed): a driver's stop and close
	 * wait for no hardware bit, which would never come. */
	bool removed;
};

/* ---- application API ---- */
uint16_t bp_eth_dev_count_avail(void);
/* Next attached port id >= start, or BP_MAX_ETHPORTS. */
uint16_t bp_eth_find_next(uint16_t start);
#define BP_ETH_FOREACH_DEV(p)                                                        \
	for ((p) = bp_eth_find_next(0); (p) < BP_MAX_ETHPORTS; (p) = bp_eth_find_next((p) + 1))
bool bp_eth_dev_is_valid_port(uint16_t port);
int bp_eth_dev_get_port_by_name(const char *name, uint16_t *port);
const char *bp_eth_dev_name(uint16_t port);

/* conf may be NULL (defaults). */
int bp_eth_dev_configure(uint16_t port, uint16_t nb_rxq, uint16_t nb_txq,
			 const struct bp_eth_conf *conf);
int bp_eth_dev_info_get(uint16_t port, struct bp_eth_dev_info *info);
int bp_eth_rx_queue_setup(uint16_t port, uint16_t q, uint16_t nb_desc, struct bp_mempool *mp);
int bp_eth_tx_queue_setup(uint16_t port, uint16_t q, uint16_t nb_desc);
int bp_eth_dev_start(uint16_t port);
int bp_eth_dev_stop(uint16_t port);
int bp_eth_dev_close(uint16_t port);
int bp_eth_link_get(uint16_t port, struct bp_eth_link *link, bool wait);
int bp_eth_macaddr_get(uint16_t port, struct bp_ether_addr *mac);
/* Gives the port another MAC address (the driver's mac_addr_set). */
int bp_eth_dev_mac_addr_set(uint16_t port, const struct bp_ether_addr *mac);
int bp_eth_promiscuous_set(uint16_t port, bool on);
int bp_eth_stats_get(uint16_t port, struct bp_eth_stats *st);
int bp_eth_stats_reset(uint16_t port);
/* Changes the hash types and key, started or not; key_len 0 selects
 * bp_eth_rss_default_key. */
int bp_eth_dev_rss_hash_update(uint16_t port, const struct bp_eth_rss_conf *rss);
/* The hash types and the key in use. */
int bp_eth_dev_rss_hash_conf_get(uint16_t port, struct bp_eth_rss_conf *rss);
/* reta[i] (i < reta_size, which must be the port's info.reta_size) is the rx
 * queue of frames whose hash's low bits are i. */
int bp_eth_dev_rss_reta_update(uint16_t port, const uint16_t *reta, uint16_t reta_size);
int bp_eth_dev_rss_reta_query(uint16_t port, uint16_t *reta, uint16_t reta_size);
/* "02:00:00:00:00:01" */
void bp_ether_format_addr(char *buf, size_t len, const struct bp_ether_addr *a);

/* ---- events and interrupts ---- */
/* cb(port, event, arg) on every such event (up to 8 callbacks per port), on
 * the interrupt thread. A callback may stop or close its own port. */
int bp_eth_dev_callback_register(uint16_t port, enum bp_eth_event_type event, bp_eth_event_cb cb,
				 void *arg);
/* When it returns, the callback is not running and will not run again, so arg
 * may be freed (from within the callback itself it does not wait). */
int bp_eth_dev_callback_unregister(uint16_t port, enum bp_eth_event_type event, bp_eth_event_cb cb,
				   void *arg);
/* rx interrupts of a port started with conf.rx_intr. Arming a queue makes
 * its next frame raise the interrupt once: the queue's fd becomes readable
 * (an eventfd: read 8 bytes to clear it) and the queue disarms itself. */
int bp_eth_rx_intr_enable(uint16_t port, uint16_t queue);
int bp_eth_rx_intr_disable(uint16_t port, uint16_t queue);
/* The queue's fd, for a program's own epoll; negative errno if none. */
int bp_eth_rx_intr_fd(uint16_t port, uint16_t queue);
/* Sleeps until queue may have a frame, or timeout_ms (-1: no limit): arms
 * the interrupt, looks at the ring once more (a frame that came just before
 * the arming raises nothing), sleeps, disarms. 1: woken or a frame was there,
 * 0: timed out, negative errno. */
int bp_eth_rx_intr_wait(uint16_t port, uint16_t queue, int timeout_ms);
/* Frames waiting in an rx queue (a hint: drivers may stop counting early). */
uint32_t bp_eth_rx_queue_count(uint16_t port, uint16_t queue);

/* lib/telemetry: what a port is and has counted, read in one go under the
 * lock that stats readers share; -ENODEV (quietly) for a port that is gone
 * or being closed. */
struct bp__eth_port_report {
	char name[BP_ETH_NAME_MAX];
	const char *driver;
	enum bp_eth_state state;
	struct bp_ether_addr mac;
	struct bp_eth_link link;
	uint16_t nb_rx_queues, nb_tx_queues;
	struct bp_eth_stats stats;
};
int bp__eth_dev_report(uint16_t port, struct bp__eth_port_report *r);

/* ---- driver API ---- */
/* Reserves a port for a new device; NULL with errno set if the name is taken or
 * no port is free. */
struct bp_eth_dev *bp_eth_dev_allocate(const char *name);
/* Releases a port after the driver's close. */
void bp_eth_dev_release(struct bp_eth_dev *dev);
struct bp_eth_dev *bp_eth_dev_get(uint16_t port);
/* link_update for ports with no wire: up at 10 Gb/s full duplex while started. */
int bp_eth_link_update_virtual(struct bp_eth_dev *dev, int wait);
/* The device behind the port has gone (hot-unplug; a driver calls it from
 * its bp_pci_driver.removed, on the interrupt thread): the bursts become
 * ones that return 0, the link reads down, and BP_ETH_EVENT_REMOVED
 * callbacks run. The queues (descriptor rings, mbufs) stay until stop and
 * close. Once only; later calls do nothing. */
void bp_eth_dev_removed(struct bp_eth_dev *dev);
/* Releases every port (bp_cleanup). */
void bp_eth_dev_close_all(void);
/* Runs the callbacks registered for event (from the interrupt thread). */
void bp_eth_dev_event(struct bp_eth_dev *dev, enum bp_eth_event_type event);

/* Virtual devices (--vdev): drivers listed in the build-generated table. */
struct bp_vdev_driver {
	const char *name;   /* device names start with it: net_null0, net_null_a */
	const char *params; /* help text: "size=<bytes>,copy=0|1" */
	int (*probe)(const char *devname, const char *args);
};
extern const struct bp_vdev_driver *const bp_vdev_drivers[];
/* Creates the port for "--vdev name,args". */
int bp_vdev_probe(const char *spec);

#endif
