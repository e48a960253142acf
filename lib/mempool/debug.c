/* SPDX-License-Identifier: MIT
 * Debug pools (--mbuf-debug, -Dmbuf_debug=true): every object is its own heap
 * allocation, so the memory checkers that know the heap see what a pool hides.
 *
 * A normal pool recycles objects: a double put makes one object appear twice in
 * the ring, and a write after put lands in an object somebody else owns; both
 * surface much later as corrupted packets. Here a get mallocs a fresh object and
 * a put frees it at once, so
 *   - AddressSanitizer reports a double put as "attempting double-free", with
 *     the stack of the second put and, under "freed by thread T0 here", the
 *     first; a read or write after put as heap-use-after-free, with both stacks;
 *     leaked objects in its leak report, with where they were taken;
 *   - valgrind reports the same as "Invalid free()" / "Invalid read" (it is
 *     recognised at run time, and objects are then freed at once as well);
 *   - without either, our own checks do: a state word in a header before the
 *     object (live or free), canaries on both sides of the object, checked at
 *     every put and when the pool is freed, and 0x6b written over a put object.
 *     Put objects wait in a small quarantine before free() so that a double put
 *     or a write after put still finds our poison rather than a reused block;
 *     the poison is checked again when they leave it.
 *
 * obj_init runs at every get (there is no object before) and again over the
 * poison at every put: a put object looks like a free one of a normal pool (an
 * mbuf: refcnt 1, next NULL, its pool) with everything else, an mbuf's data,
 * 0x6b. Without that, a second bp_pktmbuf_free would follow a poisoned next
 * pointer and crash somewhere unhelpful instead of reaching the check here.
 * Every failure prints one line naming the pool and the object, and aborts:
 * the state is corrupt and the stack in the core dump is the one to read.
 *
 * The pool keeps n as a hard limit (a free-index stack hands out indices
 * 0..n-1), so -ENOBUFS comes at the same count as with a normal pool, and
 * bp_mempool_obj_index stays meaningful.
 *
 * Layout of one allocation (64-byte aligned, like a pool's objects):
 *   struct dbg_hdr (64 bytes: state, pool, index, front canary)
 *   the object (the elt_size asked for: for an mbuf, header, private area, data room)
 *   rear canary (DBG_CANARY_LEN bytes)
 * The canaries sit right against the object, so a write one byte before its
 * start or past its end (an mbuf's data room) changes one. Under ASan they are
 * also poisoned, so such a write is reported where it happens.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <bypass/mempool.h>
#include <bypass/log.h>
#include "debug.h"

#if defined(__SANITIZE_ADDRESS__)
#define DBG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DBG_ASAN 1
#endif
#endif
#ifdef DBG_ASAN
#include <sanitizer/asan_interface.h>
#endif
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define DBG_VALGRIND 1
#endif
#endif

#define DBG_LIVE 0x4c4956456f626a21ull  /* "LIVEobj!" */
#define DBG_FREE 0x465245456f626a21ull  /* "FREEobj!" */
#define DBG_CANARY_BYTE 0xca
#define DBG_CANARY_LEN 16
#define DBG_POISON 0x6b /* the kernel's slab poison: known to whoever reads dumps */
#define DBG_QUARANTINE 64

struct dbg_hdr {
	uint64_t state;          /* DBG_LIVE or DBG_FREE */
	struct bp_mempool *pool; /* the pool it was taken from */
	uint32_t idx;            /* 0..size-1 */
	uint32_t len;            /* object bytes (the pool's elt_size) */
	uint64_t sum;            /* of the object as put back: must not change in quarantine */
	uint8_t pad[BP_CACHE_LINE - 32 - DBG_CANARY_LEN];
	uint8_t front[DBG_CANARY_LEN];
};
_Static_assert(sizeof(struct dbg_hdr) == BP_CACHE_LINE, "objects stay cache-line aligned");

struct bp_mempool_debug {
	pthread_mutex_t lock;
	bp_mempool_obj_cb obj_init; /* run at every get and over the poison at put */
	uint32_t obj_len;    /* the size asked for, not rounded to lines: the rear canary
			      * then starts where the caller's object ends */
	uint32_t out;        /* objects taken and not put back */
	uint32_t nb_free;    /* entries in free_idx */
	uint32_t *free_idx;  /* indices not in use */
	bool quarantine_on;  /* false under ASan and valgrind: they quarantine, with stacks */
	uint32_t q_len, q_head;
	struct dbg_hdr *q[DBG_QUARANTINE];
};

static struct dbg_hdr *hdr_of(const void *obj)
{
	return (struct dbg_hdr *)((char *)(uintptr_t)obj - sizeof(struct dbg_hdr));
}
static uint8_t *rear_of(struct dbg_hdr *h) { return (uint8_t *)(h + 1) + h->len; }

/* The canaries are ours to read; to everyone else they are out of bounds:
 * closed (poisoned for ASan, no-access for valgrind) but while we check them. */
static void canaries_set_access(struct dbg_hdr *h, bool open)
{
	uint8_t *spans[2] = { h->front, rear_of(h) };
	for (int i = 0; i < 2; i++) {
#ifdef DBG_ASAN
		if (open)
			ASAN_UNPOISON_MEMORY_REGION(spans[i], DBG_CANARY_LEN);
		else
			ASAN_POISON_MEMORY_REGION(spans[i], DBG_CANARY_LEN);
#endif
#ifdef DBG_VALGRIND
		if (open)
			VALGRIND_MAKE_MEM_DEFINED(spans[i], DBG_CANARY_LEN);
		else
			VALGRIND_MAKE_MEM_NOACCESS(spans[i], DBG_CANARY_LEN);
#endif
		(void)spans[i], (void)open;
	}
}
static void canaries_guard(struct dbg_hdr *h) { canaries_set_access(h, false); }
static void canaries_open(struct dbg_hdr *h) { canaries_set_access(h, true); }

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* One line that names the pool and the object, then abort (not exit: the core
 * and the debugger should see the stack that found it). */
static void __attribute__((noreturn, format(printf, 3, 4)))
dbg_die(const struct bp_mempool *mp, const void *obj, const char *fmt, ...)
{
	char what[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "bypass: mbuf debug: pool %s, object %p: %s; aborting\n",
		mp ? mp->name : "?", obj, what);
	fflush(stderr);
	abort();
}

static void check_canaries(const struct bp_mempool *mp, struct dbg_hdr *h, const void *obj)
{
	canaries_open(h);
	if (!all_bytes(h->front, DBG_CANARY_LEN, DBG_CANARY_BYTE))
		dbg_die(mp, obj, "the %d bytes before it were overwritten (a write before the "
				 "object's start)", DBG_CANARY_LEN);
	if (!all_bytes(rear_of(h), DBG_CANARY_LEN, DBG_CANARY_BYTE))
		dbg_die(mp, obj, "the %d bytes after its %u were overwritten (a write past the end "
				 "of the data room)", DBG_CANARY_LEN, h->len);
}

/* FNV-1a: enough to see that a put object changed. */
static uint64_t obj_sum(const void *obj, size_t len)
{
	const uint8_t *p = obj;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Really frees h: out of the quarantine (checked), or at once (ASan, valgrind). */
static void release(const struct bp_mempool *mp, struct dbg_hdr *h, bool quarantined)
{
	if (quarantined && obj_sum(h + 1, h->len) != h->sum)
		dbg_die(mp, h + 1, "written after it was put back (poison 0x%x changed while it "
				   "waited in quarantine)", DBG_POISON);
	canaries_open(h);
	free(h);
}

int bp__mempool_debug_get(struct bp_mempool *mp, void **objs, uint32_t n)
{
	struct bp_mempool_debug *d = mp->debug;
	uint32_t i;

	pthread_mutex_lock(&d->lock);
	if (n > d->nb_free) {
		pthread_mutex_unlock(&d->lock);
		return -ENOBUFS;
	}
	for (i = 0; i < n; i++) {
		struct dbg_hdr *h;
		size_t bytes = sizeof(*h) + d->obj_len + DBG_CANARY_LEN;
		if (posix_memalign((void **)&h, BP_CACHE_LINE, bytes) != 0)
			break;
		memset(h, 0, sizeof(*h));
		h->state = DBG_LIVE;
		h->pool = mp;
		h->idx = d->free_idx[--d->nb_free];
		h->len = d->obj_len;
		memset(h->front, DBG_CANARY_BYTE, DBG_CANARY_LEN);
		memset(rear_of(h), DBG_CANARY_BYTE, DBG_CANARY_LEN);
		canaries_guard(h);
		objs[i] = h + 1;
	}
	if (i < n) { /* out of heap: give back what this call took, all or nothing */
		while (i--) {
			struct dbg_hdr *h = hdr_of(objs[i]);
			d->free_idx[d->nb_free++] = h->idx;
			canaries_open(h);
			free(h);
		}
		pthread_mutex_unlock(&d->lock);
		return -ENOBUFS;
	}
	d->out += n;
	pthread_mutex_unlock(&d->lock);
	/* Outside the lock: obj_init may take a while, and objects are private
	 * until returned. */
	if (d->obj_init)
		for (i = 0; i < n; i++)
			d->obj_init(mp, NULL, objs[i], hdr_of(objs[i])->idx);
	return 0;
}

/* Out of line and never inlined, so that every report's stack shows a put
 * (bp_pktmbuf_free, bp_mempool_put, ...) and, below it, the caller. */
__attribute__((noinline)) void bp__mempool_debug_put(struct bp_mempool *mp, void *const *objs,
						    uint32_t n)
{
	struct bp_mempool_debug *d = mp->debug;

	for (uint32_t i = 0; i < n; i++) {
		void *obj = objs[i];
		struct dbg_hdr *h = hdr_of(obj);
#ifdef DBG_ASAN
		/* Already freed: let ASan say so, with the stacks of both frees,
		 * rather than report our own read of freed memory. */
		if (__asan_address_is_poisoned(&h->state))
			free(h);
#endif
		if (h->state == DBG_FREE)
			dbg_die(mp, obj, "put back twice (double free; the first put left it in "
					 "quarantine)");
		if (h->state != DBG_LIVE)
			dbg_die(mp, obj, "not an object of a debug pool, or the header before it "
					 "was overwritten (state word 0x%llx)", (unsigned long long)h->state);
		if (h->pool != mp)
			dbg_die(mp, obj, "it belongs to pool %s", h->pool->name);
		check_canaries(mp, h, obj);
		canaries_guard(h);
		h->state = DBG_FREE;
		memset(obj, DBG_POISON, h->len);
		if (d->obj_init)
			d->obj_init(mp, NULL, obj, h->idx);
		h->sum = d->quarantine_on ? obj_sum(obj, h->len) : 0;

		pthread_mutex_lock(&d->lock);
		d->free_idx[d->nb_free++] = h->idx;
		d->out--;
		struct dbg_hdr *evict = h;
		if (d->quarantine_on) {
			uint32_t slot = (d->q_head + d->q_len) % DBG_QUARANTINE;
			if (d->q_len == DBG_QUARANTINE) {
				evict = d->q[d->q_head];
				d->q_head = (d->q_head + 1) % DBG_QUARANTINE;
			} else {
				evict = NULL;
				d->q_len++;
			}
			d->q[slot] = h;
		}
		pthread_mutex_unlock(&d->lock);
		if (evict)
			release(mp, evict, d->quarantine_on);
	}
}

int bp__mempool_debug_init(struct bp_mempool *mp, uint32_t obj_len, bp_mempool_obj_cb obj_init)
{
	struct bp_mempool_debug *d = calloc(1, sizeof(*d));
	if (!d || !(d->free_idx = malloc((size_t)mp->size * sizeof(uint32_t)))) {
		free(d);
		errno = ENOMEM;
		return -ENOMEM;
	}
	pthread_mutex_init(&d->lock, NULL);
	/* Handed out from the top: index 0 first, as a fresh normal pool does. */
	for (uint32_t i = 0; i < mp->size; i++)
		d->free_idx[i] = mp->size - 1 - i;
	d->nb_free = mp->size;
	d->quarantine_on = true;
#ifdef DBG_ASAN
	d->quarantine_on = false;
#endif
#ifdef DBG_VALGRIND
	if (RUNNING_ON_VALGRIND)
		d->quarantine_on = false;
#endif
	d->obj_init = obj_init;
	d->obj_len = obj_len;
	mp->debug = d;
	mp->cache_size = 0; /* a cache would hand a put object out again, unseen */
	BP_LOG(INFO, "mempool %s: debug pool (--mbuf-debug): objects from malloc, no cache, "
		     "canaries and poison checked at every put", mp->name);
	return 0;
}

void bp__mempool_debug_fini(struct bp_mempool *mp)
{
	struct bp_mempool_debug *d = mp->debug;
	if (!d)
		return;
	while (d->q_len) {
		release(mp, d->q[d->q_head], true);
		d->q_head = (d->q_head + 1) % DBG_QUARANTINE;
		d->q_len--;
	}
	/* Objects still out are left alone: their holders may still write them,
	 * and a leak checker then lists each one with where it was taken. */
	if (d->out)
		BP_LOG(ERR, "mempool %s: freed with %u objects still in use (leaked: a missing "
			    "free; LeakSanitizer or valgrind --leak-check=full shows where each was "
			    "taken)", mp->name, d->out);
	pthread_mutex_destroy(&d->lock);
	free(d->free_idx);
	free(d);
	mp->debug = NULL;
}

uint32_t bp__mempool_debug_avail(const struct bp_mempool *mp)
{
	struct bp_mempool_debug *d = mp->debug;
	pthread_mutex_lock(&d->lock);
	uint32_t n = d->nb_free;
	pthread_mutex_unlock(&d->lock);
	return n;
}

bool bp__mempool_debug_owns(const struct bp_mempool *mp, const void *p)
{
	const struct dbg_hdr *h = hdr_of(p);
	return p && h->state == DBG_LIVE && h->pool == mp;
}

uint32_t bp__mempool_debug_index(const void *obj) { return hdr_of(obj)->idx; }
