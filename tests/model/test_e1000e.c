/* SPDX-License-Identifier: MIT
 * The e1000e PMD against the 82574L model: rings filled to the last
 * descriptor on both queues, wrap-around, a slow NIC, an empty mempool,
 * stop -> start, link down/up through the MSI-X "other" vector, rx
 * interrupts per queue, and RSS: frames spread over both rx queues with
 * each frame's hash equal to bypass/rss.h's and its queue equal to
 * reta[hash & 127], a redirection table update, hash types off. Every frame
 * is checked byte for byte and every mbuf must be back in its pool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/intr.h>
#include <bypass/mempool.h>
#include <bypass/rss.h>
#include "../unit/harness.h"
#include "../../drivers/net/e1000e/e1000e_regs.h"
#include "e1000_rig.h"

#define RSS_ALL (BP_ETH_RSS_IPV4 | BP_ETH_RSS_IPV4_TCP | BP_ETH_RSS_IPV6 | BP_ETH_RSS_IPV6_TCP)

/* One or two 82574L ports (back to back), two queue pairs each; RSS with
 * `types` (0: off). */
static bool e1000e_up(unsigned nports, uint16_t rxd, uint16_t txd, uint32_t nb_mbufs, uint32_t types,
		      uint8_t rx_intr, uint8_t link_intr)
{
	struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = rx_intr, .link_intr = link_intr };
	conf.rss.hash_types = types;
	const struct rig_opts o = { .nports = nports, .flags = E1000_MODEL_82574, .nq = 2, .rxd = rxd,
				    .txd = txd, .nb_mbufs = nb_mbufs, .conf = &conf };
	return rig_up_opts(&o);
}

/* ---- RSS ---- */

TEST(e1000e_model_rss_spreads_flows_over_both_queues_with_the_software_hash)
{
	CHECK(e1000e_up(1, 512, 64, 4096, RSS_ALL, 0, 0));
	struct bp_eth_dev_info info;
	CHECK_EQ(bp_eth_dev_info_get(0, &info), 0);
	CHECK_EQ(info.rss_hash_types, RSS_ALL); /* no UDP type: the 82574L has none */
	CHECK_EQ(info.reta_size, 128);
	CHECK_EQ(info.rss_key_len, 40);
	struct e1000_model *m = rig.m[0];
	CHECK_EQ(e1000_model_reg(m, E1000E_MRQC), E1000E_MRQC_RSS | E1000E_MRQC_TCPIPV4 | E1000E_MRQC_IPV4 |
							E1000E_MRQC_TCPIPV6EX | E1000E_MRQC_IPV6);
	/* The register images, pinned to the datasheet's layout rather than to
	 * the model's reading of them (which shares the driver's conventions):
	 * key byte i in byte i mod 4 of RSSRK[i / 4] (6d 5a 56 da ...), RETA
	 * entry i in byte i mod 4 of RETA[i / 4] with its queue in bit 7 (the
	 * table starts 0, 1, 0, 1). */
	CHECK_EQ(e1000_model_reg(m, E1000E_RSSRK), 0xda565a6d);
	CHECK_EQ(e1000_model_reg(m, E1000E_RSSRK + 36), 0xfa01acbe);
	CHECK_EQ(e1000_model_reg(m, E1000E_RETA), 0x80008000);
	CHECK_EQ(e1000_model_reg(m, E1000E_RETA + 124), 0x80008000);
	uint64_t per_q[BP_MAX_QUEUES_PER_PORT];
	for (uint64_t round = 0; round < 3; round++) {
		inject_flows(m, round * 1000);
		CHECK(rx_flows(round * 1000, RSS_ALL, per_q, 2));
		CHECK(per_q[0] > FLOWS / 4 && per_q[1] > FLOWS / 4); /* reta: 0, 1, 0, 1, ... */
		CHECK_EQ(E1000_MODEL_GET(m, rx_queue_frames[1]), (round + 1) * per_q[1]);
	}
	/* a key of our own reaches the NIC: hashes follow it */
	struct bp_eth_rss_conf rss = { .hash_types = BP_ETH_RSS_IPV4, .key_len = 40 };
	for (unsigned i = 0; i < 40; i++)
		rss.key[i] = (uint8_t)(7 * i + 1);
	CHECK_EQ(bp_eth_dev_rss_hash_update(0, &rss), 0);
	inject_flows(m, 5000);
	CHECK(rx_flows(5000, BP_ETH_RSS_IPV4, per_q, 2)); /* TCP flows hashed on addresses only now */
	CHECK_EQ(stats(0).ipackets, 4 * FLOWS);
	CHECK_EQ(stats(0).ibytes, 4 * FLOWS * (uint64_t)LEN);
	CHECK(rig_down());
}

TEST(e1000e_model_reta_update_moves_every_flow_and_types_off_sends_all_to_queue_0)
{
	CHECK(e1000e_up(1, 512, 64, 4096, RSS_ALL, 0, 0));
	struct e1000_model *m = rig.m[0];
	uint16_t reta[E1000E_RETA_SIZE];
	uint64_t per_q[BP_MAX_QUEUES_PER_PORT];
	for (unsigned i = 0; i < E1000E_RETA_SIZE; i++)
		reta[i] = 1;
	CHECK_EQ(bp_eth_dev_rss_reta_update(0, reta, E1000E_RETA_SIZE), 0); /* started */
	inject_flows(m, 0);
	CHECK(rx_flows(0, RSS_ALL, per_q, 2));
	CHECK_EQ(per_q[1], FLOWS);
	/* hash types off: no RSS, every frame on queue 0, none with a hash */
	const struct bp_eth_rss_conf off = { .hash_types = 0 };
	CHECK_EQ(bp_eth_dev_rss_hash_update(0, &off), 0);
	CHECK_EQ(e1000_model_reg(m, E1000E_MRQC), 0);
	inject_flows(m, 1000);
	CHECK(rx_flows(1000, 0, per_q, 2));
	CHECK_EQ(per_q[0], FLOWS);
	/* stopped, the table and the types change; start programs them */
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	for (unsigned i = 0; i < E1000E_RETA_SIZE; i++)
		reta[i] = (uint16_t)(i < 64);
	CHECK_EQ(bp_eth_dev_rss_reta_update(0, reta, E1000E_RETA_SIZE), 0);
	const struct bp_eth_rss_conf on = { .hash_types = RSS_ALL };
	CHECK_EQ(bp_eth_dev_rss_hash_update(0, &on), 0);
	e1000_model_poke(m, E1000E_MRQC, 0); /* as a reset would leave it */
	CHECK_EQ(bp_eth_dev_start(0), 0);
	inject_flows(m, 2000);
	CHECK(rx_flows(2000, RSS_ALL, per_q, 2));
	CHECK(per_q[0] > 0 && per_q[1] > 0);
	CHECK(rig_down());
}

/* ---- rings ---- */

TEST(e1000e_model_rx_ring_fills_to_the_last_descriptor_and_misses_are_counted)
{
	const uint16_t nb = 64;
	CHECK(e1000e_up(1, nb, 64, 4096, 0, 0, 0)); /* RSS off: all to queue 0 */
	struct e1000_model *m = rig.m[0];
	CHECK(rx_fill_rounds(m, 0, nb, 5));
	CHECK_EQ(stats(0).q_ipackets[1], 0);
	CHECK(rig_down());
}

TEST(e1000e_model_tx_both_queues_fill_to_the_last_descriptor_and_keep_sending)
{
	const uint16_t nb = 64;
	CHECK(e1000e_up(1, 64, nb, 4096, 0, 0, 0));
	struct e1000_model *m = rig.m[0];
	for (uint64_t round = 0; round < 3; round++) {
		e1000_model_pause(m, true);
		for (uint16_t q = 0; q < 2; q++) {
			struct bp_mbuf *pkts[64];
			for (uint16_t i = 0; i < nb; i++)
				CHECK((pkts[i] = make_pkt(round * 1000 + q * 100000 + i)) != NULL);
			CHECK_EQ(bp_eth_tx_burst(0, q, pkts, nb), nb - 1);
			CHECK_EQ(bp_eth_tx_burst(0, q, pkts + nb - 1, 1), 0); /* full */
			bp_pktmbuf_free(pkts[nb - 1]);
		}
		e1000_model_pause(m, false);
		CHECK(sent_two_queues(m, round * 1000, nb - 1, 100000 + round * 1000, nb - 1));
	}
	/* flat out on both, many wraps */
	CHECK_EQ(tx_frames_q(0, 0, 10000, 3000, 64), 3000);
	CHECK_EQ(tx_frames_q(0, 1, 200000, 3000, 33), 3000);
	CHECK(sent_two_queues(m, 10000, 3000, 200000, 3000));
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(E1000_MODEL_GET(m, tx_queue_frames[1]), 3 * (nb - 1) + 3000);
	struct bp_eth_stats st = stats(0);
	CHECK_EQ(st.q_opackets[0], 3 * (nb - 1) + 3000);
	CHECK_EQ(st.q_obytes[1], (3 * (nb - 1) + 3000) * (uint64_t)LEN);
	bp_eth_tx_done_cleanup(0, 0); /* a burst of 0 frees what was sent */
	bp_eth_tx_done_cleanup(0, 1);
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), 2 * 64u); /* only the rx rings hold mbufs */
	CHECK(rig_down());
}

TEST(e1000e_model_every_burst_size_at_several_ring_sizes_wraps_many_times)
{
	static const uint16_t rings[] = { 8, 64, 512, 4096 }, bursts[] = { 1, 7, 32, 33, 64, 512 };
	for (unsigned r = 0; r < BP_ARRAY_SIZE(rings); r++) {
		uint16_t ring = rings[r];
		CHECK(e1000e_up(2, ring, ring, 5u * ring + 2048, 0, 0, 0));
		uint64_t seq = 0, frames = 2u * ring + 100;
		for (unsigned b = 0; b < BP_ARRAY_SIZE(bursts); b++) {
			CHECK(loopback(ring, bursts[b], seq, frames));
			seq += frames;
		}
		CHECK_EQ(stats(1).ipackets, seq);
		CHECK_EQ(stats(1).imissed, 0);
		CHECK(rig_down());
	}
}

TEST(e1000e_model_slow_nic_loses_nothing_in_either_direction)
{
	CHECK(e1000e_up(1, 128, 128, 4096, 0, 0, 0));
	struct e1000_model *m = rig.m[0];
	e1000_model_set_speed(m, 1, 20);
	CHECK_EQ(tx_frames_q(0, 1, 0, 1000, 32), 1000);
	CHECK(sent_frames(m, 0, 1000));
	inject(m, 5000, 1000);
	bool intact;
	CHECK_EQ(rx_frames_q(0, 0, 32, 5000, 1000, &intact), 1000);
	CHECK(intact);
	CHECK_EQ(stats(0).imissed, 0);
	CHECK(rig_down());
}

TEST(e1000e_model_rx_empty_pool_drops_counts_once_and_recovers)
{
	static struct bp_mbuf *held[8192];
	CHECK(e1000e_up(1, 64, 64, 1024, 0, 0, 0));
	struct e1000_model *m = rig.m[0];
	uint32_t nheld = drain_pool(held, 8192);
	inject(m, 0, 10);
	CHECK(e1000_model_wait_quiet(m, WAIT));
	struct bp_mbuf *pkts[32];
	CHECK_EQ(bp_eth_rx_burst(0, 0, pkts, 32), 0);
	CHECK_EQ(stats(0).rx_nombuf, 10);
	bp_pktmbuf_free_bulk(held, nheld);
	inject(m, 100, 63); /* the ring never ran dry: a full ring's worth */
	bool intact;
	CHECK_EQ(rx_frames_q(0, 0, 32, 100, 63, &intact), 63);
	CHECK(intact);
	CHECK_EQ(stats(0).rx_nombuf, 10);
	CHECK_EQ(stats(0).imissed, 0);
	CHECK(rig_down());
}

/* ---- the port's life ---- */

TEST(e1000e_model_stop_start_returns_every_mbuf_and_starts_clean)
{
	CHECK(e1000e_up(1, 512, 64, 4096, RSS_ALL, 0, 0));
	struct e1000_model *m = rig.m[0];
	uint64_t per_q[BP_MAX_QUEUES_PER_PORT];
	inject_flows(m, 0); /* never read: frames in both rings at the stop */
	CHECK(e1000_model_wait_quiet(m, WAIT));
	e1000_model_pause(m, true);
	CHECK_EQ(tx_frames_q(0, 0, 0, 20, 20), 20);
	CHECK_EQ(tx_frames_q(0, 1, 100, 20, 20), 20);
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0);
	e1000_model_pause(m, false);
	fq_clear(&m->out);
	for (int cycle = 0; cycle < 3; cycle++) {
		CHECK_EQ(bp_eth_dev_start(0), 0);
		struct bp_mbuf *stale[32];
		CHECK_EQ(bp_eth_rx_burst(0, 0, stale, 32), 0);
		CHECK_EQ(bp_eth_rx_burst(0, 1, stale, 32), 0);
		uint64_t seq0 = 10000 * (cycle + 1);
		inject_flows(m, seq0); /* fewer than the rings hold: nothing missed */
		CHECK(rx_flows(seq0, RSS_ALL, per_q, 2));
		CHECK_EQ(stats(0).imissed, 0);
		CHECK_EQ(tx_frames_q(0, 1, seq0, 100, 32), 100);
		CHECK(sent_frames(m, seq0, 100));
		CHECK_EQ(bp_eth_dev_stop(0), 0);
		CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0);
	}
	CHECK(rig_down());
}

TEST(e1000e_model_link_down_and_up_through_the_other_vector)
{
	struct link_log log = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } };
	CHECK(e1000e_up(1, 64, 64, 4096, 0, 0, 1));
	struct e1000_model *m = rig.m[0];
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(E1000_MODEL_GET(m, msix));
	CHECK_EQ(e1000_model_reg(m, E1000_IMS), E1000_ICR_LSC | E1000E_ICR_OTHER);
	CHECK_EQ((e1000_model_reg(m, E1000E_IVAR) >> E1000E_IVAR_OTHER_SHIFT) & 0xf, E1000E_IVAR_VALID | 0);
	for (int i = 0; i < 3; i++) {
		e1000_model_set_link(m, false);
		CHECK(link_event(&log, 2 * i + 1));
		CHECK(!log.last.up);
		/* tx waits while the link is down */
		CHECK_EQ(tx_frames_q(0, 1, (uint64_t)i * 100, 10, 10), 10);
		e1000_model_set_link(m, true);
		CHECK(link_event(&log, 2 * i + 2));
		CHECK(log.last.up);
		CHECK_EQ(log.last.speed_mbps, 1000);
		CHECK(sent_frames(m, (uint64_t)i * 100, 10));
	}
	CHECK_EQ(E1000_MODEL_GET(m, vec_irqs[0]), 6);
	inject(m, 1000, 10);
	bool intact;
	CHECK_EQ(rx_frames_q(0, 0, 32, 1000, 10, &intact), 10);
	CHECK(intact);
	CHECK_EQ(bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(rig_down());
}

TEST(e1000e_model_rx_interrupt_wakes_the_queue_the_frame_went_to)
{
	CHECK(e1000e_up(1, 64, 64, 4096, RSS_ALL, 1, 1));
	struct e1000_model *m = rig.m[0];
	CHECK(bp_eth_rx_intr_fd(0, 0) >= 0 && bp_eth_rx_intr_fd(0, 1) >= 0);
	CHECK(bp_eth_rx_intr_fd(0, 0) != bp_eth_rx_intr_fd(0, 1));
	CHECK_EQ(e1000_model_reg(m, E1000_IMS), E1000_ICR_LSC | E1000E_ICR_OTHER); /* nothing armed */
	/* a flow for each queue (reta: even entries queue 0, odd queue 1) */
	unsigned flow_on[2];
	CHECK(flows_per_queue(RSS_ALL, 2, flow_on));
	for (int round = 0; round < 5; round++) {
		for (uint16_t q = 0; q < 2; q++) {
			uint16_t other = (uint16_t)(1 - q);
			CHECK_EQ(bp_eth_rx_intr_wait(0, other, 10), 0); /* nothing: times out */
			CHECK_EQ(bp_eth_rx_intr_enable(0, other), 0);  /* armed, but its frame won't come */
			struct flow_later d = { m, flow_on[q] };
			pthread_t t;
			pthread_create(&t, NULL, inject_flow_later, &d);
			uint64_t t0 = model_now_ns();
			CHECK_EQ(bp_eth_rx_intr_wait(0, q, 5000), 1);
			CHECK(model_now_ns() - t0 < 1000 * 1000000ull);
			pthread_join(t, NULL);
			CHECK_EQ(bp_intr_wait(bp_eth_rx_intr_fd(0, other), 8, 0), 0); /* the other slept on */
			CHECK_EQ(bp_eth_rx_intr_disable(0, other), 0);
			struct bp_mbuf *pkts[4];
			uint8_t want[LEN];
			CHECK_EQ(bp_eth_rx_burst(0, q, pkts, 4), 1);
			flow_frame(want, flow_on[q], 7000 + flow_on[q], flow_on[q] & 1);
			CHECK(memcmp(bp_pktmbuf_mtod(pkts[0], uint8_t *), want, LEN) == 0);
			bp_pktmbuf_free(pkts[0]);
			CHECK_EQ(e1000_model_reg(m, E1000_IMS) & (E1000E_ICR_RXQ0 | E1000E_ICR_RXQ1), 0);
		}
	}
	CHECK_EQ(E1000_MODEL_GET(m, vec_irqs[1]), 5);
	CHECK_EQ(E1000_MODEL_GET(m, vec_irqs[2]), 5);
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK(!E1000_MODEL_GET(m, msix));
	CHECK(bp_eth_rx_intr_fd(0, 1) < 0);
	CHECK(rig_down());
}

TEST(e1000e_model_qemu_statistics_kept_across_reads_count_exactly)
{
	struct bp_eth_conf conf = { .size = sizeof(conf) };
	const struct rig_opts o = { .nports = 1, .flags = E1000_MODEL_82574 | E1000_MODEL_QEMU, .nq = 1,
				    .rxd = 64, .txd = 64, .nb_mbufs = 1024, .conf = &conf };
	CHECK(rig_up_opts(&o));
	struct e1000_model *m = rig.m[0];
	inject(m, 0, 100); /* nobody polls: 63 land, 37 are missed */
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(stats(0).imissed, 37);
	CHECK_EQ(stats(0).imissed, 37); /* read again: MPC is not cleared there */
	bool intact;
	CHECK_EQ(rx_frames_q(0, 0, 32, 0, 63, &intact), 63);
	CHECK(intact);
	bp_eth_stats_reset(0);
	CHECK_EQ(stats(0).imissed, 0);
	CHECK(rig_down());
}
