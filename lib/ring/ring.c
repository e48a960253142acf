/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sched.h>
#include <bypass/ring.h>
#include <bypass/log.h>

size_t bp_ring_memsize(uint32_t count)
{
	return sizeof(struct bp_ring) + (size_t)count * sizeof(void *);
}

int bp_ring_init(struct bp_ring *r, const char *name, uint32_t count, uint32_t flags)
{
	if (!bp_is_power_of_2(count) || count < 2 || count > (1u << 31)) {
		BP_LOG(ERR, "ring %s: size %u is not a power of two between 2 and 2^31", name, count);
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->flags = flags;
	r->size = count;
	r->mask = count - 1;
	r->prod.single = !!(flags & BP_RING_F_SP_ENQ);
	r->cons.single = !!(flags & BP_RING_F_SC_DEQ);
	return 0;
}

struct bp_ring *bp_ring_create(const char *name, uint32_t count, uint32_t flags)
{
	struct bp_ring *r;
	if (!bp_is_power_of_2(count) || count < 2 || count > (1u << 31)) {
		BP_LOG(ERR, "ring %s: size %u is not a power of two between 2 and 2^31", name, count);
		errno = EINVAL;
		return NULL;
	}
	if (posix_memalign((void **)&r, BP_CACHE_LINE, bp_ring_memsize(count)) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	bp_ring_init(r, name, count, flags);
	return r;
}

void bp_ring_free(struct bp_ring *r) { free(r); }

/* An earlier claimant has not published yet. Usually it is a few copies away; if
 * it was preempted (more threads than cores), spinning would waste our whole time
 * slice, so after a while give the CPU to it. Out of line: the common path stays
 * small. */
void bp__ring_wait_tail(struct bp_ring_headtail *ht, uint32_t old)
{
	unsigned spins = 0;
	while (__atomic_load_n(&ht->tail, __ATOMIC_ACQUIRE) != old) {
		if (++spins < 4096)
			bp_pause();
		else
			sched_yield();
	}
}
