/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <bypass/ring.h>
#include "harness.h"

TEST(ring_rejects_bad_sizes)
{
	CHECK(bp_ring_create("r", 0, 0) == NULL);
	CHECK(bp_ring_create("r", 1, 0) == NULL);
	CHECK(bp_ring_create("r", 1000, 0) == NULL);
	struct bp_ring *r = bp_ring_create("r", 1024, 0);
	CHECK(r != NULL);
	CHECK_EQ(r->size, 1024);
	bp_ring_free(r);
}

TEST(ring_fifo_order_and_wrap)
{
	struct bp_ring *r = bp_ring_create("r", 64, BP_RING_F_SP_ENQ | BP_RING_F_SC_DEQ);
	uintptr_t next_in = 1, next_out = 1;
	void *buf[64];
	CHECK(r);
	/* Odd sizes walk the indices across the wrap point many times. */
	for (int round = 0; round < 1000; round++) {
		uint32_t n = (uint32_t)(round % 37) + 1;
		for (uint32_t i = 0; i < n; i++)
			buf[i] = (void *)next_in++;
		CHECK_EQ(bp_ring_enqueue_bulk(r, buf, n, NULL), n);
		CHECK_EQ(bp_ring_count(r), n);
		memset(buf, 0, sizeof(buf));
		CHECK_EQ(bp_ring_dequeue_bulk(r, buf, n, NULL), n);
		for (uint32_t i = 0; i < n; i++)
			CHECK_EQ((uintptr_t)buf[i], next_out++);
	}
	CHECK_EQ(bp_ring_count(r), 0);
	bp_ring_free(r);
}

TEST(ring_bulk_is_all_or_nothing_burst_is_partial)
{
	struct bp_ring *r = bp_ring_create("r", 16, 0);
	void *objs[32];
	uint32_t free_space = 99, avail = 99;
	for (int i = 0; i < 32; i++)
		objs[i] = (void *)(uintptr_t)(i + 1);
	CHECK(r);
	CHECK_EQ(bp_ring_enqueue_bulk(r, objs, 15, &free_space), 15);
	CHECK_EQ(free_space, 1);
	CHECK_EQ(bp_ring_enqueue_bulk(r, objs, 2, &free_space), 0); /* needs 2, has 1 */
	CHECK_EQ(bp_ring_count(r), 15);
	CHECK_EQ(bp_ring_enqueue_burst(r, objs + 15, 2, &free_space), 1);
	CHECK_EQ(free_space, 0);
	CHECK_EQ(bp_ring_count(r), 16); /* the whole ring is usable */
	CHECK_EQ(bp_ring_dequeue_bulk(r, objs, 17, &avail), 0);
	CHECK_EQ(avail, 16);
	CHECK_EQ(bp_ring_dequeue_burst(r, objs, 17, &avail), 16);
	CHECK_EQ(avail, 0);
	for (int i = 0; i < 16; i++)
		CHECK_EQ((uintptr_t)objs[i], i + 1);
	void *one;
	CHECK_EQ(bp_ring_dequeue(r, &one), -1);
	bp_ring_free(r);
}

/* Several producers and consumers, millions of objects: each object is counted
 * exactly once on the way out. */
#define STRESS_PRODUCERS 3
#define STRESS_CONSUMERS 3
#define STRESS_PER_PRODUCER 700000u

struct stress {
	struct bp_ring *r;
	uint8_t *seen; /* one byte per object: counts how often it came out */
	volatile uint32_t producers_left;
	uint64_t sum_out[STRESS_CONSUMERS];
	uint32_t id;
};

static void *producer(void *arg)
{
	struct stress *s = arg;
	uint32_t id = __atomic_fetch_add(&s->id, 1, __ATOMIC_RELAXED);
	uint32_t base = id * STRESS_PER_PRODUCER, i = 0;
	unsigned seed = id;
	void *objs[64];
	while (i < STRESS_PER_PRODUCER) {
		uint32_t n = (uint32_t)rand_r(&seed) % 48 + 1;
		if (n > STRESS_PER_PRODUCER - i)
			n = STRESS_PER_PRODUCER - i;
		for (uint32_t k = 0; k < n; k++)
			objs[k] = (void *)(uintptr_t)(base + i + k + 1);
		bool bulk = rand_r(&seed) & 1;
		uint32_t done = bulk ? bp_ring_enqueue_bulk(s->r, objs, n, NULL)
				     : bp_ring_enqueue_burst(s->r, objs, n, NULL);
		i += done;
		if (!done)
			sched_yield(); /* more threads than cores: let a consumer run */
	}
	__atomic_fetch_sub(&s->producers_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct consumer_arg {
	struct stress *s;
	int idx;
};

static void *consumer(void *arg)
{
	struct consumer_arg *ca = arg;
	struct stress *s = ca->s;
	unsigned seed = 100u + (unsigned)ca->idx;
	void *objs[64];
	for (;;) {
		uint32_t n = (uint32_t)rand_r(&seed) % 48 + 1;
		bool bulk = rand_r(&seed) & 1;
		uint32_t got = bulk ? bp_ring_dequeue_bulk(s->r, objs, n, NULL)
				    : bp_ring_dequeue_burst(s->r, objs, n, NULL);
		for (uint32_t k = 0; k < got; k++) {
			uintptr_t v = (uintptr_t)objs[k] - 1;
			__atomic_fetch_add(&s->seen[v], 1, __ATOMIC_RELAXED);
			s->sum_out[ca->idx] += v;
		}
		if (!got) {
			if (__atomic_load_n(&s->producers_left, __ATOMIC_ACQUIRE) == 0 &&
			    bp_ring_count(s->r) == 0)
				break;
			sched_yield();
		}
	}
	return NULL;
}

TEST(ring_mpmc_stress_no_loss_no_duplicate)
{
	const uint32_t total = STRESS_PRODUCERS * STRESS_PER_PRODUCER;
	struct stress s = { .producers_left = STRESS_PRODUCERS };
	pthread_t pt[STRESS_PRODUCERS], ct[STRESS_CONSUMERS];
	struct consumer_arg ca[STRESS_CONSUMERS];

	s.r = bp_ring_create("stress", 256, 0);
	s.seen = calloc(total, 1);
	CHECK(s.r && s.seen);
	for (int i = 0; i < STRESS_CONSUMERS; i++) {
		ca[i] = (struct consumer_arg){ &s, i };
		pthread_create(&ct[i], NULL, consumer, &ca[i]);
	}
	for (int i = 0; i < STRESS_PRODUCERS; i++)
		pthread_create(&pt[i], NULL, producer, &s);
	for (int i = 0; i < STRESS_PRODUCERS; i++)
		pthread_join(pt[i], NULL);
	for (int i = 0; i < STRESS_CONSUMERS; i++)
		pthread_join(ct[i], NULL);

	uint64_t sum = 0, expect = (uint64_t)total * (total - 1) / 2;
	uint32_t missing = 0, dup = 0;
	for (int i = 0; i < STRESS_CONSUMERS; i++)
		sum += s.sum_out[i];
	for (uint32_t v = 0; v < total; v++) {
		missing += s.seen[v] == 0;
		dup += s.seen[v] > 1;
	}
	free(s.seen);
	bp_ring_free(s.r);
	CHECK_EQ(missing, 0);
	CHECK_EQ(dup, 0);
	CHECK(sum == expect);
}

#define SPSC_N 2000000u

static void *spsc_producer(void *p)
{
	struct bp_ring *r = p;
	uintptr_t v = 1;
	void *objs[32];
	while (v <= SPSC_N) {
		uint32_t n = 0;
		while (n < 32 && v + n <= SPSC_N) {
			objs[n] = (void *)(v + n);
			n++;
		}
		v += bp_ring_enqueue_burst(r, objs, n, NULL);
	}
	return NULL;
}

TEST(ring_spsc_two_threads_keep_order)
{
	struct bp_ring *r = bp_ring_create("spsc", 128, BP_RING_F_SP_ENQ | BP_RING_F_SC_DEQ);
	pthread_t t;
	CHECK(r);
	pthread_create(&t, NULL, spsc_producer, r);
	uintptr_t expect = 1;
	bool in_order = true;
	while (expect <= SPSC_N) {
		void *objs[32];
		uint32_t got = bp_ring_dequeue_burst(r, objs, 32, NULL);
		for (uint32_t i = 0; i < got; i++)
			in_order &= (uintptr_t)objs[i] == expect++;
	}
	pthread_join(t, NULL);
	bp_ring_free(r);
	CHECK(in_order);
	CHECK_EQ(expect, SPSC_N + 1);
}

/* bp_ring_count while others enqueue and dequeue: a snapshot, but never more
 * than the ring holds (a stale consumer tail against a fresh producer tail, or
 * the reverse, must not wrap to four billion). */
struct churn {
	struct bp_ring *r;
	volatile bool stop;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	void *objs[8] = { 0 };
	while (!c->stop) {
		unsigned n = bp_ring_enqueue_burst(c->r, objs, 8, NULL);
		bp_ring_dequeue_burst(c->r, objs, n, NULL);
	}
	return NULL;
}

TEST(ring_count_under_mpmc_churn_stays_within_the_size)
{
	struct churn c = { bp_ring_create("churn", 16, 0), false };
	pthread_t t[2];
	CHECK(c.r);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn_main, &c);
	uint32_t worst = 0;
	for (int i = 0; i < 2000000; i++) {
		uint32_t n = bp_ring_count(c.r);
		worst = n > worst ? n : worst;
	}
	c.stop = true;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	bp_ring_free(c.r);
	CHECK(worst <= 16);
}
