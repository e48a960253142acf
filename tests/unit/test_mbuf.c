/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/mbuf.h>
#include "harness.h"

static struct bp_mempool *pool(const char *name, uint32_t n)
{
	if (test_env("-l 0 --no-huge") < 0)
		return NULL;
	return bp_pktmbuf_pool_create(name, n, 0, 16, BP_MBUF_DEFAULT_BUF_SIZE);
}

TEST(mbuf_fresh_has_headroom_and_device_address)
{
	struct bp_mempool *mp = pool("m", 64);
	CHECK(mp);
	struct bp_mbuf *m = bp_pktmbuf_alloc(mp);
	CHECK(m);
	CHECK_EQ(m->data_off, BP_PKTMBUF_HEADROOM);
	CHECK_EQ(m->refcnt, 1);
	CHECK_EQ(m->nb_segs, 1);
	CHECK_EQ(m->pkt_len, 0);
	CHECK_EQ(m->data_len, 0);
	CHECK(m->next == NULL);
	CHECK(m->pool == mp);
	CHECK_EQ(m->buf_len, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK_EQ(m->priv_size, 16);
	CHECK(m->buf_addr == (char *)m + sizeof(*m) + 16);
	CHECK(m->buf_iova == bp_memzone_iova(mp->mz, m->buf_addr));
	CHECK(bp_mbuf_data_iova(m) == m->buf_iova + BP_PKTMBUF_HEADROOM);
	CHECK(bp_mbuf_check(m, true) == NULL);
	bp_pktmbuf_free(m);
	CHECK_EQ(bp_mempool_avail_count(mp), 64);
	bp_mempool_free(mp);
}

TEST(mbuf_append_prepend_adj_trim_bounds)
{
	struct bp_mempool *mp = pool("m", 8);
	CHECK(mp);
	struct bp_mbuf *m = bp_pktmbuf_alloc(mp);
	char *p = bp_pktmbuf_append(m, 100);
	CHECK(p == bp_pktmbuf_mtod(m, char *));
	memset(p, 'x', 100);
	CHECK_EQ(m->pkt_len, 100);
	CHECK_EQ(bp_pktmbuf_tailroom(m), BP_MBUF_DEFAULT_DATAROOM - 100);
	CHECK(bp_pktmbuf_append(m, BP_MBUF_DEFAULT_DATAROOM) == NULL); /* too long: refused */
	CHECK_EQ(m->pkt_len, 100);                                     /* and unchanged */
	char *h = bp_pktmbuf_prepend(m, 14);
	CHECK(h == p - 14);
	memcpy(h, "ETHERNETHEADER", 14);
	CHECK_EQ(m->pkt_len, 114);
	CHECK(bp_pktmbuf_prepend(m, BP_PKTMBUF_HEADROOM) == NULL);
	CHECK(bp_pktmbuf_adj(m, 14) == p);
	CHECK_EQ(bp_pktmbuf_trim(m, 50), 0);
	CHECK_EQ(m->pkt_len, 50);
	CHECK_EQ(bp_pktmbuf_trim(m, 51), -EINVAL);
	CHECK(bp_pktmbuf_mtod(m, char *)[49] == 'x');
	CHECK(bp_mbuf_check(m, true) == NULL);
	bp_pktmbuf_free(m);
	CHECK_EQ(bp_mempool_avail_count(mp), 8);
	bp_mempool_free(mp);
}

TEST(mbuf_chain_read_and_free_every_segment)
{
	struct bp_mempool *mp = pool("m", 8);
	CHECK(mp);
	struct bp_mbuf *seg[3];
	CHECK_EQ(bp_pktmbuf_alloc_bulk(mp, seg, 3), 0);
	for (int s = 0; s < 3; s++) {
		char *d = bp_pktmbuf_append(seg[s], 1000);
		for (int i = 0; i < 1000; i++)
			d[i] = (char)(s * 1000 + i);
	}
	CHECK_EQ(bp_pktmbuf_chain(seg[0], seg[1]), 0);
	CHECK_EQ(bp_pktmbuf_chain(seg[0], seg[2]), 0);
	CHECK_EQ(seg[0]->nb_segs, 3);
	CHECK_EQ(seg[0]->pkt_len, 3000);
	CHECK(bp_mbuf_check(seg[0], true) == NULL);
	char out[1500];
	CHECK_EQ(bp_pktmbuf_read(seg[0], 900, 1500, out), 0); /* spans all three */
	for (int i = 0; i < 1500; i++)
		CHECK_EQ((unsigned char)out[i], (unsigned char)(char)(900 + i));
	CHECK_EQ(bp_pktmbuf_read(seg[0], 2900, 101, out), -EINVAL);
	CHECK_EQ(bp_mempool_avail_count(mp), 5);
	bp_pktmbuf_free(seg[0]);
	CHECK_EQ(bp_mempool_avail_count(mp), 8);
	/* Freed segments are back to the invariant: a fresh alloc is a lone segment. */
	struct bp_mbuf *all[8];
	CHECK_EQ(bp_pktmbuf_alloc_bulk(mp, all, 8), 0);
	for (int i = 0; i < 8; i++) {
		CHECK(all[i]->next == NULL);
		CHECK_EQ(all[i]->nb_segs, 1);
	}
	bp_pktmbuf_free_bulk(all, 8);
	bp_mempool_free(mp);
}

TEST(mbuf_refcnt_shared_buffer_freed_by_last_holder)
{
	struct bp_mempool *mp = pool("m", 4);
	CHECK(mp);
	struct bp_mbuf *m = bp_pktmbuf_alloc(mp);
	CHECK_EQ(bp_mbuf_refcnt_update(m, 2), 3);
	bp_pktmbuf_free(m);
	bp_pktmbuf_free(m);
	CHECK_EQ(bp_mempool_avail_count(mp), 3); /* one holder left */
	CHECK_EQ(bp_mbuf_refcnt_read(m), 1);
	bp_pktmbuf_free(m);
	CHECK_EQ(bp_mempool_avail_count(mp), 4);
	bp_mempool_free(mp);
}

TEST(mbuf_alloc_bulk_exhaustion_takes_nothing)
{
	struct bp_mempool *mp = pool("m", 10);
	CHECK(mp);
	struct bp_mbuf *a[16] = { 0 };
	CHECK_EQ(bp_pktmbuf_alloc_bulk(mp, a, 8), 0);
	CHECK_EQ(bp_pktmbuf_alloc_bulk(mp, a + 8, 4), -ENOBUFS);
	CHECK(a[8] == NULL);
	CHECK_EQ(bp_mempool_avail_count(mp), 2);
	CHECK(bp_pktmbuf_alloc(mp) && bp_pktmbuf_alloc(mp));
	CHECK(bp_pktmbuf_alloc(mp) == NULL);
	bp_pktmbuf_free_bulk(a, 8);
	CHECK_EQ(bp_mempool_avail_count(mp), 8); /* the two singles are still out */
	bp_mempool_free(mp);
}

TEST(mbuf_free_bulk_returns_each_to_its_own_pool)
{
	CHECK(test_env("-l 0 --no-huge") >= 0);
	struct bp_mempool *a = bp_pktmbuf_pool_create("a", 40, 8, 0, 512);
	struct bp_mempool *b = bp_pktmbuf_pool_create("b", 40, 0, 0, 512);
	CHECK(a && b);
	struct bp_mbuf *m[80];
	for (int i = 0; i < 80; i++)
		CHECK((m[i] = bp_pktmbuf_alloc(i % 2 ? a : b)) != NULL);
	CHECK_EQ(bp_mempool_avail_count(a) + bp_mempool_avail_count(b), 0);
	bp_pktmbuf_free_bulk(m, 80);
	CHECK_EQ(bp_mempool_avail_count(a), 40);
	CHECK_EQ(bp_mempool_avail_count(b), 40);
	bp_mempool_free(a);
	bp_mempool_free(b);
}

TEST(mbuf_check_catches_inconsistent_lengths)
{
	struct bp_mempool *mp = pool("m", 4);
	CHECK(mp);
	struct bp_mbuf *m = bp_pktmbuf_alloc(mp);
	bp_pktmbuf_append(m, 60);
	m->pkt_len = 61;
	CHECK(bp_mbuf_check(m, true) != NULL);
	m->pkt_len = 60;
	CHECK(bp_mbuf_check(m, true) == NULL);
	m->refcnt = 0;
	CHECK(bp_mbuf_check(m, true) != NULL);
	m->refcnt = 1;
	bp_pktmbuf_free(m);
	bp_mempool_free(mp);
}

TEST(mbuf_pool_rejects_tiny_data_room)
{
	CHECK(test_env("-l 0 --no-huge") >= 0);
	CHECK(bp_pktmbuf_pool_create("tiny", 16, 0, 0, 64) == NULL);
}

TEST(mbuf_copy_from_bytes_makes_a_chain_or_takes_nothing)
{
	struct bp_mempool *mp = pool("cp", 4);
	CHECK(mp);
	static uint8_t data[5000], back[5000];
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	/* 5000 bytes in 2048-byte data rooms: three segments */
	struct bp_mbuf *m = bp_pktmbuf_copy_from(mp, data, 5000, 3);
	CHECK(m);
	CHECK(bp_mbuf_check(m, true) == NULL);
	CHECK_EQ(m->nb_segs, 3);
	CHECK_EQ(m->pkt_len, 5000);
	CHECK_EQ(m->data_len, 2048);
	CHECK_EQ(m->next->next->data_len, 5000 - 2 * 2048);
	CHECK_EQ(m->port, 3);
	CHECK_EQ(m->next->port, 3);
	CHECK_EQ(m->data_off, BP_PKTMBUF_HEADROOM);
	CHECK_EQ(bp_pktmbuf_read(m, 0, 5000, back), 0);
	CHECK(memcmp(back, data, 5000) == 0);
	/* one mbuf left: a two-segment copy takes nothing */
	errno = 0;
	CHECK(bp_pktmbuf_copy_from(mp, data, 3000, 0) == NULL);
	CHECK_EQ(errno, ENOBUFS);
	CHECK_EQ(bp_mempool_avail_count(mp), 1);
	struct bp_mbuf *small = bp_pktmbuf_copy_from(mp, data, 60, BP_MBUF_PORT_INVALID);
	CHECK(small && small->nb_segs == 1 && small->pkt_len == 60 && small->next == NULL);
	CHECK(memcmp(bp_pktmbuf_mtod(small, void *), data, 60) == 0);
	bp_pktmbuf_free(small);
	bp_pktmbuf_free(m);
	/* more than BP_PKTMBUF_COPY_MAX_SEGS segments: refused */
	errno = 0;
	CHECK(bp_pktmbuf_copy_from(mp, data, (BP_PKTMBUF_COPY_MAX_SEGS * 2048) + 1, 0) == NULL);
	CHECK_EQ(errno, EMSGSIZE);
	CHECK_EQ(bp_mempool_avail_count(mp), 4);
	bp_mempool_free(mp);
}
