/* SPDX-License-Identifier: MIT
 * One-way latency of test frames: the sender writes its CLOCK_MONOTONIC time
 * into the frame (testpkt.h), the receiver reads the same clock on arrival
 * (sender and receiver on one machine, or one guest). A histogram of 1 us
 * buckets up to 100 ms, and the largest value seen, give the percentiles. */
#ifndef BYPASS_APPS_LATENCY_H
#define BYPASS_APPS_LATENCY_H

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define LAT_BUCKETS 100000 /* 1 us each: 0 .. 100 ms; later ones land in the last */

struct latency {
	uint64_t n, max_ns;
	uint32_t *bucket; /* LAT_BUCKETS counters, allocated on first use */
};

static inline uint64_t lat_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void lat_add(struct latency *l, uint64_t ns)
{
	if (!l->bucket && !(l->bucket = calloc(LAT_BUCKETS, sizeof(*l->bucket))))
		return;
	uint64_t us = ns / 1000;
	l->bucket[us < LAT_BUCKETS ? us : LAT_BUCKETS - 1]++;
	l->n++;
	if (ns > l->max_ns)
		l->max_ns = ns;
}

/* The latency below which a share q (0..1) of the samples fall, in us. */
static inline double lat_quantile(const struct latency *l, double q)
{
	uint64_t want = (uint64_t)(q * (double)l->n + 0.999999), seen = 0;
	for (uint32_t i = 0; l->bucket && i < LAT_BUCKETS; i++) {
		seen += l->bucket[i];
		if (seen >= want && seen) /* the bucket's middle; the last has no top: the largest seen */
			return i + 1 < LAT_BUCKETS ? i + 0.5 : (double)l->max_ns / 1000;
	}
	return (double)l->max_ns / 1000;
}

/* "n=1000 p50=12.5 p99=40.5 p99.9=80.5 max=95.2 us" */
static inline void lat_print(FILE *f, const struct latency *l)
{
	if (!l->n) {
		fprintf(f, "n=0\n");
		return;
	}
	fprintf(f, "n=%llu p50=%.1f p99=%.1f p99.9=%.1f max=%.1f us\n", (unsigned long long)l->n,
		lat_quantile(l, 0.5), lat_quantile(l, 0.99), lat_quantile(l, 0.999), (double)l->max_ns / 1000);
}

/* The histogram in powers of two: bucket k counts samples in [2^(k-1), 2^k)
 * us ([0, 1) for k = 0), up to LAT_LOG_BUCKETS - 1, which takes the rest. */
#define LAT_LOG_BUCKETS 18 /* the last from 65.5 ms */
static inline void lat_log_histogram(const struct latency *l, uint64_t out[LAT_LOG_BUCKETS])
{
	for (unsigned k = 0; k < LAT_LOG_BUCKETS; k++)
		out[k] = 0;
	for (uint32_t us = 0; l->bucket && us < LAT_BUCKETS; us++) {
		unsigned k = 0;
		while (k + 1 < LAT_LOG_BUCKETS && us >= (1u << k))
			k++;
		out[k] += l->bucket[us];
	}
}

/* Adds src's samples to dst (one report for several receiving queues). */
static inline void lat_merge(struct latency *dst, const struct latency *src)
{
	if (!src->n || (!dst->bucket && !(dst->bucket = calloc(LAT_BUCKETS, sizeof(*dst->bucket)))))
		return;
	for (uint32_t i = 0; i < LAT_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->n += src->n;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

static inline void lat_free(struct latency *l)
{
	free(l->bucket);
	l->bucket = NULL;
}

#endif
