/* SPDX-License-Identifier: MIT
 * bypass-pktgen: sends UDP/IPv4 test frames at a rate, and measures what
 * comes back (through a forwarder, a responder or a cable): round-trip
 * latency from the send time stamped in each frame, loss and reordering from
 * each flow's sequence numbers. Live progress, a summary at exit, --json.
 *
 *   bypass-pktgen -l 0 -a 03:00.0 -- --rate=10000 --size=64,594,1514 --duration=10
 *   bypass-pktgen -l 0 -a 03:00.0 -- --rate=5% --size=imix --flows=64 --json
 *
 * Frames are apps/common/testpkt.h's (checked byte for byte when they
 * return), with their UDP checksum filled in; --size counts bytes without
 * the FCS, 66 at least (headers, test header and time stamp).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <unistd.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include "../common/testpkt.h"
#include "../common/latency.h"
#include "../common/pace.h"
#include "../common/finish.h"
#include "pktgen.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig, stop = 1; }

static struct pktgen_cfg cfg = {
	.burst = 32, .stats_period = 1, .drain = 0.5, .flows = 1, .tx_port = UINT16_MAX, .rx_port = UINT16_MAX,
};
static struct pktgen_result res;

/* Per flow: the next sequence number to send and to expect back. */
static uint64_t *tx_seq, *rx_next;
/* One header template per frame size (its lengths and IPv4 checksum differ). */
static uint8_t tmpl[PKTGEN_MAX_SIZES][TESTPKT_HDRS];

/* Builds up to n frames (size from the mix in turn, flow after flow) into m. */
static void build(struct bp_mbuf **m, uint16_t n)
{
	static uint32_t slot, flow;
	const uint64_t stamp = lat_now_ns();
	for (uint16_t i = 0; i < n; i++) {
		unsigned k = cfg.mix[slot];
		uint32_t len = cfg.sizes[k];
		uint8_t *p = bp_pktmbuf_mtod(m[i], uint8_t *);
		testpkt_fill_stamped(p, tmpl[k], len, tx_seq[flow]++, stamp);
		if (flow)
			testpkt_set_flow(p, flow);
		testpkt_udp_cksum(p);
		m[i]->data_len = (uint16_t)len;
		m[i]->pkt_len = len;
		res.tx_bytes += len;
		if (++slot == cfg.nb_mix) /* no division per frame */
			slot = 0;
		if (++flow == cfg.flows)
			flow = 0;
	}
}

/* Checks what came back: ours (this run's stream), intact, where it falls in
 * its flow's sequence, and how long it took. */
static void receive(struct bp_mbuf **pkts, uint16_t n)
{
	const uint64_t now = lat_now_ns();
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *p = bp_pktmbuf_mtod(pkts[i], const uint8_t *);
		uint64_t seq;
		enum testpkt_verdict v = testpkt_check(p, pkts[i]->data_len, &seq);
		uint32_t flow = v == TESTPKT_NOT_OURS ? 0 : testpkt_flow(p);
		if (v != TESTPKT_NOT_OURS && (testpkt_stream(p) != cfg.stream || flow >= cfg.flows))
			v = TESTPKT_NOT_OURS; /* another run's, or another sender's */
		if (v == TESTPKT_NOT_OURS) {
			res.not_ours++;
			continue;
		}
		if (v != TESTPKT_OK) {
			res.bad++;
			continue;
		}
		res.received++;
		lat_add(&res.lat, now - testpkt_stamp(p));
		if (seq < rx_next[flow])
			res.reordered++; /* later than a frame sent after it */
		else
			rx_next[flow] = seq + 1;
	}
	bp_pktmbuf_free_bulk(pkts, n);
}

/* One line a period: rates over it, and latency so far. */
static void progress(double t, double *last_t, uint64_t *last_tx, uint64_t *last_rx)
{
	double dt = t - *last_t;
	FILE *f = pktgen_info(&cfg);
	fprintf(f, "pktgen: %6.1f s  tx %10.0f pps  rx %10.0f pps  sent %llu received %llu  p50 %.1f p99 %.1f us\n",
		t, (double)(res.sent - *last_tx) / dt, (double)(res.received - *last_rx) / dt,
		(unsigned long long)res.sent, (unsigned long long)res.received,
		res.lat.n ? lat_quantile(&res.lat, 0.5) : 0.0, res.lat.n ? lat_quantile(&res.lat, 0.99) : 0.0);
	fflush(f);
	*last_t = t, *last_tx = res.sent, *last_rx = res.received;
}

static int run(struct bp_mempool *mp)
{
	struct bp_mbuf *held[PKTGEN_MAX_BURST], *pkts[PKTGEN_MAX_BURST];
	uint16_t nheld = 0;
	struct pace pace;
	const uint64_t hz = bp_tsc_hz(), t0 = bp_rdtsc();
	const uint64_t end = cfg.duration > 0 ? t0 + (uint64_t)(cfg.duration * (double)hz) : UINT64_MAX;
	const uint64_t period = cfg.stats_period > 0 ? (uint64_t)(cfg.stats_period * (double)hz) : UINT64_MAX;
	/* --stats-period=0: no line at all (t0 + UINT64_MAX would wrap to the past) */
	uint64_t next_print = period == UINT64_MAX ? UINT64_MAX : t0 + period;
	uint64_t drain_end = UINT64_MAX, last_tx = 0, last_rx = 0, now;
	double last_t = 0;
	pace_init(&pace, cfg.rate_pps);
	fprintf(pktgen_info(&cfg), "pktgen: sending from port %u, receiving on port %u, %.0f pps%s, %u size(s), %u flow(s), stream %u\n",
	       cfg.tx_port, cfg.rx_port, cfg.rate_pps, cfg.rate_pps > 0 ? "" : " (as fast as it goes)", cfg.nb_sizes,
	       cfg.flows, cfg.stream);
	fflush(pktgen_info(&cfg));
	while ((now = bp_rdtsc()) < drain_end) {
		/* Sending ends at --count, --duration or Ctrl-C; then what is on
		 * its way gets --drain seconds to come back (a second Ctrl-C ends that). */
		bool sending = !stop && now < end && (!cfg.count || res.sent + nheld < cfg.count);
		if (!sending && drain_end == UINT64_MAX) {
			drain_end = now + (uint64_t)(cfg.drain * (double)hz);
			stop = 0;
			res.send_s = (double)(now - t0) / (double)hz;
		}
		if (drain_end != UINT64_MAX && stop)
			break;
		if (sending) {
			uint32_t want = cfg.burst - nheld;
			if (cfg.count && res.sent + nheld + want > cfg.count)
				want = (uint32_t)(cfg.count - res.sent - nheld);
			uint16_t n = (uint16_t)pace_take(&pace, want);
			if (n && bp_pktmbuf_alloc_bulk(mp, held + nheld, n) < 0) {
				pace.done -= n; /* due again next time */
				res.alloc_failed++;
				n = 0;
			}
			build(held + nheld, n);
			nheld = (uint16_t)(nheld + n);
			/* What the ring refuses is offered first next time, so the
			 * sequence stays whole over what the port took. */
			uint16_t sent = nheld ? bp_eth_tx_burst(cfg.tx_port, 0, held, nheld) : 0;
			res.sent += sent;
			memmove(held, held + sent, (size_t)(nheld - sent) * sizeof(held[0]));
			nheld = (uint16_t)(nheld - sent);
		}
		uint16_t nb = bp_eth_rx_burst(cfg.rx_port, 0, pkts, cfg.burst);
		if (nb)
			receive(pkts, nb);
		else
			bp_eth_tx_done_cleanup(cfg.tx_port, 0);
		if (now >= next_print) {
			progress((double)(now - t0) / (double)hz, &last_t, &last_tx, &last_rx);
			next_print += period;
		}
	}
	res.total_s = (double)(bp_rdtsc() - t0) / (double)hz;
	if (res.send_s == 0)
		res.send_s = res.total_s;
	/* built but never taken: their bytes were counted as sent */
	for (uint16_t i = 0; i < nheld; i++)
		res.tx_bytes -= held[i]->pkt_len;
	bp_pktmbuf_free_bulk(held, nheld);
	res.lost = res.sent > res.received ? res.sent - res.received : 0;
	return 0;
}

static int start_port(uint16_t port, uint16_t nb_rxq, struct bp_mempool *mp)
{
	struct bp_eth_conf conf = { .size = sizeof(conf), .promiscuous = 1 };
	if (bp_eth_dev_configure(port, nb_rxq, 1, &conf) < 0 || (nb_rxq && bp_eth_rx_queue_setup(port, 0, 1024, mp) < 0) ||
	    bp_eth_tx_queue_setup(port, 0, 1024) < 0 || bp_eth_dev_start(port) < 0) {
		fprintf(stderr, "pktgen: port %u (%s) could not be started\n", port, bp_eth_dev_name(port));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = bp_init(argc, argv);
	if (n == -ECANCELED) {
		pktgen_usage(stdout, argv[0]);
		return 0;
	}
	if (n < 0)
		return 1;
	argc -= n, argv += n;
	int rc = 1;
	struct bp_mempool *mp = NULL;
	if (pktgen_parse(argc, argv, &cfg) < 0)
		goto out;
	if (cfg.tx_port == UINT16_MAX)
		cfg.tx_port = bp_eth_find_next(0);
	if (cfg.rx_port == UINT16_MAX)
		cfg.rx_port = cfg.tx_port;
	if (!bp_eth_dev_is_valid_port(cfg.tx_port) || !bp_eth_dev_is_valid_port(cfg.rx_port)) {
		fprintf(stderr, "pktgen: no port %u; there are %u (give a NIC with -a ADDR or a --vdev)\n",
			bp_eth_dev_is_valid_port(cfg.tx_port) ? cfg.rx_port : cfg.tx_port, bp_eth_dev_count_avail());
		goto out;
	}
	mp = bp_pktmbuf_pool_create("pktgen", 8192, 256, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	tx_seq = calloc(cfg.flows, sizeof(*tx_seq));
	rx_next = calloc(cfg.flows, sizeof(*rx_next));
	if (!mp || !tx_seq || !rx_next || start_port(cfg.tx_port, 1, mp) < 0 ||
	    (cfg.rx_port != cfg.tx_port && start_port(cfg.rx_port, 1, mp) < 0))
		goto out;
	struct bp_ether_addr src, dst;
	bp_eth_macaddr_get(cfg.tx_port, &src);
	bp_eth_macaddr_get(cfg.rx_port, &dst); /* through a forwarder back to us */
	if (cfg.dst_set)
		dst = cfg.dst;
	for (unsigned k = 0; k < cfg.nb_sizes; k++)
		testpkt_template(tmpl[k], &dst, &src, cfg.sizes[k], cfg.stream);
	if (pktgen_resolve_rate(&cfg) < 0)
		goto out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (run(mp) < 0)
		goto out;
	pktgen_report(&cfg, &res);
	rc = 0;
out:
	lat_free(&res.lat);
	free(tx_seq);
	free(rx_next);
	if (app_close_ports(mp, pktgen_info(&cfg)))
		rc = 1;
	bp_cleanup();
	return rc;
}
