/* SPDX-License-Identifier: MIT
 * The rig the e1000 and e1000e model tests share: bypass with one or two
 * modelled NICs (back to back when two), a pool, every port started; test
 * frames numbered and checked byte for byte (apps/common/testpkt.h); the
 * waits, link-event log and delayed injection the tests use. */
#ifndef BYPASS_TEST_E1000_RIG_H
#define BYPASS_TEST_E1000_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <bypass/ethdev.h>
#include "../../apps/common/testpkt.h"
#include "e1000_model.h"

#define LEN 128     /* test frame length without FCS */
#define WAIT 10000  /* ms: generous; every wait ends as soon as its condition holds */

static const struct bp_ether_addr mac0 = { { 0x02, 0, 0, 0, 0xe1, 0x00 } };
static const struct bp_ether_addr mac1 = { { 0x02, 0, 0, 0, 0xe1, 0x01 } };

extern struct rig {
	struct e1000_model *m[2];
	unsigned nports;
	struct bp_mempool *mp;
	uint8_t tmpl[TESTPKT_HDRS];
} rig;

struct rig_opts {
	unsigned nports;
	unsigned flags;  /* E1000_MODEL_* */
	uint16_t nq;     /* queue pairs per port */
	uint16_t rxd, txd;
	uint32_t nb_mbufs, cache;
	const struct bp_eth_conf *conf;
	bool mbuf_debug; /* --mbuf-debug: the models reach debug pools' buffers too */
};

void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* bypass with `nports` modelled 82540EM, a pool of nb_mbufs with an lcore
 * cache of `cache`, every port started with one queue pair of rxd/txd
 * descriptors. */
bool rig_up(unsigned nports, uint16_t rxd, uint16_t txd, uint32_t nb_mbufs, uint32_t cache);
bool rig_up_conf(unsigned nports, uint16_t rxd, uint16_t txd, uint32_t nb_mbufs, uint32_t cache,
		 const struct bp_eth_conf *conf);
bool rig_up_opts(const struct rig_opts *o);
/* Closes every port, then checks that every mbuf came back, frees all. */
bool rig_down(void);

struct bp_mbuf *make_pkt(uint64_t seq);
void frame_of(uint8_t *buf, uint64_t seq);
void inject(struct e1000_model *m, uint64_t seq0, uint64_t n);
/* Checks one frame: ours, intact, and the sequence number expected. */
bool frame_ok(const uint8_t *p, uint32_t len, uint64_t want);
/* Offers frames seq0.. to tx_burst in bursts of `burst`, keeping what the port
 * refuses for the next call, until n are taken; the number taken. */
uint64_t tx_frames(uint16_t port, uint64_t seq0, uint64_t n, uint16_t burst);
uint64_t tx_frames_q(uint16_t port, uint16_t queue, uint64_t seq0, uint64_t n, uint16_t burst);
/* Takes n frames from what model m sent, each checked, in order. */
bool sent_frames(struct e1000_model *m, uint64_t seq0, uint64_t n);
/* The same from any model's queue of sent frames. */
bool sent_frames_fq(struct frame_queue *out, uint64_t seq0, uint64_t n);
/* Polls rx_burst until n frames came (seq0.., in order, each checked) or the
 * time is up; how many came. */
uint64_t rx_frames(uint16_t port, uint16_t burst, uint64_t seq0, uint64_t n, bool *intact);
uint64_t rx_frames_q(uint16_t port, uint16_t queue, uint16_t burst, uint64_t seq0, uint64_t n, bool *intact);
struct bp_eth_stats stats(uint16_t port);
/* Port 0 sends, port 1 receives (queue 0), never more in flight than the
 * rings hold: every frame must arrive, in order, intact. */
bool loopback(uint16_t ring, uint16_t burst, uint64_t seq0, uint64_t n);
/* Port 0 does not poll: each round the NIC fills nb - 1 descriptors of rx
 * queue `queue` and misses (and counts) one frame more; then every frame is
 * read and checked, and the counters say exactly that. */
bool rx_fill_rounds(struct e1000_model *m, uint16_t queue, uint16_t nb, unsigned rounds);
/* Takes every free mbuf out of the pool; returns how many (held in out). */
uint32_t drain_pool(struct bp_mbuf **out, uint32_t max);

struct link_log {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int events;
	struct bp_eth_link last;
};
/* A link callback that logs into arg (a struct link_log). */
void on_link(uint16_t port, enum bp_eth_event_type ev, void *arg);
/* Waits up to a second for the n-th link event. */
bool link_event(struct link_log *l, int n);

struct delayed {
	struct e1000_model *m;
	unsigned delay_ms;
	uint64_t seq;
};
/* A thread: injects frame d->seq after d->delay_ms. */
void *inject_later(void *arg);

/* ---- flows, for RSS (the 82574L's and 82576's tables have 128 entries) ---- */
#define FLOWS 256
#define RIG_RETA_SIZE 128
/* Frame `seq` of flow f: the test frame with source address 10.1.f>>8.f
 * and source port 1024 + f, as UDP or TCP. The whole frame is what the
 * receiver compares, byte for byte. */
void flow_frame(uint8_t *p, unsigned flow, uint64_t seq, bool tcp);
/* Injects one frame per flow (seq0 + flow), TCP for odd flows. */
void inject_flows(struct e1000_model *m, uint64_t seq0);
/* Takes every frame of inject_flows(seq0) from port 0's nq rx queues and
 * checks each: its bytes, its hash (the software one, with the types and key
 * in use, or no hash flag when none applies) and its queue
 * (reta[hash & 127], or 0). Counts per queue in per_q[0..nq). */
bool rx_flows(uint64_t seq0, uint32_t types, uint64_t *per_q, uint16_t nq);
/* A flow that port 0's RSS puts on each of queues 0..nq-1 (flow_on[q]);
 * false if some queue gets none. */
bool flows_per_queue(uint32_t types, uint16_t nq, unsigned *flow_on);
/* A frame for flow `flow` (seq 7000 + flow) after 20 ms, from a thread. */
struct flow_later {
	struct e1000_model *m;
	unsigned flow;
};
void *inject_flow_later(void *arg);
/* Takes n0 frames seq0.. and n1 frames seq1.. that two tx queues sent,
 * interleaved as the NIC pleases, each checked and each queue's in order. */
bool sent_two_queues(struct e1000_model *m, uint64_t seq0, uint64_t n0, uint64_t seq1, uint64_t n1);

/* In a scenario: false after a note naming what was expected. */
#define REQ(c)                                                                       \
	do {                                                                         \
		if (!(c)) {                                                          \
			note("%s:%d: expected %s", __FILE__, __LINE__, #c);           \
			return false;                                                \
		}                                                                    \
	} while (0)

/* ---- scenarios the e1000e and igb model tests share ----
 * Each is false after a note that says what failed. Those that take rig
 * options bring a rig up from them and take it down (every mbuf back). */
/* The pool emptied by the test: 10 frames dropped and counted once in
 * rx_nombuf, the ring never dry: a full ring's worth verified after. */
bool scenario_empty_pool(const struct rig_opts *o);
/* A NIC that does one descriptor per 20 us: 1000 frames each way verified. */
bool scenario_slow_nic(const struct rig_opts *o, uint16_t txq);
/* Two ports back to back at ring sizes 8 to 4096, every burst size from 1
 * to 512, many wraps: every frame in order, nothing missed (o's nports,
 * rings and pool are set here). */
bool scenario_burst_sizes(const struct rig_opts *o);
/* With the model paused, tx queues q0 and q1 of port 0 take nb - 1 frames
 * each and refuse one more; then each queue's frames go out in order. */
bool tx_fill_two_queues(struct e1000_model *m, uint16_t q0, uint16_t q1, uint16_t nb, uint64_t round);
/* Three link flaps, each heard by the callback logging into log, tx on txq
 * held while down and sent after; then rx works. */
bool link_flaps(struct e1000_model *m, struct link_log *log, uint16_t txq);
/* Arms `other`, waits on q for flow's frame (inject_flow_later): q wakes
 * within a second, `other` does not, the frame is the one sent. */
bool wake_queue(struct e1000_model *m, uint16_t q, uint16_t other, unsigned flow);

#endif
