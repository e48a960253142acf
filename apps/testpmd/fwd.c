/* SPDX-License-Identifier: MIT
 * testpmd's forwarding engines: what each lcore does with its streams, how
 * an idle lcore sleeps on its queues' interrupts, and when the run is done. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <bypass/intr.h>
#include <bypass/rss.h>
#include "testpmd.h"

int stop_fd = -1;

void request_stop(void)
{
	uint64_t one = 1;
	stop = 1;
	if (stop_fd >= 0 && write(stop_fd, &one, sizeof(one)) < 0)
		stop = 1; /* (nothing to do: it is set) */
}

/* ---- forwarding ---- */

static inline uint16_t send_or_drop(struct stream *s, struct bp_mbuf **pkts, uint16_t n)
{
	uint16_t sent = bp_eth_tx_burst(s->tx_port, s->tx_queue, pkts, n);
	s->tx += sent;
	if (bp_unlikely(sent < n)) {
		s->tx_dropped += n - sent;
		bp_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
	return n;
}

/* io and mac receive alike. */
static inline uint16_t receive(struct stream *s, struct bp_mbuf **pkts, uint16_t burst)
{
	uint16_t n = bp_eth_rx_burst(s->rx_port, s->rx_queue, pkts, burst);
	if (!n)
		/* Idle: take back what the tx ring has sent, or a tight pool could
		 * stay empty for good (nothing received, so nothing sent). */
		bp_eth_tx_done_cleanup(s->tx_port, s->tx_queue);
	s->rx += n;
	return n;
}

/* Each forwarding function returns how many packets it handled (0: idle). */
static uint16_t fwd_io(struct stream *s, uint16_t burst)
{
	struct bp_mbuf *pkts[MAX_BURST];
	uint16_t n = receive(s, pkts, burst);
	return n ? send_or_drop(s, pkts, n) : 0;
}

static uint16_t fwd_mac(struct stream *s, uint16_t burst)
{
	struct bp_mbuf *pkts[MAX_BURST];
	uint16_t n = receive(s, pkts, burst);
	if (!n)
		return 0;
	for (uint16_t i = 0; i < n; i++) {
		uint8_t *e = bp_pktmbuf_mtod(pkts[i], uint8_t *), tmp[6];
		memcpy(tmp, e, 6);
		memcpy(e, e + 6, 6);
		memcpy(e + 6, tmp, 6);
	}
	return send_or_drop(s, pkts, n);
}

/* txonly: frames the ring refused are kept and offered first next time, so
 * that sequence numbers stay contiguous over what the port took (a gap the
 * receiver sees is a frame lost on the way, never one we threw away). */
static uint16_t fwd_txonly(struct stream *s, uint16_t burst)
{
	uint16_t have = s->nheld, n = burst > have ? (uint16_t)(burst - have) : 0;
	if (bp_unlikely(s->tx_left < n))
		n = (uint16_t)s->tx_left;
	n = (uint16_t)pace_take(&s->pace, n); /* --tx-rate */
	if (n && bp_unlikely(bp_pktmbuf_alloc_bulk(pool, s->held + have, n) < 0)) {
		s->alloc_failed++;
		s->pace.done -= n; /* not built: due again next time */
		n = 0;
	}
	const uint32_t len = cfg.txpkts;
	const uint64_t stamp = cfg.latency && n ? lat_now_ns() : 0;
	for (uint16_t i = have; i < have + n; i++) {
		struct bp_mbuf *m = s->held[i];
		uint8_t *p = bp_pktmbuf_mtod(m, uint8_t *);
		if (cfg.latency)
			testpkt_fill_stamped(p, s->tmpl, len, s->next_seq, stamp);
		else
			testpkt_fill(p, s->tmpl, len, s->next_seq);
		if (cfg.flows > 1) {
			/* flows in turn; a round of them shares one sequence number */
			testpkt_set_flow(p, s->flow);
			s->flow += s->flow_step;
			if (s->flow >= cfg.flows) {
				s->flow = s->flow_first;
				s->next_seq++;
			}
		} else {
			s->next_seq++;
		}
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
	}
	if (s->tx_left != UINT64_MAX)
		s->tx_left -= n;
	have = (uint16_t)(have + n);
	if (!have)
		return 0;
	uint16_t sent = bp_eth_tx_burst(s->tx_port, s->tx_queue, s->held, have);
	s->tx += sent;
	if (bp_unlikely(sent < have))
		memmove(s->held, s->held + sent, (size_t)(have - sent) * sizeof(s->held[0]));
	s->nheld = (uint16_t)(have - sent);
	return sent;
}

/* A frame the port hashed: the hash must be the one its RSS key and types
 * give, and the queue the one its redirection table names. */
static void check_rss(struct stream *s, const struct bp_mbuf *m, const uint8_t *p)
{
	const struct port_rss *r = &port_rss[s->rx_port];
	uint32_t h;
	s->rss_checked++;
	if (!bp_rss_hash_frame(p, m->data_len, r->conf.hash_types, r->conf.key, &h) || h != m->hash ||
	    (r->reta_size && r->reta[h % r->reta_size] != s->rx_queue))
		s->rss_bad++;
}

/* Receives on the stream's queue and, with --verify, checks every frame: ours
 * (and of --stream, if given), intact, where in its flow's sequence it falls,
 * and its RSS hash and queue when the port gave one. */
static uint16_t fwd_rxonly(struct stream *s, uint16_t burst)
{
	struct bp_mbuf *pkts[MAX_BURST];
	uint16_t n = bp_eth_rx_burst(s->rx_port, s->rx_queue, pkts, burst);
	if (!n)
		return 0;
	if (bp_unlikely(!s->rx)) { /* once: for start-up measurements, and a marker for scripts */
		clock_gettime(CLOCK_REALTIME, &s->first_rx);
		if (s->rx_queue)
			printf("testpmd: first packet on port %u queue %u\n", s->rx_port, s->rx_queue);
		else
			printf("testpmd: first packet on port %u\n", s->rx_port);
		fflush(stdout);
	}
	s->rx += n;
	if (cfg.verify) {
		const uint64_t now = cfg.latency ? lat_now_ns() : 0;
		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *p = bp_pktmbuf_mtod(pkts[i], const uint8_t *);
			uint64_t seq = 0;
			uint32_t flow = 0;
			enum testpkt_verdict v = testpkt_check(p, pkts[i]->data_len, &seq);
			if (v != TESTPKT_NOT_OURS && cfg.stream_set && testpkt_stream(p) != cfg.stream)
				v = TESTPKT_NOT_OURS; /* another run's frame */
			if (v != TESTPKT_NOT_OURS && (flow = testpkt_flow(p)) == TESTPKT_FLOWS_MAX)
				v = TESTPKT_NOT_OURS;
			if (pkts[i]->ol_flags & BP_MBUF_F_RX_RSS_HASH)
				check_rss(s, pkts[i], p);
			uint64_t *next = &s->rx_next[flow];
			switch (v) {
			case TESTPKT_OK:
				s->verified++;
				if (cfg.latency && pkts[i]->data_len >= TESTPKT_STAMPED_MIN)
					lat_add(&s->lat, now - testpkt_stamp(p));
				if (seq > *next)
					s->lost += seq - *next;
				else if (seq < *next)
					s->reordered++;
				if (seq >= *next)
					*next = seq + 1;
				break;
			case TESTPKT_NOT_OURS:
				s->not_ours++;
				break;
			default:
				s->bad++;
			}
		}
	}
	bp_pktmbuf_free_bulk(pkts, n);
	return n;
}

/* --rx-count / --tx-count reached: the lcore that sees it stops the run. */
static void check_done(void)
{
	if ((cfg.rx_count && rx_arrived() >= cfg.rx_count) || all_sent())
		request_stop();
}

struct lcore_work work[BP_MAX_LCORE];

/* Every queue of the lcore is idle: arm each one's interrupt, look at each
 * ring once more (a frame that landed before its arming raised nothing),
 * sleep until one fires or the run stops, disarm. */
static void lcore_sleep(struct lcore_work *w)
{
	bool waiting = false;
	for (unsigned i = 0; i < w->n; i++)
		bp_eth_rx_intr_enable(w->s[i]->rx_port, w->s[i]->rx_queue);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < w->n && !waiting; i++)
		waiting = bp_eth_rx_queue_count(w->s[i]->rx_port, w->s[i]->rx_queue) > 0;
	if (!waiting && !stop) {
		struct epoll_event ev[MAX_STREAMS + 1];
		epoll_wait(w->epfd, ev, (int)w->n + 1, -1); /* a queue's interrupt, or the stop */
		w->sleeps++;
	}
	for (unsigned i = 0; i < w->n; i++) {
		bp_eth_rx_intr_disable(w->s[i]->rx_port, w->s[i]->rx_queue);
		bp_intr_wait(bp_eth_rx_intr_fd(w->s[i]->rx_port, w->s[i]->rx_queue), 8, 0); /* clear what fired */
	}
}

int fwd_loop(void *arg)
{
	struct lcore_work *w = arg;
	const uint16_t burst = cfg.burst;
	uint32_t idle = 0;
	while (!stop) {
		unsigned busy = 0;
		const uint64_t t0 = cfg.record_cycles ? bp_rdtsc() : 0;
		for (unsigned i = 0; i < w->n; i++) {
			struct stream *s = w->s[i];
			switch (s->mode) {
			case FWD_IO: busy += fwd_io(s, burst); break;
			case FWD_MAC: busy += fwd_mac(s, burst); break;
			case FWD_TXONLY:
				busy += fwd_txonly(s, burst);
				if (cfg.verify && s->rx_queue != NO_QUEUE) /* what comes back through a forwarder */
					busy += fwd_rxonly(s, burst);
				break;
			case FWD_RXONLY: busy += fwd_rxonly(s, burst); break;
			}
		}
		if (busy) {
			idle = 0;
			if (cfg.record_cycles) {
				/* as DPDK's testpmd counts: cycles of the polls that moved
				 * packets, per packet received (sent, for txonly) */
				w->busy_cycles += bp_rdtsc() - t0;
				w->busy_packets += busy;
			}
			if (bp_unlikely(cfg.rx_count || cfg.tx_count != UINT64_MAX))
				check_done();
		} else if (w->epfd >= 0 && ++idle >= cfg.idle_polls) {
			lcore_sleep(w);
			idle = 0;
		}
	}
	return 0;
}

/* Packets the receiving streams took (rxonly with --verify: verified ones).
 * Read from another thread while they run: each counter is one aligned word. */
uint64_t rx_arrived(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < nb_streams; i++) {
		const struct stream *s = &streams[i];
		bool checks = cfg.verify && (s->mode == FWD_RXONLY || s->mode == FWD_TXONLY);
		if (s->mode != FWD_TXONLY || checks)
			n += __atomic_load_n(checks ? &s->verified : &s->rx, __ATOMIC_RELAXED);
	}
	return n;
}

/* Every stream is txonly and has sent its --tx-count: nothing left to do
 * (unless it also waits for what comes back). */
bool all_sent(void)
{
	if (cfg.verify)
		return false;
	for (unsigned i = 0; i < nb_streams; i++)
		if (streams[i].mode != FWD_TXONLY || __atomic_load_n(&streams[i].tx_left, __ATOMIC_RELAXED) ||
		    __atomic_load_n(&streams[i].nheld, __ATOMIC_RELAXED))
			return false;
	return nb_streams > 0;
}

/* With --rx-mode=interrupt|adaptive, an lcore whose streams all receive may
 * sleep: an epoll set of its queues' interrupt fds. (A txonly stream never
 * idles, so an lcore with one never sleeps.) */
int prepare_sleep(void)
{
	for (uint32_t lc = 0; lc < BP_MAX_LCORE; lc++) {
		struct lcore_work *w = &work[lc];
		w->epfd = -1;
		bool can = cfg.rx_mode != RX_POLL && w->n;
		for (unsigned i = 0; i < w->n; i++)
			can &= w->s[i]->mode != FWD_TXONLY && w->s[i]->rx_queue != NO_QUEUE;
		if (!can)
			continue;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event sev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
		if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, stop_fd, &sev) < 0) {
			fprintf(stderr, "testpmd: epoll: %s\n", strerror(errno));
			return -1;
		}
		for (unsigned i = 0; i < w->n; i++) {
			int fd = bp_eth_rx_intr_fd(w->s[i]->rx_port, w->s[i]->rx_queue);
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
			if (w->epfd < 0 || fd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
				fprintf(stderr, "testpmd: port %u queue %u: no rx interrupt to sleep on\n", w->s[i]->rx_port,
					w->s[i]->rx_queue);
				return -1;
			}
		}
	}
	return 0;
}
