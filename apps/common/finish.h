/* SPDX-License-Identifier: MIT
 * The end of every app: close the ports (their rings give back their mbufs),
 * say how many mbufs are still out — 0, or the app leaked one — and free
 * the pool. */
#ifndef BYPASS_APPS_FINISH_H
#define BYPASS_APPS_FINISH_H

#include <stdio.h>
#include <bypass/ethdev.h>
#include <bypass/mempool.h>

/* The mbufs still out (0 without a pool). */
static inline uint32_t app_close_ports(struct bp_mempool *pool, FILE *out)
{
	uint16_t p;
	BP_ETH_FOREACH_DEV(p)
		bp_eth_dev_close(p);
	if (!pool)
		return 0;
	uint32_t in_use = bp_mempool_in_use_count(pool);
	fprintf(out, "mbufs in use at exit: %u of %u\n", in_use, pool->size);
	bp_mempool_free(pool);
	return in_use;
}

#endif
