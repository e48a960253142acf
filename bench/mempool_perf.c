/* SPDX-License-Identifier: MIT
 * Mempool: one core gets 4 bursts of 32 objects and puts them back, through
 * the lcore cache (the pattern of an rx/tx loop). Prints cycles per object
 * (get + put). */
#include "compat.h"

#define BULK 32
#define KEEP 128
#define POOL_SIZE 8191
#define ELT_SIZE 2304
#define CACHE 256

int main(int argc, char **argv)
{
	if (env_init(argc, argv) < 0)
		return 1;
	unsigned long iters = bench_iterations(argc, argv, 2000000);
	pool_t *p = pool_new("perf_pool", POOL_SIZE, ELT_SIZE, CACHE);
	if (!p) {
		fprintf(stderr, "mempool_perf: cannot create the pool\n");
		return 1;
	}
	void *objs[KEEP];
	for (int pass = 0; pass < 2; pass++) { /* first pass warms up */
		unsigned long n = pass ? iters : iters / 10;
		uint64_t t0 = tsc();
		for (unsigned long i = 0; i < n; i++) {
			for (int k = 0; k < KEEP; k += BULK)
				if (pool_get_bulk(p, &objs[k], BULK) < 0) {
					fprintf(stderr, "mempool_perf: get failed\n");
					return 1;
				}
			for (int k = 0; k < KEEP; k += BULK)
				pool_put_bulk(p, &objs[k], BULK);
		}
		if (pass)
			printf("%s mempool get/put bulk 32 cache %d: %.2f cycles/object\n", IMPL, CACHE,
			       (double)(tsc() - t0) / ((double)n * KEEP));
	}
	env_fini();
	return 0;
}
