/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <bypass/env.h>
#include <bypass/mempool.h>
#include "harness.h"

static void mark_init(struct bp_mempool *mp, void *arg, void *obj, uint32_t idx)
{
	(void)mp, (void)arg;
	memcpy(obj, &idx, sizeof(idx));
}

/* Takes every object, checks each is distinct and belongs to the pool, then the
 * next get fails cleanly, then all go back. */
static void drain_and_refill(struct bp_mempool *mp, uint32_t n)
{
	void **objs = calloc(n + 32, sizeof(void *));
	uint8_t *seen = calloc(n, 1);
	uint32_t got = 0;
	CHECK(objs && seen);
	while (got + 32 <= n) {
		CHECK_EQ(bp_mempool_get_bulk(mp, objs + got, 32), 0);
		got += 32;
	}
	while (got < n)
		CHECK_EQ(bp_mempool_get(mp, &objs[got++]), 0);
	CHECK_EQ(bp_mempool_avail_count(mp), 0);
	CHECK_EQ(bp_mempool_in_use_count(mp), n);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(bp_mempool_owns(mp, objs[i]));
		uint32_t idx = bp_mempool_obj_index(mp, objs[i]);
		CHECK(idx < n);
		uint32_t stamp;
		memcpy(&stamp, objs[i], sizeof(stamp));
		CHECK_EQ(stamp, idx); /* obj_init saw every object once, at its index */
		CHECK_EQ(seen[idx], 0);
		seen[idx] = 1;
	}
	/* Exhausted: an error, nothing taken, nothing written. */
	void *extra[4] = { 0 };
	CHECK_EQ(bp_mempool_get_bulk(mp, extra, 4), -ENOBUFS);
	CHECK_EQ(bp_mempool_get(mp, extra), -ENOBUFS);
	CHECK(extra[0] == NULL);
	CHECK_EQ(bp_mempool_avail_count(mp), 0);
	for (uint32_t i = 0; i < n; i += 16)
		bp_mempool_put_bulk(mp, objs + i, BP_MIN(16u, n - i));
	CHECK_EQ(bp_mempool_avail_count(mp), n);
	free(objs);
	free(seen);
}

TEST(mempool_accounting_with_cache)
{
	CHECK_EQ(test_env("-l 0 --no-huge") >= 0, 1);
	struct bp_mempool *mp = bp_mempool_create("p", 1000, 100, 64, 0, mark_init, NULL);
	CHECK(mp);
	CHECK(bp__mempool_cache(mp) != NULL);
	CHECK_EQ(mp->elt_size % 64, 0);
	drain_and_refill(mp, 1000);
	CHECK(!test_failed);
	drain_and_refill(mp, 1000); /* again, now that the cache is warm */
	bp_mempool_free(mp);
	bp_cleanup();
}

static void *non_lcore_drain(void *arg)
{
	drain_and_refill(arg, 500);
	return NULL;
}

TEST(mempool_accounting_without_cache_and_from_foreign_thread)
{
	CHECK_EQ(test_env("-l 0 --no-huge") >= 0, 1);
	struct bp_mempool *mp = bp_mempool_create("p", 500, 8, 0, 0, mark_init, NULL);
	CHECK(mp);
	drain_and_refill(mp, 500);
	bp_mempool_free(mp);
	mp = bp_mempool_create("p2", 500, 8, 32, 0, mark_init, NULL);
	pthread_t t;
	pthread_create(&t, NULL, non_lcore_drain, mp); /* not an lcore: no cache */
	pthread_join(t, NULL);
	CHECK_EQ(bp_mempool_avail_count(mp), 500);
	bp_mempool_free(mp);
	bp_cleanup();
}

TEST(mempool_rejects_bad_parameters)
{
	CHECK(bp_mempool_create("p", 0, 64, 0, 0, NULL, NULL) == NULL);
	CHECK(bp_mempool_create("p", 10, 64, 512, 0, NULL, NULL) == NULL); /* cache > pool */
	CHECK(bp_mempool_create("p", 10000, 64, BP_MEMPOOL_CACHE_MAX + 1, 0, NULL, NULL) == NULL);
}

struct churn_arg {
	struct bp_mempool *mp;
	uint64_t gets;
	int bad;
};

static int churn(void *p)
{
	struct churn_arg *a = p;
	void *objs[48];
	unsigned seed = bp_lcore_id();
	for (int i = 0; i < 200000; i++) {
		uint32_t n = (uint32_t)rand_r(&seed) % 48 + 1;
		if (bp_mempool_get_bulk(a->mp, objs, n) < 0)
			continue;
		for (uint32_t k = 0; k < n; k++) {
			/* Stamp the object; a double hand-out would be overwritten by
			 * the other thread and caught below. */
			uint64_t tag = ((uint64_t)bp_lcore_id() << 32) | k;
			memcpy(objs[k], &tag, sizeof(tag));
		}
		for (uint32_t k = 0; k < n; k++) {
			uint64_t tag;
			memcpy(&tag, objs[k], sizeof(tag));
			a->bad += tag != (((uint64_t)bp_lcore_id() << 32) | k);
		}
		a->gets += n;
		bp_mempool_put_bulk(a->mp, objs, n);
	}
	return 0;
}

TEST(mempool_two_lcores_churn_keeps_every_object)
{
	CHECK_EQ(test_env("-l 0,1 --no-huge") >= 0, 1);
	CHECK_EQ(bp_lcore_count(), 2);
	struct bp_mempool *mp = bp_mempool_create("churn", 256, 64, 32, 0, NULL, NULL);
	CHECK(mp);
	struct churn_arg w = { mp, 0, 0 }, m = { mp, 0, 0 };
	CHECK_EQ(bp_lcore_launch(1, churn, &w), 0);
	churn(&m);
	CHECK_EQ(bp_lcore_wait(1), 0);
	CHECK_EQ(w.bad + m.bad, 0);
	CHECK(w.gets > 0 && m.gets > 0);
	CHECK_EQ(bp_mempool_avail_count(mp), 256);
	bp_mempool_free(mp);
	bp_cleanup();
}
