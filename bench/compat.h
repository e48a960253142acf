/* SPDX-License-Identifier: MIT
 * The benchmarks are written once and compiled twice: against bypass, and with
 * -DBENCH_DPDK against DPDK, so that both run exactly the same loop. */
#ifndef BENCH_COMPAT_H
#define BENCH_COMPAT_H

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

#ifdef BENCH_DPDK
#include <rte_eal.h>
#include <rte_ring.h>
#include <rte_mempool.h>
#include <rte_cycles.h>
#define IMPL "dpdk"
typedef struct rte_ring ring_t;
typedef struct rte_mempool pool_t;
static inline int env_init(int argc, char **argv) { return rte_eal_init(argc, argv); }
static inline void env_fini(void) { rte_eal_cleanup(); }
static inline ring_t *ring_new(const char *n, unsigned size, int single)
{
	/* RING_F_EXACT_SZ: `size` usable slots, like ours. */
	return rte_ring_create(n, size, SOCKET_ID_ANY,
			       RING_F_EXACT_SZ | (single ? RING_F_SP_ENQ | RING_F_SC_DEQ : 0));
}
#define ring_enq_bulk(r, o, n) rte_ring_enqueue_bulk(r, o, n, NULL)
#define ring_deq_bulk(r, o, n) rte_ring_dequeue_bulk(r, o, n, NULL)
static inline pool_t *pool_new(const char *n, unsigned count, unsigned elt, unsigned cache)
{
	return rte_mempool_create(n, count, elt, cache, 0, NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);
}
#define pool_get_bulk(p, o, n) rte_mempool_get_bulk(p, o, n)
#define pool_put_bulk(p, o, n) rte_mempool_put_bulk(p, o, n)
#define tsc() rte_rdtsc()
#define launch(fn, arg, core) rte_eal_remote_launch(fn, arg, core)
#define wait_all() rte_eal_mp_wait_lcore()
#else
#include <bypass/env.h>
#include <bypass/ring.h>
#include <bypass/mempool.h>
#define IMPL "bypass"
typedef struct bp_ring ring_t;
typedef struct bp_mempool pool_t;
static inline int env_init(int argc, char **argv) { return bp_init(argc, argv); }
static inline void env_fini(void) { bp_cleanup(); }
static inline ring_t *ring_new(const char *n, unsigned size, int single)
{
	return bp_ring_create(n, size, single ? BP_RING_F_SP_ENQ | BP_RING_F_SC_DEQ : 0);
}
#define ring_enq_bulk(r, o, n) bp_ring_enqueue_bulk(r, o, n, NULL)
#define ring_deq_bulk(r, o, n) bp_ring_dequeue_bulk(r, o, n, NULL)
static inline pool_t *pool_new(const char *n, unsigned count, unsigned elt, unsigned cache)
{
	return bp_mempool_create(n, count, elt, cache, 0, NULL, NULL);
}
#define pool_get_bulk(p, o, n) bp_mempool_get_bulk(p, o, n)
#define pool_put_bulk(p, o, n) bp_mempool_put_bulk(p, o, n)
#define tsc() bp_rdtsc()
#define launch(fn, arg, core) bp_lcore_launch(core, fn, arg)
#define wait_all() bp_lcore_wait_all()
#endif

/* "--iterations N" after the environment's own options. */
static inline unsigned long bench_iterations(int argc, char **argv, unsigned long dflt)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!__builtin_strcmp(argv[i], "--iterations"))
			return strtoul(argv[i + 1], NULL, 0);
	return dflt;
}

#endif
