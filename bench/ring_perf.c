/* SPDX-License-Identifier: MIT
 * Ring: bulk-32 enqueue then dequeue on one core, SP/SC and MP/MC, and SP/SC
 * across two cores. Prints cycles per object (enqueue + dequeue). */
#include <string.h>
#include "compat.h"

#define BULK 32
#define RING_SIZE 2048

static double one_core(ring_t *r, unsigned long iters)
{
	void *objs[BULK];
	for (int i = 0; i < BULK; i++)
		objs[i] = (void *)(uintptr_t)(i + 1);
	uint64_t t0 = tsc();
	for (unsigned long i = 0; i < iters; i++) {
		if (ring_enq_bulk(r, objs, BULK) != BULK || ring_deq_bulk(r, objs, BULK) != BULK) {
			fprintf(stderr, "ring_perf: bulk operation failed\n");
			exit(1);
		}
	}
	return (double)(tsc() - t0) / ((double)iters * BULK);
}

struct two_arg {
	ring_t *r;
	unsigned long iters;
};

static int producer(void *p)
{
	struct two_arg *a = p;
	void *objs[BULK];
	for (int i = 0; i < BULK; i++)
		objs[i] = (void *)(uintptr_t)(i + 1);
	for (unsigned long i = 0; i < a->iters;)
		i += ring_enq_bulk(a->r, objs, BULK) ? 1 : 0;
	return 0;
}

static double two_cores(ring_t *r, unsigned long iters, unsigned worker)
{
	struct two_arg a = { r, iters };
	void *objs[BULK];
	uint64_t t0 = tsc();
	launch(producer, &a, worker);
	for (unsigned long i = 0; i < iters;)
		i += ring_deq_bulk(r, objs, BULK) ? 1 : 0;
	wait_all();
	return (double)(tsc() - t0) / ((double)iters * BULK);
}

int main(int argc, char **argv)
{
	if (env_init(argc, argv) < 0)
		return 1;
	unsigned long iters = bench_iterations(argc, argv, 4000000);
	ring_t *sp = ring_new("perf_sp", RING_SIZE, 1), *mp = ring_new("perf_mp", RING_SIZE, 0);
	if (!sp || !mp)
		return 1;
	one_core(sp, iters / 10); /* warm up */
	printf("%s ring SP/SC bulk 32 one core: %.2f cycles/object\n", IMPL, one_core(sp, iters));
	printf("%s ring MP/MC bulk 32 one core: %.2f cycles/object\n", IMPL, one_core(mp, iters));
	const char *two = getenv("BENCH_TWO_CORES");
	if (two && *two)
		printf("%s ring SP/SC bulk 32 two cores: %.2f cycles/object\n", IMPL,
		       two_cores(sp, iters / 4, (unsigned)atoi(two)));
	env_fini();
	return 0;
}
