/* SPDX-License-Identifier: MIT
 * Paces a sender to a rate on the TSC: since the first frame, as many frames
 * as the rate allows by now, never a burst more; a sender that fell behind
 * (a full ring) catches up at once, so the average holds. */
#ifndef BYPASS_APPS_PACE_H
#define BYPASS_APPS_PACE_H

#include <stdint.h>
#include <bypass/env.h>
#include <bypass/common.h>

struct pace {
	double per_tsc;  /* frames per TSC cycle; 0: no pacing */
	uint64_t start;  /* TSC of the first frame (0: none yet) */
	uint64_t done;   /* frames let through since */
};

static inline void pace_init(struct pace *p, double pps)
{
	p->per_tsc = pps > 0 ? pps / (double)bp_tsc_hz() : 0;
	p->start = p->done = 0;
}

/* How many of `want` frames may go now; they count as gone. */
static inline uint32_t pace_take(struct pace *p, uint32_t want)
{
	if (p->per_tsc > 0 && want) {
		uint64_t now = bp_rdtsc();
		if (!p->start)
			p->start = now;
		uint64_t due = (uint64_t)((double)(now - p->start) * p->per_tsc) + 1;
		want = due <= p->done ? 0 : (uint32_t)BP_MIN((uint64_t)want, due - p->done);
	}
	p->done += want;
	return want;
}

#endif
