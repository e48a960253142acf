/* SPDX-License-Identifier: MIT
 * Capture on any port: see include/bypass/capture.h.
 *
 * Each captured queue and direction has a ring of bytes with one producer
 * (the lcore polling that queue) and one consumer (the capture's writer
 * thread). A record is a 24-byte header and the frame's first bytes, padded
 * to 8; a record that would cross the ring's end leaves a pad record there
 * and starts at offset 0. The producer publishes its head with a release
 * store once per burst, the writer its tail once per pass.
 *
 * Stopping while lcores run: a burst marks its queue busy (a seq_cst store
 * into a flag that outlives every capture), then reads the port's capture
 * pointer (seq_cst); stop clears the pointer (seq_cst), then waits for every
 * busy flag of the port to clear. Either the burst sees the pointer cleared,
 * or stop sees the flag set and waits: the capture is never freed under a
 * burst.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <bypass/capture.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/log.h>
#include "pcapng.h"

#define REC_HDR 24
#define REC_PAD 0x80000000u
#define CHUNK 64 /* frames per step: tx hands the driver this many at a time */

struct rec {
	uint32_t len;      /* the whole record, 8-aligned; REC_PAD: skip to the ring's end */
	uint32_t orig_len;
	uint64_t ts_ns;
	uint32_t cap_len;
	uint32_t flags;    /* PCAPNG_EPB_INBOUND / OUTBOUND */
};
_Static_assert(sizeof(struct rec) == REC_HDR, "record header");

struct cap_ring {
	uint64_t head;    /* producer: bytes written, published with release */
	uint64_t dropped; /* producer: frames that found no room */
	uint8_t *buf;
	uint64_t mask;
	uint64_t tail BP_CACHE_ALIGNED; /* writer: bytes consumed */
};

struct bp_capture {
	uint16_t port;
	uint32_t snaplen;
	uint64_t count;
	int done;  /* count frames written: the rest is not copied */
	int quit;
	uint64_t written, start_ns;
	struct cap_ring *ring[2][BP_MAX_QUEUES_PER_PORT]; /* [rx, tx][queue] */
	pthread_t thread;
	char *file;
	struct pcapng_writer w;
};

static struct bp_capture *caps[BP_MAX_ETHPORTS];
/* A line of its own per queue and direction: each is written twice per burst
 * by the one lcore that polls it, and lcores on other queues must not share
 * the line (64 KiB in all for 32 ports of 16 queues). */
struct busy_flag {
	int on;
} BP_CACHE_ALIGNED;
_Static_assert(sizeof(struct busy_flag) == BP_CACHE_LINE, "a line per flag");
static struct busy_flag busy[BP_MAX_ETHPORTS][2][BP_MAX_QUEUES_PER_PORT];
static pthread_mutex_t caps_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Copies up to n frames into r from its head on, without publishing:
 * end[i] is the head after frame i, lost[i] whether it found no room. */
static void ring_put(const struct bp_capture *c, struct cap_ring *r, uint32_t flags, uint64_t ts,
		     struct bp_mbuf *const *pkts, uint16_t n, uint64_t *end, uint8_t *lost)
{
	const uint64_t size = r->mask + 1, tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	uint64_t head = r->head;
	for (uint16_t i = 0; i < n; i++) {
		const struct bp_mbuf *m = pkts[i];
		uint32_t cap = BP_MIN(m->pkt_len, c->snaplen);
		uint64_t need = BP_ALIGN_UP((uint64_t)REC_HDR + cap, 8), off = head & r->mask, pad = 0;
		if (need > size - off)
			pad = size - off; /* to the end, then from 0 */
		lost[i] = head + pad + need - tail > size;
		if (!lost[i]) {
			if (pad) {
				((struct rec *)(r->buf + off))->len = (uint32_t)pad | REC_PAD;
				head += pad;
				off = 0;
			}
			struct rec *h = (struct rec *)(r->buf + off);
			*h = (struct rec){ (uint32_t)need, m->pkt_len, ts, cap, flags };
			bp_pktmbuf_read(m, 0, cap, h + 1);
			head += need;
		}
		end[i] = head;
	}
}

/* Marks the queue busy and returns its ring, or NULL (nothing to capture:
 * then it is not busy). */
static struct cap_ring *enter(uint16_t port, unsigned d, uint16_t q, struct bp_capture **cp)
{
	if (q >= BP_MAX_QUEUES_PER_PORT)
		return NULL;
	__atomic_store_n(&busy[port][d][q].on, 1, __ATOMIC_SEQ_CST);
	struct bp_capture *c = __atomic_load_n(&bp_eth_fp[port].capture, __ATOMIC_SEQ_CST);
	struct cap_ring *r = c && !__atomic_load_n(&c->done, __ATOMIC_RELAXED) ? c->ring[d][q] : NULL;
	if (!r)
		__atomic_store_n(&busy[port][d][q].on, 0, __ATOMIC_RELEASE);
	*cp = c;
	return r;
}

static void leave(uint16_t port, unsigned d, uint16_t q)
{
	__atomic_store_n(&busy[port][d][q].on, 0, __ATOMIC_RELEASE);
}

/* (read by bp_capture_stats_get on another thread) */
static void count_lost(struct cap_ring *r, const uint8_t *lost, uint16_t n)
{
	uint64_t d = 0;
	for (uint16_t i = 0; i < n; i++)
		d += lost[i];
	if (d)
		__atomic_store_n(&r->dropped, r->dropped + d, __ATOMIC_RELAXED);
}

void bp__capture_rx(uint16_t port, uint16_t q, struct bp_mbuf **pkts, uint16_t n)
{
	struct bp_capture *c;
	struct cap_ring *r;
	if (!n || !(r = enter(port, 0, q, &c)))
		return;
	const uint64_t ts = now_ns();
	uint64_t end[CHUNK];
	uint8_t lost[CHUNK];
	for (uint16_t done = 0; done < n;) {
		uint16_t k = (uint16_t)BP_MIN(n - done, CHUNK);
		ring_put(c, r, PCAPNG_EPB_INBOUND, ts, pkts + done, k, end, lost);
		count_lost(r, lost, k);
		__atomic_store_n(&r->head, end[k - 1], __ATOMIC_RELEASE);
		done = (uint16_t)(done + k);
	}
	leave(port, 0, q);
}

uint16_t bp__capture_tx(uint16_t port, uint16_t q, struct bp_mbuf **pkts, uint16_t n)
{
	const struct bp_eth_fp *p = &bp_eth_fp[port];
	struct bp_capture *c;
	struct cap_ring *r;
	if (!n || !(r = enter(port, 1, q, &c)))
		return p->tx_burst(p->txq[q], pkts, n);
	/* Copied before the driver may free them, published only for the
	 * frames it took. */
	const uint64_t ts = now_ns();
	uint64_t end[CHUNK];
	uint8_t lost[CHUNK];
	uint16_t total = 0;
	while (total < n) {
		uint16_t k = (uint16_t)BP_MIN(n - total, CHUNK);
		ring_put(c, r, PCAPNG_EPB_OUTBOUND, ts, pkts + total, k, end, lost);
		uint16_t sent = p->tx_burst(p->txq[q], pkts + total, k);
		count_lost(r, lost, sent);
		if (sent)
			__atomic_store_n(&r->head, end[sent - 1], __ATOMIC_RELEASE);
		total = (uint16_t)(total + sent);
		if (sent < k)
			break;
	}
	leave(port, 1, q);
	return total;
}

/* Writes what r holds; the number of records taken. */
static uint64_t drain(struct bp_capture *c, struct cap_ring *r)
{
	uint64_t tail = r->tail, head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE), n = 0;
	while (tail != head) {
		const struct rec *h = (const struct rec *)(r->buf + (tail & r->mask));
		if (h->len & REC_PAD) {
			tail += h->len & ~REC_PAD;
			continue;
		}
		if (!c->done) {
			pcapng_packet(&c->w, h->ts_ns, h + 1, h->cap_len, h->orig_len, h->flags);
			__atomic_store_n(&c->written, c->written + 1, __ATOMIC_RELAXED);
			if (c->count && c->written >= c->count)
				__atomic_store_n(&c->done, 1, __ATOMIC_RELAXED);
		}
		tail += h->len;
		n++;
	}
	__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	return n;
}

/* The writer: drains every ring in turn; when a pass finds nothing it
 * flushes what it buffered (a file others may be reading as it grows) and
 * sleeps 1 ms. It ends after a pass that found nothing once stop asked. */
static void *writer_main(void *arg)
{
	struct bp_capture *c = arg;
	for (;;) {
		int quit = __atomic_load_n(&c->quit, __ATOMIC_ACQUIRE);
		uint64_t moved = 0;
		for (unsigned d = 0; d < 2; d++)
			for (unsigned q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
				if (c->ring[d][q])
					moved += drain(c, c->ring[d][q]);
		if (moved)
			continue;
		if (quit)
			return NULL;
		pcapng_flush(&c->w);
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
}

static void free_capture(struct bp_capture *c)
{
	for (unsigned d = 0; d < 2; d++)
		for (unsigned q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
			if (c->ring[d][q]) {
				free(c->ring[d][q]->buf);
				free(c->ring[d][q]);
			}
	free(c->file);
	free(c);
}

static struct cap_ring *ring_new(uint64_t size)
{
	struct cap_ring *r;
	if (posix_memalign((void **)&r, BP_CACHE_LINE, sizeof(*r)) != 0)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->mask = size - 1;
	if (!(r->buf = malloc(size))) {
		free(r);
		return NULL;
	}
	return r;
}

static int start(uint16_t port, uint16_t queue, unsigned dir, const char *file, uint32_t snaplen,
		 uint64_t count, uint32_t ring_kb)
{
	struct bp_eth_dev *dev = bp_eth_dev_get(port);
	if (!dev) {
		BP_LOG(ERR, "capture: port %u does not exist; %u ports are available", port, bp_eth_dev_count_avail());
		return -ENODEV;
	}
	if (!dir || dir & ~BP_CAPTURE_BOTH) {
		BP_LOG(ERR, "capture: port %u: give a direction: BP_CAPTURE_RX, _TX or _BOTH", port);
		return -EINVAL;
	}
	uint16_t nq[2] = { dev->nb_rx_queues, dev->nb_tx_queues };
	if (queue != BP_CAPTURE_ALL_QUEUES &&
	    ((dir & BP_CAPTURE_RX && queue >= nq[0]) || (dir & BP_CAPTURE_TX && queue >= nq[1]))) {
		BP_LOG(ERR, "capture: %s has %u rx and %u tx queues configured, not queue %u; configure the "
			    "port first, or capture every queue", dev->name, nq[0], nq[1], queue);
		return -EINVAL;
	}
	if (!(dir & BP_CAPTURE_RX && nq[0]) && !(dir & BP_CAPTURE_TX && nq[1])) {
		BP_LOG(ERR, "capture: %s has no %s queue configured, so nothing to capture; configure the port "
			    "(bp_eth_dev_configure) before capturing it", dev->name,
		       dir == BP_CAPTURE_RX ? "rx" : dir == BP_CAPTURE_TX ? "tx" : "rx or tx");
		return -EINVAL;
	}
	if (snaplen == 0 || snaplen > 65535)
		snaplen = 65535;
	uint64_t size = 4096;
	while (size < (uint64_t)ring_kb * 1024)
		size *= 2;
	struct bp_capture *c = calloc(1, sizeof(*c));
	if (!c || !(c->file = strdup(file))) {
		free(c);
		return -ENOMEM;
	}
	c->port = port;
	c->snaplen = snaplen;
	c->count = count;
	int rc = 0;
	for (unsigned d = 0; d < 2 && !rc; d++)
		for (uint16_t q = 0; dir & (1u << d) && q < nq[d] && !rc; q++)
			if ((queue == BP_CAPTURE_ALL_QUEUES || queue == q) && !(c->ring[d][q] = ring_new(size)))
				rc = -ENOMEM;
	pthread_mutex_lock(&caps_lock);
	if (!rc && caps[port]) {
		BP_LOG(ERR, "capture: %s is captured already (into %s); stop that one first", dev->name,
		       caps[port]->file);
		rc = -EBUSY;
	}
	if (!rc && (rc = pcapng_open(&c->w, file, dev->name, snaplen)) < 0)
		BP_LOG(ERR, "capture: cannot write %s: %s", file, strerror(-rc));
	c->start_ns = now_ns();
	if (!rc && (rc = -pthread_create(&c->thread, NULL, writer_main, c)) < 0) {
		BP_LOG(ERR, "capture: cannot start the writer thread: %s", strerror(-rc));
		pcapng_close(&c->w, 0, 0, 0);
	}
	if (rc) {
		pthread_mutex_unlock(&caps_lock);
		free_capture(c);
		return rc;
	}
	pthread_setname_np(c->thread, "bp-capture");
	caps[port] = c;
	__atomic_store_n(&bp_eth_fp[port].capture, c, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&caps_lock);
	BP_LOG(INFO, "capture: %s into %s", dev->name, file);
	return 0;
}

int bp_capture_start(uint16_t port, uint16_t queue, unsigned dir, const char *file, uint32_t snaplen,
		     uint64_t count)
{
	return start(port, queue, dir, file, snaplen, count, BP_CAPTURE_RING_KB);
}

int bp_capture_start_spec(const char *spec, uint16_t *port)
{
	static const char *const keys[] = { "count", "dir", "queue", "snaplen", "ring_kb", NULL };
	char *end, file[4096];
	const char *usage = "write PORT:FILE[,count=N][,dir=rx|tx|both][,queue=Q][,snaplen=N][,ring_kb=N]";
	unsigned long p = strtoul(spec, &end, 10);
	if (end == spec || *end != ':' || p >= BP_MAX_ETHPORTS || !end[1] || end[1] == ',') {
		BP_LOG(ERR, "capture '%s': %s", spec, usage);
		return -EINVAL;
	}
	const char *f = end + 1, *comma = strchr(f, ',');
	size_t fl = comma ? (size_t)(comma - f) : strlen(f);
	if (fl >= sizeof(file)) {
		BP_LOG(ERR, "capture '%s': the file name is too long", spec);
		return -EINVAL;
	}
	memcpy(file, f, fl);
	file[fl] = '\0';
	struct bp_kvargs *kv = bp_kvargs_parse(comma ? comma + 1 : "", keys);
	if (!kv) {
		BP_LOG(ERR, "capture '%s': %s", spec, usage);
		return -EINVAL;
	}
	unsigned long count = 0, queue = BP_CAPTURE_ALL_QUEUES, snaplen = 0, ring_kb = BP_CAPTURE_RING_KB;
	unsigned dir = BP_CAPTURE_BOTH;
	const char *d = bp_kvargs_get(kv, "dir");
	int rc = -EINVAL;
	if (bp_kvargs_get_uint(kv, "capture", "count", 0, UINT64_MAX, &count) < 0 ||
	    bp_kvargs_get_uint(kv, "capture", "queue", 0, BP_MAX_QUEUES_PER_PORT - 1, &queue) < 0 ||
	    bp_kvargs_get_uint(kv, "capture", "snaplen", 0, 65535, &snaplen) < 0 ||
	    bp_kvargs_get_uint(kv, "capture", "ring_kb", 4, 1 << 20, &ring_kb) < 0)
		goto out;
	if (d && !strcmp(d, "rx"))
		dir = BP_CAPTURE_RX;
	else if (d && !strcmp(d, "tx"))
		dir = BP_CAPTURE_TX;
	else if (d && strcmp(d, "both")) {
		BP_LOG(ERR, "capture '%s': dir=%s: use rx, tx or both", spec, d);
		goto out;
	}
	*port = (uint16_t)p;
	rc = start((uint16_t)p, (uint16_t)queue, dir, file, (uint32_t)snaplen, count, (uint32_t)ring_kb);
out:
	bp_kvargs_free(kv);
	return rc;
}

static void counts(struct bp_capture *c, struct bp_capture_stats *st)
{
	st->written = __atomic_load_n(&c->written, __ATOMIC_RELAXED);
	st->dropped = 0;
	for (unsigned d = 0; d < 2; d++)
		for (unsigned q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
			if (c->ring[d][q])
				st->dropped += __atomic_load_n(&c->ring[d][q]->dropped, __ATOMIC_RELAXED);
}

int bp_capture_stats_get(uint16_t port, struct bp_capture_stats *st)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&caps_lock);
	if (port < BP_MAX_ETHPORTS && caps[port]) {
		counts(caps[port], st);
		rc = 0;
	}
	pthread_mutex_unlock(&caps_lock);
	return rc;
}

int bp_capture_stop(uint16_t port, struct bp_capture_stats *st)
{
	if (port >= BP_MAX_ETHPORTS)
		return -ENOENT;
	pthread_mutex_lock(&caps_lock);
	struct bp_capture *c = caps[port];
	caps[port] = NULL;
	/* Under the lock: a start on this port right after must not have its
	 * new pointer cleared by us. */
	if (c)
		__atomic_store_n(&bp_eth_fp[port].capture, NULL, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&caps_lock);
	if (!c)
		return -ENOENT;
	for (unsigned d = 0; d < 2; d++)
		for (unsigned q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
			while (__atomic_load_n(&busy[port][d][q].on, __ATOMIC_SEQ_CST))
				sched_yield();
	__atomic_store_n(&c->quit, 1, __ATOMIC_RELEASE);
	pthread_join(c->thread, NULL);
	struct bp_capture_stats s;
	counts(c, &s);
	int rc = pcapng_close(&c->w, c->start_ns, now_ns(), s.dropped);
	if (rc < 0)
		BP_LOG(ERR, "capture: writing %s failed: %s; the file is incomplete", c->file, strerror(-rc));
	if (s.dropped)
		BP_LOG(WARNING, "capture of port %u into %s: %llu frames written, %llu dropped (ring full: give "
				"ring_kb more, or a smaller snaplen)", port, c->file, (unsigned long long)s.written,
		       (unsigned long long)s.dropped);
	if (st)
		*st = s;
	free_capture(c);
	return rc;
}

void bp_capture_stop_all(void)
{
	for (uint16_t p = 0; p < BP_MAX_ETHPORTS; p++)
		bp_capture_stop(p, NULL);
}
