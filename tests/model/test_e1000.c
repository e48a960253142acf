/* SPDX-License-Identifier: MIT
 * The e1000 PMD against the 82540EM model: rings filled to the last
 * descriptor, wrap-around at every burst and ring size, a slow NIC, an empty
 * mempool, stop -> start, link down, close with frames in flight. Every frame
 * is checked byte for byte (apps/common/testpkt.h) and every mbuf must be back
 * in its pool at the end. */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/mempool.h>
#include "../unit/harness.h"
#include "../../drivers/net/e1000/e1000_regs.h"
#include "e1000_rig.h"
#include "../open_fds.h"

/* ---- start-up ---- */

TEST(e1000_model_bus_mastering_waits_for_the_driver_reset)
{
	/* A NIC its last owner left running (killed) would DMA into that
	 * owner's rings as soon as Bus Master is on: bypass turns decoding on
	 * for the probe, and mastering only after the driver reset the NIC. */
	CHECK(rig_up(1, 64, 64, 4096, 0));
	struct e1000_model *m = rig.m[0];
	CHECK(m->reset_seen);
	CHECK_EQ(m->command_at_reset & 0x0006, 0x0002); /* memory on, mastering off */
	CHECK_EQ(m->command & 0x0006, 0x0006);
	CHECK(rig_down());
}

/* ---- transmit ---- */

TEST(e1000_model_tx_ring_fills_to_the_last_descriptor_and_keeps_sending)
{
	const uint16_t nb = 64;
	CHECK(rig_up(1, 64, nb, 4096, 0));
	struct e1000_model *m = rig.m[0];
	for (int round = 0; round < 4; round++) {
		/* A NIC that does not move: the ring takes nb - 1 frames, never nb
		 * (TDT == TDH would tell the NIC the ring is empty). */
		e1000_model_pause(m, true);
		struct bp_mbuf *pkts[64];
		for (uint16_t i = 0; i < nb; i++)
			CHECK((pkts[i] = make_pkt(round * 1000 + i)) != NULL);
		uint16_t k = bp_eth_tx_burst(0, 0, pkts, nb);
		CHECK_EQ(k, nb - 1);
		CHECK_EQ(bp_eth_tx_burst(0, 0, pkts + k, 1), 0); /* full */
		CHECK_EQ((e1000_model_reg(m, E1000_TDT) - e1000_model_reg(m, E1000_TDH) + nb) % nb, nb - 1);
		bp_pktmbuf_free(pkts[nb - 1]);
		e1000_model_pause(m, false);
		CHECK(sent_frames(m, round * 1000, nb - 1));
	}
	/* Flat out, bursts as large as the ring (testpmd --txd=64 --burst=64): it
	 * keeps sending, every frame in order. */
	CHECK_EQ(tx_frames(0, 10000, 5000, 64), 5000);
	CHECK(sent_frames(m, 10000, 5000));
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(stats(0).opackets, 4 * (nb - 1) + 5000);
	CHECK_EQ(stats(0).obytes, (4 * (nb - 1) + 5000) * (uint64_t)LEN);
	CHECK(rig_down());
}

TEST(e1000_model_tx_slow_nic_loses_nothing_and_keeps_order)
{
	CHECK(rig_up(1, 64, 128, 4096, 32));
	e1000_model_set_speed(rig.m[0], 1, 20); /* one descriptor per 20 us */
	CHECK_EQ(tx_frames(0, 0, 3000, 32), 3000);
	CHECK(sent_frames(rig.m[0], 0, 3000));
	CHECK(rig_down());
}

TEST(e1000_model_stop_lets_the_transmitter_finish)
{
	CHECK(rig_up(1, 64, 512, 4096, 0));
	e1000_model_set_speed(rig.m[0], 4, 50); /* slower than the driver */
	CHECK_EQ(tx_frames(0, 0, 500, 64), 500);
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK(sent_frames(rig.m[0], 0, 500));
	CHECK(rig_down());
}

TEST(e1000_model_tx_cleanup_returns_sent_mbufs_without_new_packets)
{
	/* Fewer packets than a write-back group, then nothing more: the mbufs
	 * must come back when the program asks, not wait for later traffic. */
	CHECK(rig_up(1, 64, 256, 4096, 0));
	uint32_t before = bp_mempool_in_use_count(rig.mp);
	CHECK_EQ(tx_frames(0, 0, 5, 5), 5);
	CHECK(sent_frames(rig.m[0], 0, 5));
	CHECK(e1000_model_wait_quiet(rig.m[0], WAIT));
	bp_eth_tx_done_cleanup(0, 0);
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), before);
	CHECK(rig_down());
}

/* ---- receive ---- */

TEST(e1000_model_rx_ring_fills_to_the_last_descriptor)
{
	const uint16_t nb = 64;
	CHECK(rig_up(1, nb, 64, 4096, 0));
	struct e1000_model *m = rig.m[0];
	CHECK(rx_fill_rounds(m, 0, nb, 5));
	/* clear-on-read counters are accumulated, not read twice */
	CHECK_EQ(stats(0).imissed, 5);
	bp_eth_stats_reset(0);
	CHECK_EQ(stats(0).imissed, 0);
	CHECK_EQ(stats(0).ipackets, 0);
	CHECK(rig_down());
}

TEST(e1000_model_rx_slow_nic)
{
	CHECK(rig_up(1, 128, 64, 4096, 32));
	e1000_model_set_speed(rig.m[0], 1, 20);
	inject(rig.m[0], 0, 1000);
	bool intact;
	CHECK_EQ(rx_frames(0, 32, 0, 1000, &intact), 1000);
	CHECK(intact);
	CHECK_EQ(stats(0).imissed, 0);
	CHECK(rig_down());
}


TEST(e1000_model_rx_empty_pool_drops_counts_once_and_recovers)
{
	static struct bp_mbuf *held[8192];
	CHECK(rig_up(1, 64, 64, 1024, 0));
	struct e1000_model *m = rig.m[0];
	uint32_t nheld = drain_pool(held, 8192);
	CHECK(nheld > 0);
	/* No mbuf to put in their place: each frame is dropped, counted once, and
	 * its buffer stays in the ring. */
	inject(m, 0, 10);
	CHECK(e1000_model_wait_quiet(m, WAIT));
	struct bp_mbuf *pkts[32];
	for (int poll = 0; poll < 5; poll++)
		CHECK_EQ(bp_eth_rx_burst(0, 0, pkts, 32), 0);
	CHECK_EQ(stats(0).rx_nombuf, 10);
	CHECK_EQ(stats(0).ipackets, 0);
	/* Three free mbufs: three frames delivered, the rest dropped and counted. */
	bp_pktmbuf_free_bulk(held + nheld - 3, 3);
	nheld -= 3;
	inject(m, 100, 8);
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(bp_eth_rx_burst(0, 0, pkts, 32), 3);
	for (int i = 0; i < 3; i++)
		CHECK(frame_ok(bp_pktmbuf_mtod(pkts[i], uint8_t *), pkts[i]->pkt_len, 100 + i));
	bp_pktmbuf_free_bulk(pkts, 3);
	CHECK_EQ(bp_eth_rx_burst(0, 0, pkts, 32), 0);
	CHECK_EQ(stats(0).rx_nombuf, 15);
	bool intact;
	/* The ring never ran dry: with mbufs back, a full ring's worth arrives
	 * and nothing is missed. */
	bp_pktmbuf_free_bulk(held, nheld);
	inject(m, 200, 63);
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(rx_frames(0, 32, 200, 63, &intact), 63);
	CHECK(intact);
	CHECK_EQ(stats(0).imissed, 0);
	CHECK_EQ(stats(0).rx_nombuf, 15);
	CHECK(rig_down());
}

TEST(e1000_model_rx_frame_longer_than_a_buffer_is_dropped_whole)
{
	CHECK(rig_up(1, 64, 64, 4096, 0));
	struct e1000_model *m = rig.m[0];
	E1000_MODEL_SET(m, deliver_oversize, true);
	static uint8_t big[3000];
	uint8_t f[LEN];
	frame_of(f, 1);
	memcpy(big, f, LEN);
	/* a 3000-byte frame takes two 2048-byte buffers: neither part is a packet */
	for (int i = 0; i < 3; i++) {
		e1000_model_inject(m, big, sizeof(big));
		inject(m, 1 + i, 1);
	}
	CHECK(e1000_model_wait_quiet(m, WAIT));
	/* one at a time, so that the long frame straddles bursts */
	bool intact;
	CHECK_EQ(rx_frames(0, 1, 1, 3, &intact), 3);
	CHECK(intact);
	struct bp_eth_stats st = stats(0);
	CHECK_EQ(st.ierrors, 3);
	CHECK_EQ(st.ipackets, 3);
	CHECK(rig_down());
}

TEST(e1000_model_rx_crc_error_is_counted_once)
{
	CHECK(rig_up(1, 64, 64, 4096, 0));
	E1000_MODEL_SET(rig.m[0], bad_crc_next, 2);
	inject(rig.m[0], 0, 5);
	CHECK(e1000_model_wait_quiet(rig.m[0], WAIT));
	bool intact;
	CHECK_EQ(rx_frames(0, 32, 2, 3, &intact), 3);
	CHECK(intact);
	CHECK_EQ(stats(0).ierrors, 2);
	CHECK_EQ(stats(0).ierrors, 2); /* read again: still counted once */
	CHECK(rig_down());
}

/* ---- both directions ---- */

TEST(e1000_model_every_burst_size_at_every_ring_size_wraps_many_times)
{
	static const uint16_t bursts[] = { 1, 7, 32, 33, 64, 512 };
	for (uint16_t ring = 8; ring; ring = ring == 4096 ? 0 : (uint16_t)(ring * 2)) {
		/* two rx rings, a tx ring that may hold ring - 1 sent mbufs, bursts */
		CHECK(rig_up(2, ring, ring, 3u * ring + 2048, 0));
		uint64_t seq = 0, frames = 2u * ring + 100; /* two wraps and more */
		for (unsigned b = 0; b < BP_ARRAY_SIZE(bursts); b++) {
			CHECK(loopback(ring, bursts[b], seq, frames));
			seq += frames;
		}
		struct bp_eth_stats tx = stats(0), rx = stats(1);
		CHECK_EQ(tx.opackets, seq);
		CHECK_EQ(rx.ipackets, seq);
		CHECK_EQ(rx.ibytes, seq * LEN);
		CHECK_EQ(rx.imissed, 0);
		CHECK_EQ(rx.rx_nombuf, 0);
		CHECK(rig_down());
	}
}

/* `polls` rounds of an io forwarder from port 0 to port 1 that, when rx
 * brings nothing, takes back what tx has sent; how many it forwarded. */
static uint64_t forward(int polls)
{
	struct bp_mbuf *pkts[32];
	uint64_t fwd = 0;
	for (int poll = 0; poll < polls; poll++) {
		uint16_t n = bp_eth_rx_burst(0, 0, pkts, 32);
		if (!n) {
			bp_eth_tx_done_cleanup(1, 0);
			continue;
		}
		uint16_t s = bp_eth_tx_burst(1, 0, pkts, n);
		bp_pktmbuf_free_bulk(pkts + s, n - s);
		fwd += s;
	}
	return fwd;
}

TEST(e1000_model_io_forwarding_with_a_tight_pool_never_stalls)
{
	/* Pool: the two rx rings and 40 mbufs more. Port 0 receives what the test
	 * injects, port 1 sends it on; with rx starved and nothing to send, only
	 * the idle clean-up returns the sent mbufs. */
	CHECK(rig_up(2, 64, 64, 2 * 64 + 40, 0));
	struct e1000_model *in = rig.m[0];
	E1000_MODEL_SET(rig.m[0], peer, NULL); /* port 1's frames go to its out queue */
	E1000_MODEL_SET(rig.m[1], peer, NULL);
	uint64_t fwd = 0, injected = 0;
	struct bp_mbuf *pkts[32];
	/* a flood: some frames are dropped, every drop counted */
	for (int chunk = 0; chunk < 40; chunk++) {
		inject(in, injected, 50);
		injected += 50;
		fwd += forward(20);
	}
	CHECK(e1000_model_wait_quiet(in, WAIT));
	fwd += forward(100); /* what is left in the ring */
	struct bp_eth_stats st0 = stats(0);
	CHECK_EQ(st0.ipackets + st0.imissed + st0.rx_nombuf, injected);
	CHECK(fwd > 0);
	/* then paced traffic, each frame sent on before the next arrives: every
	 * one must come through (counted from when port 1's NIC has sent all of
	 * the flood it was given) */
	CHECK(e1000_model_wait_quiet(rig.m[1], WAIT));
	bp_eth_tx_done_cleanup(1, 0); /* idle: what the flood left in port 1's ring */
	uint64_t before = E1000_MODEL_GET(rig.m[1], tx_frames);
	for (uint64_t i = 0; i < 200; i++) {
		inject(in, 100000 + i, 1);
		CHECK(e1000_model_wait_quiet(in, WAIT));
		uint16_t n = bp_eth_rx_burst(0, 0, pkts, 32);
		if (n != 1) {
			struct bp_eth_stats st = stats(0);
			note("paced frame %llu: nombuf %llu missed %llu rx %llu, pool free %u, model rx %llu",
			     (unsigned long long)i, (unsigned long long)st.rx_nombuf, (unsigned long long)st.imissed,
			     (unsigned long long)st.ipackets, bp_mempool_avail_count(rig.mp),
			     (unsigned long long)E1000_MODEL_GET(in, rx_frames));
		}
		CHECK_EQ(n, 1);
		CHECK_EQ(bp_eth_tx_burst(1, 0, pkts, 1), 1);
		CHECK(e1000_model_wait_quiet(rig.m[1], WAIT));
		bp_eth_tx_done_cleanup(1, 0); /* idle until the next frame */
	}
	CHECK(e1000_model_wait_quiet(rig.m[1], WAIT));
	CHECK_EQ(E1000_MODEL_GET(rig.m[1], tx_frames) - before, 200);
	fq_clear(&rig.m[1]->out);
	CHECK(rig_down());
}

/* The driver's rings over a debug pool (--mbuf-debug): every buffer its own
 * malloc, its IOVA tagged (which the model decodes, as no device would); frames
 * arrive intact both ways, every mbuf comes back, the model saw no bad DMA. */
TEST(e1000_model_loopback_over_a_debug_pool)
{
	const struct rig_opts o = { .nports = 2, .nq = 1, .rxd = 64, .txd = 64, .nb_mbufs = 512,
				    .mbuf_debug = true };
	CHECK(rig_up_opts(&o));
	CHECK(bp_mempool_is_debug(rig.mp));
	CHECK(loopback(64, 32, 0, 3000));
	CHECK_EQ(stats(1).ipackets, 3000);
	CHECK_EQ(stats(1).ibytes, 3000 * (uint64_t)LEN);
	CHECK(rig_down()); /* every mbuf back, no DMA fault */
}

/* ---- the port's life ---- */

TEST(e1000_model_stop_start_behaves_like_the_first_start)
{
	CHECK(rig_up(1, 64, 64, 1024, 0));
	struct e1000_model *m = rig.m[0];
	bool intact;
	inject(m, 0, 63);
	CHECK_EQ(rx_frames(0, 32, 0, 63, &intact), 63);
	CHECK(intact);
	/* frames that arrive and are never read (in descriptors 63, 0, 1, 2, 3:
	 * where a restarted ring begins), a tx ring with frames in it */
	inject(m, 63, 5);
	CHECK(e1000_model_wait_quiet(m, WAIT));
	e1000_model_pause(m, true);
	CHECK_EQ(tx_frames(0, 0, 20, 20), 20);
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	e1000_model_pause(m, false);
	fq_clear(&m->out);
	for (int cycle = 0; cycle < 3; cycle++) {
		CHECK_EQ(bp_eth_dev_start(0), 0);
		/* only what arrives after the start, from the start of the ring: none
		 * of the frames the ring held at the stop */
		struct bp_mbuf *stale[32];
		CHECK_EQ(bp_eth_rx_burst(0, 0, stale, 32), 0);
		uint64_t seq0 = 1000 * (cycle + 1);
		inject(m, seq0, 50); /* fewer than the ring holds: nothing missed */
		CHECK_EQ(rx_frames(0, 32, seq0, 50, &intact), 50);
		CHECK(intact);
		struct bp_mbuf *pkts[32];
		CHECK_EQ(bp_eth_rx_burst(0, 0, pkts, 32), 0);
		CHECK_EQ(stats(0).imissed, 0);
		CHECK_EQ(tx_frames(0, seq0, 100, 32), 100);
		CHECK(sent_frames(m, seq0, 100));
		CHECK_EQ(bp_eth_dev_stop(0), 0);
		CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0); /* stop gave every mbuf back */
	}
	CHECK(rig_down());
}

TEST(e1000_model_link_down_and_up)
{
	CHECK(rig_up(1, 64, 64, 4096, 0));
	struct e1000_model *m = rig.m[0];
	struct bp_eth_link link;
	CHECK_EQ(bp_eth_link_get(0, &link, false), 0);
	CHECK(link.up);
	CHECK_EQ(link.speed_mbps, 1000);
	e1000_model_set_link(m, false);
	CHECK_EQ(bp_eth_link_get(0, &link, false), 0);
	CHECK(!link.up);
	CHECK_EQ(link.speed_mbps, 0);
	/* tx waits in the ring (up to its size), rx frames are lost on the wire */
	CHECK_EQ(tx_frames(0, 0, 40, 8), 40);
	inject(m, 0, 10);
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(E1000_MODEL_GET(m, lost_link_down), 10);
	CHECK_EQ(fq_count(&m->out), 0);
	e1000_model_set_link(m, true);
	CHECK_EQ(bp_eth_link_get(0, &link, false), 0);
	CHECK(link.up);
	CHECK(sent_frames(m, 0, 40));
	inject(m, 50, 10);
	bool intact;
	CHECK_EQ(rx_frames(0, 32, 50, 10, &intact), 10);
	CHECK(intact);
	CHECK(rig_down());
}

TEST(e1000_model_close_with_frames_in_flight_returns_every_mbuf)
{
	CHECK(rig_up(1, 256, 256, 2048, 64));
	struct e1000_model *m = rig.m[0];
	inject(m, 0, 100); /* received, never read */
	CHECK(e1000_model_wait_quiet(m, WAIT));
	e1000_model_pause(m, true);
	CHECK_EQ(tx_frames(0, 0, 200, 32), 200); /* queued, never sent */
	CHECK(rig_down()); /* checks the pool is full again */
}

TEST(e1000_model_eeprom_that_never_answers_gives_a_valid_mac)
{
	/* An EEPROM read that times out must not program 00:00:00:00:00:00. */
	CHECK(test_env("--no-huge -l 0 --log-level err") >= 0);
	const struct bp_ether_addr mac = { { 0x02, 0, 0, 0, 0, 0x42 } };
	struct e1000_model *m = e1000_model_attach("0000:00:03.0", &mac, E1000_MODEL_EEPROM_DEAD);
	CHECK(m != NULL);
	struct bp_ether_addr got;
	CHECK_EQ(bp_eth_macaddr_get(0, &got), 0);
	static const struct bp_ether_addr zero;
	CHECK(memcmp(&got, &zero, sizeof(got)) != 0);
	CHECK(!(got.b[0] & 1));      /* not multicast */
	CHECK(got.b[0] & 2);         /* locally administered */
	uint32_t ral = e1000_model_reg(m, E1000_RAL0), rah = e1000_model_reg(m, E1000_RAH0);
	CHECK(rah & E1000_RAH_AV);
	CHECK_EQ(ral & 0xff, got.b[0]);
	CHECK_EQ((rah >> 8) & 0xff, got.b[5]);
	bp_cleanup();
	e1000_model_free(m);
}

TEST(e1000_model_qemu_keeps_its_statistics_and_ignores_reset)
{
	/* QEMU's e1000 neither clears statistics on read nor resets on CTRL.RST:
	 * each count must still be exact, and a new process must find the NIC
	 * quiet and its counters at zero. */
	CHECK(test_env("--no-huge -l 0 --log-level err") >= 0);
	struct e1000_model *m = e1000_model_attach("0000:00:03.0", &mac0, E1000_MODEL_QEMU);
	CHECK(m);
	rig.m[0] = m;
	rig.nports = 1;
	CHECK((rig.mp = bp_pktmbuf_pool_create("model", 1024, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE)) != NULL);
	CHECK_EQ(bp_eth_dev_configure(0, 1, 1, NULL), 0);
	CHECK_EQ(bp_eth_rx_queue_setup(0, 0, 64, rig.mp), 0);
	CHECK_EQ(bp_eth_tx_queue_setup(0, 0, 64), 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	testpkt_template(rig.tmpl, &mac1, &mac0, LEN, 0);
	inject(m, 0, 100); /* nobody polls: 63 land, 37 are missed */
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(stats(0).imissed, 37);
	CHECK_EQ(stats(0).imissed, 37); /* read again: still 37, not 74 */
	inject(m, 100, 10);
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(stats(0).imissed, 47);
	bp_eth_stats_reset(0);
	CHECK_EQ(stats(0).imissed, 0);
	/* The process dies with the NIC receiving: RCTL and TCTL stay on. */
	CHECK_EQ(bp_eth_dev_close(0), 0);
	e1000_model_poke(m, E1000_RCTL, E1000_RCTL_EN);
	e1000_model_poke(m, E1000_TCTL, E1000_TCTL_EN);
	bp_mempool_free(rig.mp);
	rig.mp = NULL;
	CHECK(test_env("--no-huge -l 0 --log-level err") >= 0);
	CHECK_EQ(e1000_model_reattach(m), 0);
	CHECK_EQ(e1000_model_reg(m, E1000_RCTL), 0);
	CHECK_EQ(e1000_model_reg(m, E1000_TCTL), 0);
	CHECK_EQ(stats(0).imissed, 0);
	CHECK(rig_down());
}

/* ---- interrupts ---- */


TEST(e1000_model_link_changes_reach_the_callback_within_a_second)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .link_intr = 1 };
	struct link_log log = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } };
	CHECK(rig_up_conf(1, 64, 64, 4096, 0, &conf));
	struct e1000_model *m = rig.m[0];
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK_EQ(e1000_model_reg(m, E1000_IMS), E1000_ICR_LSC); /* link only: rx is polled */
	for (int i = 0; i < 3; i++) {
		e1000_model_set_link(m, false);
		CHECK(link_event(&log, 2 * i + 1));
		CHECK(!log.last.up);
		CHECK_EQ(log.last.speed_mbps, 0);
		e1000_model_set_link(m, true); /* the line was unmasked, or this one would not come */
		CHECK(link_event(&log, 2 * i + 2));
		CHECK(log.last.up);
		CHECK_EQ(log.last.speed_mbps, 1000);
		CHECK(log.last.full_duplex);
	}
	/* and traffic goes on */
	inject(m, 0, 10);
	bool intact;
	CHECK_EQ(rx_frames(0, 32, 0, 10, &intact), 10);
	CHECK(intact);
	CHECK_EQ(bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(rig_down());
}

/* A link callback that closes its own port on link down (a common way to
 * react to it): the driver must not touch the freed adapter afterwards
 * (ASan would see it), and every mbuf comes back. */
static void close_on_down(uint16_t port, enum bp_eth_event_type ev, void *arg)
{
	struct bp_eth_link link;
	if (ev == BP_ETH_EVENT_LINK && bp_eth_link_get(port, &link, false) == 0 && !link.up)
		bp_eth_dev_close(port);
	on_link(port, ev, arg);
}

TEST(e1000_model_a_link_callback_may_close_its_own_port)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .link_intr = 1 };
	struct link_log log = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } };
	CHECK(rig_up_conf(1, 64, 64, 4096, 0, &conf));
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, close_on_down, &log), 0);
	inject(rig.m[0], 0, 10); /* mbufs in flight when it closes */
	e1000_model_set_link(rig.m[0], false);
	CHECK(link_event(&log, 1));
	CHECK(!bp_eth_dev_is_valid_port(0));
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0);
	CHECK(rig_down());
}

/* Unregistering waits for a callback that is running, so its arg may be
 * freed as soon as unregister returns. */
struct slow_cb {
	struct link_log log;
	volatile int finished;
};

static void slow_link(uint16_t port, enum bp_eth_event_type ev, void *arg)
{
	struct slow_cb *c = arg;
	on_link(port, ev, &c->log); /* says it started */
	usleep(200 * 1000);
	c->finished = 1;
}

TEST(e1000_model_unregister_waits_for_a_running_callback)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .link_intr = 1 };
	struct slow_cb c = { { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } }, 0 };
	CHECK(rig_up_conf(1, 64, 64, 4096, 0, &conf));
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, slow_link, &c), 0);
	e1000_model_set_link(rig.m[0], false);
	CHECK(link_event(&c.log, 1)); /* running now, for 200 ms */
	CHECK_EQ(bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, slow_link, &c), 0);
	CHECK(c.finished);
	e1000_model_set_link(rig.m[0], true);
	CHECK(!link_event(&c.log, 2)); /* and it runs no more */
	CHECK(rig_down());
}

TEST(e1000_model_rx_interrupt_wakes_a_sleeping_queue_once)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = 1 };
	CHECK(rig_up_conf(1, 64, 64, 4096, 0, &conf));
	struct e1000_model *m = rig.m[0];
	CHECK(bp_eth_rx_intr_fd(0, 0) >= 0);
	CHECK_EQ(e1000_model_reg(m, E1000_IMS), 0); /* nothing armed until asked */
	/* nothing comes: the wait times out */
	uint64_t t0 = model_now_ns();
	CHECK_EQ(bp_eth_rx_intr_wait(0, 0, 100), 0);
	CHECK(model_now_ns() - t0 >= 90 * 1000000ull);
	CHECK_EQ(e1000_model_reg(m, E1000_IMS), 0); /* disarmed again */
	bool intact;
	for (uint64_t i = 0; i < 20; i++) {
		/* a frame arrives while the queue sleeps: it wakes, at once */
		struct delayed d = { m, 20, i };
		pthread_t t;
		pthread_create(&t, NULL, inject_later, &d);
		t0 = model_now_ns();
		CHECK_EQ(bp_eth_rx_intr_wait(0, 0, 5000), 1);
		CHECK(model_now_ns() - t0 < 1000 * 1000000ull);
		pthread_join(t, NULL);
		CHECK_EQ(rx_frames(0, 32, i, 1, &intact), 1);
		CHECK(intact);
		CHECK_EQ(e1000_model_reg(m, E1000_IMS) & (E1000_ICR_RXT0 | E1000_ICR_RXDMT0), 0);
	}
	/* a frame that came before the arming raised nothing: the look at the
	 * ring after arming finds it, no sleep */
	inject(m, 100, 1);
	CHECK(e1000_model_wait_quiet(m, WAIT));
	t0 = model_now_ns();
	CHECK_EQ(bp_eth_rx_intr_wait(0, 0, 5000), 1);
	CHECK(model_now_ns() - t0 < 1000 * 1000000ull);
	CHECK_EQ(rx_frames(0, 32, 100, 1, &intact), 1);
	/* the program's own epoll: arm, and the fd becomes readable */
	CHECK_EQ(bp_eth_rx_intr_enable(0, 0), 0);
	inject(m, 101, 1);
	CHECK_EQ(bp_intr_wait(bp_eth_rx_intr_fd(0, 0), 8, 5000), 1);
	CHECK_EQ(bp_eth_rx_intr_disable(0, 0), 0);
	CHECK_EQ(rx_frames(0, 32, 101, 1, &intact), 1);
	CHECK(intact);
	CHECK(rig_down());
}

TEST(e1000_model_stop_leaves_no_interrupt_armed_and_no_fd_open)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = 1, .link_intr = 1 };
	CHECK(test_env("--no-huge -l 0 --log-level err --no-telemetry") >= 0); /* its socket is no interrupt fd */
	int fds_before = open_fds();
	bp_cleanup();
	CHECK(rig_up_conf(1, 64, 64, 4096, 0, &conf));
	struct e1000_model *m = rig.m[0];
	for (int cycle = 0; cycle < 3; cycle++) {
		CHECK_EQ(e1000_model_reg(m, E1000_IMS), E1000_ICR_LSC);
		CHECK(E1000_MODEL_GET(m, intr_on));
		struct delayed d = { m, 20, (uint64_t)cycle };
		pthread_t t;
		pthread_create(&t, NULL, inject_later, &d);
		CHECK_EQ(bp_eth_rx_intr_wait(0, 0, 5000), 1);
		pthread_join(t, NULL);
		bool intact;
		CHECK_EQ(rx_frames(0, 32, (uint64_t)cycle, 1, &intact), 1);
		CHECK_EQ(bp_eth_dev_stop(0), 0);
		CHECK_EQ(e1000_model_reg(m, E1000_IMS), 0);
		CHECK(!E1000_MODEL_GET(m, intr_on));
		CHECK(bp_eth_rx_intr_fd(0, 0) < 0);
		CHECK_EQ(bp_eth_dev_start(0), 0);
	}
	CHECK(rig_down());
	CHECK_EQ(open_fds(), fds_before); /* eventfds, the interrupt thread's epoll: all closed */
}
