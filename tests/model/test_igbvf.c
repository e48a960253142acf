/* SPDX-License-Identifier: MIT
 * The 82576 VF: the VF side of the mailbox (drivers/net/igb/igb_mbx.c)
 * against the model of the PF's side (igbvf_pf.c): the reset handshake with
 * and without an address from the PF, SET_MAC_ADDR acknowledged and refused,
 * the multicast hashes as the PF stores them, a PF that never answers, a PF
 * in reset and one that resets under a running VF. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <bypass/env.h>
#include <bypass/mmio.h>
#include "../unit/harness.h"
#include "../../drivers/net/igb/igb_mbx.h"
#include "igbvf_model.h"

static const uint8_t pf_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* A VF and its PF, not probed: the test is the VF driver. */
static struct igbvf_model *vf_up(const uint8_t *mac, bool admin, struct igb_mbx *mbx)
{
	if (test_env("--no-huge -l 0 --log-level=err") < 0)
		return NULL;
	struct igbvf_model *m = igbvf_model_new("0000:01:10.0", mac, admin, false);
	if (m)
		igb_mbx_init(mbx, m->reg, m->addr);
	return m;
}

/* The VF's own reset, as the driver starts: VTCTRL.RST, then the handshake. */
static int vf_reset(struct igbvf_model *m, struct igb_mbx *mbx, uint8_t mac[6], bool *has)
{
	bp_write32(m->reg, IGBVF_CTRL, IGBVF_CTRL_RST);
	return igb_mbx_vf_reset(mbx, mac, has);
}

TEST(igbvf_mbx_reset_handshake_takes_the_permanent_address_from_the_pf)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	uint8_t mac[6] = { 0 };
	bool has = false;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(has);
	CHECK(memcmp(mac, pf_mac, 6) == 0);
	CHECK(mbx.cts);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.vflr), 1);      /* the PF heard the VF's reset */
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.requests), 1);  /* one VF_RESET */
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.acks_from_vf), 1); /* its reply read and acknowledged */
	CHECK(IGBVF_MODEL_GET(m, pf.cts));
	/* the buffer is back with nobody, nothing left to read */
	CHECK_EQ(igbvf_model_reg(m, IGBVF_V2PMAILBOX) & (IGBVF_MBX_VFU | IGBVF_MBX_PFU), 0);
	CHECK_EQ(igb_mbx_read(&mbx, (uint32_t[1]){ 0 }, 1, false), -EAGAIN);
	igbvf_model_free(m);
}

TEST(igbvf_mbx_no_address_from_the_pf_is_a_nack_and_the_vf_sets_its_own)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(NULL, false, &mbx);
	CHECK(m != NULL);
	uint8_t mac[6] = { 1, 1, 1, 1, 1, 1 };
	bool has = true;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(!has);
	CHECK(mbx.cts); /* clear to send all the same */
	static const uint8_t own[6] = { 0x02, 0xbb, 0, 0, 0, 7 };
	CHECK_EQ(igb_mbx_set_mac(&mbx, own), 0);
	pthread_mutex_lock(&m->lock);
	bool stored = m->pf.has_mac && memcmp(m->pf.mac, own, 6) == 0;
	pthread_mutex_unlock(&m->lock);
	CHECK(stored);
	CHECK_EQ(mbx.st.nacks, 1); /* the VF_RESET's */
	igbvf_model_free(m);
}

TEST(igbvf_mbx_set_mac_acked_or_refused_when_the_administrator_set_one)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, true, &mbx);
	CHECK(m != NULL);
	uint8_t mac[6];
	bool has;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	CHECK_EQ(igb_mbx_set_mac(&mbx, other), -EPERM);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.nacks), 1);
	pthread_mutex_lock(&m->lock);
	bool kept = memcmp(m->pf.mac, pf_mac, 6) == 0;
	pthread_mutex_unlock(&m->lock);
	CHECK(kept);
	CHECK_EQ(igb_mbx_set_mac(&mbx, pf_mac), 0); /* its own address is fine */
	CHECK(mbx.cts);
	igbvf_model_free(m);
}

TEST(igbvf_mbx_requests_before_the_reset_are_refused)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	CHECK_EQ(igb_mbx_set_mac(&mbx, pf_mac), -ENETRESET); /* not sent: we know we have no CTS */
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.requests), 0);
	/* sent anyway, the PF refuses it and is not clear to send */
	uint32_t msg[3] = { IGBVF_MSG_SET_MAC_ADDR, 0x00123456, 0x0002 }, reply = 0;
	CHECK_EQ(igb_mbx_request(&mbx, msg, 3, &reply, 1), -EPERM);
	CHECK(reply & IGBVF_MSG_NACK);
	CHECK(!(reply & IGBVF_MSG_CTS));
	igbvf_model_free(m);
}

TEST(igbvf_mbx_multicast_list_reaches_the_pf_as_its_hashes)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	uint8_t mac[6];
	bool has;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	/* hashes: destination address bits 47:36, (a[4] >> 4) | (a[5] << 4) */
	static const uint8_t mc[3][6] = {
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb }, /* 224.0.0.251: 0xfb0 */
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, /* ff02::1: 0x010 */
		{ 0x01, 0x80, 0xc2, 0x00, 0xae, 0x0e }, /* 0x0ea */
	};
	CHECK_EQ(igb_mbx_set_multicast(&mbx, mc, 3), 0);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.nb_mc), 3);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.mc[0]), 0xfb0);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.mc[1]), 0x010);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.mc[2]), 0x0ea);
	/* the empty list empties the PF's table; 31 is more than the PF takes */
	CHECK_EQ(igb_mbx_set_multicast(&mbx, mc, 0), 0);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.nb_mc), 0);
	unsigned before = IGBVF_MODEL_GET(m, pf.requests);
	uint8_t many[31][6] = { { 0 } };
	CHECK_EQ(igb_mbx_set_multicast(&mbx, (const uint8_t(*)[6])many, 31), -EINVAL);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.requests), before);
	CHECK_EQ(igb_mbx_set_allmulti(&mbx, true), 0);
	CHECK(IGBVF_MODEL_GET(m, pf.allmulti));
	CHECK_EQ(igb_mbx_set_max_frame(&mbx, 1522), 0);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.max_frame), 1522);
	igbvf_model_free(m);
}

TEST(igbvf_mbx_a_pf_that_never_answers_times_out_with_an_error)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	igbvf_model_pf_dead(m, true);
	mbx.timeout_ms = 100;
	uint8_t mac[6];
	bool has;
	uint64_t t0 = model_now_ns();
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), -ETIMEDOUT);
	uint64_t ms = (model_now_ns() - t0) / 1000000;
	CHECK(ms >= 100 && ms < 1000);
	CHECK_EQ(mbx.st.timeouts, 1);
	CHECK(!mbx.cts);
	/* its driver back: the next reset goes through */
	igbvf_model_pf_dead(m, false);
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(has);
	igbvf_model_free(m);
}

TEST(igbvf_mbx_pf_reset_under_a_running_vf_then_the_vf_resets_again)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	mbx.timeout_ms = 100;
	uint8_t mac[6];
	bool has;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(!igb_mbx_pf_reset(&mbx));
	igbvf_model_pf_reset(m);
	CHECK(igb_mbx_pf_reset(&mbx)); /* RSTI */
	CHECK(!mbx.cts);
	CHECK_EQ(igb_mbx_set_mac(&mbx, pf_mac), -ENETRESET);
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), -ETIMEDOUT); /* still resetting */
	igbvf_model_pf_reset_done(m);
	CHECK(igb_mbx_pf_reset(&mbx)); /* RSTD, once */
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(has && memcmp(mac, pf_mac, 6) == 0);
	CHECK(!igb_mbx_pf_reset(&mbx));
	CHECK_EQ(igb_mbx_set_mac(&mbx, pf_mac), 0);
	igbvf_model_free(m);
}

/* ---- the PMD (drivers/net/igb/igbvf.c) against the VF model ---- */

#include <bypass/igbvf.h>
#include <bypass/intr.h>
#include <bypass/mempool.h>
#include "e1000_rig.h" /* frames, tx/rx helpers, link log: the family's test helpers */

static struct igbvf_model *vfm;
/* the model's interrupt knobs for the next port_up, and its start's result */
static struct {
	bool one_vector, misc_as_mask, mbx_irq_none;
} knobs;
static int start_rc;

/* One VF port: nq queue pairs, the PF holding pfmac for it; the VF's
 * counters start at `counters` (to cross their 32-bit wrap). */
static bool port_up(const uint8_t *pfmac, uint16_t nq, uint16_t rxd, uint16_t txd, uint32_t nb_mbufs,
		    const struct bp_eth_conf *conf, uint32_t counters)
{
	memset(&rig, 0, sizeof(rig));
	if (test_env("--no-huge -l 0 --log-level err") < 0)
		return false;
	if (!(vfm = igbvf_model_new("0000:01:10.0", pfmac, false, false)))
		return false;
	for (uint32_t r = IGBVF_GPRC; r <= IGBVF_GOTLBC; r += 4)
		igbvf_model_poke(vfm, r, counters);
	vfm->one_vector = knobs.one_vector;
	vfm->misc_as_mask = knobs.misc_as_mask;
	vfm->mbx_irq_none = knobs.mbx_irq_none;
	memset(&knobs, 0, sizeof(knobs));
	if (bp_pci_model_attach(vfm->addr, &vfm->pci) < 0)
		return false;
	if (!(rig.mp = bp_pktmbuf_pool_create("igbvf", nb_mbufs, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE)))
		return false;
	if (bp_eth_dev_configure(0, nq, nq, conf) < 0)
		return false;
	for (uint16_t q = 0; q < nq; q++)
		if (bp_eth_rx_queue_setup(0, q, rxd, rig.mp) < 0 || bp_eth_tx_queue_setup(0, q, txd) < 0)
			return false;
	if ((start_rc = bp_eth_dev_start(0)) < 0)
		return false;
	struct bp_ether_addr me;
	bp_eth_macaddr_get(0, &me);
	testpkt_template(rig.tmpl, &me, &mac0, LEN, 0);
	return true;
}

/* Closes the port; every mbuf must be back and no DMA outside our memory. */
static bool port_down(void)
{
	bp_eth_dev_close(0);
	uint32_t in_use = bp_mempool_in_use_count(rig.mp);
	uint64_t faults = IGBVF_MODEL_GET(vfm, dma_faults);
	if (in_use || faults)
		note("%u mbufs not back, %llu DMA faults", in_use, (unsigned long long)faults);
	bp_cleanup();
	bp_mempool_free(rig.mp);
	igbvf_model_free(vfm);
	memset(&rig, 0, sizeof(rig));
	return in_use == 0 && faults == 0;
}

static void vf_inject(uint64_t seq0, uint64_t n)
{
	uint8_t f[LEN];
	for (uint64_t s = seq0; s < seq0 + n; s++) {
		frame_of(f, s);
		igbvf_model_inject(vfm, f, LEN);
	}
}

/* n frames each way, in bursts that do not divide the rings; never more
 * arriving at once than the smallest rx ring here holds (31), so that every
 * frame must arrive. */
static bool both_ways(uint64_t seq0, uint64_t n)
{
	bool intact = true;
	if (tx_frames(0, seq0, n, 7) != n || !sent_frames_fq(&vfm->out, seq0, n))
		return false;
	for (uint64_t done = 0; done < n && intact;) {
		uint64_t k = BP_MIN(n - done, (uint64_t)31);
		vf_inject(seq0 + done, k);
		if (rx_frames(0, 5, seq0 + done, k, &intact) != k)
			return false;
		done += k;
	}
	return intact;
}

/* The port's link callback registered on log; the PF's link goes down,
 * then up: the callback hears both, in order. */
static bool link_flap_heard(struct link_log *log)
{
	log->events = 0;
	if (bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, on_link, log) < 0)
		return false;
	igbvf_model_set_link(vfm, false);
	if (!link_event(log, 1) || log->last.up)
		return false;
	igbvf_model_set_link(vfm, true);
	return link_event(log, 2) && log->last.up;
}

TEST(igbvf_model_probe_takes_the_pf_address_and_moves_frames_both_ways)
{
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, NULL, 0));
	struct bp_ether_addr me;
	CHECK_EQ(bp_eth_macaddr_get(0, &me), 0);
	CHECK(memcmp(me.b, pf_mac, 6) == 0);
	struct bp_eth_dev_info info;
	CHECK_EQ(bp_eth_dev_info_get(0, &info), 0);
	CHECK(strcmp(info.driver_name, "net_igbvf") == 0);
	CHECK_EQ(info.max_rx_queues, 2);
	struct bp_eth_link l;
	CHECK_EQ(bp_eth_link_get(0, &l, false), 0);
	CHECK(l.up && l.speed_mbps == 1000 && l.full_duplex);
	/* probe and start each reset the VF with the PF; start also set the
	 * largest frame (1518 + CRC) */
	CHECK_EQ(IGBVF_MODEL_GET(vfm, pf.vflr), 2);
	CHECK_EQ(IGBVF_MODEL_GET(vfm, pf.max_frame), 1522);
	CHECK(both_ways(0, 200));
	struct bp_eth_stats st = stats(0);
	CHECK_EQ(st.ipackets, 200);
	CHECK_EQ(st.ibytes, 200 * LEN);
	CHECK_EQ(st.opackets, 200);
	CHECK_EQ(st.obytes, 200 * LEN);
	CHECK(port_down());
}

TEST(igbvf_model_tx_ring_fills_to_the_last_descriptor_then_drains_in_order)
{
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, NULL, 0));
	igbvf_model_pause(vfm, true);
	struct bp_mbuf *pkts[100];
	for (int i = 0; i < 100; i++)
		CHECK((pkts[i] = make_pkt((uint64_t)i)) != NULL);
	uint16_t k = bp_eth_tx_burst(0, 0, pkts, 100);
	CHECK_EQ(k, 63); /* one descriptor always stays free */
	CHECK_EQ(bp_eth_tx_burst(0, 0, pkts + k, (uint16_t)(100 - k)), 0);
	bp_pktmbuf_free_bulk(pkts + k, (unsigned)(100 - k));
	igbvf_model_pause(vfm, false);
	CHECK(igbvf_model_wait_quiet(vfm, WAIT));
	CHECK(sent_frames_fq(&vfm->out, 0, 63));
	CHECK_EQ(fq_count(&vfm->out), 0);
	CHECK(both_ways(63, 300)); /* and it goes on */
	CHECK(port_down());
}

TEST(igbvf_model_rx_ring_fills_to_the_last_descriptor_and_the_missed_frame_is_the_nics)
{
	const uint16_t nb = 64;
	CHECK(port_up(pf_mac, 1, nb, 64, 1024, NULL, 0));
	for (uint64_t round = 0; round < 3; round++) {
		bool intact;
		vf_inject(round * nb, nb);
		CHECK(igbvf_model_wait_quiet(vfm, WAIT));
		CHECK_EQ(IGBVF_MODEL_GET(vfm, rx_missed), round + 1); /* RDH caught up with RDT */
		CHECK_EQ(rx_frames(0, 32, round * nb, nb - 1u, &intact), nb - 1u);
		CHECK(intact);
	}
	CHECK_EQ(stats(0).ipackets, 3 * (nb - 1u));
	CHECK_EQ(stats(0).rx_nombuf, 0);
	CHECK(port_down());
}

TEST(igbvf_model_rings_wrap_many_times_at_odd_burst_sizes)
{
	CHECK(port_up(pf_mac, 1, 32, 32, 512, NULL, 0));
	for (uint64_t round = 0; round < 20; round++)
		CHECK(both_ways(round * 31, 31));
	struct bp_eth_stats st = stats(0);
	CHECK_EQ(st.ipackets, 620);
	CHECK_EQ(st.opackets, 620);
	CHECK(port_down());
}

TEST(igbvf_model_stop_returns_every_mbuf_and_start_resets_the_vf_again)
{
	CHECK(port_up(pf_mac, 2, 64, 64, 1024, NULL, 0));
	static const struct bp_ether_addr mc[2] = { { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } },
						    { { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } } };
	CHECK_EQ(bp_igbvf_mc_addr_list_set(0, mc, 2), 0);
	CHECK_EQ(IGBVF_MODEL_GET(vfm, pf.nb_mc), 2);
	CHECK(both_ways(0, 100));
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK_EQ(bp_mempool_in_use_count(rig.mp), 0); /* rings and tx: every mbuf back */
	CHECK_EQ(igbvf_model_reg(vfm, IGBVF_RXDCTL(0)) & IGBVF_XDCTL_ENABLE, 0);
	CHECK_EQ(igbvf_model_reg(vfm, IGBVF_TXDCTL(1)) & IGBVF_XDCTL_ENABLE, 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	CHECK_EQ(IGBVF_MODEL_GET(vfm, pf.vflr), 3);
	CHECK_EQ(IGBVF_MODEL_GET(vfm, pf.nb_mc), 2); /* the PF forgot them at the VF's reset: sent again */
	CHECK_EQ(IGBVF_MODEL_GET(vfm, pf.mc[0]), 0xfb0);
	CHECK(both_ways(100, 100));
	/* the second queue pair too */
	bool intact;
	CHECK_EQ(tx_frames_q(0, 1, 200, 50, 8), 50);
	CHECK(sent_frames_fq(&vfm->out, 200, 50));
	pthread_mutex_lock(&vfm->lock);
	vfm->rx_queue = 1;
	pthread_mutex_unlock(&vfm->lock);
	vf_inject(250, 50);
	CHECK_EQ(rx_frames_q(0, 1, 16, 250, 50, &intact), 50);
	CHECK(intact);
	CHECK_EQ(stats(0).q_ipackets[1], 50);
	CHECK(port_down());
}

TEST(igbvf_model_an_empty_pool_drops_and_counts_and_the_ring_stays_full)
{
	CHECK(port_up(pf_mac, 1, 64, 64, 64 + 64 + 32, NULL, 0));
	struct bp_mbuf *held[256];
	uint32_t n = drain_pool(held, 256);
	CHECK(n > 0);
	vf_inject(0, 10);
	CHECK(igbvf_model_wait_quiet(vfm, WAIT));
	struct bp_mbuf *pkts[32];
	CHECK_EQ(bp_eth_rx_burst(0, 0, pkts, 32), 0);
	CHECK_EQ(stats(0).rx_nombuf, 10);
	bp_pktmbuf_free_bulk(held, n);
	bool intact;
	vf_inject(10, 63); /* a whole ring's worth: its buffers were all given back */
	CHECK_EQ(rx_frames(0, 32, 10, 63, &intact), 63);
	CHECK(intact);
	CHECK_EQ(IGBVF_MODEL_GET(vfm, rx_missed), 0);
	CHECK(port_down());
}

TEST(igbvf_model_link_down_and_up_and_a_pf_reset_through_the_mailbox_vector)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .link_intr = 1 };
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, &conf, 0));
	static struct link_log log = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } };
	CHECK(link_flap_heard(&log));
	CHECK(both_ways(0, 50));
	/* the PF resets: down, and down still when it is done (the VF's queues
	 * went with the PF's) until stop -> start resets the VF */
	igbvf_model_pf_reset(vfm);
	CHECK(link_event(&log, 3));
	CHECK(!log.last.up);
	igbvf_model_pf_reset_done(vfm);
	CHECK(igbvf_model_wait_quiet(vfm, WAIT));
	struct bp_eth_link l;
	CHECK_EQ(bp_eth_link_get(0, &l, false), 0);
	CHECK(!l.up);
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	CHECK_EQ(bp_eth_link_get(0, &l, false), 0);
	CHECK(l.up);
	CHECK(both_ways(50, 100));
	CHECK_EQ(bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(port_down());
}

TEST(igbvf_model_rx_interrupt_wakes_an_armed_queue_once)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = 1 };
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, &conf, 0));
	int fd = bp_eth_rx_intr_fd(0, 0);
	CHECK(fd >= 0);
	CHECK_EQ(igbvf_model_reg(vfm, IGBVF_IVAR0) & 0xff, IGBVF_IVAR_VALID | 1); /* rx 0 -> vector 1 */
	CHECK_EQ(bp_eth_rx_intr_enable(0, 0), 0);
	vf_inject(0, 1);
	CHECK_EQ(bp_intr_wait(fd, 8, 2000), 1);
	vf_inject(1, 1); /* disarmed by its own message (VTEIAM): no second wake-up */
	CHECK(igbvf_model_wait_quiet(vfm, WAIT));
	CHECK_EQ(bp_intr_wait(fd, 8, 50), 0);
	CHECK_EQ(IGBVF_MODEL_GET(vfm, vec_irqs[1]), 1);
	bool intact;
	CHECK_EQ(rx_frames(0, 32, 0, 2, &intact), 2);
	CHECK(intact);
	CHECK(port_down());
}

/* bypass_uio gives the VF one vector: the mailbox and rx queue 0 share it
 * (both routed to vector 0), and the handler tells them apart: a link change
 * reaches the link callback and does not wake the armed queue; a frame
 * wakes it, once. */
TEST(igbvf_model_one_vector_is_shared_by_the_mailbox_and_rx_queue_0)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = 1, .link_intr = 1 };
	knobs.one_vector = true;
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, &conf, 0));
	CHECK_EQ(IGBVF_MODEL_GET(vfm, nb_vec), 1);
	CHECK_EQ(igbvf_model_reg(vfm, IGBVF_IVAR0) & 0xff, IGBVF_IVAR_VALID | 0); /* rx 0 -> vector 0 */
	CHECK_EQ(igbvf_model_reg(vfm, IGBVF_IVAR_MISC), IGBVF_IVAR_VALID | 0);  /* the mailbox too */
	int fd = bp_eth_rx_intr_fd(0, 0);
	CHECK(fd >= 0);
	static struct link_log log = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } };
	log.events = 0;
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK_EQ(bp_eth_rx_intr_enable(0, 0), 0);
	igbvf_model_set_link(vfm, false);
	CHECK(link_event(&log, 1));
	CHECK(!log.last.up);
	igbvf_model_set_link(vfm, true);
	CHECK(link_event(&log, 2));
	CHECK(log.last.up);
	CHECK_EQ(bp_intr_wait(fd, 8, 50), 0); /* the mailbox's firings woke no queue */
	uint64_t before = IGBVF_MODEL_GET(vfm, vec_irqs[0]);
	vf_inject(0, 1);
	CHECK_EQ(bp_intr_wait(fd, 8, 2000), 1);
	vf_inject(1, 1); /* disarmed by its wake-up: no second one */
	CHECK(igbvf_model_wait_quiet(vfm, WAIT));
	CHECK_EQ(bp_intr_wait(fd, 8, 50), 0);
	CHECK(IGBVF_MODEL_GET(vfm, vec_irqs[0]) > before);
	bool intact;
	CHECK_EQ(rx_frames(0, 32, 0, 2, &intact), 2);
	CHECK(intact);
	CHECK(both_ways(2, 40)); /* and it still moves frames after a link flap on a shared vector */
	CHECK_EQ(bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(port_down());
}

/* ... one vector cannot serve two rx queues: start refuses, and says why. */
TEST(igbvf_model_one_vector_refuses_rx_interrupts_on_two_queues)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .rx_intr = 1 };
	knobs.one_vector = true;
	CHECK(!port_up(pf_mac, 2, 64, 64, 1024, &conf, 0));
	CHECK_EQ(start_rc, -ENOTSUP);
	CHECK_EQ(IGBVF_MODEL_GET(vfm, nb_vec), 0); /* nothing left enabled */
	CHECK(port_down());
}

/* QEMU 10's igb reads VTIVAR_MISC's vector as a mask of vectors: 0 raises
 * nothing, 1 raises vector 0. Start finds which one fires and keeps it. */
TEST(igbvf_model_the_mailbox_vector_is_found_where_qemu_raises_it)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .link_intr = 1 };
	knobs.misc_as_mask = true;
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, &conf, 0));
	CHECK_EQ(igbvf_model_reg(vfm, IGBVF_IVAR_MISC), IGBVF_IVAR_VALID | 1);
	static struct link_log log = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } };
	uint64_t before = IGBVF_MODEL_GET(vfm, vec_irqs[0]);
	CHECK(link_flap_heard(&log));
	CHECK(IGBVF_MODEL_GET(vfm, vec_irqs[0]) >= before + 2); /* by the interrupt, not a poll */
	CHECK_EQ(bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(port_down());
}

/* A mailbox that raises no interrupt at all: the link is polled. */
TEST(igbvf_model_without_a_mailbox_interrupt_the_link_is_polled)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .link_intr = 1 };
	knobs.mbx_irq_none = true;
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, &conf, 0));
	CHECK_EQ(igbvf_model_reg(vfm, IGBVF_IVAR_MISC), 0);
	static struct link_log log = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } };
	CHECK(link_flap_heard(&log));
	CHECK_EQ(IGBVF_MODEL_GET(vfm, vec_irqs[0]), 0);
	CHECK_EQ(bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(port_down());
}

TEST(igbvf_model_counters_are_64_bit_across_the_devices_32_bit_wrap)
{
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, NULL, 0xffffffe0u));
	CHECK(both_ways(0, 40));
	struct bp_igbvf_stats st;
	CHECK_EQ(bp_igbvf_stats_get(0, &st), 0);
	CHECK_EQ(st.rx_packets, 40);
	CHECK_EQ(st.tx_packets, 40);
	CHECK_EQ(st.rx_bytes, 40 * LEN);
	CHECK_EQ(st.tx_bytes, 40 * LEN);
	CHECK_EQ(st.rx_multicast, 0);
	CHECK(igbvf_model_reg(vfm, IGBVF_GPRC) < 0x100); /* the device's wrapped */
	CHECK_EQ(bp_igbvf_stats_get(1, &st), -EINVAL);  /* not a VF port */
	CHECK(port_down());
}

TEST(igbvf_model_promiscuous_is_not_a_vfs_and_brings_every_multicast)
{
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, NULL, 0));
	CHECK_EQ(bp_eth_promiscuous_set(0, true), -ENOTSUP);
	CHECK(IGBVF_MODEL_GET(vfm, pf.allmulti));
	CHECK_EQ(bp_eth_promiscuous_set(0, false), 0);
	CHECK(!IGBVF_MODEL_GET(vfm, pf.allmulti));
	static const struct bp_ether_addr other = { { 0x02, 0, 0, 0, 0, 0x99 } };
	CHECK_EQ(bp_eth_dev_mac_addr_set(0, &other), 0); /* the PF's address was not the admin's */
	CHECK(port_down());
}

static void on_removed(uint16_t port, enum bp_eth_event_type ev, void *arg)
{
	(void)port;
	if (ev == BP_ETH_EVENT_REMOVED)
		__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELEASE);
}

/* Hot-unplug of a VF whose link is polled from a timer (no mailbox
 * interrupt: uio_pci_generic, or a PF that raises none): the port reports
 * the removal once, and from then on the poll — which goes on until stop —
 * touches the gone device no more and invents no link change from its all
 * ones (a mailbox word of all ones reads as a PF reset); bursts return 0;
 * stop and close give every mbuf back. */
TEST(igbvf_model_hot_unplug_stops_the_link_poll_touching_the_device)
{
	const struct bp_eth_conf conf = { .size = sizeof(conf), .link_intr = 1 };
	knobs.mbx_irq_none = true;
	CHECK(port_up(pf_mac, 1, 64, 64, 1024, &conf, 0));
	static struct link_log log = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 } };
	log.events = 0;
	static int removed;
	removed = 0;
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK_EQ(bp_eth_dev_callback_register(0, BP_ETH_EVENT_REMOVED, on_removed, &removed), 0);
	CHECK(both_ways(0, 40));
	CHECK_EQ(tx_frames(0, 1000, 20, 7), 20); /* mbufs in its tx ring at the removal */
	CHECK(igbvf_model_unplug(vfm));
	CHECK(igbvf_model_wait_gone(vfm, WAIT));
	for (int i = 0; i < 1000 && !__atomic_load_n(&removed, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	CHECK_EQ(__atomic_load_n(&removed, __ATOMIC_ACQUIRE), 1);
	uint64_t late = IGBVF_MODEL_GET(vfm, late_accesses);
	int links = log.events;
	usleep(1100 * 1000); /* four of the link poll's 250 ms periods */
	CHECK_EQ(IGBVF_MODEL_GET(vfm, late_accesses), late);
	CHECK_EQ(log.events, links);
	struct bp_eth_link l;
	CHECK_EQ(bp_eth_link_get(0, &l, true), 0);
	CHECK(!l.up);
	struct bp_mbuf *pkts[8];
	CHECK_EQ(bp_eth_rx_burst(0, 0, pkts, 8), 0);
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK_EQ(bp_eth_dev_start(0), -ENODEV);
	CHECK_EQ(removed, 1);
	CHECK_EQ(bp_eth_dev_callback_unregister(0, BP_ETH_EVENT_LINK, on_link, &log), 0);
	CHECK(port_down());
}
