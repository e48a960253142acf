/* SPDX-License-Identifier: MIT
 * Between testpmd's files: fwd.c (the forwarding engines, run on the
 * lcores) and testpmd.c (options, set-up, statistics, main). */
#ifndef BYPASS_TESTPMD_H
#define BYPASS_TESTPMD_H

#include <signal.h>
#include <time.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include "../common/testpkt.h"
#include "../common/latency.h"
#include "../common/pace.h"

#define MAX_BURST 512
#define MAX_STREAMS 256
#define NO_QUEUE UINT16_MAX

enum fwd_mode { FWD_IO, FWD_MAC, FWD_TXONLY, FWD_RXONLY };
extern const char *const mode_names[];

/* A stream is one rx queue (or none) and the tx queue it feeds (or none);
 * one lcore owns it, so no queue is ever polled from two. */
struct stream {
	uint16_t rx_port, tx_port;
	uint16_t rx_queue, tx_queue; /* NO_QUEUE: the stream does not use that side */
	enum fwd_mode mode;
	uint8_t tmpl[TESTPKT_HDRS]; /* txonly */
	/* txonly: the next frame is flow `flow`'s number next_seq; the stream sends
	 * flows flow_first, flow_first + flow_step, ... below cfg.flows in turn. */
	uint64_t next_seq;
	uint32_t flow, flow_first, flow_step;
	uint64_t *rx_next;          /* --verify: next expected, per flow */
	uint64_t tx_left;           /* txonly: packets still to build (UINT64_MAX: no limit) */
	struct pace pace;           /* txonly: this stream's share of --tx-rate */
	struct bp_mbuf *held[MAX_BURST]; /* txonly: built, refused by a full ring */
	uint16_t nheld;
	/* written by the forwarding lcore only */
	uint64_t rx, tx, tx_dropped, alloc_failed;
	uint64_t verified, bad, not_ours, lost, reordered;
	uint64_t rss_checked, rss_bad; /* --verify: frames with an RSS hash; wrong hash or queue */
	struct timespec first_rx; /* wall-clock time of the first packet received */
	struct latency lat;       /* --latency: send-to-receive times of verified frames */
} BP_CACHE_ALIGNED;

struct testpmd_cfg {
	enum fwd_mode mode;
	enum fwd_mode port_mode[BP_MAX_ETHPORTS];
	bool port_mode_set[BP_MAX_ETHPORTS];
	uint16_t burst;
	uint32_t txpkts;
	double stats_period;
	double duration;
	bool verify;
	uint64_t tx_count;
	uint32_t nb_mbufs;
	uint16_t rxd, txd;
	uint16_t mbuf_size;
	double tx_rate; /* txonly packets per second per port; 0: as fast as possible */
	uint64_t rx_count; /* stop once the receiving streams took this many */
	uint16_t stream;   /* txonly stamps it; --verify accepts only it, if set */
	bool stream_set;
	enum rx_mode { RX_POLL, RX_INTERRUPT, RX_ADAPTIVE } rx_mode;
	uint32_t idle_polls; /* empty polls before an lcore sleeps */
	bool no_lsc;         /* no link-change interrupts */
	uint64_t first_seq;  /* txonly: the first frame's sequence number */
	bool latency;        /* txonly stamps its send time; --verify measures */
	bool record_cycles;  /* --record-core-cycles: TSC cycles per packet moved */
	bool eth_peer_set;
	struct bp_ether_addr eth_peer; /* txonly: the destination address */
	uint16_t rxq, txq;   /* queues per port */
	uint32_t flows;      /* txonly: flows per port (--flows) */
	bool no_rss;         /* --disable-rss */
	bool fwd_on_main;    /* --fwd-on-main */
	const char *capture[BP_MAX_ETHPORTS]; /* --capture=PORT:FILE[,...] */
	unsigned nb_capture;
};

/* A port's RSS set-up as rx --verify checks it. */
struct port_rss {
	struct bp_eth_rss_conf conf; /* hash_types 0: off */
	uint16_t reta[BP_ETH_RETA_MAX];
	uint16_t reta_size;
};
extern struct port_rss port_rss[BP_MAX_ETHPORTS];
extern struct testpmd_cfg cfg;

extern struct stream streams[MAX_STREAMS];
extern unsigned nb_streams;
extern struct bp_mempool *pool;
extern volatile sig_atomic_t stop;
/* An eventfd request_stop() writes: wakes lcores asleep on interrupts and the stats thread. */
extern int stop_fd;

/* What one lcore forwards. */
struct lcore_work {
	struct stream *s[MAX_STREAMS];
	unsigned n;
	int epfd;        /* the rx queues' interrupt fds, when they may sleep */
	uint64_t sleeps; /* times the lcore slept on them */
	uint64_t busy_cycles, busy_packets; /* --record-core-cycles */
};
extern struct lcore_work work[BP_MAX_LCORE];

/* fwd.c */
int fwd_loop(void *lcore_work);
/* Stops the run and wakes whoever sleeps (async-signal-safe). */
void request_stop(void);
/* With --rx-mode interrupt|adaptive: each lcore's epoll set. */
int prepare_sleep(void);
uint64_t rx_arrived(void);
bool all_sent(void);

#endif
