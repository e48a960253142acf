/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <errno.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/eth_ring.h>
#include "harness.h"

static int start_port(uint16_t p, struct bp_mempool *mp)
{
	if (bp_eth_dev_configure(p, 1, 1, NULL) < 0 || bp_eth_rx_queue_setup(p, 0, 256, mp) < 0 ||
	    bp_eth_tx_queue_setup(p, 0, 256) < 0)
		return -1;
	return bp_eth_dev_start(p);
}

TEST(ethdev_null_rx_tx_counts_packets_and_bytes)
{
	CHECK(test_env("--no-huge -l 0 --vdev net_null0,size=100") >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("p", 512, 32, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	uint16_t port;
	CHECK(mp);
	CHECK_EQ(bp_eth_dev_get_port_by_name("net_null0", &port), 0);
	struct bp_mbuf *pkts[32];
	CHECK_EQ(bp_eth_rx_burst(port, 0, pkts, 32), 0); /* not started: nothing, no crash */
	CHECK_EQ(start_port(port, mp), 0);
	CHECK_EQ(bp_eth_rx_burst(port, 0, pkts, 32), 32);
	for (int i = 0; i < 32; i++) {
		CHECK_EQ(pkts[i]->pkt_len, 100);
		CHECK_EQ(pkts[i]->data_len, 100);
		CHECK_EQ(pkts[i]->port, port);
		CHECK_EQ(pkts[i]->data_off, BP_PKTMBUF_HEADROOM);
		CHECK(bp_mbuf_check(pkts[i], true) == NULL);
	}
	pkts[0]->pkt_len = pkts[0]->data_len = 60; /* tx counts what it was given */
	CHECK_EQ(bp_eth_tx_burst(port, 0, pkts, 32), 32);
	struct bp_eth_stats st;
	CHECK_EQ(bp_eth_stats_get(port, &st), 0);
	CHECK_EQ(st.ipackets, 32);
	CHECK_EQ(st.ibytes, 3200);
	CHECK_EQ(st.opackets, 32);
	CHECK_EQ(st.obytes, 31 * 100 + 60);
	CHECK_EQ(st.q_ipackets[0], 32);
	CHECK_EQ(st.q_obytes[0], 3160);
	CHECK_EQ(bp_mempool_avail_count(mp), 512);
	CHECK_EQ(bp_eth_stats_reset(port), 0);
	CHECK_EQ(bp_eth_stats_get(port, &st), 0);
	CHECK_EQ(st.ipackets + st.opackets + st.ibytes, 0);
	struct bp_eth_link link;
	CHECK_EQ(bp_eth_link_get(port, &link, false), 0);
	CHECK_EQ(link.up, 1);
	bp_cleanup();
	CHECK_EQ(bp_mempool_avail_count(mp), 512);
	bp_mempool_free(mp);
}

TEST(ethdev_empty_pool_counts_nombuf_and_recovers)
{
	CHECK(test_env("--no-huge -l 0 --vdev net_null0") >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("p", 80, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	struct bp_mbuf *a[32], *b[32], *c[32];
	CHECK(mp);
	CHECK_EQ(start_port(0, mp), 0);
	CHECK_EQ(bp_eth_rx_burst(0, 0, a, 32), 32);
	CHECK_EQ(bp_eth_rx_burst(0, 0, b, 32), 32);
	CHECK_EQ(bp_eth_rx_burst(0, 0, c, 32), 0); /* 16 left: the burst fails, no crash */
	struct bp_eth_stats st;
	bp_eth_stats_get(0, &st);
	CHECK_EQ(st.rx_nombuf, 32);
	CHECK_EQ(st.q_rx_nombuf[0], 32);
	CHECK_EQ(st.ipackets, 64);
	CHECK_EQ(bp_eth_tx_burst(0, 0, a, 32), 32);
	CHECK_EQ(bp_eth_rx_burst(0, 0, c, 32), 32); /* freed mbufs are used again */
	bp_pktmbuf_free_bulk(b, 32);
	bp_pktmbuf_free_bulk(c, 32);
	CHECK_EQ(bp_mempool_avail_count(mp), 80);
	bp_cleanup();
	bp_mempool_free(mp);
}

TEST(ethdev_control_path_errors_are_refused)
{
	CHECK(test_env("--no-huge -l 0 --vdev net_null0,queues=2") >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("p", 512, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	struct bp_mempool *small = bp_pktmbuf_pool_create("s", 8, 0, 0, 160);
	CHECK(mp && small);
	CHECK_EQ(bp_eth_dev_start(0), -EINVAL);               /* not configured */
	CHECK_EQ(bp_eth_dev_configure(7, 1, 1, NULL), -ENODEV); /* no such port */
	CHECK_EQ(bp_eth_dev_configure(0, 3, 1, NULL), -EINVAL); /* more queues than the port has */
	CHECK_EQ(bp_eth_dev_configure(0, 0, 0, NULL), -EINVAL);
	struct bp_eth_conf bad = { 0 };
	CHECK_EQ(bp_eth_dev_configure(0, 1, 1, &bad), -EINVAL); /* size not set */
	CHECK_EQ(bp_eth_dev_configure(0, 2, 2, NULL), 0);
	CHECK_EQ(bp_eth_rx_queue_setup(0, 2, 256, mp), -EINVAL); /* queue out of range */
	CHECK_EQ(bp_eth_rx_queue_setup(0, 0, 256, NULL), -EINVAL);
	CHECK_EQ(bp_eth_rx_queue_setup(0, 0, 256, small), -EINVAL); /* 64-byte packets do not fit */
	CHECK_EQ(bp_eth_rx_queue_setup(0, 0, 256, mp), 0);
	CHECK_EQ(bp_eth_dev_start(0), -EINVAL); /* queues 1 and tx not set up */
	CHECK_EQ(bp_eth_rx_queue_setup(0, 1, 256, mp), 0);
	CHECK_EQ(bp_eth_tx_queue_setup(0, 0, 256), 0);
	CHECK_EQ(bp_eth_tx_queue_setup(0, 1, 256), 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	CHECK_EQ(bp_eth_dev_configure(0, 1, 1, NULL), -EBUSY); /* started */
	CHECK_EQ(bp_eth_rx_queue_setup(0, 0, 256, mp), -EINVAL);
	struct bp_mbuf *pkts[4];
	CHECK_EQ(bp_eth_rx_burst(0, 1, pkts, 4), 4); /* second queue works */
	bp_pktmbuf_free_bulk(pkts, 4);
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK_EQ(bp_eth_rx_burst(0, 0, pkts, 4), 0); /* stopped */
	CHECK_EQ(bp_eth_dev_close(0), 0);
	CHECK(!bp_eth_dev_is_valid_port(0));
	bp_cleanup();
	CHECK_EQ(bp_mempool_avail_count(mp), 512);
	bp_mempool_free(mp);
	bp_mempool_free(small);
}

static void fill(struct bp_mbuf *m, uint32_t len, uint8_t seed)
{
	uint8_t *d = (uint8_t *)bp_pktmbuf_append(m, (uint16_t)len);
	if (!d)
		return; /* the content check that follows will fail */
	for (uint32_t i = 0; i < len; i++)
		d[i] = (uint8_t)(seed + i * 7);
}

static bool same(const struct bp_mbuf *m, uint32_t len, uint8_t seed)
{
	const uint8_t *d = bp_pktmbuf_mtod(m, const uint8_t *);
	if (m->pkt_len != len)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (d[i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

TEST(ethdev_ring_peers_carry_packets_both_ways)
{
	CHECK(test_env("--no-huge -l 0 --vdev net_ring0,size=64 --vdev net_ring1,peer=net_ring0,size=64") >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("p", 256, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(mp);
	CHECK_EQ(start_port(0, mp), 0);
	CHECK_EQ(start_port(1, mp), 0);
	struct bp_mbuf *tx[20], *rx[32];
	CHECK_EQ(bp_pktmbuf_alloc_bulk(mp, tx, 20), 0);
	for (int i = 0; i < 20; i++)
		fill(tx[i], 60 + (uint32_t)i * 50, (uint8_t)i);
	CHECK_EQ(bp_eth_tx_burst(0, 0, tx, 20), 20);
	CHECK_EQ(bp_eth_rx_burst(0, 0, rx, 32), 0); /* not looped back to the sender */
	CHECK_EQ(bp_eth_rx_burst(1, 0, rx, 32), 20);
	for (int i = 0; i < 20; i++) {
		CHECK(rx[i] == tx[i]); /* zero copy: the same mbuf arrives */
		CHECK(same(rx[i], 60 + (uint32_t)i * 50, (uint8_t)i));
	}
	CHECK_EQ(bp_eth_tx_burst(1, 0, rx, 20), 20); /* and back */
	CHECK_EQ(bp_eth_rx_burst(0, 0, tx, 32), 20);
	CHECK(same(tx[19], 60 + 19 * 50, 19));
	struct bp_eth_stats s0, s1;
	bp_eth_stats_get(0, &s0);
	bp_eth_stats_get(1, &s1);
	uint64_t bytes = 0;
	for (int i = 0; i < 20; i++)
		bytes += 60 + (uint64_t)i * 50;
	CHECK_EQ(s0.opackets, 20);
	CHECK_EQ(s0.obytes, bytes);
	CHECK_EQ(s1.ipackets, 20);
	CHECK_EQ(s1.ibytes, bytes);
	CHECK_EQ(s0.ipackets, 20);
	bp_pktmbuf_free_bulk(tx, 20);
	CHECK_EQ(bp_mempool_avail_count(mp), 256);
	bp_cleanup();
	bp_mempool_free(mp);
}

TEST(ethdev_ring_full_refuses_and_close_returns_queued_mbufs)
{
	CHECK(test_env("--no-huge -l 0 --vdev net_ring0,size=16") >= 0); /* loopback */
	struct bp_mempool *mp = bp_pktmbuf_pool_create("p", 64, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(mp);
	CHECK_EQ(start_port(0, mp), 0);
	struct bp_mbuf *tx[24];
	CHECK_EQ(bp_pktmbuf_alloc_bulk(mp, tx, 24), 0);
	for (int i = 0; i < 24; i++)
		fill(tx[i], 64, 1);
	CHECK_EQ(bp_eth_tx_burst(0, 0, tx, 24), 16); /* the caller keeps the other 8 */
	bp_pktmbuf_free_bulk(tx + 16, 8);
	CHECK_EQ(bp_mempool_in_use_count(mp), 16);
	bp_cleanup(); /* the 16 still in the ring go back to their pool */
	CHECK_EQ(bp_mempool_avail_count(mp), 64);
	bp_mempool_free(mp);
}

TEST(ethdev_from_rings_uses_callers_rings)
{
	CHECK(test_env("--no-huge -l 0") >= 0);
	struct bp_ring *r = bp_ring_create("wire", 64, BP_RING_F_SP_ENQ | BP_RING_F_SC_DEQ);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("p", 64, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(r && mp);
	int a = bp_eth_from_rings("a", NULL, 0, &r, 1);
	int b = bp_eth_from_rings("b", &r, 1, NULL, 0);
	CHECK(a >= 0 && b >= 0);
	CHECK_EQ(bp_eth_from_rings("a", &r, 1, &r, 1), -EEXIST);
	CHECK_EQ(bp_eth_dev_configure((uint16_t)a, 0, 1, NULL), 0);
	CHECK_EQ(bp_eth_tx_queue_setup((uint16_t)a, 0, 64), 0);
	CHECK_EQ(bp_eth_dev_start((uint16_t)a), 0);
	CHECK_EQ(bp_eth_dev_configure((uint16_t)b, 1, 0, NULL), 0);
	CHECK_EQ(bp_eth_rx_queue_setup((uint16_t)b, 0, 64, mp), 0);
	CHECK_EQ(bp_eth_dev_start((uint16_t)b), 0);
	struct bp_mbuf *m = bp_pktmbuf_alloc(mp), *got;
	fill(m, 99, 5);
	CHECK_EQ(bp_eth_tx_burst((uint16_t)a, 0, &m, 1), 1);
	CHECK_EQ(bp_ring_count(r), 1);
	CHECK_EQ(bp_eth_rx_burst((uint16_t)b, 0, &got, 1), 1);
	CHECK(same(got, 99, 5));
	bp_pktmbuf_free(got);
	bp_cleanup();
	bp_ring_free(r); /* still ours */
	CHECK_EQ(bp_mempool_avail_count(mp), 64);
	bp_mempool_free(mp);
}
