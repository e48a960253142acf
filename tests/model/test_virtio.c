/* SPDX-License-Identifier: MIT
 * The virtio PMD (net_virtio_user) against the vhost-user backend model: a
 * ring filled to the last descriptor, wrap-around at many burst sizes, a slow
 * device, in-order batches reported by one used entry, out-of-order
 * completion, chained and headroom-less frames, an empty pool, stop -> start,
 * the backend vanishing and coming back, notification suppression and rx
 * interrupts. Every frame is checked byte for byte; every mbuf must be back
 * at the end. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/mempool.h>
#include "../unit/harness.h"
#include "../../apps/common/testpkt.h"
#include "../../drivers/net/virtio/virtio_regs.h"
#include "vhost_model.h"

#define LEN 100
#define F(b) VIRTIO_BIT(b)
#define BASE_FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_F_IN_ORDER))

static const struct bp_ether_addr mac0 = { { 0x02, 0, 0, 0, 0x71, 0x00 } };

static struct {
	struct vmodel *m;
	struct bp_mempool *mp;
	char dir[64], sock[96];
	uint8_t tmpl[TESTPKT_HDRS];
	uint64_t next_tx, next_rx;
} rig;

/* Set while the packed pass runs every test again over packed rings. */
static bool packed_pass;

static bool rig_up(uint64_t features, const char *devargs, uint16_t ring, uint32_t nb_mbufs,
		   const struct bp_eth_conf *conf)
{
	char env[256];
	memset(&rig, 0, sizeof(rig));
	if (packed_pass)
		features |= F(VIRTIO_F_RING_PACKED);
	snprintf(rig.dir, sizeof(rig.dir), "/tmp/bp-vmodel-XXXXXX");
	if (!mkdtemp(rig.dir))
		return false;
	snprintf(rig.sock, sizeof(rig.sock), "%s/sock", rig.dir);
	struct vmodel_conf c = { .features = features, .queue_pairs = 2, .reply_ack = true };
	rig.m = vmodel_create(rig.sock, &c);
	snprintf(env, sizeof(env), "--no-huge -l 0 --log-level err --vdev net_virtio_user0,path=%s,mac=02:00:00:00:71:00%s%s",
		 rig.sock, devargs ? "," : "", devargs ? devargs : "");
	if (test_env(env) < 0)
		return false;
	rig.mp = bp_pktmbuf_pool_create("vmodel", nb_mbufs, 32, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	if (!rig.mp)
		return false;
	if (bp_eth_dev_configure(0, 1, 1, conf) < 0 || bp_eth_rx_queue_setup(0, 0, ring, rig.mp) < 0 ||
	    bp_eth_tx_queue_setup(0, 0, ring) < 0 || bp_eth_dev_start(0) < 0)
		return false;
	testpkt_template(rig.tmpl, &mac0, &mac0, LEN, 0);
	/* the layout asked for is the one in use */
	return !!(rig.m->negotiated & F(VIRTIO_F_RING_PACKED)) == packed_pass;
}

/* Every mbuf back in the pool, nothing faulted; then down. */
static bool rig_down(void)
{
	bool ok = true;
	if (bp_eth_dev_is_valid_port(0))
		bp_eth_dev_close(0);
	if (rig.mp && bp_mempool_in_use_count(rig.mp) != 0) {
		printf("    %u mbufs still in use\n", bp_mempool_in_use_count(rig.mp));
		ok = false;
	}
	bp_mempool_free(rig.mp);
	if (rig.m && rig.m->bad_headers) {
		printf("    %llu frames went out with a net header not all zero\n",
		       (unsigned long long)rig.m->bad_headers);
		ok = false;
	}
	if (rig.m && rig.m->faults) {
		printf("    the device met %llu bad addresses\n", (unsigned long long)rig.m->faults);
		ok = false;
	}
	bp_cleanup();
	if (rig.m)
		vmodel_destroy(rig.m);
	rmdir(rig.dir);
	return ok;
}

static struct bp_mbuf *frame(uint32_t len)
{
	struct bp_mbuf *m = bp_pktmbuf_alloc(rig.mp);
	if (!m)
		return NULL;
	testpkt_template(rig.tmpl, &mac0, &mac0, len, 0);
	/* the headroom holds what an earlier user left: a header sent from it
	 * must be written, not assumed */
	memset(m->buf_addr, 0xa5, m->data_off);
	testpkt_fill(bp_pktmbuf_mtod(m, uint8_t *), rig.tmpl, len, rig.next_tx++);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return m;
}

/* Sends up to n fresh frames; returns how many the port took. */
static uint16_t send_some(uint16_t n)
{
	struct bp_mbuf *b[512];
	for (uint16_t i = 0; i < n; i++)
		b[i] = frame(LEN);
	uint16_t took = bp_eth_tx_burst(0, 0, b, n);
	bp_pktmbuf_free_bulk(&b[took], n - took);
	rig.next_tx -= n - took;
	return took;
}

/* The frames on the model's wire, in order, each checked; the count. */
static long check_out(void)
{
	long n = 0;
	struct model_frame *f;
	while ((f = fq_pop(&rig.m->out))) {
		uint64_t seq;
		bool good = testpkt_check(f->data, f->len, &seq) == TESTPKT_OK && seq == rig.next_rx;
		free(f);
		if (!good)
			return -1;
		rig.next_rx++;
		n++;
	}
	return n;
}

static void inject(unsigned n, uint32_t len)
{
	uint8_t buf[2048];
	for (unsigned i = 0; i < n; i++) {
		testpkt_template(rig.tmpl, &mac0, &mac0, len, 0);
		testpkt_fill(buf, rig.tmpl, len, rig.next_tx++);
		fq_push(&rig.m->in, buf, len);
	}
}

/* Receives what is there; checks each frame; returns the count (-1: bad). */
static long receive_all(void)
{
	struct bp_mbuf *b[64];
	long total = 0;
	uint16_t n;
	while ((n = bp_eth_rx_burst(0, 0, b, 64)) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			uint64_t seq = UINT64_MAX;
			if (testpkt_check(bp_pktmbuf_mtod(b[i], uint8_t *), b[i]->data_len, &seq) != TESTPKT_OK ||
			    seq != rig.next_rx || b[i]->pkt_len != b[i]->data_len || b[i]->port != 0) {
				printf("    frame seq %llu (want %llu) len %u\n", (unsigned long long)seq, (unsigned long long)rig.next_rx, b[i]->data_len);
				bp_pktmbuf_free_bulk(b, n);
				return -1;
			}
			rig.next_rx++;
		}
		total += n;
		bp_pktmbuf_free_bulk(b, n);
	}
	return total;
}

/* A frame sent by two ports at once (refcnt 2): its headroom is not ours to
 * write, so it goes out as two descriptors, the shared header then the frame. */
static struct bp_mbuf *shared_frame(void)
{
	struct bp_mbuf *m = frame(LEN);
	if (m)
		bp_mbuf_refcnt_update(m, 1);
	return m;
}

TEST(virtio_model_tx_fills_the_ring_to_the_last_descriptor_then_waits)
{
	CHECK(rig_up(BASE_FEATURES, NULL, 64, 1024, NULL));
	CHECK_EQ(rig.m->negotiated & BASE_FEATURES, BASE_FEATURES);
	/* a lone frame is one descriptor, its net header in its headroom */
	CHECK_EQ(send_some(100), 64); /* every descriptor, no more */
	CHECK_EQ(send_some(10), 0);
	CHECK_EQ(vmodel_tx(rig.m, 0, 1000), 64);
	/* 63 lone frames; a shared one needs two descriptors and one is left */
	CHECK_EQ(send_some(63), 63);
	struct bp_mbuf *sh = shared_frame();
	CHECK(sh);
	uint8_t room[BP_PKTMBUF_HEADROOM];
	memcpy(room, sh->buf_addr, sh->data_off);
	CHECK_EQ(bp_eth_tx_burst(0, 0, &sh, 1), 0);
	CHECK_EQ(vmodel_tx(rig.m, 0, 1), 1); /* one more free: still one short */
	CHECK_EQ(bp_eth_tx_burst(0, 0, &sh, 1), 1);
	CHECK_EQ(send_some(10), 0); /* the ring is full again, to the last descriptor */
	CHECK_EQ(vmodel_tx(rig.m, 0, 1000), 63);
	CHECK_EQ(check_out(), 128);
	bp_eth_tx_done_cleanup(0, 0);
	/* the port let go of its reference; its headroom was never written */
	CHECK_EQ(bp_mbuf_refcnt_read(sh), 1);
	CHECK(memcmp(room, sh->buf_addr, sh->data_off) == 0);
	bp_pktmbuf_free(sh);
	CHECK(rig_down());
}

TEST(virtio_model_wraps_at_every_burst_size_in_order_and_out_of_order)
{
	for (int mode = 0; mode < 3; mode++) {
		/* 0: IN_ORDER, an entry per buffer; 1: IN_ORDER, one entry per
		 * batch; 2: no IN_ORDER, each batch completed in reverse */
		uint64_t f = mode == 2 ? BASE_FEATURES & ~F(VIRTIO_F_IN_ORDER) : BASE_FEATURES;
		CHECK(rig_up(f, NULL, 64, 1024, NULL));
		rig.m->one_used = mode == 1;
		rig.m->reverse = mode == 2;
		long sent = 0;
		for (unsigned burst = 1; burst <= 64; burst++)
			for (int rep = 0; rep < 5; rep++) {
				sent += send_some((uint16_t)burst);
				vmodel_tx(rig.m, 0, 1 + (burst * 7 + (unsigned)rep) % 40); /* a slow device */
			}
		while (vmodel_tx(rig.m, 0, 64))
			;
		CHECK(sent > 1000);
		CHECK_EQ(check_out(), sent);
		/* rx the same way */
		rig.next_tx = rig.next_rx = 0;
		long got = 0, injected = 0;
		for (unsigned burst = 1; burst <= 64; burst++) {
			inject(burst, 60 + burst * 20);
			injected += burst;
			while (vmodel_rx(rig.m, 0, 1 + burst % 17))
				;
			long r = receive_all();
			if (r < 0)
				printf("    mode %d, burst %u: a frame did not verify\n", mode, burst);
			CHECK(r >= 0);
			got += r;
		}
		CHECK_EQ(got, injected);
		bp_eth_tx_done_cleanup(0, 0);
		CHECK(rig_down());
	}
}

TEST(virtio_model_chained_and_headroomless_frames_go_out_whole)
{
	CHECK(rig_up(BASE_FEATURES & ~F(VIRTIO_F_IN_ORDER), NULL, 64, 1024, NULL));
	/* a frame in two segments */
	struct bp_mbuf *a = frame(LEN), *b = bp_pktmbuf_alloc(rig.mp);
	CHECK(a && b);
	memcpy(bp_pktmbuf_mtod(b, uint8_t *), bp_pktmbuf_mtod(a, uint8_t *) + 40, LEN - 40);
	a->data_len = 40;
	b->data_len = LEN - 40;
	a->next = b;
	a->nb_segs = 2;
	/* one with no headroom */
	struct bp_mbuf *c = frame(LEN);
	memmove((char *)c->buf_addr, bp_pktmbuf_mtod(c, char *), LEN);
	c->data_off = 0;
	struct bp_mbuf *v[2] = { a, c };
	CHECK_EQ(bp_eth_tx_burst(0, 0, v, 2), 2);
	CHECK_EQ(vmodel_tx(rig.m, 0, 10), 2);
	CHECK_EQ(check_out(), 2);
	bp_eth_tx_done_cleanup(0, 0);
	CHECK(rig_down());
}

/* Receives up to n frames and keeps them (checked in order); the count. */
static uint16_t receive_hold(struct bp_mbuf **b, uint16_t n)
{
	uint16_t got = bp_eth_rx_burst(0, 0, b, n);
	for (uint16_t i = 0; i < got; i++) {
		uint64_t seq = UINT64_MAX;
		if (testpkt_check(bp_pktmbuf_mtod(b[i], uint8_t *), b[i]->data_len, &seq) != TESTPKT_OK ||
		    seq != rig.next_rx++)
			return 0;
	}
	return got;
}

TEST(virtio_model_rx_with_an_empty_pool_drops_counts_and_keeps_the_ring_full)
{
	/* a descriptor is refilled at the burst after the one that emptied
	 * it; with the pool dry the ring gives up one burst (64) of its 128
	 * buffers, no more: then frames are dropped, counted, buffers kept */
	CHECK(rig_up(BASE_FEATURES, NULL, 128, 400, NULL));
	struct bp_mbuf *held[400], *out[128];
	unsigned nheld = 0, nout = 0;
	while (nheld < 400 && (held[nheld] = bp_pktmbuf_alloc(rig.mp)))
		nheld++;
	inject(40, LEN);
	CHECK_EQ(vmodel_rx(rig.m, 0, 128), 40);
	CHECK_EQ(nout += receive_hold(&out[nout], 64), 40);
	inject(40, LEN); /* 24 fill the burst the pool cannot replace; 16 dropped */
	CHECK_EQ(vmodel_rx(rig.m, 0, 128), 40);
	CHECK_EQ(nout += receive_hold(&out[nout], 64), 64);
	struct bp_eth_stats st;
	bp_eth_stats_get(0, &st);
	CHECK_EQ(st.rx_nombuf, 16);
	rig.next_rx += 16;
	inject(100, LEN); /* the device finds 64 buffers: 128 less one burst */
	CHECK_EQ(vmodel_rx(rig.m, 0, 128), 64);
	CHECK_EQ(receive_hold(&out[nout], 64), 0);
	bp_eth_stats_get(0, &st);
	CHECK_EQ(st.rx_nombuf, 80);
	rig.next_rx += 64;
	/* the pool back: the next burst refills, and a whole ring of frames
	 * fits again (the 36 the device still held, and 92 more) */
	bp_pktmbuf_free_bulk(held, nheld);
	bp_pktmbuf_free_bulk(out, nout);
	CHECK_EQ(receive_all(), 0);
	inject(92, LEN);
	CHECK_EQ(vmodel_rx(rig.m, 0, 256), 128);
	CHECK_EQ(receive_all(), 128);
	CHECK(rig_down());
}

TEST(virtio_model_rx_descriptors_get_their_own_buffers_back_when_bursts_are_freed_in_order)
{
	/* an application that frees each burst in order (rxonly, a drop):
	 * the pool hands the same buffers back, each descriptor gets its own
	 * again, and from the second lap on no descriptor's address changes
	 * (its cache line stays shared with the device) */
	if (packed_pass)
		return; /* a packed descriptor is rewritten whole every lap anyway */
	CHECK(rig_up(BASE_FEATURES, NULL, 256, 1024, NULL));
	long got = 0;
	uint64_t after_first_lap = 0;
	for (int burst = 0; burst < 40; burst++) {
		if (burst == 8) /* 8 x 32 = one lap of 256 */
			after_first_lap = rig.m->rx_new_addrs;
		inject(32, LEN);
		CHECK_EQ(vmodel_rx(rig.m, 0, 32), 32);
		long r = receive_all();
		CHECK_EQ(r, 32);
		got += r;
	}
	CHECK_EQ(got, 40 * 32);
	CHECK_EQ(rig.m->rx_new_addrs, after_first_lap);
	CHECK(rig_down());
}

TEST(virtio_model_stop_start_returns_every_mbuf_and_runs_again)
{
	CHECK(rig_up(BASE_FEATURES, NULL, 128, 1024, NULL));
	for (int round = 0; round < 3; round++) {
		CHECK_EQ(send_some(50), 50);
		CHECK_EQ(vmodel_tx(rig.m, 0, 20), 20); /* 30 left in flight */
		CHECK_EQ(check_out(), 20);
		inject(5, LEN);
		CHECK_EQ(vmodel_rx(rig.m, 0, 64), 5); /* never received by the app */
		CHECK_EQ(bp_eth_dev_stop(0), 0);
		CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0);
		CHECK_EQ(bp_eth_dev_start(0), 0);
		/* the 30 sent but never taken and the 5 never read are gone */
		fq_clear(&rig.m->in);
		rig.next_rx = rig.next_tx;
		CHECK_EQ(send_some(64), 64);
		CHECK_EQ(vmodel_tx(rig.m, 0, 128), 64);
		CHECK_EQ(check_out(), 64);
		rig.next_rx = rig.next_tx;
	}
	CHECK(rig.m->stops >= 6); /* both rings, each stop */
	bp_eth_tx_done_cleanup(0, 0);
	CHECK(rig_down());
}

static int link_events;
static void on_link(uint16_t port, enum bp_eth_event_type ev, void *arg)
{
	(void)port, (void)ev, (void)arg;
	__atomic_fetch_add(&link_events, 1, __ATOMIC_SEQ_CST);
}

static bool wait_events(int n)
{
	for (int i = 0; i < 5000 && __atomic_load_n(&link_events, __ATOMIC_SEQ_CST) < n; i++)
		usleep(1000);
	return __atomic_load_n(&link_events, __ATOMIC_SEQ_CST) == n;
}

TEST(virtio_model_backend_gone_takes_the_link_down_and_its_return_resumes_the_rings)
{
	CHECK(rig_up(BASE_FEATURES, NULL, 64, 1024, NULL));
	link_events = 0;
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, on_link, NULL), 0);
	struct bp_eth_link l;
	bp_eth_link_get(0, &l, false);
	CHECK_EQ(l.up, 1);
	CHECK_EQ(send_some(10), 10); /* offered, never taken by this backend */
	vmodel_hangup(rig.m);
	/* down, then the model takes the next connection: up again, by itself */
	CHECK(wait_events(2));
	CHECK_EQ(rig.m->connections, 2);
	bp_eth_link_get(0, &l, false);
	CHECK_EQ(l.up, 1);
	/* the new backend starts where the used ring stood: the 10 go out */
	CHECK_EQ(vmodel_tx(rig.m, 0, 64), 10);
	CHECK_EQ(check_out(), 10);
	CHECK_EQ(send_some(20), 20);
	CHECK_EQ(vmodel_tx(rig.m, 0, 64), 20);
	CHECK_EQ(check_out(), 20);
	inject(5, LEN);
	rig.next_rx = rig.next_tx - 5;
	CHECK_EQ(vmodel_rx(rig.m, 0, 64), 5);
	CHECK_EQ(receive_all(), 5);
	/* and stop -> start over the new connection */
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	CHECK_EQ(rig.m->connections, 2);
	bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, NULL);
	CHECK(rig_down());
}

TEST(virtio_model_stopped_while_the_backend_is_gone_start_reconnects)
{
	CHECK(rig_up(BASE_FEATURES, NULL, 64, 1024, NULL));
	link_events = 0;
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, on_link, NULL), 0);
	struct bp_eth_link l;
	CHECK_EQ(send_some(10), 10);
	CHECK_EQ(bp_eth_dev_stop(0), 0); /* the application's doing: no event */
	bp_eth_link_get(0, &l, false);
	CHECK_EQ(l.up, 0);
	vmodel_hangup(rig.m);
	usleep(300 * 1000); /* no watch and no retry while stopped: nothing may come */
	CHECK_EQ(link_events, 0);
	CHECK_EQ(rig.m->connections, 1);
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	CHECK_EQ(rig.m->connections, 2);
	bp_eth_link_get(0, &l, false);
	CHECK_EQ(l.up, 1);
	CHECK_EQ(link_events, 0);
	rig.next_rx = rig.next_tx;
	CHECK_EQ(send_some(20), 20);
	CHECK_EQ(vmodel_tx(rig.m, 0, 64), 20);
	CHECK_EQ(check_out(), 20);
	bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, NULL);
	bp_eth_tx_done_cleanup(0, 0);
	CHECK(rig_down());
}

TEST(virtio_model_two_queue_pairs_each_carry_their_own_traffic)
{
	/* queues=2: MQ negotiated, four rings set up and enabled; each pair
	 * moves its own frames */
	CHECK(rig_up(BASE_FEATURES | F(VIRTIO_NET_F_MQ), "queues=2", 64, 1024, NULL));
	/* rig_up configured one pair; do it again with two */
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK_EQ(bp_eth_dev_configure(0, 2, 2, NULL), 0);
	for (uint16_t q = 0; q < 2; q++) {
		CHECK_EQ(bp_eth_rx_queue_setup(0, q, 64, rig.mp), 0);
		CHECK_EQ(bp_eth_tx_queue_setup(0, q, 64), 0);
	}
	CHECK_EQ(bp_eth_dev_start(0), 0);
	CHECK(rig.m->negotiated & F(VIRTIO_NET_F_MQ));
	for (uint16_t q = 0; q < 2; q++) {
		struct bp_mbuf *b[8];
		for (int i = 0; i < 8; i++)
			b[i] = frame(LEN);
		CHECK_EQ(bp_eth_tx_burst(0, q, b, 8), 8);
		CHECK_EQ(vmodel_tx(rig.m, (uint16_t)(1 - q), 64), 0); /* not on the other pair */
		CHECK_EQ(vmodel_tx(rig.m, q, 64), 8);
		CHECK_EQ(check_out(), 8);
		bp_eth_tx_done_cleanup(0, q);
	}
	CHECK(rig_down());
}

static void close_on_down(uint16_t port, enum bp_eth_event_type ev, void *arg)
{
	struct bp_eth_link l;
	(void)ev, (void)arg;
	bp_eth_link_get(port, &l, false);
	if (!l.up)
		bp_eth_dev_close(port); /* frees the transport under the caller */
	__atomic_fetch_add(&link_events, 1, __ATOMIC_SEQ_CST);
}

TEST(virtio_model_a_link_callback_may_close_its_own_port)
{
	CHECK(rig_up(BASE_FEATURES, NULL, 64, 1024, NULL));
	link_events = 0;
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, close_on_down, NULL), 0);
	CHECK_EQ(send_some(10), 10);
	vmodel_hangup(rig.m);
	CHECK(wait_events(1));
	for (int i = 0; i < 5000 && bp_eth_dev_is_valid_port(0); i++)
		usleep(1000);
	CHECK(!bp_eth_dev_is_valid_port(0));
	usleep(300 * 1000); /* no retry may run on the freed port (ASan would say) */
	CHECK_EQ(link_events, 1);
	CHECK(rig_down());
}

TEST(virtio_model_kicks_only_when_the_device_asks_at_most_one_per_burst)
{
	for (int ev = 0; ev < 2; ev++) {
		uint64_t f = ev ? BASE_FEATURES : BASE_FEATURES & ~F(VIRTIO_RING_F_EVENT_IDX);
		CHECK(rig_up(f, NULL, 256, 2048, NULL));
		/* a polling device: no kick at all */
		rig.m->want_kicks = false;
		vmodel_tx(rig.m, 0, 1); /* publishes its wish */
		uint64_t k0 = rig.m->kicks;
		for (int i = 0; i < 200; i++) {
			CHECK_EQ(send_some(32), 32);
			vmodel_tx(rig.m, 0, 64);
		}
		CHECK_EQ(rig.m->kicks - k0, 0);
		/* a device that sleeps between batches: one kick per burst */
		rig.m->want_kicks = true;
		vmodel_tx(rig.m, 0, 64);
		k0 = rig.m->kicks;
		for (int i = 0; i < 200; i++) {
			CHECK_EQ(send_some(32), 32);
			vmodel_tx(rig.m, 0, 64);
		}
		CHECK(rig.m->kicks - k0 >= 199 && rig.m->kicks - k0 <= 200);
		CHECK_EQ(check_out(), 400 * 32);
		/* and no interrupt was asked for while polling */
		CHECK_EQ(rig.m->calls, 0);
		bp_eth_tx_done_cleanup(0, 0);
		CHECK(rig_down());
	}
}

TEST(virtio_model_rx_interrupt_wakes_a_sleeping_queue_once)
{
	struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = 1 };
	for (int ev = 0; ev < 2; ev++) {
		uint64_t f = ev ? BASE_FEATURES : BASE_FEATURES & ~F(VIRTIO_RING_F_EVENT_IDX);
		CHECK(rig_up(f, NULL, 64, 1024, &conf));
		CHECK(bp_eth_rx_intr_fd(0, 0) >= 0);
		CHECK_EQ(bp_eth_rx_intr_wait(0, 0, 10), 0); /* nothing: times out */
		CHECK_EQ(bp_eth_rx_intr_enable(0, 0), 0);
		inject(3, LEN);
		CHECK_EQ(vmodel_rx(rig.m, 0, 64), 3);
		CHECK_EQ(rig.m->calls, 1);
		CHECK_EQ(bp_eth_rx_intr_disable(0, 0), 0);
		CHECK_EQ(receive_all(), 3);
		inject(3, LEN);
		CHECK_EQ(vmodel_rx(rig.m, 0, 64), 3);
		CHECK_EQ(rig.m->calls, 1); /* disarmed: no more */
		CHECK_EQ(receive_all(), 3);
		CHECK(rig_down());
	}
}

/* A device on a thread of its own, as a real one: it takes descriptors the
 * moment it sees them and notes where each sighting ended (in descriptors
 * since the start; every frame here is one descriptor). */
static struct {
	bool tx, stop;
	unsigned nends;
	uint64_t pos, ends[40000];
} poller;

static void *polling_device(void *arg)
{
	/* on another CPU than the driver's (the main lcore is pinned, and a
	 * thread inherits that): otherwise the two only take turns */
	int driver_cpu = *(const int *)arg;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	CPU_ZERO(&set);
	for (long c = 0; c < ncpu && c < CPU_SETSIZE; c++)
		if (c != driver_cpu)
			CPU_SET(c, &set);
	if (CPU_COUNT(&set))
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (!__atomic_load_n(&poller.stop, __ATOMIC_ACQUIRE)) {
		unsigned n = vmodel_peek(rig.m, 0, poller.tx);
		if (!n)
			continue;
		unsigned took = poller.tx ? vmodel_tx(rig.m, 0, n) : vmodel_rx(rig.m, 0, n);
		__atomic_store_n(&poller.pos, poller.pos + took, __ATOMIC_RELEASE);
		if (took == n && poller.nends < BP_ARRAY_SIZE(poller.ends))
			poller.ends[poller.nends++] = poller.pos;
	}
	return NULL;
}

/* Every sighting ended where a burst (or a refill) of the driver ended:
 * ends[] and bounds[] both rise, and each end is one of the bounds. */
static unsigned torn_sightings(const uint64_t *bounds, unsigned nb)
{
	unsigned torn = 0, j = 0;
	for (unsigned i = 0; i < poller.nends; i++) {
		while (j < nb && bounds[j] < poller.ends[i])
			j++;
		if (j == nb || bounds[j] != poller.ends[i])
			torn++;
	}
	return torn;
}

TEST(virtio_model_a_polling_device_sees_each_burst_and_each_refill_whole)
{
	/* A device polls the slot the driver writes next. Were a burst made
	 * available descriptor by descriptor, it would take them one line at a
	 * time as they appear, pulling the line away from the driver for each;
	 * so a burst (split: avail->idx once; packed: its first descriptor's
	 * flags stored last, §2.8.21.1) and a refill appear whole. */
	static uint64_t bounds[40000];
	enum { BURSTS = 1500, BURST = 16, FRAMES = 16000 };
	CHECK(rig_up(BASE_FEATURES, NULL, 256, 4096, NULL));
	int cpu = sched_getcpu();
	pthread_t t;
	memset(&poller, 0, sizeof(poller));
	poller.tx = true;
	CHECK_EQ(pthread_create(&t, NULL, polling_device, &cpu), 0);
	unsigned nb = 0;
	uint64_t sent = 0, t0 = bp_rdtsc(), limit = 10 * bp_tsc_hz();
	bool stuck = false;
	for (int i = 0; i < BURSTS && !stuck; i++) {
		struct bp_mbuf *b[BURST];
		for (int k = 0; k < BURST; k++)
			b[k] = frame(LEN);
		uint16_t done = 0;
		while (done < BURST && !(stuck = bp_rdtsc() - t0 > limit)) {
			uint16_t took = bp_eth_tx_burst(0, 0, &b[done], (uint16_t)(BURST - done));
			done = (uint16_t)(done + took);
			sent += took;
			if (took && nb < BP_ARRAY_SIZE(bounds))
				bounds[nb++] = sent;
		}
		bp_pktmbuf_free_bulk(&b[done], (unsigned)(BURST - done));
	}
	while (__atomic_load_n(&poller.pos, __ATOMIC_RELAXED) < sent && bp_rdtsc() - t0 < limit)
		;
	__atomic_store_n(&poller.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK(!stuck);
	CHECK_EQ(poller.pos, sent);
	CHECK(poller.nends > 0);
	unsigned torn = torn_sightings(bounds, nb);
	if (torn)
		printf("    tx: %u of %u sightings ended inside a burst\n", torn, poller.nends);
	CHECK_EQ(torn, 0);
	CHECK_EQ(check_out(), (long)sent);
	bp_eth_tx_done_cleanup(0, 0);

	/* rx: after the first fill (256), each burst's refill offers what the
	 * burst before it handed out, so the bounds are 256 + what the
	 * application received before each burst */
	rig.next_tx = rig.next_rx = 0;
	inject(FRAMES, LEN);
	memset(&poller, 0, sizeof(poller));
	CHECK_EQ(pthread_create(&t, NULL, polling_device, &cpu), 0);
	nb = 0;
	long got = 0;
	bool bad = false;
	t0 = bp_rdtsc();
	while (!bad && got < FRAMES && bp_rdtsc() - t0 < limit) {
		struct bp_mbuf *b[BURST];
		uint64_t bound = 256 + (uint64_t)got;
		if (nb < BP_ARRAY_SIZE(bounds) && (nb == 0 || bounds[nb - 1] != bound))
			bounds[nb++] = bound;
		uint16_t n = bp_eth_rx_burst(0, 0, b, BURST);
		for (uint16_t i = 0; i < n; i++) {
			uint64_t seq = UINT64_MAX;
			if (testpkt_check(bp_pktmbuf_mtod(b[i], uint8_t *), b[i]->data_len, &seq) != TESTPKT_OK ||
			    seq != rig.next_rx++)
				bad = true;
		}
		bp_pktmbuf_free_bulk(b, n);
		got += n;
	}
	__atomic_store_n(&poller.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK(!bad);
	CHECK_EQ(got, FRAMES);
	CHECK(poller.nends > 0);
	torn = torn_sightings(bounds, nb);
	if (torn)
		printf("    rx: %u of %u sightings ended inside a refill\n", torn, poller.nends);
	CHECK_EQ(torn, 0);
	CHECK(rig_down());
}

/* Every test above once more, over packed virtqueues (§2.8). */
TEST(virtio_model_packed_rings_pass_every_test_above)
{
	static void (*const all[])(void) = {
		virtio_model_tx_fills_the_ring_to_the_last_descriptor_then_waits,
		virtio_model_wraps_at_every_burst_size_in_order_and_out_of_order,
		virtio_model_chained_and_headroomless_frames_go_out_whole,
		virtio_model_rx_with_an_empty_pool_drops_counts_and_keeps_the_ring_full,
		virtio_model_stop_start_returns_every_mbuf_and_runs_again,
		virtio_model_backend_gone_takes_the_link_down_and_its_return_resumes_the_rings,
		virtio_model_stopped_while_the_backend_is_gone_start_reconnects,
		virtio_model_a_link_callback_may_close_its_own_port,
		virtio_model_two_queue_pairs_each_carry_their_own_traffic,
		virtio_model_kicks_only_when_the_device_asks_at_most_one_per_burst,
		virtio_model_rx_interrupt_wakes_a_sleeping_queue_once,
		virtio_model_a_polling_device_sees_each_burst_and_each_refill_whole,
	};
	packed_pass = true;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && !test_failed; i++)
		all[i]();
	packed_pass = false;
}
