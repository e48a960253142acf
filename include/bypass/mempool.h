/* SPDX-License-Identifier: MIT
 * Fixed-size object pools with a per-core cache.
 *
 * Objects live in one memzone. Free objects sit in an MP/MC ring; each lcore keeps
 * a private stack of them so that most gets and puts touch no shared cache line.
 * Getting more than there is fails at once with -ENOBUFS: nothing blocks.
 *
 * Debug pools (--mbuf-debug, or built with -Dmbuf_debug=true; lib/mempool/debug.c)
 * have no memzone, ring or caches: every get mallocs a fresh object between two
 * canaries and every put checks them and frees it, so AddressSanitizer and
 * valgrind see double puts as double frees and a use after put as a use after
 * free. They reach debug code only through the cache-less branch below, which a
 * pool with caches never takes: the usual path stays as it was.
 */
#ifndef BYPASS_MEMPOOL_H
#define BYPASS_MEMPOOL_H

#include <errno.h>
#include <string.h>
#include <bypass/common.h>
#include <bypass/env.h>
#include <bypass/ring.h>
#include <bypass/mem.h>

#define BP_MEMPOOL_NAMESIZE 32
#define BP_MEMPOOL_CACHE_MAX 512

struct bp_mempool_cache {
	uint32_t len;         /* objects held */
	uint32_t size;        /* target after a refill */
	uint32_t flushthresh; /* flush down to size when len exceeds this */
	uint32_t pad;
	void *objs[BP_MEMPOOL_CACHE_MAX * 2];
} BP_CACHE_ALIGNED;

struct bp_mempool;
struct bp_mempool_debug;
typedef void (*bp_mempool_obj_cb)(struct bp_mempool *mp, void *arg, void *obj, uint32_t idx);

struct bp_mempool {
	char name[BP_MEMPOOL_NAMESIZE];
	struct bp_ring *ring;  /* free objects not in any cache */
	struct bp_memzone *mz; /* where the objects live */
	uint32_t size;         /* number of objects */
	uint32_t elt_size;     /* bytes per object, cache-line multiple */
	uint32_t cache_size;
	uint32_t priv_size;    /* private area after this header (e.g. mbuf pool info) */
	char *base;            /* first object */
	uint32_t per_page;     /* objects per page when none may cross a page (0: packed) */
	size_t page_size;
	struct bp_mempool *walk_next; /* every pool, for bp_mempool_walk */
	struct bp_mempool_debug *debug; /* non-NULL: a debug pool (no ring, no mz, no cache) */
	struct bp_mempool_cache caches[BP_MAX_LCORE];
};

/* Creates a pool of n objects of elt_size bytes; obj_init (may be NULL) runs once
 * on each object. cache_size 0 disables the caches. A debug pool
 * (created while bp_env_mbuf_debug() is true) has no objects until they are taken: it runs
 * obj_init at every get and over the poison of every put, with obj_init_arg NULL (obj_init_arg is only valid
 * while bp_mempool_create runs), and has no caches. */
struct bp_mempool *bp_mempool_create(const char *name, uint32_t n, uint32_t elt_size,
				     uint32_t cache_size, uint32_t priv_size,
				     bp_mempool_obj_cb obj_init, void *obj_init_arg);
void bp_mempool_free(struct bp_mempool *mp);
/* Calls fn on every pool until it returns non-zero (returned); pools are
 * neither created nor freed meanwhile (fn must not do either). */
int bp_mempool_walk(int (*fn)(const struct bp_mempool *mp, void *arg), void *arg);
/* Free objects: those in the ring plus those in every lcore cache. */
uint32_t bp_mempool_avail_count(const struct bp_mempool *mp);
static inline uint32_t bp_mempool_in_use_count(const struct bp_mempool *mp)
{
	return mp->size - bp_mempool_avail_count(mp);
}
static inline void *bp_mempool_get_priv(struct bp_mempool *mp) { return mp + 1; }
/* true if p is the start of one of the pool's objects. */
bool bp_mempool_owns(const struct bp_mempool *mp, const void *p);
/* Index of the object (0..size-1), for accounting and tests. */
uint32_t bp_mempool_obj_index(const struct bp_mempool *mp, const void *obj);

/* The device address a debug pool gives its objects: the virtual address under
 * a tag no device can reach (non-canonical, above every IOMMU's address width),
 * so a DMA to it faults instead of landing somewhere plausible, and a dump shows
 * "deb0" at once. Host-side device models decode it (tests/model). */
#define BP_MEMPOOL_DEBUG_IOVA_TAG 0xdeb0000000000000ull
static inline bool bp_mempool_is_debug(const struct bp_mempool *mp) { return mp->debug != NULL; }
static inline bp_iova_t bp_mempool_virt2iova(const struct bp_mempool *mp, const void *p)
{
	if (bp_unlikely(mp->mz == NULL)) /* a debug pool */
		return BP_MEMPOOL_DEBUG_IOVA_TAG | (bp_iova_t)(uintptr_t)p;
	return bp_memzone_iova(mp->mz, p);
}
/* ---- debug pools, reached only from the cache-less branches below ---- */
int bp__mempool_debug_get(struct bp_mempool *mp, void **objs, uint32_t n);
void bp__mempool_debug_put(struct bp_mempool *mp, void *const *objs, uint32_t n);

static inline struct bp_mempool_cache *bp__mempool_cache(struct bp_mempool *mp)
{
	uint32_t id = bp_lcore_id();
	if (mp->cache_size == 0 || id >= BP_MAX_LCORE)
		return NULL;
	return &mp->caches[id];
}

/* Returns all n objects to the pool. */
static inline void bp_mempool_put_bulk(struct bp_mempool *mp, void *const *objs, uint32_t n)
{
	struct bp_mempool_cache *c = bp__mempool_cache(mp);

	if (bp_unlikely(c == NULL || c->len + n > BP_ARRAY_SIZE(c->objs))) {
		if (bp_unlikely(mp->debug != NULL)) {
			bp__mempool_debug_put(mp, objs, n);
			return;
		}
		bp_ring_enqueue_bulk(mp->ring, objs, n, NULL); /* ring holds all: never fails */
		return;
	}
	memcpy(&c->objs[c->len], objs, n * sizeof(void *));
	c->len += n;
	if (c->len > c->flushthresh) {
		bp_ring_enqueue_bulk(mp->ring, &c->objs[c->size], c->len - c->size, NULL);
		c->len = c->size;
	}
}

/* Gets exactly n objects, or none and -ENOBUFS. */
static inline int bp_mempool_get_bulk(struct bp_mempool *mp, void **objs, uint32_t n)
{
	struct bp_mempool_cache *c = bp__mempool_cache(mp);

	if (bp_unlikely(c == NULL || n > BP_MEMPOOL_CACHE_MAX)) {
		if (bp_unlikely(mp->debug != NULL))
			return bp__mempool_debug_get(mp, objs, n);
		return bp_ring_dequeue_bulk(mp->ring, objs, n, NULL) ? 0 : -ENOBUFS;
	}

	if (bp_unlikely(c->len < n)) {
		/* Refill to size + n so that the next gets are served from the cache. */
		uint32_t want = c->size + n - c->len;
		uint32_t got = bp_ring_dequeue_burst(mp->ring, &c->objs[c->len], want, NULL);
		c->len += got;
		if (c->len < n)
			return -ENOBUFS;
	}
	/* Hand out the most recently freed objects first: they are warm in cache. */
	void **top = &c->objs[c->len];
	for (uint32_t i = 0; i < n; i++)
		objs[i] = *--top;
	c->len -= n;
	return 0;
}

static inline int bp_mempool_get(struct bp_mempool *mp, void **obj)
{
	return bp_mempool_get_bulk(mp, obj, 1);
}

/* As many as the pool has, up to n (when a bulk get of n failed): the count. */
static inline uint32_t bp_mempool_get_upto(struct bp_mempool *mp, void **objs, uint32_t n)
{
	uint32_t got = 0;
	while (got < n && bp_mempool_get(mp, &objs[got]) == 0)
		got++;
	return got;
}
static inline void bp_mempool_put(struct bp_mempool *mp, void *obj)
{
	bp_mempool_put_bulk(mp, &obj, 1);
}

#endif
