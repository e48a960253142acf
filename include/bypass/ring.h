/* SPDX-License-Identifier: MIT
 * A lockless ring of pointers, fixed power-of-two size.
 *
 * Producer and consumer each own a head (claimed slots) and a tail (published
 * slots) on their own cache line. A single producer or consumer moves its head
 * with a plain store; several move it with compare-and-swap and then publish in
 * the order they claimed. Indices run freely over 32 bits; `mask` folds them.
 *
 * bulk: all n or nothing; burst: as many as fit. The whole ring may be filled:
 * capacity equals size.
 */
#ifndef BYPASS_RING_H
#define BYPASS_RING_H

#include <bypass/common.h>

#define BP_RING_NAMESIZE 32
#define BP_RING_F_SP_ENQ 0x1u /* only one thread enqueues */
#define BP_RING_F_SC_DEQ 0x2u /* only one thread dequeues */

struct bp_ring_headtail {
	uint32_t head; /* accessed with __atomic builtins only */
	uint32_t tail;
	uint32_t single; /* true: no CAS, no waiting for earlier claimants */
};

struct bp_ring {
	char name[BP_RING_NAMESIZE];
	uint32_t flags;
	uint32_t size;
	uint32_t mask;
	struct bp_ring_headtail prod BP_CACHE_ALIGNED;
	struct bp_ring_headtail cons BP_CACHE_ALIGNED;
	void *slots[] BP_CACHE_ALIGNED;
};

/* count must be a power of two (>= 2). Returns NULL with errno set otherwise. */
struct bp_ring *bp_ring_create(const char *name, uint32_t count, uint32_t flags);
void bp_ring_free(struct bp_ring *r);
/* Bytes needed for a ring of `count` slots, and in-place initialisation. */
size_t bp_ring_memsize(uint32_t count);
int bp_ring_init(struct bp_ring *r, const char *name, uint32_t count, uint32_t flags);

/* Objects in the ring. Under MP/MC this is a snapshot: the consumer tail is
 * read first, so the count is never negative, and it is clamped to the size
 * because producers may move on between the two loads. */
static inline uint32_t bp_ring_count(const struct bp_ring *r)
{
	uint32_t cons = __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE);
	uint32_t n = prod - cons;
	return n > r->size ? r->size : n;
}
static inline uint32_t bp_ring_free_count(const struct bp_ring *r)
{
	return r->size - bp_ring_count(r);
}

/* Claims up to n slots for one side of the ring: `own` is its head/tail pair,
 * `other_tail` the opposite side's tail, and `room` what the opposite tail
 * leaves us (the size for producers, 0 for consumers). Returns how many it
 * claimed (0..n), the old head, and what is left after the claim.
 *
 * Memory order (C11, so that it holds on arm64 as on x86):
 *  - the head is loaded with acquire, and a failed CAS reloads it with acquire,
 *    so the load of the other side's tail that follows cannot be satisfied
 *    before it: the tail is never older than the head it is compared with, and
 *    `room + tail - head` cannot wrap;
 *  - the other side's tail is loaded with acquire, pairing with its release in
 *    bp__ring_publish: the slots it finished with are ours to read or overwrite;
 *  - the CAS is an acquire whether it wins or fails (C11 forbids a failure
 *    order stronger than the success order); what we then write into the
 *    slots is published by our own release of the tail. */
static inline uint32_t bp__ring_move_head(struct bp_ring_headtail *own, const uint32_t *other_tail,
					  uint32_t room, uint32_t n, bool fixed, uint32_t *old_head,
					  uint32_t *left)
{
	uint32_t head, avail, want;

	head = __atomic_load_n(&own->head, __ATOMIC_ACQUIRE);
	for (;;) {
		avail = room + __atomic_load_n(other_tail, __ATOMIC_ACQUIRE) - head;
		want = n;
		if (bp_unlikely(want > avail))
			want = fixed ? 0 : avail;
		if (want == 0)
			break;
		if (own->single) {
			__atomic_store_n(&own->head, head + want, __ATOMIC_RELAXED);
			break;
		}
		if (__atomic_compare_exchange_n(&own->head, &head, head + want, false, __ATOMIC_ACQUIRE,
						__ATOMIC_ACQUIRE))
			break;
	}
	*old_head = head;
	if (left)
		*left = avail - want;
	return want;
}

void bp__ring_wait_tail(struct bp_ring_headtail *ht, uint32_t old);

/* Publishes [old, old+n): earlier claimants publish first, then we release.
 * Under MP/MC the wait for the earlier claimant's tail is an acquire: our
 * release then carries its slot writes too (a plain store by another thread
 * does not extend its release sequence, C11 5.1.2.4). */
static inline void bp__ring_publish(struct bp_ring_headtail *ht, uint32_t old, uint32_t n)
{
	if (!ht->single && bp_unlikely(__atomic_load_n(&ht->tail, __ATOMIC_ACQUIRE) != old))
		bp__ring_wait_tail(ht, old);
	__atomic_store_n(&ht->tail, old + n, __ATOMIC_RELEASE);
}

/* Copies n pointers; the compiler turns each run into wide moves. */
static inline void bp__ring_copy(void **__restrict dst, void *const *__restrict src, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dst[i] = src[i];
}

static inline void bp__ring_copy_in(struct bp_ring *r, uint32_t head, void *const *objs,
				    uint32_t n)
{
	uint32_t idx = head & r->mask, first = r->size - idx;

	if (bp_likely(n <= first)) {
		bp__ring_copy(&r->slots[idx], objs, n);
	} else {
		bp__ring_copy(&r->slots[idx], objs, first);
		bp__ring_copy(r->slots, objs + first, n - first);
	}
}

static inline void bp__ring_copy_out(struct bp_ring *r, uint32_t head, void **objs, uint32_t n)
{
	uint32_t idx = head & r->mask, first = r->size - idx;

	if (bp_likely(n <= first)) {
		bp__ring_copy(objs, &r->slots[idx], n);
	} else {
		bp__ring_copy(objs, &r->slots[idx], first);
		bp__ring_copy(objs + first, r->slots, n - first);
	}
}

static inline uint32_t bp__ring_enqueue(struct bp_ring *r, void *const *objs, uint32_t n,
					bool fixed, uint32_t *free_space)
{
	uint32_t head;

	n = bp__ring_move_head(&r->prod, &r->cons.tail, r->size, n, fixed, &head, free_space);
	if (n) {
		bp__ring_copy_in(r, head, objs, n);
		bp__ring_publish(&r->prod, head, n);
	}
	return n;
}

static inline uint32_t bp__ring_dequeue(struct bp_ring *r, void **objs, uint32_t n, bool fixed,
					uint32_t *available)
{
	uint32_t head;

	n = bp__ring_move_head(&r->cons, &r->prod.tail, 0, n, fixed, &head, available);
	if (n) {
		bp__ring_copy_out(r, head, objs, n);
		bp__ring_publish(&r->cons, head, n);
	}
	return n;
}

/* All n objects or none. Returns n or 0; *free_space (if given) is what is left. */
static inline uint32_t bp_ring_enqueue_bulk(struct bp_ring *r, void *const *objs, uint32_t n,
					    uint32_t *free_space)
{
	return bp__ring_enqueue(r, objs, n, true, free_space);
}
/* As many as fit (0..n). */
static inline uint32_t bp_ring_enqueue_burst(struct bp_ring *r, void *const *objs, uint32_t n,
					     uint32_t *free_space)
{
	return bp__ring_enqueue(r, objs, n, false, free_space);
}
static inline uint32_t bp_ring_dequeue_bulk(struct bp_ring *r, void **objs, uint32_t n,
					    uint32_t *available)
{
	return bp__ring_dequeue(r, objs, n, true, available);
}
static inline uint32_t bp_ring_dequeue_burst(struct bp_ring *r, void **objs, uint32_t n,
					     uint32_t *available)
{
	return bp__ring_dequeue(r, objs, n, false, available);
}
static inline int bp_ring_enqueue(struct bp_ring *r, void *obj)
{
	return bp_ring_enqueue_bulk(r, &obj, 1, NULL) ? 0 : -1;
}
static inline int bp_ring_dequeue(struct bp_ring *r, void **obj)
{
	return bp_ring_dequeue_bulk(r, obj, 1, NULL) ? 0 : -1;
}

#endif
