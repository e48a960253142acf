/* SPDX-License-Identifier: MIT
 * Port table and the checked control path around the drivers' ops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <bypass/intr.h>
#include <bypass/ethdev.h>
#include <bypass/log.h>

struct bp_eth_fp bp_eth_fp[BP_MAX_ETHPORTS];
static struct bp_eth_dev ports[BP_MAX_ETHPORTS];

/* Event callbacks: registered from any thread, run on the interrupt thread.
 * A slot being run is not reused, and unregistering waits for it to return
 * (unless the callback unregisters itself), so that arg may be freed then. */
#define MAX_CALLBACKS 8
static struct {
	bp_eth_event_cb cb;
	void *arg;
	enum bp_eth_event_type event;
	bool running;
	pthread_t runner;
} callbacks[BP_MAX_ETHPORTS][MAX_CALLBACKS];
static pthread_mutex_t callbacks_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t callbacks_idle = PTHREAD_COND_INITIALIZER;

/* Counters read from another thread (the telemetry thread, a program's
 * statistics thread): a driver's stats_get accumulates clear-on-read
 * registers, which two readers at once would count once between them, and a
 * queue's counters are freed with the queue. stats_lock covers the reads,
 * the clearing of a queue's counters pointer before its queue is freed, and
 * the mark of a port being closed; it is never held while waiting for
 * another thread (a close does its work outside it). */
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static bool closing[BP_MAX_ETHPORTS];

/* Unconfigured or stopped ports answer bursts with nothing, instead of crashing
 * an application that polls too early. */
static void *no_queues[BP_MAX_QUEUES_PER_PORT];
static uint16_t dummy_burst(void *q, struct bp_mbuf **pkts, uint16_t n)
{
	(void)q, (void)pkts, (void)n;
	return 0;
}

/* The port's burst functions and queues. Not .capture: lib/capture owns it
 * (under its lock), and a capture stays on through stop, start and close
 * until bp_capture_stop; a copy of the whole entry here, on a thread that
 * stops or starts the port while another stops the capture, could write
 * back a pointer that thread had just cleared and freed. */
static void fp_set(uint16_t port, bp_rx_burst_fn rx, bp_tx_burst_fn tx, void **rxq, void **txq)
{
	struct bp_eth_fp *fp = &bp_eth_fp[port];
	fp->rx_burst = rx;
	fp->tx_burst = tx;
	fp->rxq = rxq;
	fp->txq = txq;
}

static void fp_reset(uint16_t port)
{
	fp_set(port, dummy_burst, dummy_burst, no_queues, no_queues);
}

__attribute__((constructor)) static void fp_init(void)
{
	for (uint16_t p = 0; p < BP_MAX_ETHPORTS; p++)
		fp_reset(p);
}

bool bp_eth_dev_is_valid_port(uint16_t port)
{
	return port < BP_MAX_ETHPORTS && ports[port].state != BP_ETH_UNUSED;
}

struct bp_eth_dev *bp_eth_dev_get(uint16_t port)
{
	return bp_eth_dev_is_valid_port(port) ? &ports[port] : NULL;
}

static struct bp_eth_dev *port_or_log(uint16_t port, const char *what)
{
	struct bp_eth_dev *d = bp_eth_dev_get(port);
	if (!d)
		BP_LOG(ERR, "%s: port %u does not exist; %u ports are available", what, port,
		       bp_eth_dev_count_avail());
	return d;
}

uint16_t bp_eth_find_next(uint16_t start)
{
	while (start < BP_MAX_ETHPORTS && ports[start].state == BP_ETH_UNUSED)
		start++;
	return start;
}

uint16_t bp_eth_dev_count_avail(void)
{
	uint16_t n = 0;
	for (uint16_t p = 0; p < BP_MAX_ETHPORTS; p++)
		n += ports[p].state != BP_ETH_UNUSED;
	return n;
}

int bp_eth_dev_get_port_by_name(const char *name, uint16_t *port)
{
	for (uint16_t p = 0; p < BP_MAX_ETHPORTS; p++)
		if (ports[p].state != BP_ETH_UNUSED && strcmp(ports[p].name, name) == 0) {
			*port = p;
			return 0;
		}
	return -ENODEV;
}

const char *bp_eth_dev_name(uint16_t port)
{
	return bp_eth_dev_is_valid_port(port) ? ports[port].name : NULL;
}

struct bp_eth_dev *bp_eth_dev_allocate(const char *name)
{
	uint16_t p;
	if (strlen(name) >= BP_ETH_NAME_MAX) {
		BP_LOG(ERR, "port name '%s' is longer than %d characters", name, BP_ETH_NAME_MAX - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (bp_eth_dev_get_port_by_name(name, &p) == 0) {
		BP_LOG(ERR, "a port named %s exists already (port %u); give each device its own name",
		       name, p);
		errno = EEXIST;
		return NULL;
	}
	for (p = 0; p < BP_MAX_ETHPORTS; p++)
		if (ports[p].state == BP_ETH_UNUSED)
			break;
	if (p == BP_MAX_ETHPORTS) {
		BP_LOG(ERR, "%s: all %d ports are in use", name, BP_MAX_ETHPORTS);
		errno = ENOSPC;
		return NULL;
	}
	struct bp_eth_dev *d = &ports[p];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->port_id = p;
	d->state = BP_ETH_ATTACHED;
	for (uint16_t q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
		d->rx_intr_fd[q] = -1;
	return d;
}

void bp_eth_dev_release(struct bp_eth_dev *dev)
{
	fp_reset(dev->port_id);
	pthread_mutex_lock(&callbacks_lock);
	for (unsigned i = 0; i < MAX_CALLBACKS; i++)
		callbacks[dev->port_id][i].cb = NULL; /* (one may be running: it closed the port) */
	pthread_mutex_unlock(&callbacks_lock);
	memset(dev, 0, sizeof(*dev));
}

/* Under stats_lock as a whole: a driver's stats_get may read its queues
 * (af_packet asks each rx queue's socket for drops), so none is freed while
 * a reader is in there. */
static void release_rxq(struct bp_eth_dev *d, uint16_t q)
{
	pthread_mutex_lock(&stats_lock);
	d->rxq_stats[q] = NULL;
	if (d->rx_queues[q] && d->ops->rx_queue_release)
		d->ops->rx_queue_release(d, q);
	d->rx_queues[q] = NULL;
	pthread_mutex_unlock(&stats_lock);
}

/* Under stats_lock as a whole: a driver's stats_get may read its queues
 * (af_packet asks each rx queue's socket for drops), so none is freed while
 * a reader is in there. */
static void release_txq(struct bp_eth_dev *d, uint16_t q)
{
	pthread_mutex_lock(&stats_lock);
	d->txq_stats[q] = NULL;
	if (d->tx_queues[q] && d->ops->tx_queue_release)
		d->ops->tx_queue_release(d, q);
	d->tx_queues[q] = NULL;
	pthread_mutex_unlock(&stats_lock);
}

static void release_queues(struct bp_eth_dev *d)
{
	for (uint16_t q = 0; q < BP_MAX_QUEUES_PER_PORT; q++) {
		release_rxq(d, q);
		release_txq(d, q);
	}
}

/* A driver's queue set-up must register the queue and its counters. */
static int setup_done(struct bp_eth_dev *d, const char *dir, uint16_t q, const void *queue,
		      const struct bp_eth_queue_stats *st, int rc)
{
	if (rc == 0 && (!queue || !st)) {
		BP_LOG(ERR, "%s: driver %s set up %s queue %u without registering it and its counters "
			    "(a driver bug)", d->name, d->driver_name, dir, q);
		rc = -EFAULT;
	}
	return rc;
}

int bp_eth_dev_info_get(uint16_t port, struct bp_eth_dev_info *info)
{
	struct bp_eth_dev *d = port_or_log(port, "info");
	if (!d)
		return -ENODEV;
	memset(info, 0, sizeof(*info));
	info->driver_name = d->driver_name;
	info->max_rx_queues = info->max_tx_queues = 1;
	info->rx_desc_min = info->tx_desc_min = 1;
	info->rx_desc_max = info->tx_desc_max = UINT16_MAX;
	info->max_rx_pktlen = BP_ETHER_MAX_LEN;
	d->ops->info_get(d, info);
	return 0;
}

/* Microsoft, "Verifying the RSS Hash Calculation": the key of its test vectors. */
const uint8_t bp_eth_rss_default_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Checks rss against what the port can do and fills in the default key. */
static int rss_check(struct bp_eth_dev *d, const struct bp_eth_dev_info *info,
		     struct bp_eth_rss_conf *rss)
{
	if (rss->hash_types & ~info->rss_hash_types) {
		BP_LOG(ERR, "%s: RSS hash types 0x%x asked, the port hashes only on 0x%x (BP_ETH_RSS_*)",
		       d->name, rss->hash_types, info->rss_hash_types);
		return -EINVAL;
	}
	if (rss->key_len == 0) {
		memset(rss->key, 0, sizeof(rss->key));
		memcpy(rss->key, bp_eth_rss_default_key,
		       BP_MIN(sizeof(bp_eth_rss_default_key), (size_t)info->rss_key_len));
		rss->key_len = info->rss_key_len;
	} else if (rss->key_len != info->rss_key_len) {
		BP_LOG(ERR, "%s: an RSS key of %u bytes given, the port takes %u", d->name,
		       rss->key_len, info->rss_key_len);
		return -EINVAL;
	}
	return 0;
}

int bp_eth_dev_configure(uint16_t port, uint16_t nb_rxq, uint16_t nb_txq,
			 const struct bp_eth_conf *conf)
{
	struct bp_eth_dev *d = port_or_log(port, "configure");
	struct bp_eth_dev_info info;
	if (!d)
		return -ENODEV;
	if (d->state == BP_ETH_STARTED) {
		BP_LOG(ERR, "%s: stop the port before configuring it", d->name);
		return -EBUSY;
	}
	bp_eth_dev_info_get(port, &info);
	if (nb_rxq == 0 && nb_txq == 0) {
		BP_LOG(ERR, "%s: configure at least one rx or tx queue", d->name);
		return -EINVAL;
	}
	if (nb_rxq > info.max_rx_queues || nb_txq > info.max_tx_queues ||
	    nb_rxq > BP_MAX_QUEUES_PER_PORT || nb_txq > BP_MAX_QUEUES_PER_PORT) {
		BP_LOG(ERR, "%s: %u rx / %u tx queues asked, the port has at most %u / %u", d->name,
		       nb_rxq, nb_txq, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	struct bp_eth_conf c = { .size = sizeof(c) };
	if (conf) {
		if (conf->size == 0 || conf->size > sizeof(c)) {
			BP_LOG(ERR, "%s: bp_eth_conf.size must be set to sizeof(struct bp_eth_conf)", d->name);
			return -EINVAL;
		}
		memcpy(&c, conf, conf->size);
		c.size = sizeof(c);
	}
	if (c.max_rx_pktlen == 0)
		c.max_rx_pktlen = BP_ETHER_MAX_LEN;
	if (c.rx_intr && !d->ops->rx_intr_enable) {
		BP_LOG(ERR, "%s: driver %s has no rx interrupts; poll this port instead", d->name,
		       d->driver_name);
		return -ENOTSUP;
	}
	if (c.max_rx_pktlen > info.max_rx_pktlen) {
		BP_LOG(ERR, "%s: max_rx_pktlen %u exceeds the port's %u", d->name, c.max_rx_pktlen,
		       info.max_rx_pktlen);
		return -EINVAL;
	}
	if (rss_check(d, &info, &c.rss) < 0)
		return -EINVAL;
	release_queues(d);
	d->conf = c;
	pthread_mutex_lock(&stats_lock); /* read with the queues by bp__eth_dev_report */
	d->nb_rx_queues = nb_rxq;
	d->nb_tx_queues = nb_txq;
	pthread_mutex_unlock(&stats_lock);
	for (uint16_t i = 0; i < info.reta_size; i++)
		d->reta[i] = nb_rxq ? i % nb_rxq : 0;
	if (d->ops->configure) {
		int rc = d->ops->configure(d);
		if (rc < 0)
			return rc;
	}
	d->state = BP_ETH_CONFIGURED;
	return 0;
}

static struct bp_eth_dev *configured(uint16_t port, const char *what)
{
	struct bp_eth_dev *d = port_or_log(port, what);
	if (d && d->state == BP_ETH_ATTACHED) {
		BP_LOG(ERR, "%s: %s before bp_eth_dev_configure()", d->name, what);
		return NULL;
	}
	return d;
}

static struct bp_eth_dev *configured_stopped(uint16_t port, const char *what)
{
	struct bp_eth_dev *d = configured(port, what);
	if (!d)
		return NULL;
	if (d->state == BP_ETH_STARTED) {
		BP_LOG(ERR, "%s: %s needs the port stopped", d->name, what);
		return NULL;
	}
	return d;
}

static int check_desc(struct bp_eth_dev *d, const char *dir, uint16_t nb, uint16_t lo, uint16_t hi)
{
	if (nb < lo || nb > hi) {
		BP_LOG(ERR, "%s: %u %s descriptors asked, the port takes %u..%u", d->name, nb, dir, lo, hi);
		return -EINVAL;
	}
	return 0;
}

/* A debug pool's objects come from malloc: no IOMMU mapping, no physical
 * contiguity, not in the memfd zones a vhost-user peer maps; their IOVAs are
 * tagged invalid (bypass/mempool.h). A device given one would fault or, worse,
 * write elsewhere: refuse at set-up instead. The device-model build (tests/model)
 * is the exception: its models decode the tagged IOVAs. */
static int refuse_debug_pool(const struct bp_eth_dev *d, const struct bp_eth_dev_info *info,
			     const char *what, uint16_t q, bool debug)
{
#ifdef BP_MMIO_MODEL
	(void)d, (void)info, (void)what, (void)q, (void)debug;
	return 0;
#else
	if (!info->dma || !debug)
		return 0;
	BP_LOG(ERR, "%s: %s queue %u: --mbuf-debug pools are malloc-backed and no device can DMA "
		    "to them; drop --mbuf-debug (or build without -Dmbuf_debug) for port %s",
	       d->name, what, q, d->name);
	return -EINVAL;
#endif
}

int bp_eth_rx_queue_setup(uint16_t port, uint16_t q, uint16_t nb_desc, struct bp_mempool *mp)
{
	struct bp_eth_dev *d = configured_stopped(port, "rx queue setup");
	struct bp_eth_dev_info info;
	if (!d)
		return -EINVAL;
	if (q >= d->nb_rx_queues) {
		BP_LOG(ERR, "%s: rx queue %u does not exist; the port was configured with %u", d->name,
		       q, d->nb_rx_queues);
		return -EINVAL;
	}
	if (!mp) {
		BP_LOG(ERR, "%s: rx queue %u needs a mempool", d->name, q);
		return -EINVAL;
	}
	bp_eth_dev_info_get(port, &info);
	if (check_desc(d, "rx", nb_desc, info.rx_desc_min, info.rx_desc_max) < 0)
		return -EINVAL;
	if (bp_pktmbuf_data_room(mp) < BP_PKTMBUF_HEADROOM + info.min_rx_bufsize) {
		BP_LOG(ERR, "%s: mbufs of pool %s hold %u bytes, the port needs %u after the headroom",
		       d->name, mp->name, bp_pktmbuf_data_room(mp), info.min_rx_bufsize);
		return -EINVAL;
	}
	if (refuse_debug_pool(d, &info, "rx", q, bp_mempool_is_debug(mp)) < 0)
		return -EINVAL;
	release_rxq(d, q);
	int rc = d->ops->rx_queue_setup(d, q, nb_desc, mp);
	if ((rc = setup_done(d, "rx", q, d->rx_queues[q], d->rxq_stats[q], rc)) == -EFAULT)
		release_rxq(d, q);
	return rc;
}

int bp_eth_tx_queue_setup(uint16_t port, uint16_t q, uint16_t nb_desc)
{
	struct bp_eth_dev *d = configured_stopped(port, "tx queue setup");
	struct bp_eth_dev_info info;
	if (!d)
		return -EINVAL;
	if (q >= d->nb_tx_queues) {
		BP_LOG(ERR, "%s: tx queue %u does not exist; the port was configured with %u", d->name,
		       q, d->nb_tx_queues);
		return -EINVAL;
	}
	bp_eth_dev_info_get(port, &info);
	if (check_desc(d, "tx", nb_desc, info.tx_desc_min, info.tx_desc_max) < 0)
		return -EINVAL;
	/* Whatever is sent may come from any pool: with --mbuf-debug, all are debug. */
	if (refuse_debug_pool(d, &info, "tx", q, bp_env_mbuf_debug()) < 0)
		return -EINVAL;
	release_txq(d, q);
	int rc = d->ops->tx_queue_setup(d, q, nb_desc);
	if ((rc = setup_done(d, "tx", q, d->tx_queues[q], d->txq_stats[q], rc)) == -EFAULT)
		release_txq(d, q);
	return rc;
}

int bp_eth_dev_start(uint16_t port)
{
	struct bp_eth_dev *d = configured_stopped(port, "start");
	if (!d)
		return -EINVAL;
	if (d->removed) {
		BP_LOG(ERR, "%s: its device was removed (hot-unplug); close the port", d->name);
		return -ENODEV;
	}
	for (uint16_t q = 0; q < d->nb_rx_queues; q++)
		if (!d->rx_queues[q]) {
			BP_LOG(ERR, "%s: set up rx queue %u before starting", d->name, q);
			return -EINVAL;
		}
	for (uint16_t q = 0; q < d->nb_tx_queues; q++)
		if (!d->tx_queues[q]) {
			BP_LOG(ERR, "%s: set up tx queue %u before starting", d->name, q);
			return -EINVAL;
		}
	int rc = d->ops->start ? d->ops->start(d) : 0;
	if (rc < 0)
		return rc;
	d->state = BP_ETH_STARTED;
	fp_set(port, d->rx_burst, d->tx_burst, d->rx_queues, d->tx_queues);
	if (d->conf.promiscuous)
		bp_eth_promiscuous_set(port, true);
	return 0;
}

int bp_eth_dev_stop(uint16_t port)
{
	struct bp_eth_dev *d = port_or_log(port, "stop");
	if (!d)
		return -ENODEV;
	if (d->state != BP_ETH_STARTED)
		return 0;
	fp_reset(port);
	int rc = d->ops->stop ? d->ops->stop(d) : 0;
	d->state = BP_ETH_CONFIGURED;
	return rc;
}

int bp_eth_dev_close(uint16_t port)
{
	struct bp_eth_dev *d = port_or_log(port, "close");
	if (!d)
		return -ENODEV;
	pthread_mutex_lock(&stats_lock);
	closing[port] = true; /* readers skip it from now on */
	pthread_mutex_unlock(&stats_lock);
	bp_eth_dev_stop(port);
	release_queues(d);
	if (d->ops->close)
		d->ops->close(d);
	bp_eth_dev_release(d);
	pthread_mutex_lock(&stats_lock);
	closing[port] = false;
	pthread_mutex_unlock(&stats_lock);
	return 0;
}

void bp_eth_dev_close_all(void)
{
	uint16_t p;
	BP_ETH_FOREACH_DEV(p)
		bp_eth_dev_close(p);
}

int bp_eth_link_update_virtual(struct bp_eth_dev *dev, int wait)
{
	(void)wait;
	dev->link = (struct bp_eth_link){ .speed_mbps = 10000, .up = dev->state == BP_ETH_STARTED,
					  .full_duplex = 1 };
	return 0;
}

int bp_eth_link_get(uint16_t port, struct bp_eth_link *link, bool wait)
{
	struct bp_eth_dev *d = port_or_log(port, "link");
	if (!d)
		return -ENODEV;
	if (d->ops->link_update && !d->removed) /* (a removed one would wait for nothing) */
		d->ops->link_update(d, wait);
	*link = d->link;
	return 0;
}

int bp_eth_macaddr_get(uint16_t port, struct bp_ether_addr *mac)
{
	struct bp_eth_dev *d = port_or_log(port, "mac address");
	if (!d)
		return -ENODEV;
	*mac = d->mac;
	return 0;
}

int bp_eth_dev_mac_addr_set(uint16_t port, const struct bp_ether_addr *mac)
{
	struct bp_eth_dev *d = port_or_log(port, "mac address set");
	if (!d)
		return -ENODEV;
	if (!d->ops->mac_addr_set) {
		BP_LOG(ERR, "%s: driver %s cannot change its MAC address", d->name, d->driver_name);
		return -ENOTSUP;
	}
	int rc = d->ops->mac_addr_set(d, mac);
	if (rc == 0)
		d->mac = *mac;
	return rc;
}

int bp_eth_promiscuous_set(uint16_t port, bool on)
{
	struct bp_eth_dev *d = port_or_log(port, "promiscuous");
	if (!d)
		return -ENODEV;
	int rc = d->ops->promiscuous_set ? d->ops->promiscuous_set(d, on) : 0;
	if (rc == 0)
		d->promiscuous = on;
	return rc;
}

static struct bp_eth_dev *rss_port(uint16_t port, const char *what, struct bp_eth_dev_info *info)
{
	struct bp_eth_dev *d = configured(port, what);
	if (!d)
		return NULL;
	bp_eth_dev_info_get(port, info);
	if (!info->rss_hash_types) {
		BP_LOG(ERR, "%s: driver %s has no RSS; give each flow its own port or queue instead",
		       d->name, d->driver_name);
		return NULL;
	}
	return d;
}

int bp_eth_dev_rss_hash_update(uint16_t port, const struct bp_eth_rss_conf *rss)
{
	struct bp_eth_dev_info info;
	struct bp_eth_dev *d = rss_port(port, "RSS hash update", &info);
	if (!d)
		return -ENOTSUP;
	struct bp_eth_rss_conf c = *rss, old = d->conf.rss;
	if (rss_check(d, &info, &c) < 0)
		return -EINVAL;
	d->conf.rss = c;
	int rc = d->ops->rss_hash_update ? d->ops->rss_hash_update(d) : 0;
	if (rc < 0)
		d->conf.rss = old;
	return rc;
}

int bp_eth_dev_rss_hash_conf_get(uint16_t port, struct bp_eth_rss_conf *rss)
{
	struct bp_eth_dev_info info;
	struct bp_eth_dev *d = rss_port(port, "RSS hash query", &info);
	if (!d)
		return -ENOTSUP;
	*rss = d->conf.rss;
	return 0;
}

static struct bp_eth_dev *reta_port(uint16_t port, const char *what, uint16_t reta_size)
{
	struct bp_eth_dev_info info;
	struct bp_eth_dev *d = rss_port(port, what, &info);
	if (d && reta_size != info.reta_size) {
		BP_LOG(ERR, "%s: a redirection table of %u entries given, the port's has %u", d->name,
		       reta_size, info.reta_size);
		return NULL;
	}
	return d;
}

int bp_eth_dev_rss_reta_update(uint16_t port, const uint16_t *reta, uint16_t reta_size)
{
	struct bp_eth_dev *d = reta_port(port, "RETA update", reta_size);
	if (!d)
		return -EINVAL;
	for (uint16_t i = 0; i < reta_size; i++)
		if (reta[i] >= d->nb_rx_queues) {
			BP_LOG(ERR, "%s: RETA entry %u names rx queue %u; the port has %u", d->name, i,
			       reta[i], d->nb_rx_queues);
			return -EINVAL;
		}
	uint16_t old[BP_ETH_RETA_MAX];
	memcpy(old, d->reta, reta_size * sizeof(*old));
	memcpy(d->reta, reta, reta_size * sizeof(*reta));
	int rc = d->ops->reta_update ? d->ops->reta_update(d) : 0;
	if (rc < 0)
		memcpy(d->reta, old, reta_size * sizeof(*old));
	return rc;
}

int bp_eth_dev_rss_reta_query(uint16_t port, uint16_t *reta, uint16_t reta_size)
{
	struct bp_eth_dev *d = reta_port(port, "RETA query", reta_size);
	if (!d)
		return -EINVAL;
	memcpy(reta, d->reta, reta_size * sizeof(*reta));
	return 0;
}

static void add_queue(struct bp_eth_stats *st, bool rx, uint16_t q, const struct bp_eth_queue_stats *qs)
{
	if (rx) {
		st->ipackets += qs->packets;
		st->ibytes += qs->bytes;
		st->rx_nombuf += qs->nombuf;
		st->ierrors += qs->errors;
		st->q_ipackets[q] = qs->packets;
		st->q_ibytes[q] = qs->bytes;
		st->q_rx_nombuf[q] = qs->nombuf;
	} else {
		st->opackets += qs->packets;
		st->obytes += qs->bytes;
		st->oerrors += qs->errors;
		st->q_opackets[q] = qs->packets;
		st->q_obytes[q] = qs->bytes;
	}
}

/* Sums the queues' counters and adds the driver's; under stats_lock. */
static int stats_read(struct bp_eth_dev *d, struct bp_eth_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (uint16_t q = 0; q < BP_MAX_QUEUES_PER_PORT; q++) {
		if (d->rxq_stats[q])
			add_queue(st, true, q, d->rxq_stats[q]);
		if (d->txq_stats[q])
			add_queue(st, false, q, d->txq_stats[q]);
	}
	return d->ops->stats_get ? d->ops->stats_get(d, st) : 0;
}

int bp_eth_stats_get(uint16_t port, struct bp_eth_stats *st)
{
	struct bp_eth_dev *d = port_or_log(port, "stats");
	if (!d)
		return -ENODEV;
	pthread_mutex_lock(&stats_lock);
	int rc = stats_read(d, st);
	pthread_mutex_unlock(&stats_lock);
	return rc;
}

int bp__eth_dev_report(uint16_t port, struct bp__eth_port_report *r)
{
	int rc = -ENODEV;
	pthread_mutex_lock(&stats_lock);
	struct bp_eth_dev *d = bp_eth_dev_get(port);
	if (d && !closing[port]) {
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", d->name);
		r->driver = d->driver_name;
		r->state = d->state;
		r->mac = d->mac;
		if (d->ops->link_update && !d->removed)
			d->ops->link_update(d, 0);
		r->link = d->link;
		r->nb_rx_queues = d->nb_rx_queues;
		r->nb_tx_queues = d->nb_tx_queues;
		rc = stats_read(d, &r->stats);
	}
	pthread_mutex_unlock(&stats_lock);
	return rc;
}

int bp_eth_stats_reset(uint16_t port)
{
	struct bp_eth_dev *d = port_or_log(port, "stats reset");
	if (!d)
		return -ENODEV;
	pthread_mutex_lock(&stats_lock);
	for (uint16_t q = 0; q < BP_MAX_QUEUES_PER_PORT; q++) {
		if (d->rxq_stats[q])
			memset(d->rxq_stats[q], 0, sizeof(*d->rxq_stats[q]));
		if (d->txq_stats[q])
			memset(d->txq_stats[q], 0, sizeof(*d->txq_stats[q]));
	}
	int rc = d->ops->stats_reset ? d->ops->stats_reset(d) : 0;
	pthread_mutex_unlock(&stats_lock);
	return rc;
}

int bp_eth_dev_callback_register(uint16_t port, enum bp_eth_event_type event, bp_eth_event_cb cb,
				 void *arg)
{
	if (!port_or_log(port, "callback"))
		return -ENODEV;
	if (event >= BP_ETH_EVENT_MAX || !cb)
		return -EINVAL;
	int rc = -ENOSPC;
	pthread_mutex_lock(&callbacks_lock);
	for (unsigned i = 0; i < MAX_CALLBACKS && rc; i++)
		if (!callbacks[port][i].cb && !callbacks[port][i].running) {
			callbacks[port][i].cb = cb;
			callbacks[port][i].arg = arg;
			callbacks[port][i].event = event;
			rc = 0;
		}
	pthread_mutex_unlock(&callbacks_lock);
	if (rc)
		BP_LOG(ERR, "%s: more than %d event callbacks", bp_eth_dev_name(port), MAX_CALLBACKS);
	return rc;
}

int bp_eth_dev_callback_unregister(uint16_t port, enum bp_eth_event_type event, bp_eth_event_cb cb,
				   void *arg)
{
	if (port >= BP_MAX_ETHPORTS)
		return -ENODEV;
	int rc = -ENOENT;
	pthread_mutex_lock(&callbacks_lock);
	for (unsigned i = 0; i < MAX_CALLBACKS && rc; i++)
		if (callbacks[port][i].cb == cb && callbacks[port][i].arg == arg &&
		    callbacks[port][i].event == event) {
			callbacks[port][i].cb = NULL;
			while (callbacks[port][i].running && !pthread_equal(callbacks[port][i].runner, pthread_self()))
				pthread_cond_wait(&callbacks_idle, &callbacks_lock);
			rc = 0;
		}
	pthread_mutex_unlock(&callbacks_lock);
	return rc;
}

void bp_eth_dev_event(struct bp_eth_dev *dev, enum bp_eth_event_type event)
{
	uint16_t port = dev->port_id; /* a callback may close the port, which clears dev */
	pthread_mutex_lock(&callbacks_lock);
	for (unsigned i = 0; i < MAX_CALLBACKS; i++) {
		typeof(callbacks[0][0]) *c = &callbacks[port][i];
		if (!c->cb || c->event != event)
			continue;
		bp_eth_event_cb cb = c->cb;
		void *arg = c->arg;
		c->running = true;
		c->runner = pthread_self();
		pthread_mutex_unlock(&callbacks_lock);
		cb(port, event, arg);
		pthread_mutex_lock(&callbacks_lock);
		c->running = false;
		pthread_cond_broadcast(&callbacks_idle);
	}
	pthread_mutex_unlock(&callbacks_lock);
}

void bp_eth_dev_removed(struct bp_eth_dev *dev)
{
	uint16_t port = dev->port_id;
	if (__atomic_exchange_n(&dev->removed, true, __ATOMIC_ACQ_REL))
		return;
	BP_LOG(WARNING, "%s: its device was removed; the port moves no more packets: stop and close it",
	       dev->name);
	dev->link = (struct bp_eth_link){ .up = 0 };
	/* Only the functions change, not the queues: an lcore in the middle of
	 * bp_eth_rx_burst may load the function before this and the queue
	 * after it, and the dummy takes any queue, the real burst only its
	 * own. (Stop's fp_reset swaps both: the program has stopped polling
	 * then.) A burst already running touches registers that are ordinary
	 * memory by now (lib/pci replaced the BAR mappings first). */
	struct bp_eth_fp *fp = &bp_eth_fp[port];
	__atomic_store_n(&fp->rx_burst, dummy_burst, __ATOMIC_RELEASE);
	__atomic_store_n(&fp->tx_burst, dummy_burst, __ATOMIC_RELEASE);
	bp_eth_dev_event(dev, BP_ETH_EVENT_REMOVED);
}

/* A started port with rx interrupts, and one of its rx queues. */
static struct bp_eth_dev *intr_queue(uint16_t port, uint16_t q, const char *what)
{
	struct bp_eth_dev *d = port_or_log(port, what);
	if (!d)
		return NULL;
	if (q >= d->nb_rx_queues || d->state != BP_ETH_STARTED || d->rx_intr_fd[q] < 0) {
		BP_LOG(ERR, "%s: %s: rx queue %u has no interrupt; configure the port with rx_intr = 1 "
			    "and start it", d->name, what, q);
		return NULL;
	}
	return d;
}

int bp_eth_rx_intr_enable(uint16_t port, uint16_t q)
{
	struct bp_eth_dev *d = intr_queue(port, q, "rx interrupt");
	return d ? d->ops->rx_intr_enable(d, q) : -EINVAL;
}

int bp_eth_rx_intr_disable(uint16_t port, uint16_t q)
{
	struct bp_eth_dev *d = intr_queue(port, q, "rx interrupt");
	return d ? d->ops->rx_intr_disable(d, q) : -EINVAL;
}

int bp_eth_rx_intr_fd(uint16_t port, uint16_t q)
{
	struct bp_eth_dev *d = intr_queue(port, q, "rx interrupt fd");
	return d ? d->rx_intr_fd[q] : -EINVAL;
}

uint32_t bp_eth_rx_queue_count(uint16_t port, uint16_t q)
{
	struct bp_eth_dev *d = bp_eth_dev_get(port);
	if (!d || q >= d->nb_rx_queues || !d->rx_queues[q] || !d->ops->rx_queue_count)
		return 0;
	return d->ops->rx_queue_count(d->rx_queues[q]);
}

int bp_eth_rx_intr_wait(uint16_t port, uint16_t q, int timeout_ms)
{
	struct bp_eth_dev *d = intr_queue(port, q, "rx interrupt wait");
	if (!d)
		return -EINVAL;
	int fd = d->rx_intr_fd[q], rc = d->ops->rx_intr_enable(d, q);
	if (rc < 0)
		return rc;
	/* The arming (a register write) before the look at the ring: a frame
	 * that landed before it raised no interrupt, so it must be seen here. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (d->ops->rx_queue_count && d->ops->rx_queue_count(d->rx_queues[q]))
		rc = 1;
	else
		rc = bp_intr_wait(fd, 8, timeout_ms);
	d->ops->rx_intr_disable(d, q);
	bp_intr_wait(fd, 8, 0); /* one that raced the look is no later wake-up */
	return rc;
}

void bp_ether_format_addr(char *buf, size_t len, const struct bp_ether_addr *a)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", a->b[0], a->b[1], a->b[2], a->b[3],
		 a->b[4], a->b[5]);
}

int bp_vdev_probe(const char *spec)
{
	char name[BP_ETH_NAME_MAX];
	const char *comma = strchr(spec, ',');
	size_t nl = comma ? (size_t)(comma - spec) : strlen(spec);

	if (nl == 0 || nl >= sizeof(name)) {
		BP_LOG(ERR, "--vdev '%s': give a device name first, e.g. net_null0", spec);
		return -EINVAL;
	}
	memcpy(name, spec, nl);
	name[nl] = '\0';
	/* The longest driver name that prefixes the device name wins. */
	const struct bp_vdev_driver *best = NULL;
	for (const struct bp_vdev_driver *const *drv = bp_vdev_drivers; *drv; drv++) {
		size_t dl = strlen((*drv)->name);
		if (strncmp(name, (*drv)->name, dl) == 0 && (!best || dl > strlen(best->name)))
			best = *drv;
	}
	if (!best) {
		char known[256] = "";
		for (const struct bp_vdev_driver *const *drv = bp_vdev_drivers; *drv; drv++) {
			if (known[0])
				strncat(known, ", ", sizeof(known) - strlen(known) - 1);
			strncat(known, (*drv)->name, sizeof(known) - strlen(known) - 1);
		}
		BP_LOG(ERR, "--vdev %s: no driver for this name; names start with one of: %s", name, known);
		return -ENOENT;
	}
	int rc = best->probe(name, comma ? comma + 1 : "");
	if (rc < 0)
		BP_LOG(ERR, "--vdev %s: driver %s failed (%s); its arguments are: %s", name, best->name,
		       strerror(-rc), best->params);
	return rc;
}
