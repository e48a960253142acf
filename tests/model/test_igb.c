/* SPDX-License-Identifier: MIT
 * The igb PMD (82576 PF) against the 82576 model: RSS over 16 rx queues with
 * every frame's hash equal to bypass/rss.h's (UDP types included) and its
 * queue equal to reta[hash & 127]; rings filled to the last descriptor (a
 * missed frame counted once, in MPC with one queue, in RQDPC with Drop_En
 * on several); wrap-around at every burst size; a slow NIC; an empty
 * mempool; stop -> start x3; link down/up through the MSI-X other vector;
 * each of 16 rx queues woken on its own vector; VFs refused; QEMU's reset
 * quirk; register and descriptor images pinned to the datasheet's layout.
 * Every frame is checked byte for byte and every mbuf must be back. */
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
#include "../../drivers/net/igb/igb_regs.h"
#include "e1000_rig.h"

#define RSS_ALL (BP_ETH_RSS_IP | BP_ETH_RSS_TCP | BP_ETH_RSS_UDP)
#define NQ 16

static bool igb_up(unsigned nports, uint16_t nq, uint16_t rxd, uint16_t txd, uint32_t nb_mbufs, uint32_t types,
		   uint8_t rx_intr, uint8_t link_intr, unsigned flags)
{
	struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = rx_intr, .link_intr = link_intr };
	conf.rss.hash_types = types;
	const struct rig_opts o = { .nports = nports, .flags = E1000_MODEL_82576 | flags, .nq = nq, .rxd = rxd,
				    .txd = txd, .nb_mbufs = nb_mbufs, .conf = &conf };
	return rig_up_opts(&o);
}

/* ---- RSS ---- */

TEST(igb_model_rss_spreads_flows_over_16_queues_with_the_software_hash)
{
	/* 512 descriptors: every flow on one queue fits in its ring below */
	CHECK(igb_up(1, NQ, 512, 64, 16384, RSS_ALL, 0, 0, 0));
	struct bp_eth_dev_info info;
	CHECK_EQ(bp_eth_dev_info_get(0, &info), 0);
	CHECK_EQ(info.rss_hash_types, RSS_ALL); /* the 82576 hashes UDP too */
	CHECK_EQ(info.max_rx_queues, 16);
	CHECK_EQ(info.reta_size, 128);
	CHECK_EQ(info.rss_key_len, 40);
	struct e1000_model *m = rig.m[0];
	/* Register images, pinned to the datasheet's layout rather than to the
	 * model's reading of them: MRQC 010b with all nine hash-type bits
	 * 16-24 (TCP/IPv6 sets both 18 and 21); key byte i in byte i mod 4 of RSSRK[i / 4]; RETA
	 * entry i in byte i mod 4 of RETA[i / 4] (the table starts 0, 1, ...,
	 * 15, 0, ...); SRRCTL 2 KB, advanced one-buffer (DESCTYPE 001b at bit
	 * 25), Drop_En (bit 31); RXDCTL.ENABLE (bit 25) on every queue. */
	CHECK_EQ(e1000_model_reg(m, IGB_MRQC), 0x01ff0002u);
	CHECK_EQ(e1000_model_reg(m, IGB_RSSRK), 0xda565a6d);
	CHECK_EQ(e1000_model_reg(m, IGB_RSSRK + 36), 0xfa01acbe);
	CHECK_EQ(e1000_model_reg(m, IGB_RETA), 0x03020100);
	CHECK_EQ(e1000_model_reg(m, IGB_RETA + 124), 0x0f0e0d0c);
	CHECK_EQ(e1000_model_reg(m, IGB_RXCSUM) & (1u << 13), 1u << 13);
	for (unsigned q = 0; q < NQ; q++) {
		CHECK_EQ(e1000_model_reg(m, 0xC00C + 0x40 * q), 0x82000002u);
		CHECK_EQ(e1000_model_reg(m, 0xC028 + 0x40 * q) & (1u << 25), 1u << 25);
		CHECK_EQ(e1000_model_reg(m, 0xE028 + 0x40 * q) & (1u << 25), 1u << 25);
	}
	uint64_t per_q[NQ];
	for (uint64_t round = 0; round < 3; round++) {
		inject_flows(m, round * 1000);
		CHECK(rx_flows(round * 1000, RSS_ALL, per_q, NQ));
		for (unsigned q = 0; q < NQ; q++)
			CHECK(per_q[q] > 0);
		CHECK_EQ(E1000_MODEL_GET(m, rx_queue_frames[15]), (round + 1) * per_q[15]);
	}
	/* addresses only: UDP and TCP flows hashed on their addresses */
	struct bp_eth_rss_conf rss = { .hash_types = BP_ETH_RSS_IPV4, .key_len = 40 };
	for (unsigned i = 0; i < 40; i++)
		rss.key[i] = (uint8_t)(7 * i + 1);
	CHECK_EQ(bp_eth_dev_rss_hash_update(0, &rss), 0);
	CHECK_EQ(e1000_model_reg(m, IGB_MRQC), 0x00020002u);
	inject_flows(m, 5000);
	CHECK(rx_flows(5000, BP_ETH_RSS_IPV4, per_q, NQ));
	/* reta: everything to queue 9; then types off: every frame to queue 0 */
	uint16_t reta[IGB_RETA_SIZE];
	for (unsigned i = 0; i < IGB_RETA_SIZE; i++)
		reta[i] = 9;
	CHECK_EQ(bp_eth_dev_rss_reta_update(0, reta, IGB_RETA_SIZE), 0);
	inject_flows(m, 6000);
	CHECK(rx_flows(6000, BP_ETH_RSS_IPV4, per_q, NQ));
	CHECK_EQ(per_q[9], FLOWS);
	const struct bp_eth_rss_conf off = { .hash_types = 0 };
	CHECK_EQ(bp_eth_dev_rss_hash_update(0, &off), 0);
	CHECK_EQ(e1000_model_reg(m, IGB_MRQC), 0);
	inject_flows(m, 7000);
	CHECK(rx_flows(7000, 0, per_q, NQ));
	CHECK_EQ(per_q[0], FLOWS);
	CHECK_EQ(stats(0).ipackets, 6 * FLOWS);
	CHECK_EQ(stats(0).ibytes, 6 * FLOWS * (uint64_t)LEN);
	CHECK(rig_down());
}

/* ---- rings ---- */

TEST(igb_model_rx_ring_fills_to_the_last_descriptor_misses_counted_in_mpc_or_rqdpc)
{
	const uint16_t nb = 64;
	/* one queue: no Drop_En, the frame waits for a descriptor and is missed (MPC) */
	CHECK(igb_up(1, 1, nb, 64, 4096, 0, 0, 0, 0));
	CHECK_EQ(e1000_model_reg(rig.m[0], 0xC00C) & (1u << 31), 0);
	CHECK(rx_fill_rounds(rig.m[0], 0, nb, 5));
	CHECK_EQ(e1000_model_reg(rig.m[0], E1000_MPC), 0); /* read by stats: cleared */
	CHECK(rig_down());
	/* four queues, RSS off: all on queue 0, Drop_En: dropped in RQDPC(0) */
	CHECK(igb_up(1, 4, nb, 64, 4096, 0, 0, 0, 0));
	CHECK(rx_fill_rounds(rig.m[0], 0, nb, 5));
	CHECK_EQ(stats(0).q_ipackets[1], 0);
	CHECK(rig_down());
}

TEST(igb_model_tx_fills_to_the_last_descriptor_on_two_queues_and_descriptors_match_the_datasheet)
{
	const uint16_t nb = 64;
	CHECK(igb_up(1, NQ, 64, nb, 4096, 0, 0, 0, 0));
	struct e1000_model *m = rig.m[0];
	/* One packet, its advanced data descriptor as the datasheet lays it
	 * out (7.2.2.3): DTALEN 128, DTYP 0011b, DCMD EOP|IFCS|RS|DEXT (0x2B),
	 * then PAYLEN 128 at bit 14 and STA 0. */
	e1000_model_pause(m, true);
	CHECK_EQ(tx_frames_q(0, 15, 0, 1, 1), 1);
	uint64_t base = e1000_model_reg(m, 0xE000 + 0x40 * 15) | (uint64_t)e1000_model_reg(m, 0xE004 + 0x40 * 15) << 32;
	const uint32_t *d = model_dma(base, 16);
	CHECK(d != NULL);
	CHECK_EQ(d[2], 0x2B300080u);
	CHECK_EQ(d[3], 128u << 14);
	e1000_model_pause(m, false);
	CHECK(sent_frames(m, 0, 1));
	for (uint64_t round = 0; round < 3; round++) {
		CHECK(tx_fill_two_queues(m, 0, 15, nb, round));
	}
	CHECK_EQ(tx_frames_q(0, 0, 10000, 3000, 64), 3000);
	CHECK_EQ(tx_frames_q(0, 15, 200000, 3000, 33), 3000);
	CHECK(sent_two_queues(m, 10000, 3000, 200000, 3000));
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(E1000_MODEL_GET(m, tx_queue_frames[15]), 1 + 3 * (nb - 1) + 3000);
	struct bp_eth_stats st = stats(0);
	CHECK_EQ(st.q_opackets[0], 3 * (nb - 1) + 3000);
	CHECK_EQ(st.q_obytes[15], (1 + 3 * (nb - 1) + 3000) * (uint64_t)LEN);
	bp_eth_tx_done_cleanup(0, 0); /* a burst of 0 frees what was sent */
	bp_eth_tx_done_cleanup(0, 15);
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), NQ * 64u); /* only the rx rings hold mbufs */
	CHECK(rig_down());
}

TEST(igb_model_every_burst_size_at_several_ring_sizes_wraps_many_times)
{
	const struct rig_opts o = { .flags = E1000_MODEL_82576, .nq = 1 };
	CHECK(scenario_burst_sizes(&o));
}

TEST(igb_model_slow_nic_loses_nothing_in_either_direction)
{
	const struct rig_opts o = { .nports = 1, .flags = E1000_MODEL_82576, .nq = 2, .rxd = 128, .txd = 128,
				    .nb_mbufs = 4096 };
	CHECK(scenario_slow_nic(&o, 1));
}

TEST(igb_model_rx_empty_pool_drops_counts_once_and_recovers)
{
	const struct rig_opts o = { .nports = 1, .flags = E1000_MODEL_82576, .nq = 1, .rxd = 64, .txd = 64,
				    .nb_mbufs = 1024 };
	CHECK(scenario_empty_pool(&o));
}

/* ---- the port's life ---- */

TEST(igb_model_stop_start_returns_every_mbuf_and_starts_clean)
{
	CHECK(igb_up(1, NQ, 256, 64, 16384, RSS_ALL, 0, 0, 0));
	struct e1000_model *m = rig.m[0];
	uint64_t per_q[NQ];
	inject_flows(m, 0); /* never read: frames in every ring at the stop */
	CHECK(e1000_model_wait_quiet(m, WAIT));
	e1000_model_pause(m, true);
	CHECK_EQ(tx_frames_q(0, 0, 0, 20, 20), 20);
	CHECK_EQ(tx_frames_q(0, 7, 100, 20, 20), 20);
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0);
	for (unsigned q = 0; q < NQ; q++) /* every queue stopped */
		CHECK_EQ(e1000_model_reg(m, 0xC028 + 0x40 * q) & (1u << 25), 0);
	e1000_model_pause(m, false);
	fq_clear(&m->out);
	for (int cycle = 0; cycle < 3; cycle++) {
		CHECK_EQ(bp_eth_dev_start(0), 0);
		for (uint16_t q = 0; q < NQ; q++) {
			struct bp_mbuf *stale[32];
			CHECK_EQ(bp_eth_rx_burst(0, q, stale, 32), 0);
		}
		uint64_t seq0 = 10000 * (cycle + 1);
		inject_flows(m, seq0); /* fewer than the rings hold: nothing missed */
		CHECK(rx_flows(seq0, RSS_ALL, per_q, NQ));
		CHECK_EQ(stats(0).imissed, 0);
		CHECK_EQ(tx_frames_q(0, 5, seq0, 100, 32), 100);
		CHECK(sent_frames(m, seq0, 100));
		CHECK_EQ(bp_eth_dev_stop(0), 0);
		CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0);
	}
	CHECK(rig_down());
}

/* Link events on vector 0; `flags` E1000_MODEL_QEMU: as QEMU's igb, whose
 * ICR and IMS are only at the 82540EM's offsets. */
static void link_down_and_up(unsigned flags)
{
	struct link_log log = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } };
	CHECK(igb_up(1, 2, 64, 64, 4096, 0, 0, 1, flags));
	struct e1000_model *m = rig.m[0];
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(E1000_MODEL_GET(m, msix));
	/* GPIE: NSICR, Multiple_MSIX, EIAME, PBA; IVAR_MISC: other causes to
	 * vector 0, valid (bits 15:8 = 0x80); IMS: LSC; EIMS: vector 0 */
	CHECK_EQ(e1000_model_reg(m, IGB_GPIE), 0xc0000011u);
	CHECK_EQ(e1000_model_reg(m, IGB_IVAR_MISC), 0x8000u);
	CHECK_EQ(e1000_model_reg(m, E1000_IMS), E1000_ICR_LSC);
	CHECK_EQ(e1000_model_reg(m, IGB_EIMS), 1u);
	CHECK(link_flaps(m, &log, 1));
	CHECK_EQ(E1000_MODEL_GET(m, vec_irqs[0]), 6);
	CHECK_EQ(bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(rig_down());
}

TEST(igb_model_link_down_and_up_through_the_other_vector)
{
	link_down_and_up(0);
	if (!test_failed)
		link_down_and_up(E1000_MODEL_QEMU);
}

TEST(igb_model_each_of_16_rx_queues_wakes_on_its_own_vector)
{
	CHECK(igb_up(1, NQ, 64, 64, 8192, RSS_ALL, 1, 1, 0));
	struct e1000_model *m = rig.m[0];
	/* IVAR (8.8.13, the 82576's layout): rx queue q's entry in byte 0 of
	 * IVAR0[q] for q < 8, byte 2 of IVAR0[q - 8] above; vector 1 + q, valid */
	CHECK_EQ(e1000_model_reg(m, IGB_IVAR0), 0x00890081u);
	CHECK_EQ(e1000_model_reg(m, IGB_IVAR0 + 28), 0x00900088u);
	CHECK_EQ(e1000_model_reg(m, IGB_EIMS), 1u); /* nothing armed */
	unsigned flow_on[NQ];
	CHECK(flows_per_queue(RSS_ALL, NQ, flow_on));
	for (int round = 0; round < 2; round++) {
		for (uint16_t q = 0; q < NQ; q++) {
			uint16_t other = (uint16_t)((q + 5) % NQ);
			CHECK(wake_queue(m, q, other, flow_on[q]));
			CHECK_EQ(e1000_model_reg(m, IGB_EIMS), 1u); /* the message masked it (EIAM) */
		}
	}
	for (unsigned v = 1; v <= NQ; v++)
		CHECK_EQ(E1000_MODEL_GET(m, vec_irqs[v]), 2);
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK(!E1000_MODEL_GET(m, msix));
	CHECK(bp_eth_rx_intr_fd(0, 15) < 0);
	CHECK(rig_down());
}

TEST(igb_model_rx_interrupts_on_more_queues_than_vectors_are_refused_at_start)
{
	/* QEMU's igb has 10 MSI-X vectors: 16 rx queues cannot each have one */
	struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = 1 };
	const struct rig_opts o = { .nports = 1, .flags = E1000_MODEL_82576 | E1000_MODEL_QEMU, .nq = NQ,
				    .rxd = 64, .txd = 64, .nb_mbufs = 4096, .conf = &conf };
	CHECK(!rig_up_opts(&o));
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0); /* the failed start kept nothing */
	rig.nports = 1;
	CHECK(rig_down());
}

/* ---- probe ---- */

TEST(igb_model_pf_with_vfs_enabled_is_refused_untouched)
{
	CHECK(test_env("--no-huge -l 0 --log-level err") >= 0);
	struct e1000_model *a = e1000_model_attach("0000:00:03.0", &mac0, E1000_MODEL_82576 | E1000_MODEL_VFS_SYSFS);
	struct e1000_model *b = e1000_model_attach("0000:00:04.0", &mac1, E1000_MODEL_82576 | E1000_MODEL_VFS_STATUS);
	CHECK(a == NULL && b == NULL); /* probe refused: the models are gone with their devices */
	CHECK_EQ(bp_eth_dev_count_avail(), 0);
	struct e1000_model *c = e1000_model_attach("0000:00:05.0", &mac0, E1000_MODEL_82576);
	CHECK(c != NULL);
	CHECK_EQ(bp_eth_dev_count_avail(), 1);
	bp_cleanup();
	e1000_model_free(c);
}

TEST(igb_model_qemu_reset_takes_the_link_down_and_probe_brings_it_back)
{
	CHECK(igb_up(1, 1, 64, 64, 1024, 0, 0, 0, E1000_MODEL_QEMU));
	struct e1000_model *m = rig.m[0];
	CHECK_EQ(E1000_MODEL_GET(m, resets), 1);
	CHECK_EQ(E1000_MODEL_GET(m, an_restarts), 1);
	struct bp_eth_link link;
	CHECK_EQ(bp_eth_link_get(0, &link, false), 0);
	CHECK(link.up);
	/* statistics there: MPC kept across reads, counted exactly */
	inject(m, 0, 100); /* nobody polls: 63 land, 37 are missed */
	CHECK(e1000_model_wait_quiet(m, WAIT));
	CHECK_EQ(stats(0).imissed, 37);
	CHECK_EQ(stats(0).imissed, 37);
	bool intact;
	CHECK_EQ(rx_frames_q(0, 0, 32, 0, 63, &intact), 63);
	CHECK(intact);
	CHECK(rig_down());
	/* a real 82576 keeps its link through CTRL.RST: no restart */
	CHECK(igb_up(1, 1, 64, 64, 1024, 0, 0, 0, 0));
	CHECK_EQ(E1000_MODEL_GET(rig.m[0], an_restarts), 0);
	CHECK(rig_down());
}
