/* SPDX-License-Identifier: MIT
 * Debug pools (--mbuf-debug, lib/mempool/debug.c): every mbuf its own heap
 * block, counted like a normal pool's; and the mistakes they exist for (double
 * free, write past the data room, write after free, leak) reported with the
 * culprits named, by AddressSanitizer in the sanitizer build and by the pool's
 * own checks in the release build (bypass-mbuf-debug-crash makes them). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <bypass/mbuf.h>
#include <bypass/ethdev.h>
#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#endif

static bool debug_env(void) { return test_env("-l 0 --no-huge --no-telemetry --mbuf-debug") >= 0; }

static void pool_counts(void)
{
	enum { N = 8 };
	CHECK(debug_env());
	struct bp_mempool *mp = bp_pktmbuf_pool_create("dbg", N, 4, 16, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(mp);
	CHECK(bp_mempool_is_debug(mp));
	CHECK_EQ(mp->cache_size, 0); /* asked for 4: a cache would hide reuse */
	CHECK(mp->mz == NULL);
	CHECK_EQ(bp_mempool_avail_count(mp), N);

	struct bp_mbuf *m[N + 1];
	CHECK_EQ(bp_pktmbuf_alloc_bulk(mp, m, N), 0);
	CHECK(bp_pktmbuf_alloc(mp) == NULL); /* the pool's size still holds */
	CHECK_EQ(bp_mempool_in_use_count(mp), N);
	CHECK_EQ(bp_mempool_avail_count(mp), 0);
	bool seen[N] = { false };
	for (int i = 0; i < N; i++) {
		CHECK(bp_mbuf_check(m[i], true) == NULL);
		CHECK(bp_mempool_owns(mp, m[i]));
		CHECK(m[i]->pool == mp);
		CHECK_EQ(m[i]->refcnt, 1);
		CHECK_EQ(m[i]->data_off, BP_PKTMBUF_HEADROOM);
		CHECK_EQ(m[i]->buf_len, BP_MBUF_DEFAULT_BUF_SIZE);
		CHECK(m[i]->buf_addr == (char *)m[i] + sizeof(struct bp_mbuf) + 16);
		/* an address no device reaches, and says so */
		CHECK(m[i]->buf_iova == (BP_MEMPOOL_DEBUG_IOVA_TAG | (uintptr_t)m[i]->buf_addr));
		CHECK_EQ(m[i]->buf_iova >> 48, 0xdeb0);
		uint32_t idx = bp_mempool_obj_index(mp, m[i]);
		CHECK(idx < N && !seen[idx]);
		seen[idx] = true;
		/* the whole data room is usable */
		memset(m[i]->buf_addr, 0x11, m[i]->buf_len);
	}
	bp_pktmbuf_free_bulk(m, N);
	CHECK_EQ(bp_mempool_avail_count(mp), N);

	/* a chain of 3: each segment goes back */
	static char data[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	struct bp_mbuf *c = bp_pktmbuf_copy_from(mp, data, sizeof(data), 0);
	CHECK(c);
	CHECK_EQ(c->nb_segs, 3);
	CHECK_EQ(bp_mempool_in_use_count(mp), 3);
	static char back[5000];
	CHECK_EQ(bp_pktmbuf_read(c, 0, sizeof(back), back), 0);
	CHECK(memcmp(back, data, sizeof(data)) == 0);
	bp_pktmbuf_free(c);
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);

	/* two holders: the second free returns it */
	struct bp_mbuf *s = bp_pktmbuf_alloc(mp);
	CHECK(s);
	bp_mbuf_refcnt_update(s, 1);
	bp_pktmbuf_free(s);
	CHECK_EQ(bp_mempool_in_use_count(mp), 1);
#ifndef ASAN
	/* Still in quarantine (release build): reads like a free mbuf of a normal
	 * pool, its data poisoned. Under ASan it is freed memory already. */
	bp_pktmbuf_free(s);
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
	CHECK_EQ(s->refcnt, 1);
	CHECK(s->next == NULL);
	CHECK_EQ(((uint8_t *)s->buf_addr)[0], 0x6b);
	CHECK_EQ(((uint8_t *)s->buf_addr)[s->buf_len - 1], 0x6b);
#else
	bp_pktmbuf_free(s);
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
#endif
	/* all or nothing, as before */
	void *objs[N + 1];
	CHECK_EQ(bp_mempool_get_bulk(mp, objs, N + 1), -ENOBUFS);
	CHECK_EQ(bp_mempool_avail_count(mp), N);
	CHECK_EQ(bp_mempool_get_upto(mp, objs, N + 1), N);
	bp_mempool_put_bulk(mp, objs, N);
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
	bp_mempool_free(mp);
}

TEST(mbuf_debug_pool_mallocs_each_mbuf_and_counts_like_a_pool)
{
	pool_counts();
	bp_cleanup(); /* the next tests' pools are normal ones */
}

static unsigned inits;
static void count_init(struct bp_mempool *mp, void *arg, void *obj, uint32_t idx)
{
	(void)mp;
	inits += arg == NULL;
	memset(obj, (int)idx, 40);
}

static void generic_objects(void)
{
	CHECK(debug_env());
	inits = 0;
	struct bp_mempool *mp = bp_mempool_create("objs", 4, 40, 0, 0, count_init, &inits);
	CHECK(mp);
	CHECK_EQ(inits, 0); /* nothing exists before a get */
	void *o[4];
	CHECK_EQ(bp_mempool_get_bulk(mp, o, 4), 0);
	CHECK_EQ(inits, 4); /* each made at its get, with arg NULL */
	for (int i = 0; i < 4; i++)
		CHECK_EQ(((uint8_t *)o[i])[39], bp_mempool_obj_index(mp, o[i]));
	bp_mempool_put_bulk(mp, o, 4);
	CHECK_EQ(inits, 8); /* and again over the poison at put */
	CHECK_EQ(bp_mempool_avail_count(mp), 4);
	bp_mempool_free(mp);
}

TEST(mbuf_debug_generic_pool_inits_each_object_at_get)
{
	generic_objects();
	bp_cleanup();
}

/* A port whose device would DMA into the buffers, like every PCI NIC and
 * vhost-user port: no real device needed to see the refusal. */
static int dma_setups;
static void dma_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	(void)dev;
	info->dma = true;
}
static int dma_rxq(struct bp_eth_dev *dev, uint16_t q, uint16_t nb, struct bp_mempool *mp)
{
	(void)dev, (void)q, (void)nb, (void)mp;
	dma_setups++;
	return -ENOTSUP;
}
static int dma_txq(struct bp_eth_dev *dev, uint16_t q, uint16_t nb)
{
	(void)dev, (void)q, (void)nb;
	dma_setups++;
	return -ENOTSUP;
}
static const struct bp_eth_dev_ops dma_ops = { .info_get = dma_info, .rx_queue_setup = dma_rxq,
					       .tx_queue_setup = dma_txq };

static uint16_t fake_dma_port(void)
{
	struct bp_eth_dev *d = bp_eth_dev_allocate("fake_dma0");
	if (!d)
		return BP_MAX_ETHPORTS;
	d->ops = &dma_ops;
	d->driver_name = "fake_dma";
	return bp_eth_dev_configure(d->port_id, 1, 1, NULL) == 0 ? d->port_id : BP_MAX_ETHPORTS;
}

static void dma_refusal(void)
{
	CHECK(test_env("-l 0 --no-huge --no-telemetry") >= 0);
	struct bp_mempool *plain = bp_pktmbuf_pool_create("plain", 64, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(plain);
	uint16_t port = fake_dma_port();
	CHECK(port < BP_MAX_ETHPORTS);
	dma_setups = 0;
	/* without --mbuf-debug both reach the driver */
	CHECK_EQ(bp_eth_rx_queue_setup(port, 0, 64, plain), -ENOTSUP);
	CHECK_EQ(bp_eth_tx_queue_setup(port, 0, 64), -ENOTSUP);
	CHECK_EQ(dma_setups, 2);
	bp_mempool_free(plain);

	CHECK(debug_env());
	struct bp_mempool *dbg = bp_pktmbuf_pool_create("dbg", 64, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(dbg);
	port = fake_dma_port();
	CHECK(port < BP_MAX_ETHPORTS);
	dma_setups = 0;
	CHECK_EQ(bp_eth_rx_queue_setup(port, 0, 64, dbg), -EINVAL);
	CHECK_EQ(bp_eth_tx_queue_setup(port, 0, 64), -EINVAL);
	CHECK_EQ(dma_setups, 0); /* refused before the driver saw them */
	bp_mempool_free(dbg);
}

TEST(mbuf_debug_pools_are_refused_by_ports_that_dma)
{
	dma_refusal();
	bp_cleanup();
}

/* ---- the mistakes, each in a child that should die of it ---- */

static char out[65536];

static int crash(const char *mode)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", test_build_path("tests/unit/bypass-mbuf-debug-crash"),
		 mode);
	int rc = test_run(cmd, out, sizeof(out));
	if (getenv("TEST_VERBOSE"))
		fputs(out, stdout);
	return rc;
}

static bool has(const char *s) { return strstr(out, s) != NULL; }

/* The release build's verdict: our one line, naming the pool, then abort(). */
#define CHECK_OUR_ABORT(what)                                                        \
	do {                                                                         \
		CHECK_EQ(rc, 128 + SIGABRT);                                         \
		CHECK(has("bypass: mbuf debug: pool crashpool, object 0x"));         \
		CHECK(has(what));                                                    \
		CHECK(!has("survived"));                                             \
	} while (0)

#ifdef ASAN
/* ASan's report: the stack of the offending call names `second` (and not
 * `first`), the "freed by" stack after it names `first`. */
static bool both_stacks(const char *second, const char *first)
{
	char *freed = strstr(out, "freed by thread T0 here");
	if (!freed)
		return false;
	*freed = '\0';
	bool ok = has(second) && !has(first) && strstr(freed + 1, first) != NULL &&
		  strstr(freed + 1, "bp__mempool_debug_put") != NULL;
	*freed = 'f';
	return ok;
}
#endif

TEST(mbuf_debug_double_free_is_reported_with_both_frees)
{
	int rc = crash("double-free");
#ifdef ASAN
	/* The second free reads the freed mbuf: ASan stops there, and shows where
	 * the first free happened. */
	CHECK(rc != 0);
	CHECK(has("ERROR: AddressSanitizer: heap-use-after-free"));
	CHECK(both_stacks("crash_free_again_in_tx", "crash_free_after_rx"));
#else
	CHECK_OUR_ABORT("put back twice (double free");
#endif
}

TEST(mbuf_debug_double_put_is_a_double_free)
{
	int rc = crash("double-put");
#ifdef ASAN
	CHECK(rc != 0);
	CHECK(has("ERROR: AddressSanitizer: attempting double-free"));
	CHECK(both_stacks("crash_put_second", "crash_put_first"));
#else
	CHECK_OUR_ABORT("put back twice (double free");
#endif
}

TEST(mbuf_debug_write_past_the_data_room_is_caught_at_free)
{
	int rc = crash("canary");
	/* The write is not instrumented, so the pool's own check finds it in both
	 * builds (an instrumented one would be stopped by ASan at the write). */
	CHECK_OUR_ABORT("bytes after its 2304 were overwritten");
}

TEST(mbuf_debug_write_after_free_is_caught)
{
	int rc = crash("use-after-free");
#ifdef ASAN
	CHECK(rc != 0);
	CHECK(has("ERROR: AddressSanitizer: heap-use-after-free"));
	CHECK(has("WRITE of size 1"));
	CHECK(has("crash_write_after_free"));
	CHECK(has("freed by thread T0 here"));
#else
	/* found when the pool is freed and the quarantined mbuf with it */
	CHECK_OUR_ABORT("written after it was put back");
#endif
}

TEST(mbuf_debug_leak_is_counted_when_the_pool_is_freed)
{
	int rc = crash("leak");
	CHECK(has("mempool crashpool: freed with 2 objects still in use"));
#ifdef ASAN
	CHECK(rc != 0); /* LeakSanitizer lists both mbufs */
	CHECK(has("ERROR: LeakSanitizer: detected memory leaks"));
	CHECK(has("bp__mempool_debug_get"));
#else
	CHECK_EQ(rc, 0);
	CHECK(has("survived leak"));
#endif
}
