/* SPDX-License-Identifier: MIT
 * The test rig the e1000 and e1000e model tests share (e1000_rig.h). */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bypass/env.h>
#include <bypass/mempool.h>
#include <bypass/rss.h>
#include <bypass/intr.h>
#include <pthread.h>
#include "../unit/harness.h"
#include "../../apps/common/testpkt.h"
#include "e1000_rig.h"

struct rig rig;

void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("    ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

bool rig_up(unsigned nports, uint16_t rxd, uint16_t txd, uint32_t nb_mbufs, uint32_t cache)
{
	return rig_up_conf(nports, rxd, txd, nb_mbufs, cache, NULL);
}

bool rig_up_conf(unsigned nports, uint16_t rxd, uint16_t txd, uint32_t nb_mbufs, uint32_t cache,
		 const struct bp_eth_conf *conf)
{
	const struct rig_opts o = { .nports = nports, .nq = 1, .rxd = rxd, .txd = txd, .nb_mbufs = nb_mbufs,
				    .cache = cache, .conf = conf };
	return rig_up_opts(&o);
}

bool rig_up_opts(const struct rig_opts *o)
{
	unsigned nports = o->nports;
	memset(&rig, 0, sizeof(rig));
	if (test_env(o->mbuf_debug ? "--no-huge -l 0 --log-level err --mbuf-debug"
				   : "--no-huge -l 0 --log-level err") < 0)
		return false;
	rig.nports = nports;
	for (unsigned i = 0; i < nports; i++) {
		char addr[16];
		snprintf(addr, sizeof(addr), "0000:00:0%u.0", 3 + i);
		rig.m[i] = e1000_model_attach(addr, i ? &mac1 : &mac0, o->flags);
		if (!rig.m[i])
			return false;
	}
	if (nports == 2)
		e1000_model_connect(rig.m[0], rig.m[1]);
	rig.mp = bp_pktmbuf_pool_create("model", o->nb_mbufs, o->cache, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	if (!rig.mp)
		return false;
	for (uint16_t p = 0; p < nports; p++) {
		if (bp_eth_dev_configure(p, o->nq, o->nq, o->conf) < 0)
			return false;
		for (uint16_t q = 0; q < o->nq; q++)
			if (bp_eth_rx_queue_setup(p, q, o->rxd, rig.mp) < 0 || bp_eth_tx_queue_setup(p, q, o->txd) < 0)
				return false;
		if (bp_eth_dev_start(p) < 0)
			return false;
	}
	testpkt_template(rig.tmpl, &mac1, &mac0, LEN, 0);
	return true;
}

/* Closes every port, then checks that every mbuf came back, frees all. */
bool rig_down(void)
{
	bool ok = true;
	for (uint16_t p = 0; p < rig.nports; p++)
		if (bp_eth_dev_is_valid_port(p)) /* a test may have closed one */
			bp_eth_dev_close(p);
	if (rig.mp) {
		uint32_t in_use = bp_mempool_in_use_count(rig.mp);
		if (in_use) {
			note("%u mbufs of %u not back in the pool after close", in_use, rig.mp->size);
			ok = false;
		}
	}
	for (unsigned i = 0; i < rig.nports; i++)
		if (rig.m[i] && E1000_MODEL_GET(rig.m[i], dma_faults)) {
			note("model %u saw %llu DMA faults", i, (unsigned long long)rig.m[i]->dma_faults);
			ok = false;
		}
	bp_cleanup();
	bp_mempool_free(rig.mp);
	for (unsigned i = 0; i < rig.nports; i++)
		e1000_model_free(rig.m[i]);
	memset(&rig, 0, sizeof(rig));
	return ok;
}

struct bp_mbuf *make_pkt(uint64_t seq)
{
	struct bp_mbuf *m = bp_pktmbuf_alloc(rig.mp);
	if (m) {
		testpkt_fill(bp_pktmbuf_mtod(m, uint8_t *), rig.tmpl, LEN, seq);
		m->data_len = LEN;
		m->pkt_len = LEN;
	}
	return m;
}

void frame_of(uint8_t *buf, uint64_t seq) { testpkt_fill(buf, rig.tmpl, LEN, seq); }

void inject(struct e1000_model *m, uint64_t seq0, uint64_t n)
{
	uint8_t f[LEN];
	for (uint64_t s = seq0; s < seq0 + n; s++) {
		frame_of(f, s);
		e1000_model_inject(m, f, LEN);
	}
}

/* Checks one frame: ours, intact, and the sequence number expected. */
bool frame_ok(const uint8_t *p, uint32_t len, uint64_t want)
{
	uint64_t seq = UINT64_MAX;
	enum testpkt_verdict v = testpkt_check(p, len, &seq);
	if (v != TESTPKT_OK || seq != want || len != LEN) {
		note("frame %llu: verdict %d, sequence %llu, %u bytes", (unsigned long long)want, v,
		     (unsigned long long)seq, len);
		return false;
	}
	return true;
}

/* Offers frames seq0.. to tx_burst in bursts of `burst`, keeping what the port
 * refuses for the next call, until n are taken; the number taken. */
uint64_t tx_frames(uint16_t port, uint64_t seq0, uint64_t n, uint16_t burst)
{
	return tx_frames_q(port, 0, seq0, n, burst);
}

uint64_t tx_frames_q(uint16_t port, uint16_t queue, uint64_t seq0, uint64_t n, uint16_t burst)
{
	struct bp_mbuf *pkts[512];
	uint16_t have = 0;
	uint64_t next = seq0, taken = 0, deadline = model_now_ns() + WAIT * 1000000ull;
	while (taken < n && model_now_ns() < deadline) {
		while (have < burst && next < seq0 + n) {
			struct bp_mbuf *m = make_pkt(next);
			if (!m)
				break;
			pkts[have++] = m;
			next++;
		}
		uint16_t k = bp_eth_tx_burst(port, queue, pkts, have);
		memmove(pkts, pkts + k, (size_t)(have - k) * sizeof(pkts[0]));
		have = (uint16_t)(have - k);
		taken += k;
	}
	bp_pktmbuf_free_bulk(pkts, have);
	return taken;
}

/* Takes n frames from what model m sent, each checked, in order. */
bool sent_frames(struct e1000_model *m, uint64_t seq0, uint64_t n) { return sent_frames_fq(&m->out, seq0, n); }

bool sent_frames_fq(struct frame_queue *out, uint64_t seq0, uint64_t n)
{
	uint64_t deadline = model_now_ns() + WAIT * 1000000ull;
	for (uint64_t i = 0; i < n;) {
		struct model_frame *f = fq_pop(out);
		if (!f) {
			if (model_now_ns() > deadline) {
				note("the NIC sent %llu frames of %llu", (unsigned long long)i, (unsigned long long)n);
				return false;
			}
			continue;
		}
		bool ok = frame_ok(f->data, f->len, seq0 + i);
		free(f);
		if (!ok)
			return false;
		i++;
	}
	return true;
}

/* Polls rx_burst until n frames came (seq0.., in order, each checked) or the
 * time is up; how many came. */
uint64_t rx_frames(uint16_t port, uint16_t burst, uint64_t seq0, uint64_t n, bool *intact)
{
	return rx_frames_q(port, 0, burst, seq0, n, intact);
}

uint64_t rx_frames_q(uint16_t port, uint16_t queue, uint16_t burst, uint64_t seq0, uint64_t n, bool *intact)
{
	struct bp_mbuf *pkts[512];
	uint64_t got = 0, deadline = model_now_ns() + WAIT * 1000000ull;
	*intact = true;
	while (got < n && model_now_ns() < deadline) {
		uint16_t k = bp_eth_rx_burst(port, queue, pkts, (uint16_t)BP_MIN((uint64_t)burst, n - got));
		for (uint16_t i = 0; i < k; i++)
			if (*intact && !frame_ok(bp_pktmbuf_mtod(pkts[i], uint8_t *), pkts[i]->pkt_len, seq0 + got + i))
				*intact = false;
		bp_pktmbuf_free_bulk(pkts, k);
		got += k;
	}
	return got;
}

struct bp_eth_stats stats(uint16_t port)
{
	struct bp_eth_stats st;
	bp_eth_stats_get(port, &st);
	return st;
}

/* Takes every free mbuf out of the pool; returns how many (held in out). */
uint32_t drain_pool(struct bp_mbuf **out, uint32_t max)
{
	uint32_t n = 0;
	while (n < max && (out[n] = bp_pktmbuf_alloc(rig.mp)))
		n++;
	return n;
}

void on_link(uint16_t port, enum bp_eth_event_type ev, void *arg)
{
	struct link_log *l = arg;
	struct bp_eth_link link;
	bp_eth_link_get(port, &link, false);
	pthread_mutex_lock(&l->lock);
	if (ev == BP_ETH_EVENT_LINK) {
		l->events++;
		l->last = link;
	}
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

/* Waits up to a second for the n-th link event. */
bool link_event(struct link_log *l, int n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	pthread_mutex_lock(&l->lock);
	while (l->events < n && pthread_cond_timedwait(&l->cond, &l->lock, &ts) == 0)
		;
	bool ok = l->events >= n;
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void *inject_later(void *arg)
{
	struct delayed *d = arg;
	usleep(d->delay_ms * 1000);
	inject(d->m, d->seq, 1);
	return NULL;
}


/* Port 0 sends, port 1 receives, never more in flight than the rings hold:
 * every frame must arrive, in order, intact, with nothing missed. */
bool loopback(uint16_t ring, uint16_t burst, uint64_t seq0, uint64_t n)
{
	struct bp_mbuf *pkts[512];
	uint64_t sent = 0, got = 0, deadline = model_now_ns() + WAIT * 1000000ull;
	uint16_t have = 0;
	while (got < n) {
		if (model_now_ns() > deadline) {
			note("ring %u burst %u: sent %llu, received %llu of %llu", ring, burst,
			     (unsigned long long)sent, (unsigned long long)got, (unsigned long long)n);
			bp_pktmbuf_free_bulk(pkts, have);
			return false;
		}
		uint64_t window = ring - 1 - (sent + have - got);
		while (have < burst && sent + have < n && window > 0) {
			if (!(pkts[have] = make_pkt(seq0 + sent + have)))
				break;
			have++;
			window--;
		}
		uint16_t k = bp_eth_tx_burst(0, 0, pkts, have);
		memmove(pkts, pkts + k, (size_t)(have - k) * sizeof(pkts[0]));
		have = (uint16_t)(have - k);
		sent += k;
		struct bp_mbuf *rx[512];
		uint16_t r = bp_eth_rx_burst(1, 0, rx, burst);
		for (uint16_t i = 0; i < r; i++) {
			if (!frame_ok(bp_pktmbuf_mtod(rx[i], uint8_t *), rx[i]->pkt_len, seq0 + got + i)) {
				bp_pktmbuf_free_bulk(rx, r);
				bp_pktmbuf_free_bulk(pkts, have);
				return false;
			}
		}
		bp_pktmbuf_free_bulk(rx, r);
		got += r;
	}
	return true;
}

bool rx_fill_rounds(struct e1000_model *m, uint16_t queue, uint16_t nb, unsigned rounds)
{
	for (uint64_t round = 0; round < rounds; round++) {
		uint64_t seq0 = round * nb;
		bool intact;
		inject(m, seq0, nb);
		if (!e1000_model_wait_quiet(m, WAIT) || rx_frames_q(0, queue, 32, seq0, nb - 1u, &intact) != nb - 1u ||
		    !intact)
			return false;
		struct bp_eth_stats st = stats(0);
		if (st.imissed != round + 1 || st.ipackets != (round + 1) * (nb - 1u) ||
		    st.ibytes != (round + 1) * (nb - 1u) * (uint64_t)LEN || st.rx_nombuf) {
			note("round %llu: missed %llu, packets %llu, bytes %llu, nombuf %llu", (unsigned long long)round,
			     (unsigned long long)st.imissed, (unsigned long long)st.ipackets,
			     (unsigned long long)st.ibytes, (unsigned long long)st.rx_nombuf);
			return false;
		}
	}
	return true;
}

/* ---- flows, for RSS ---- */

void flow_frame(uint8_t *p, unsigned flow, uint64_t seq, bool tcp)
{
	frame_of(p, seq);
	uint8_t *ip = p + TESTPKT_L2, *l4 = ip + TESTPKT_L3;
	ip[9] = tcp ? 6 : 17;
	ip[12] = 10, ip[13] = 1, ip[14] = (uint8_t)(flow >> 8), ip[15] = (uint8_t)flow;
	ip[10] = ip[11] = 0;
	uint16_t c = testpkt_ip_cksum(ip);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	l4[0] = (uint8_t)((1024 + flow) >> 8), l4[1] = (uint8_t)(1024 + flow);
}

void inject_flows(struct e1000_model *m, uint64_t seq0)
{
	uint8_t f[LEN];
	for (unsigned i = 0; i < FLOWS; i++) {
		flow_frame(f, i, seq0 + i, i & 1);
		e1000_model_inject(m, f, LEN);
	}
}

bool rx_flows(uint64_t seq0, uint32_t types, uint64_t *per_q, uint16_t nq)
{
	uint16_t reta[RIG_RETA_SIZE];
	struct bp_eth_rss_conf rss;
	uint8_t want[LEN];
	bool seen[FLOWS] = { false };
	unsigned got = 0;
	if (bp_eth_dev_rss_reta_query(0, reta, RIG_RETA_SIZE) < 0 || bp_eth_dev_rss_hash_conf_get(0, &rss) < 0)
		return false;
	memset(per_q, 0, nq * sizeof(*per_q));
	uint64_t deadline = model_now_ns() + WAIT * 1000000ull;
	while (got < FLOWS && model_now_ns() < deadline) {
		for (uint16_t q = 0; q < nq; q++) {
			struct bp_mbuf *pkts[32];
			uint16_t k = bp_eth_rx_burst(0, q, pkts, 32);
			for (uint16_t i = 0; i < k; i++) {
				struct bp_mbuf *m = pkts[i];
				const uint8_t *p = bp_pktmbuf_mtod(m, const uint8_t *);
				unsigned flow = (unsigned)(p[TESTPKT_L2 + 14] << 8 | p[TESTPKT_L2 + 15]);
				uint32_t sw = 0;
				bool hashed = bp_rss_hash_frame(p, m->pkt_len, types, rss.key, &sw);
				bool ok = flow < FLOWS && !seen[flow] && m->pkt_len == LEN;
				if (ok) {
					flow_frame(want, flow, seq0 + flow, flow & 1);
					ok = memcmp(p, want, LEN) == 0;
				}
				if (!ok || hashed != !!(m->ol_flags & BP_MBUF_F_RX_RSS_HASH) || (hashed && m->hash != sw) ||
				    q != (hashed ? reta[sw & (RIG_RETA_SIZE - 1)] : 0)) {
					note("flow %u on queue %u: bytes %s, hash %s %#x (software %#x), flags %#llx", flow, q,
					     ok ? "ok" : "wrong", hashed ? "expected" : "none expected", m->hash, sw,
					     (unsigned long long)m->ol_flags);
					bp_pktmbuf_free_bulk(pkts, k);
					return false;
				}
				seen[flow] = true;
				per_q[q]++;
			}
			bp_pktmbuf_free_bulk(pkts, k);
			got += k;
		}
	}
	if (got != FLOWS)
		note("%u frames of %u came", got, FLOWS);
	return got == FLOWS;
}

bool flows_per_queue(uint32_t types, uint16_t nq, unsigned *flow_on)
{
	uint16_t reta[RIG_RETA_SIZE];
	struct bp_eth_rss_conf rss;
	if (bp_eth_dev_rss_reta_query(0, reta, RIG_RETA_SIZE) < 0 || bp_eth_dev_rss_hash_conf_get(0, &rss) < 0)
		return false;
	for (uint16_t q = 0; q < nq; q++)
		flow_on[q] = FLOWS;
	for (unsigned f = 0; f < FLOWS; f++) {
		uint8_t fr[LEN];
		uint32_t h;
		flow_frame(fr, f, 0, f & 1);
		if (!bp_rss_hash_frame(fr, LEN, types, rss.key, &h))
			return false;
		uint16_t q = reta[h & (RIG_RETA_SIZE - 1)];
		if (q < nq && flow_on[q] == FLOWS)
			flow_on[q] = f;
	}
	for (uint16_t q = 0; q < nq; q++)
		if (flow_on[q] == FLOWS)
			return false;
	return true;
}

void *inject_flow_later(void *arg)
{
	struct flow_later *d = arg;
	uint8_t f[LEN];
	usleep(20 * 1000);
	flow_frame(f, d->flow, 7000 + d->flow, d->flow & 1);
	e1000_model_inject(d->m, f, LEN);
	return NULL;
}

bool sent_two_queues(struct e1000_model *m, uint64_t seq0, uint64_t n0, uint64_t seq1, uint64_t n1)
{
	uint64_t next[2] = { seq0, seq1 }, end[2] = { seq0 + n0, seq1 + n1 };
	uint64_t deadline = model_now_ns() + WAIT * 1000000ull;
	while (next[0] < end[0] || next[1] < end[1]) {
		struct model_frame *f = fq_pop(&m->out);
		if (!f) {
			if (model_now_ns() > deadline) {
				note("sent: queue 0 up to %llu, queue 1 up to %llu", (unsigned long long)next[0],
				     (unsigned long long)next[1]);
				return false;
			}
			continue;
		}
		uint64_t seq = UINT64_MAX;
		(void)testpkt_check(f->data, f->len, &seq);
		int q = seq >= seq1 ? 1 : 0;
		bool ok = frame_ok(f->data, f->len, next[q]);
		free(f);
		if (!ok)
			return false;
		next[q]++;
	}
	return true;
}

/* ---- scenarios the e1000e and igb model tests share ---- */

bool scenario_empty_pool(const struct rig_opts *o)
{
	static struct bp_mbuf *held[8192];
	REQ(rig_up_opts(o));
	struct e1000_model *m = rig.m[0];
	uint32_t nheld = drain_pool(held, 8192);
	inject(m, 0, 10);
	REQ(e1000_model_wait_quiet(m, WAIT));
	struct bp_mbuf *pkts[32];
	REQ(bp_eth_rx_burst(0, 0, pkts, 32) == 0);
	REQ(stats(0).rx_nombuf == 10);
	bp_pktmbuf_free_bulk(held, nheld);
	uint16_t full = (uint16_t)(o->rxd - 1); /* the ring never ran dry: a full ring's worth */
	inject(m, 100, full);
	bool intact;
	REQ(rx_frames_q(0, 0, 32, 100, full, &intact) == full && intact);
	REQ(stats(0).rx_nombuf == 10 && stats(0).imissed == 0);
	return rig_down();
}

bool scenario_slow_nic(const struct rig_opts *o, uint16_t txq)
{
	REQ(rig_up_opts(o));
	struct e1000_model *m = rig.m[0];
	e1000_model_set_speed(m, 1, 20);
	REQ(tx_frames_q(0, txq, 0, 1000, 32) == 1000);
	REQ(sent_frames(m, 0, 1000));
	inject(m, 5000, 1000);
	bool intact;
	REQ(rx_frames_q(0, 0, 32, 5000, 1000, &intact) == 1000 && intact);
	REQ(stats(0).imissed == 0);
	return rig_down();
}

bool scenario_burst_sizes(const struct rig_opts *base)
{
	static const uint16_t rings[] = { 8, 64, 512, 4096 }, bursts[] = { 1, 7, 32, 33, 64, 512 };
	for (unsigned r = 0; r < BP_ARRAY_SIZE(rings); r++) {
		struct rig_opts o = *base;
		uint16_t ring = rings[r];
		o.nports = 2;
		o.rxd = o.txd = ring;
		o.nb_mbufs = 5u * ring + 2048;
		REQ(rig_up_opts(&o));
		uint64_t seq = 0, frames = 2u * ring + 100;
		for (unsigned b = 0; b < BP_ARRAY_SIZE(bursts); b++) {
			REQ(loopback(ring, bursts[b], seq, frames));
			seq += frames;
		}
		REQ(stats(1).ipackets == seq && stats(1).imissed == 0);
		REQ(rig_down());
	}
	return true;
}

bool tx_fill_two_queues(struct e1000_model *m, uint16_t q0, uint16_t q1, uint16_t nb, uint64_t round)
{
	e1000_model_pause(m, true);
	for (uint16_t i = 0; i < 2; i++) {
		struct bp_mbuf *pkts[4096];
		for (uint16_t k = 0; k < nb; k++)
			REQ((pkts[k] = make_pkt(round * 1000 + i * 100000 + k)) != NULL);
		uint16_t took = bp_eth_tx_burst(0, i ? q1 : q0, pkts, nb);
		uint16_t more = bp_eth_tx_burst(0, i ? q1 : q0, pkts + nb - 1, 1);
		bp_pktmbuf_free_bulk(pkts + took + more, (unsigned)(nb - took - more));
		REQ(took == nb - 1 && more == 0); /* full at nb - 1 */
	}
	e1000_model_pause(m, false);
	return sent_two_queues(m, round * 1000, nb - 1u, 100000 + round * 1000, nb - 1u);
}

bool link_flaps(struct e1000_model *m, struct link_log *log, uint16_t txq)
{
	for (int i = 0; i < 3; i++) {
		e1000_model_set_link(m, false);
		REQ(link_event(log, 2 * i + 1) && !log->last.up);
		REQ(tx_frames_q(0, txq, (uint64_t)i * 100, 10, 10) == 10); /* waits while the link is down */
		e1000_model_set_link(m, true);
		REQ(link_event(log, 2 * i + 2) && log->last.up && log->last.speed_mbps == 1000);
		REQ(sent_frames(m, (uint64_t)i * 100, 10));
	}
	inject(m, 1000, 10);
	bool intact;
	REQ(rx_frames_q(0, 0, 32, 1000, 10, &intact) == 10 && intact);
	return true;
}

bool wake_queue(struct e1000_model *m, uint16_t q, uint16_t other, unsigned flow)
{
	REQ(bp_eth_rx_intr_enable(0, other) == 0); /* armed, but its frame won't come */
	struct flow_later d = { m, flow };
	pthread_t t;
	pthread_create(&t, NULL, inject_flow_later, &d);
	uint64_t t0 = model_now_ns();
	int woke = bp_eth_rx_intr_wait(0, q, 5000);
	pthread_join(t, NULL);
	REQ(woke == 1 && model_now_ns() - t0 < 1000 * 1000000ull);
	REQ(bp_intr_wait(bp_eth_rx_intr_fd(0, other), 8, 0) == 0); /* the other slept on */
	REQ(bp_eth_rx_intr_disable(0, other) == 0);
	struct bp_mbuf *pkts[4];
	uint8_t want[LEN];
	REQ(bp_eth_rx_burst(0, q, pkts, 4) == 1);
	flow_frame(want, flow, 7000 + flow, flow & 1);
	bool same = memcmp(bp_pktmbuf_mtod(pkts[0], uint8_t *), want, LEN) == 0;
	bp_pktmbuf_free(pkts[0]);
	REQ(same);
	return true;
}
