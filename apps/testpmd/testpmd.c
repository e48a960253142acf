/* SPDX-License-Identifier: MIT
 * bypass-testpmd: forwards, generates or sinks packets on every port, with live
 * rates and a summary at exit.
 *
 *   bypass-testpmd -l 0,1 --vdev net_null0 --vdev net_null1 -- --forward-mode=io
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <bypass/capture.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/ethdev.h>
#include "testpmd.h"
#include "../common/finish.h"

const char *const mode_names[] = { "io", "mac", "txonly", "rxonly" };

struct testpmd_cfg cfg = {
	.mode = FWD_IO, .burst = 32, .txpkts = 64, .stats_period = 1.0, .rxd = 1024, .txd = 1024,
	.tx_count = UINT64_MAX, .mbuf_size = BP_MBUF_DEFAULT_BUF_SIZE, .idle_polls = 300,
	.rxq = 1, .txq = 1, .flows = 1,
};
struct port_rss port_rss[BP_MAX_ETHPORTS];

struct stream streams[MAX_STREAMS];
unsigned nb_streams;
struct bp_mempool *pool;
volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	request_stop(); /* write() is async-signal-safe */
}

static void usage(const char *prog)
{
	printf("usage: %s [environment options] -- [options]\n"
	       "  --forward-mode=MODE   io (default), mac (swap addresses), txonly, rxonly\n"
	       "  --port-mode=P:MODE    this port runs MODE instead (repeatable), e.g. 0:txonly\n"
	       "  --txpkts=BYTES        txonly frame size without FCS, %d..%d (default 64)\n"
	       "  --tx-count=N          txonly: stop sending after N packets per port\n"
	       "  --first-seq=N         txonly: number the frames from N (default 0)\n"
	       "  --latency             txonly: stamp each frame with its send time; rxonly --verify:\n"
	       "                        p50/p99/p99.9/max of send-to-receive time (same clock: one machine)\n"
	       "  --eth-peer=MAC        txonly: send to this address (default: the paired port's)\n"
	       "  --tx-rate=PPS         txonly: send at most PPS packets per second per port\n"
	       "  --record-core-cycles  print busy TSC cycles per packet moved at exit (as DPDK's testpmd)\n"
	       "  --verify              rxonly: check every packet's sequence and checksum;\n"
	       "                        txonly: also check what comes back on the same port; the live\n"
	       "                        statistics add \"port P verified so far: verified=N bad=N ...\"\n"
	       "  --stream=N            txonly: tag frames with stream N (0..65535); --verify: count\n"
	       "                        frames of any other stream as not ours\n"
	       "  --rx-mode=MODE        poll (default: a core spins); interrupt: an idle lcore sleeps on\n"
	       "                        its queues' interrupts at the first empty poll; adaptive: after\n"
	       "                        --idle-polls=N empty polls in a row (default 300)\n"
	       "  --no-lsc-interrupt    do not listen for link changes (printed as they come otherwise)\n"
	       "  --rx-count=N          stop once the receiving ports took N packets (rxonly --verify:\n"
	       "                        N verified); txonly alone stops once --tx-count is sent\n"
	       "  --burst=N             packets per burst, 1..%d (default 32)\n"
	       "  --stats-period=S      live statistics every S seconds, 0 = off (default 1)\n"
	       "  --duration=S          stop after S seconds (default: until Ctrl-C)\n"
	       "  --nb-mbufs=N          mbufs in the pool (default: sized from the queues)\n"
	       "  --rxd=N --txd=N       ring descriptors per queue (default 1024)\n"
	       "  --rxq=N --txq=N       queues per port (default 1); each rx queue (with the tx queue of\n"
	       "                        the same number) is a stream, and streams go to lcores in turn\n"
	       "  --flows=N             txonly: N flows per port (source address and UDP port vary,\n"
	       "                        1..%d), so RSS spreads them over the receiver's queues\n"
	       "  --fwd-on-main         the main lcore forwards too (live statistics then come from a\n"
	       "                        helper thread): -l 0,1 gives two forwarding cores\n"
	       "  --disable-rss         with --rxq > 1: no RSS (frames go to queue 0); by default every\n"
	       "                        hash type the port has is on\n"
	       "  --capture=PORT:FILE[,count=N][,dir=rx|tx|both][,queue=Q][,snaplen=N][,ring_kb=N]\n"
	       "                        write what PORT receives and sends into FILE (pcapng), from\n"
	       "                        forwarding start to exit (repeatable, one per port)\n"
	       "The line \"testpmd: forwarding started\" says the ports are started and polled;\n"
	       "\"testpmd: first packet on port P\" that P received its first.\n"
	       "Environment options: %s --help\n",
	       prog, BP_ETHER_MIN_LEN, TESTPKT_MAX, MAX_BURST, TESTPKT_FLOWS_MAX, prog);
}

static int parse_mode(const char *s, enum fwd_mode *m)
{
	for (unsigned i = 0; i < BP_ARRAY_SIZE(mode_names); i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*m = (enum fwd_mode)i;
			return 0;
		}
	fprintf(stderr, "testpmd: forward mode '%s' is unknown; use io, mac, txonly or rxonly\n", s);
	return -1;
}

static int parse_num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (!*v || *end || errno || x < lo || x > hi) {
		fprintf(stderr, "testpmd: --%s=%s is not a number from %g to %g\n", opt, v, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

static int parse_app_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "forward-mode", required_argument, 0, 'f' }, { "port-mode", required_argument, 0, 'p' },
		{ "txpkts", required_argument, 0, 's' },      { "tx-count", required_argument, 0, 'c' },
		{ "verify", no_argument, 0, 'v' },            { "burst", required_argument, 0, 'b' },
		{ "stats-period", required_argument, 0, 'P' }, { "duration", required_argument, 0, 'd' },
		{ "nb-mbufs", required_argument, 0, 'n' },    { "rxd", required_argument, 0, 'r' },
		{ "txd", required_argument, 0, 't' },         { "help", no_argument, 0, 'h' },
		{ "tx-rate", required_argument, 0, 'R' },     { "rx-count", required_argument, 0, 'C' },
		{ "stream", required_argument, 0, 'S' },      { "rx-mode", required_argument, 0, 'M' },
		{ "idle-polls", required_argument, 0, 'I' },  { "no-lsc-interrupt", no_argument, 0, 'L' },
		{ "first-seq", required_argument, 0, 'F' },   { "latency", no_argument, 0, 'T' },
		{ "eth-peer", required_argument, 0, 'E' },   { "record-core-cycles", no_argument, 0, 'Y' },
		{ "rxq", required_argument, 0, 'q' },         { "txq", required_argument, 0, 'Q' },
		{ "flows", required_argument, 0, 'w' },       { "disable-rss", no_argument, 0, 'D' },
		{ "fwd-on-main", no_argument, 0, 'O' },       { "capture", required_argument, 0, 'K' },
		{ 0, 0, 0, 0 },
	};
	int c;
	double v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *name = NULL;
		for (const struct option *o = opts; o->name; o++)
			if (o->val == c)
				name = o->name;
		switch (c) {
		case 'f':
			if (parse_mode(optarg, &cfg.mode) < 0)
				return -1;
			break;
		case 'p': {
			char *colon = strchr(optarg, ':');
			double port;
			if (!colon) {
				fprintf(stderr, "testpmd: --port-mode=%s: write PORT:MODE, e.g. 0:txonly\n", optarg);
				return -1;
			}
			*colon = '\0';
			if (parse_num(name, optarg, 0, BP_MAX_ETHPORTS - 1, &port) < 0 ||
			    parse_mode(colon + 1, &cfg.port_mode[(int)port]) < 0)
				return -1;
			cfg.port_mode_set[(int)port] = true;
			break;
		}
		case 's':
			if (parse_num(name, optarg, BP_ETHER_MIN_LEN, TESTPKT_MAX, &v) < 0)
				return -1;
			cfg.txpkts = (uint32_t)v;
			break;
		case 'c':
			if (parse_num(name, optarg, 0, 1e18, &v) < 0)
				return -1;
			cfg.tx_count = (uint64_t)v;
			break;
		case 'v':
			cfg.verify = true;
			break;
		case 'C':
			if (parse_num(name, optarg, 1, 1e18, &v) < 0)
				return -1;
			cfg.rx_count = (uint64_t)v;
			break;
		case 'S':
			if (parse_num(name, optarg, 0, 65535, &v) < 0)
				return -1;
			cfg.stream = (uint16_t)v;
			cfg.stream_set = true;
			break;
		case 'M':
			if (!strcmp(optarg, "poll"))
				cfg.rx_mode = RX_POLL;
			else if (!strcmp(optarg, "interrupt"))
				cfg.rx_mode = RX_INTERRUPT;
			else if (!strcmp(optarg, "adaptive"))
				cfg.rx_mode = RX_ADAPTIVE;
			else {
				fprintf(stderr, "testpmd: --rx-mode=%s: use poll, interrupt or adaptive\n", optarg);
				return -1;
			}
			break;
		case 'I':
			if (parse_num(name, optarg, 1, 1e9, &v) < 0)
				return -1;
			cfg.idle_polls = (uint32_t)v;
			break;
		case 'L':
			cfg.no_lsc = true;
			break;
		case 'F':
			if (parse_num(name, optarg, 0, 1e18, &v) < 0)
				return -1;
			cfg.first_seq = (uint64_t)v;
			break;
		case 'T':
			cfg.latency = true;
			break;
		case 'Y':
			cfg.record_cycles = true;
			break;
		case 'E': {
			unsigned b[6];
			int end = 0;
			if (sscanf(optarg, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6 ||
			    optarg[end]) {
				fprintf(stderr, "testpmd: --eth-peer=%s: write a MAC address, e.g. 52:54:00:12:34:02\n", optarg);
				return -1;
			}
			for (int i = 0; i < 6; i++)
				cfg.eth_peer.b[i] = (uint8_t)b[i];
			cfg.eth_peer_set = true;
			break;
		}
		case 'R':
			if (parse_num(name, optarg, 1, 1e9, &cfg.tx_rate) < 0)
				return -1;
			break;
		case 'b':
			if (parse_num(name, optarg, 1, MAX_BURST, &v) < 0)
				return -1;
			cfg.burst = (uint16_t)v;
			break;
		case 'P':
			if (parse_num(name, optarg, 0, 3600, &cfg.stats_period) < 0)
				return -1;
			break;
		case 'd':
			if (parse_num(name, optarg, 0, 1e9, &cfg.duration) < 0)
				return -1;
			break;
		case 'n':
			if (parse_num(name, optarg, 64, 1 << 24, &v) < 0)
				return -1;
			cfg.nb_mbufs = (uint32_t)v;
			break;
		case 'r':
		case 't':
			if (parse_num(name, optarg, 8, 32768, &v) < 0)
				return -1;
			*(c == 'r' ? &cfg.rxd : &cfg.txd) = (uint16_t)v;
			break;
		case 'q':
		case 'Q':
			if (parse_num(name, optarg, 1, BP_MAX_QUEUES_PER_PORT, &v) < 0)
				return -1;
			*(c == 'q' ? &cfg.rxq : &cfg.txq) = (uint16_t)v;
			break;
		case 'w':
			if (parse_num(name, optarg, 1, TESTPKT_FLOWS_MAX, &v) < 0)
				return -1;
			cfg.flows = (uint32_t)v;
			break;
		case 'D':
			cfg.no_rss = true;
			break;
		case 'O':
			cfg.fwd_on_main = true;
			break;
		case 'K':
			if (cfg.nb_capture == BP_MAX_ETHPORTS) {
				fprintf(stderr, "testpmd: at most %d --capture\n", BP_MAX_ETHPORTS);
				return -1;
			}
			cfg.capture[cfg.nb_capture++] = optarg;
			break;
		case 'h':
			usage("bypass-testpmd");
			exit(0);
		default:
			fprintf(stderr, "testpmd: see --help for the options after --\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "testpmd: unexpected argument '%s'; see --help\n", argv[optind]);
		return -1;
	}
	if (cfg.rx_mode == RX_INTERRUPT)
		cfg.idle_polls = 1;
	bool sends = cfg.mode == FWD_TXONLY;
	for (unsigned p = 0; p < BP_MAX_ETHPORTS; p++)
		sends |= cfg.port_mode_set[p] && cfg.port_mode[p] == FWD_TXONLY;
	if (cfg.latency && sends && cfg.txpkts < TESTPKT_STAMPED_MIN) {
		fprintf(stderr, "testpmd: --latency carries a timestamp: give --txpkts=%d or more\n", TESTPKT_STAMPED_MIN);
		return -1;
	}
	return 0;
}

/* ---- statistics ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct snap {
	struct bp_eth_stats st[BP_MAX_ETHPORTS];
	uint64_t dropped[BP_MAX_ETHPORTS];
	double t;
};

static void take_snap(struct snap *sn)
{
	uint16_t p;
	memset(sn->dropped, 0, sizeof(sn->dropped));
	BP_ETH_FOREACH_DEV(p)
		bp_eth_stats_get(p, &sn->st[p]);
	for (unsigned i = 0; i < nb_streams; i++)
		sn->dropped[streams[i].tx_port] += streams[i].tx_dropped + streams[i].alloc_failed;
	sn->t = now_s();
}

/* The counters of the streams of streams[i]'s rx port (its first stream,
 * one per queue, in a row) summed into *t; returns next-seq, the highest of
 * its flows'. Read while the lcores run, the sums are a moment's view. */
static uint64_t port_sum(unsigned i, struct stream *t)
{
	uint64_t next = 0;
	memset(t, 0, sizeof(*t));
	for (unsigned j = i; j < nb_streams && streams[j].rx_port == streams[i].rx_port; j++) {
		const struct stream *s = &streams[j];
		t->rx += s->rx, t->verified += s->verified, t->bad += s->bad;
		t->not_ours += s->not_ours, t->lost += s->lost, t->reordered += s->reordered;
		t->rss_checked += s->rss_checked, t->rss_bad += s->rss_bad;
		for (uint32_t f = 0; s->rx_next && f < TESTPKT_FLOWS_MAX; f++)
			next = BP_MAX(next, s->rx_next[f]);
	}
	return next;
}

static void print_rates(const struct snap *a, const struct snap *b)
{
	double dt = b->t - a->t;
	uint16_t p;
	if (dt <= 0)
		return;
	BP_ETH_FOREACH_DEV(p) {
		const struct bp_eth_stats *x = &a->st[p], *y = &b->st[p];
		/* Bits on the wire include the 4-byte FCS, preamble and gap: 24 bytes/frame. */
		double rxp = (double)(y->ipackets - x->ipackets) / dt,
		       txp = (double)(y->opackets - x->opackets) / dt;
		double rxb = ((double)(y->ibytes - x->ibytes) / dt + rxp * 24) * 8,
		       txb = ((double)(y->obytes - x->obytes) / dt + txp * 24) * 8;
		printf("port %u: rx %9.3f Mpps %8.3f Gbit/s | tx %9.3f Mpps %8.3f Gbit/s | "
		       "drops tx %llu missed %llu nombuf %llu\n",
		       p, rxp / 1e6, rxb / 1e9, txp / 1e6, txb / 1e9,
		       (unsigned long long)(b->dropped[p] - a->dropped[p]),
		       (unsigned long long)(y->imissed - x->imissed),
		       (unsigned long long)(y->rx_nombuf - x->rx_nombuf));
	}
	/* --verify: what each receiving port has checked so far (a script can
	 * watch a run's traffic verify without stopping it) */
	for (unsigned i = 0; cfg.verify && i < nb_streams; i++) {
		const struct stream *s0 = &streams[i];
		if ((i > 0 && streams[i - 1].rx_port == s0->rx_port) || s0->rx_queue == NO_QUEUE)
			continue;
		struct stream t;
		port_sum(i, &t);
		printf("port %u verified so far: verified=%llu bad=%llu not-ours=%llu lost=%llu reordered=%llu\n",
		       s0->rx_port, (unsigned long long)t.verified, (unsigned long long)t.bad,
		       (unsigned long long)t.not_ours, (unsigned long long)t.lost, (unsigned long long)t.reordered);
	}
	fflush(stdout);
}

static void print_summary(const struct snap *first, const struct snap *last)
{
	double dt = last->t - first->t;
	uint16_t p;
	printf("---- summary after %.2f s ----\n", dt);
	BP_ETH_FOREACH_DEV(p) {
		const struct bp_eth_stats *x = &first->st[p], *y = &last->st[p];
		uint64_t rx = y->ipackets - x->ipackets, tx = y->opackets - x->opackets;
		printf("port %u (%s): rx-packets=%llu rx-bytes=%llu tx-packets=%llu tx-bytes=%llu "
		       "tx-dropped=%llu rx-missed=%llu rx-nombuf=%llu rx-pps=%.0f tx-pps=%.0f\n",
		       p, bp_eth_dev_name(p), (unsigned long long)rx,
		       (unsigned long long)(y->ibytes - x->ibytes), (unsigned long long)tx,
		       (unsigned long long)(y->obytes - x->obytes),
		       (unsigned long long)(last->dropped[p] - first->dropped[p]),
		       (unsigned long long)(y->imissed - x->imissed),
		       (unsigned long long)(y->rx_nombuf - x->rx_nombuf), dt > 0 ? rx / dt : 0,
		       dt > 0 ? tx / dt : 0);
	}
	if (cfg.rxq > 1 || cfg.txq > 1)
		BP_ETH_FOREACH_DEV(p) {
			const struct bp_eth_stats *x = &first->st[p], *y = &last->st[p];
			for (uint16_t q = 0; q < BP_MAX(cfg.rxq, cfg.txq) && q < BP_MAX_QUEUES_PER_PORT; q++)
				printf("port %u queue %u: rx-packets=%llu rx-bytes=%llu tx-packets=%llu tx-bytes=%llu\n",
				       p, q, (unsigned long long)(y->q_ipackets[q] - x->q_ipackets[q]),
				       (unsigned long long)(y->q_ibytes[q] - x->q_ibytes[q]),
				       (unsigned long long)(y->q_opackets[q] - x->q_opackets[q]),
				       (unsigned long long)(y->q_obytes[q] - x->q_obytes[q]));
		}
	/* Per port, the sums over its streams (one per queue). */
	for (unsigned i = 0; i < nb_streams; i++) {
		const struct stream *s0 = &streams[i];
		if (i > 0 && streams[i - 1].rx_port == s0->rx_port)
			continue; /* the port's first stream prints for all */
		struct stream t;
		struct timespec first_rx = { 0 };
		struct latency lat = { 0 };
		uint64_t next = port_sum(i, &t);
		for (unsigned j = i; j < nb_streams && streams[j].rx_port == s0->rx_port; j++) {
			const struct stream *s = &streams[j];
			if (s->rx && (!first_rx.tv_sec || s->first_rx.tv_sec < first_rx.tv_sec ||
				      (s->first_rx.tv_sec == first_rx.tv_sec && s->first_rx.tv_nsec < first_rx.tv_nsec)))
				first_rx = s->first_rx;
			lat_merge(&lat, &s->lat);
		}
		if ((s0->mode == FWD_RXONLY || s0->mode == FWD_TXONLY) && cfg.verify) {
			printf("port %u verify: verified=%llu bad=%llu not-ours=%llu lost=%llu reordered=%llu "
			       "next-seq=%llu",
			       s0->rx_port, (unsigned long long)t.verified, (unsigned long long)t.bad,
			       (unsigned long long)t.not_ours, (unsigned long long)t.lost,
			       (unsigned long long)t.reordered, (unsigned long long)next);
			if (t.rss_checked)
				printf(" rss-checked=%llu rss-bad=%llu", (unsigned long long)t.rss_checked,
				       (unsigned long long)t.rss_bad);
			printf("\n");
		}
		if (s0->mode == FWD_RXONLY && t.rx)
			printf("port %u first-rx-at=%lld.%09ld\n", s0->rx_port, (long long)first_rx.tv_sec,
			       first_rx.tv_nsec);
		if (cfg.latency && lat.n) {
			printf("port %u latency: ", s0->rx_port);
			lat_print(stdout, &lat);
		}
		lat_free(&lat);
	}
	for (unsigned i = 0; i < nb_streams; i++)
		lat_free(&streams[i].lat);
}

/* ---- set-up ---- */

static int setup_ports(void)
{
	uint16_t p, nb_ports = bp_eth_dev_count_avail();
	uint32_t nb_lcores = bp_lcore_count();

	if (nb_ports == 0) {
		fprintf(stderr, "testpmd: no ports; add --vdev net_null0 (or a PCI device with -a ADDR)\n");
		return -1;
	}
	/* Enough mbufs to fill every ring, plus what bursts and lcore caches hold. */
	uint32_t rings = (uint32_t)cfg.rxq * cfg.rxd + (uint32_t)cfg.txq * cfg.txd;
	uint32_t need = nb_ports * (rings + (cfg.rxq + cfg.txq) * (2u * cfg.burst) + 1024) +
			nb_lcores * 384;
	if (!cfg.nb_mbufs)
		cfg.nb_mbufs = BP_MAX(need, 8192u);
	else if (cfg.nb_mbufs < nb_ports * (uint32_t)cfg.rxq * cfg.rxd + cfg.burst)
		fprintf(stderr, "testpmd: warning: %u mbufs cannot fill %u rx rings of %u; "
				"expect rx-nombuf drops (suggest --nb-mbufs=%u)\n",
			cfg.nb_mbufs, nb_ports * cfg.rxq, cfg.rxd, need);
	uint32_t cache = BP_MIN(256u, cfg.nb_mbufs * 2 / 3 / BP_MAX(nb_lcores, 1u));
	pool = bp_pktmbuf_pool_create("testpmd", cfg.nb_mbufs, cache, 0, cfg.mbuf_size);
	if (!pool)
		return -1;

	BP_ETH_FOREACH_DEV(p) {
		struct bp_eth_conf conf = { .size = sizeof(conf), .promiscuous = 1, .link_intr = !cfg.no_lsc,
					    .rx_intr = cfg.rx_mode != RX_POLL };
		struct bp_eth_dev_info info;
		bp_eth_dev_info_get(p, &info);
		/* Several rx queues: spread flows with every hash type the port has. */
		if (cfg.rxq > 1 && !cfg.no_rss)
			conf.rss.hash_types = info.rss_hash_types;
		int rc = bp_eth_dev_configure(p, cfg.rxq, cfg.txq, &conf);
		for (uint16_t q = 0; rc == 0 && q < cfg.rxq; q++)
			rc = bp_eth_rx_queue_setup(p, q, cfg.rxd, pool);
		for (uint16_t q = 0; rc == 0 && q < cfg.txq; q++)
			rc = bp_eth_tx_queue_setup(p, q, cfg.txd);
		if (rc < 0 || bp_eth_dev_start(p) < 0) {
			fprintf(stderr, "testpmd: port %u (%s) could not be started\n", p, bp_eth_dev_name(p));
			return -1;
		}
		struct port_rss *r = &port_rss[p];
		if (conf.rss.hash_types && bp_eth_dev_rss_hash_conf_get(p, &r->conf) == 0 &&
		    bp_eth_dev_rss_reta_query(p, r->reta, info.reta_size) == 0) {
			r->reta_size = info.reta_size;
			printf("testpmd: port %u: RSS over %u rx queues, hash types 0x%x, %u-entry table\n", p,
			       cfg.rxq, r->conf.hash_types, r->reta_size);
		}
	}
	/* Streams, port by port: io/mac pair the ports in order (1st with 2nd,
	 * 3rd with 4th; a lone last port forwards to itself), each rx queue to the
	 * peer's tx queue of the same number; txonly sends on its own port's tx
	 * queues (and with --verify checks what returns on its rx queues), rxonly
	 * receives on its rx queues. Given to lcores in turn, so with as many
	 * lcores as queues each lcore has queue q of every port. */
	uint16_t ids[BP_MAX_ETHPORTS], n = 0;
	BP_ETH_FOREACH_DEV(p)
		ids[n++] = p;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t peer = i % 2 ? ids[i - 1] : (i + 1 < n ? ids[i + 1] : ids[i]);
		p = ids[i];
		enum fwd_mode mode = cfg.port_mode_set[p] ? cfg.port_mode[p] : cfg.mode;
		uint16_t nq = mode == FWD_RXONLY ? cfg.rxq
			    : mode == FWD_TXONLY ? (cfg.verify ? BP_MAX(cfg.rxq, cfg.txq) : cfg.txq)
						 : cfg.rxq;
		if ((mode == FWD_IO || mode == FWD_MAC) && cfg.txq < cfg.rxq) {
			fprintf(stderr, "testpmd: %s forwards rx queue q to tx queue q: give --txq=%u or more\n",
				mode_names[mode], cfg.rxq);
			return -1;
		}
		if (nb_streams + nq > MAX_STREAMS) {
			fprintf(stderr, "testpmd: more than %d streams (ports x queues); use fewer queues\n",
				MAX_STREAMS);
			return -1;
		}
		/* txonly: the first `senders` tx queues share the flows out (queue q
		 * sends flows q, q + senders, ...), and --tx-count and --tx-rate,
		 * which are per port; one flow is sent in order, on queue 0. */
		uint32_t senders = BP_MIN((uint32_t)cfg.txq, cfg.flows);
		for (uint16_t q = 0; q < nq; q++) {
			struct stream *s = &streams[nb_streams++];
			s->mode = mode;
			s->rx_port = p;
			s->tx_port = mode == FWD_TXONLY ? p : peer;
			bool rx = mode != FWD_TXONLY || cfg.verify;
			s->rx_queue = rx && q < cfg.rxq ? q : NO_QUEUE;
			s->tx_queue = mode != FWD_RXONLY && q < cfg.txq ? q : NO_QUEUE;
			s->next_seq = cfg.first_seq;
			s->flow = s->flow_first = q;
			s->flow_step = senders;
			s->tx_left = 0;
			if (mode == FWD_TXONLY && q < senders) {
				s->tx_left = cfg.tx_count == UINT64_MAX
						     ? UINT64_MAX
						     : cfg.tx_count / senders + (q < cfg.tx_count % senders);
				pace_init(&s->pace, cfg.tx_rate / senders);
			}
			if (cfg.verify && s->rx_queue != NO_QUEUE &&
			    !(s->rx_next = calloc(TESTPKT_FLOWS_MAX, sizeof(*s->rx_next)))) {
				fprintf(stderr, "testpmd: out of memory\n");
				return -1;
			}
			struct bp_ether_addr src, dst;
			bp_eth_macaddr_get(p, &src);
			bp_eth_macaddr_get(peer, &dst);
			if (cfg.eth_peer_set)
				dst = cfg.eth_peer;
			testpkt_template(s->tmpl, &dst, &src, cfg.txpkts, cfg.stream);
		}
	}
	return 0;
}

static void assign_streams(bool use_main)
{
	uint32_t lc, nworkers = 0, ids[BP_MAX_LCORE];
	BP_LCORE_FOREACH_WORKER(lc)
		ids[nworkers++] = lc;
	if (use_main)
		ids[nworkers++] = bp_lcore_main();
	for (unsigned i = 0; i < nb_streams; i++) {
		struct lcore_work *w = &work[ids[i % nworkers]];
		w->s[w->n++] = &streams[i];
	}
}
static void on_link(uint16_t port, enum bp_eth_event_type ev, void *arg)
{
	struct bp_eth_link l;
	(void)ev, (void)arg;
	bp_eth_link_get(port, &l, false);
	if (l.up)
		printf("port %u: link up %u Mbps %s\n", port, l.speed_mbps, l.full_duplex ? "full-duplex" : "half-duplex");
	else
		printf("port %u: link down\n", port);
	fflush(stdout);
}

/* The port's device left (hot-unplug): its bursts return 0 from now on, so
 * forwarding goes on with the other ports; Ctrl-C stops and closes it as
 * any other, and every mbuf its rings held comes back. */
static void on_removed(uint16_t port, enum bp_eth_event_type ev, void *arg)
{
	(void)ev, (void)arg;
	printf("port %u: removed (its device left); it moves no more packets\n", port);
	fflush(stdout);
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
static void *stats_thread(void *arg)
{
	struct snap *prev = arg, cur;
	double start = prev->t, next = start + cfg.stats_period;
	while (!stop) {
		/* Sleep until the next line to print or the end of --duration,
		 * woken early by a stop: nothing to do in between. */
		double t = now_s(), wake = 3600;
		if (cfg.duration > 0)
			wake = BP_MIN(wake, start + cfg.duration - t);
		if (cfg.stats_period > 0)
			wake = BP_MIN(wake, next - t);
		struct pollfd pfd = { .fd = stop_fd, .events = POLLIN };
		if (wake > 0)
			poll(&pfd, 1, (int)(wake * 1000) + 1);
		t = now_s();
		if (cfg.duration > 0 && t - start >= cfg.duration)
			request_stop();
		if (cfg.stats_period > 0 && t >= next && !stop) {
			take_snap(&cur);
			print_rates(prev, &cur);
			*prev = cur;
			next += cfg.stats_period;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = bp_init(argc, argv);
	if (n == -ECANCELED) {
		usage(argv[0]);
		return 0;
	}
	if (n < 0)
		return 1;
	argc -= n;
	argv += n;
	int rc = 1;
	if (parse_app_args(argc, argv) < 0 || setup_ports() < 0)
		goto out;

	bp_tsc_hz(); /* calibrate now, not in the first burst */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	uint32_t nworkers = bp_lcore_count() - 1;
	bool main_fwd = nworkers == 0 || cfg.fwd_on_main;
	assign_streams(main_fwd);
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stop_fd < 0 || prepare_sleep() < 0)
		goto out;
	static const char *const rx_modes[] = { "poll", "interrupt", "adaptive" };
	printf("testpmd: %u ports, mode %s, burst %u, %u forwarding core(s), %u stream(s), %u mbufs%s\n",
	       bp_eth_dev_count_avail(), mode_names[cfg.mode], cfg.burst, nworkers + main_fwd,
	       nb_streams, cfg.nb_mbufs, main_fwd ? " (main core forwards; stats from a helper thread)" : "");
	if (cfg.rxq > 1 || cfg.txq > 1 || cfg.flows > 1)
		printf("testpmd: %u rx and %u tx queue(s) per port, %u flow(s) per txonly port\n", cfg.rxq,
		       cfg.txq, cfg.flows);
	printf("testpmd: rx mode %s", rx_modes[cfg.rx_mode]);
	if (cfg.rx_mode != RX_POLL)
		printf(" (an idle lcore sleeps after %u empty poll%s)", cfg.idle_polls, cfg.idle_polls > 1 ? "s" : "");
	printf("%s\n", cfg.no_lsc ? "; link changes not watched" : "");
	uint16_t lp, cap_port[BP_MAX_ETHPORTS];
	for (unsigned i = 0; i < cfg.nb_capture; i++) {
		if (bp_capture_start_spec(cfg.capture[i], &cap_port[i]) < 0) {
			fprintf(stderr, "testpmd: --capture=%s could not start\n", cfg.capture[i]);
			goto out;
		}
		printf("testpmd: capturing %s\n", cfg.capture[i]);
	}
	BP_ETH_FOREACH_DEV(lp) {
		if (!cfg.no_lsc)
			bp_eth_dev_callback_register(lp, BP_ETH_EVENT_LINK, on_link, NULL);
		bp_eth_dev_callback_register(lp, BP_ETH_EVENT_REMOVED, on_removed, NULL);
	}
	fflush(stdout);
	double cpu0 = cpu_seconds();

	static struct snap first, rolling, last;
	take_snap(&first);
	rolling = first;
	uint32_t lc;
	BP_LCORE_FOREACH_WORKER(lc)
		if (work[lc].n)
			bp_lcore_launch(lc, fwd_loop, &work[lc]);
	/* The readiness marker scripts wait for. */
	printf("testpmd: forwarding started\n");
	fflush(stdout);
	if (main_fwd) {
		pthread_t t;
		pthread_create(&t, NULL, stats_thread, &rolling);
		fwd_loop(&work[bp_lcore_main()]);
		pthread_join(t, NULL);
	} else {
		stats_thread(&rolling);
	}
	bp_lcore_wait_all();
	for (unsigned i = 0; i < nb_streams; i++)
		bp_pktmbuf_free_bulk(streams[i].held, streams[i].nheld); /* built, never taken */
	for (unsigned i = 0; i < cfg.nb_capture; i++) {
		struct bp_capture_stats cs;
		if (bp_capture_stop(cap_port[i], &cs) == 0)
			printf("capture port %u: written=%llu dropped=%llu (%s)\n", cap_port[i],
			       (unsigned long long)cs.written, (unsigned long long)cs.dropped, cfg.capture[i]);
	}
	take_snap(&last);
	print_summary(&first, &last);
	double cpu = cpu_seconds() - cpu0, wall = last.t - first.t;
	uint64_t sleeps = 0;
	for (uint32_t l = 0; l < BP_MAX_LCORE; l++)
		sleeps += work[l].sleeps;
	printf("cpu: %.1f%% of a core (%.2f s over %.2f s); the lcores slept %llu times\n",
	       wall > 0 ? 100 * cpu / wall : 0, cpu, wall, (unsigned long long)sleeps);
	if (cfg.record_cycles) {
		uint64_t cyc = 0, pk = 0;
		for (uint32_t l = 0; l < BP_MAX_LCORE; l++)
			cyc += work[l].busy_cycles, pk += work[l].busy_packets;
		printf("busy cycles/packet: %.2f (%llu TSC cycles in polls that moved packets / %llu packets, at %.0f MHz)\n",
		       pk ? (double)cyc / (double)pk : 0.0, (unsigned long long)cyc, (unsigned long long)pk,
		       (double)bp_tsc_hz() / 1e6);
	}
	rc = 0;
out:
	for (unsigned i = 0; i < nb_streams; i++)
		free(streams[i].rx_next);
	for (uint32_t l = 0; l < BP_MAX_LCORE; l++)
		if (work[l].epfd > 0)
			close(work[l].epfd);
	if (stop_fd >= 0)
		close(stop_fd);
	if (app_close_ports(pool, stdout))
		rc = 1;
	bp_cleanup();
	return rc;
}
