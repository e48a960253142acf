/* SPDX-License-Identifier: MIT
 * Hot-unplug against the e1000 family's models (82540EM, 82574L, 82576):
 * the device asks to go, as QEMU's device_del reaches vfio-pci, while a
 * thread forwards on its port flat out. The port reports
 * BP_ETH_EVENT_REMOVED once; every burst that starts after the event
 * returns 0; bypass lets go of the device (the model sees its release, as
 * the kernel's unplug would complete); the link reads down at once, even
 * when asked to wait; the other port keeps receiving; start is refused; and
 * stop and close give every mbuf back. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <bypass/ethdev.h>
#include <bypass/mempool.h>
#include "../unit/harness.h"
#include "e1000_rig.h"

struct removal_log {
	int events;   /* BP_ETH_EVENT_REMOVED seen (atomic) */
	uint16_t port;
	bool close_it; /* the callback closes its own port, as DPDK programs do */
};

static void on_removed(uint16_t port, enum bp_eth_event_type ev, void *arg)
{
	struct removal_log *l = arg;
	if (ev != BP_ETH_EVENT_REMOVED)
		return;
	l->port = port;
	if (l->close_it)
		bp_eth_dev_close(port);
	__atomic_add_fetch(&l->events, 1, __ATOMIC_RELEASE);
}

/* An lcore's loop on port 1: a receive burst and a one-frame transmit
 * burst, over and over, counting what moved in bursts that began before
 * the removal event was seen and after. */
struct poller {
	pthread_t thread;
	int stop; /* atomic */
	const struct removal_log *log;
	uint64_t seq;
	uint64_t moved_before, calls_after, moved_after; /* atomic */
};

static void *poll_port1(void *arg)
{
	struct poller *p = arg;
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		bool after = __atomic_load_n(&p->log->events, __ATOMIC_ACQUIRE) > 0;
		struct bp_mbuf *pkts[32], *m = make_pkt(p->seq++);
		uint16_t n = bp_eth_rx_burst(1, 0, pkts, 32);
		bp_pktmbuf_free_bulk(pkts, n);
		if (m && bp_eth_tx_burst(1, 0, &m, 1) == 1)
			n++;
		else if (m)
			bp_pktmbuf_free(m); /* the caller keeps what the port refused */
		if (after) {
			__atomic_add_fetch(&p->calls_after, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&p->moved_after, n, __ATOMIC_RELAXED);
		} else {
			__atomic_add_fetch(&p->moved_before, n, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/* Until *v >= want or WAIT ms pass. */
static bool wait_at_least(const uint64_t *v, uint64_t want)
{
	uint64_t end = model_now_ns() + WAIT * 1000000ull;
	while (__atomic_load_n(v, __ATOMIC_RELAXED) < want && model_now_ns() < end)
		sched_yield();
	return __atomic_load_n(v, __ATOMIC_RELAXED) >= want;
}

static bool wait_event(const struct removal_log *l)
{
	uint64_t end = model_now_ns() + WAIT * 1000000ull;
	while (__atomic_load_n(&l->events, __ATOMIC_ACQUIRE) == 0 && model_now_ns() < end)
		sched_yield();
	return __atomic_load_n(&l->events, __ATOMIC_ACQUIRE) > 0;
}

/* Port 0 after the removal: empties what port 1 sent it before, then
 * receives 100 frames injected now, each verified. */
static bool other_port_receives(void)
{
	struct bp_mbuf *pkts[64];
	bool intact;
	REQ(e1000_model_wait_quiet(rig.m[0], WAIT));
	for (uint16_t n; (n = bp_eth_rx_burst(0, 0, pkts, 64));)
		bp_pktmbuf_free_bulk(pkts, n);
	inject(rig.m[0], 500000, 100);
	REQ(rx_frames(0, 32, 500000, 100, &intact) == 100);
	REQ(intact);
	return true;
}

static bool unplug_while_forwarding(unsigned flags)
{
	const struct rig_opts o = { .nports = 2, .flags = flags, .nq = 1, .rxd = 256, .txd = 256,
				    .nb_mbufs = 4096, .cache = 0 };
	REQ(rig_up_opts(&o));
	struct e1000_model *m1 = rig.m[1];
	struct removal_log log = { 0 };
	struct poller p = { .log = &log };
	REQ(bp_eth_dev_callback_register(1, BP_ETH_EVENT_REMOVED, on_removed, &log) == 0);
	REQ(pthread_create(&p.thread, NULL, poll_port1, &p) == 0);
	bool flowing = wait_at_least(&p.moved_before, 500);
	bool asked = flowing && e1000_model_unplug(m1);
	bool let_go = asked && e1000_model_wait_gone(m1, WAIT);
	bool told = let_go && wait_event(&log);
	bool polled = told && wait_at_least(&p.calls_after, 1000);
	__atomic_store_n(&p.stop, 1, __ATOMIC_RELEASE);
	pthread_join(p.thread, NULL);
	REQ(flowing);
	REQ(asked);
	REQ(let_go); /* the kernel's unplug would complete now */
	REQ(told);
	REQ(polled);
	REQ(p.moved_after == 0);
	REQ(log.events == 1 && log.port == 1);
	/* A removed port waits for no link: down at once, even with wait. */
	struct bp_eth_link link;
	REQ(bp_eth_link_get(1, &link, true) == 0 && !link.up);
	inject(m1, 900000, 10); /* the wire leads nowhere now */
	struct bp_mbuf *pkts[16];
	REQ(bp_eth_rx_burst(1, 0, pkts, 16) == 0);
	REQ(other_port_receives());
	REQ(bp_eth_dev_stop(1) == 0);
	REQ(bp_eth_dev_start(1) == -ENODEV);
	note("%llu bursts after the event, all empty; %llu register accesses reached the gone device",
	     (unsigned long long)p.calls_after, (unsigned long long)E1000_MODEL_GET(m1, late_accesses));
	return rig_down(); /* every mbuf back */
}

TEST(e1000_model_hot_unplug_while_forwarding)
{
	CHECK(unplug_while_forwarding(0));
}

TEST(e1000e_model_hot_unplug_while_forwarding)
{
	CHECK(unplug_while_forwarding(E1000_MODEL_82574));
}

TEST(igb_model_hot_unplug_while_forwarding)
{
	CHECK(unplug_while_forwarding(E1000_MODEL_82576));
}

/* What DPDK programs do on removal: close the port from the callback. The
 * port goes, its mbufs come back, the other port still receives. */
TEST(e1000_model_a_removal_callback_may_close_its_port)
{
	CHECK(rig_up(2, 128, 128, 2048, 0));
	struct removal_log log = { .close_it = true };
	CHECK_EQ(bp_eth_dev_callback_register(1, BP_ETH_EVENT_REMOVED, on_removed, &log), 0);
	CHECK_EQ(tx_frames(1, 0, 100, 32), 100); /* some mbufs in its tx ring */
	/* on the wire before the unplug (their mbufs stay in port 1's ring
	 * until a reclaim): none can reach port 0 after its drain below and
	 * spoil the frames it must then receive */
	bool intact;
	CHECK_EQ(rx_frames(0, 32, 0, 100, &intact), 100);
	CHECK(intact);
	CHECK(e1000_model_unplug(rig.m[1]));
	CHECK(wait_event(&log));
	CHECK(e1000_model_wait_gone(rig.m[1], WAIT));
	CHECK(!bp_eth_dev_is_valid_port(1));
	CHECK(other_port_receives());
	CHECK(rig_down());
}

/* A device that never asked to go keeps its port: no event, traffic. */
TEST(e1000_model_no_removal_event_without_a_request)
{
	CHECK(rig_up(2, 128, 128, 2048, 0));
	struct removal_log log = { 0 };
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_REMOVED, on_removed, &log), 0);
	CHECK(loopback(128, 32, 0, 1000));
	CHECK_EQ(__atomic_load_n(&log.events, __ATOMIC_ACQUIRE), 0);
	CHECK(!E1000_MODEL_GET(rig.m[0], gone));
	CHECK(rig_down());
}
