/* SPDX-License-Identifier: MIT
 * How far apart two CPUs are: one cache line passed back and forth between
 * a thread on each, as a counter each side bumps in turn; prints the median
 * round trip in ns over SECONDS (default 0.3). On the shared VMs here the
 * same two vCPUs show ~90 ns in one stretch and ~330 ns in the next (the
 * host moves them): a side-by-side benchmark that passes packets between
 * the two cores reads its regime from this before and after each run.
 *   bench-cpu_rtt [SECONDS] [CPU_A CPU_B]   (default 0.3, CPUs 0 and 1)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SLICES 32

static _Alignas(64) volatile uint64_t line;
static volatile int stop;

static int pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The other side: answers every odd value with the next even one. */
static void *echo(void *arg)
{
	if (pin(*(int *)arg) != 0)
		return (void *)1;
	uint64_t seen = 0;
	while (!stop) {
		uint64_t v = line;
		if (v != seen && (v & 1)) {
			seen = v;
			line = v + 1;
		}
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.3;
	int a = argc > 3 ? atoi(argv[2]) : 0, b = argc > 3 ? atoi(argv[3]) : 1;
	if (secs <= 0 || secs > 60) {
		fprintf(stderr, "bench-cpu_rtt: SECONDS from 0.01 to 60, not '%s'\n", argv[1]);
		return 2;
	}
	pthread_t t;
	if (pin(a) != 0 || pthread_create(&t, NULL, echo, &b) != 0) {
		fprintf(stderr, "bench-cpu_rtt: cannot run on CPUs %d and %d\n", a, b);
		return 1;
	}
	/* the median of SLICES slices: one preemption spoils one slice only */
	double rtt[SLICES];
	uint64_t v = 0;
	for (int s = 0; s < SLICES; s++) {
		double t0 = now(), end = t0 + secs / SLICES;
		uint64_t trips = 0;
		do {
			for (int i = 0; i < 256; i++) {
				line = v + 1;
				while (line != v + 2)
					;
				v += 2;
			}
			trips += 256;
		} while (now() < end);
		rtt[s] = (now() - t0) * 1e9 / (double)trips;
	}
	stop = 1;
	void *rc;
	pthread_join(t, &rc);
	if (rc) {
		fprintf(stderr, "bench-cpu_rtt: cannot run on CPU %d\n", b);
		return 1;
	}
	qsort(rtt, SLICES, sizeof(rtt[0]), cmp);
	printf("%.0f\n", (rtt[SLICES / 2 - 1] + rtt[SLICES / 2]) / 2);
	return 0;
}
