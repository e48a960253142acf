/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/mempool.h>
#include <bypass/log.h>
#include <pthread.h>
#include "debug.h"

/* Every pool, for bp_mempool_walk (a statistics thread reads them while the
 * program creates and frees pools). */
static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bp_mempool *pools;

/* Where object idx lives. When device addresses are only contiguous within a page
 * (physical addressing), objects never straddle a page boundary, so a buffer is
 * always one physically contiguous run. */
static char *obj_addr(const struct bp_mempool *mp, uint32_t idx)
{
	if (!mp->per_page)
		return mp->base + (size_t)idx * mp->elt_size;
	return mp->base + (size_t)(idx / mp->per_page) * mp->page_size +
	       (size_t)(idx % mp->per_page) * mp->elt_size;
}

uint32_t bp_mempool_obj_index(const struct bp_mempool *mp, const void *obj)
{
	if (mp->debug)
		return bp__mempool_debug_index(obj);
	size_t off = (size_t)((const char *)obj - mp->base);
	if (!mp->per_page)
		return (uint32_t)(off / mp->elt_size);
	return (uint32_t)(off / mp->page_size * mp->per_page + off % mp->page_size / mp->elt_size);
}

bool bp_mempool_owns(const struct bp_mempool *mp, const void *p)
{
	const char *c = p;
	if (mp->debug)
		return bp__mempool_debug_owns(mp, p);
	if (c < mp->base || c >= (const char *)mp->mz->va + mp->mz->len)
		return false;
	uint32_t idx = bp_mempool_obj_index(mp, p);
	return idx < mp->size && obj_addr(mp, idx) == c;
}

struct bp_mempool *bp_mempool_create(const char *name, uint32_t n, uint32_t elt_size,
				     uint32_t cache_size, uint32_t priv_size,
				     bp_mempool_obj_cb obj_init, void *obj_init_arg)
{
	struct bp_mempool *mp = NULL;
	size_t bytes;

	if (n == 0 || elt_size == 0) {
		BP_LOG(ERR, "mempool %s: needs at least one object of at least one byte", name);
		errno = EINVAL;
		return NULL;
	}
	if (cache_size > BP_MEMPOOL_CACHE_MAX || (uint64_t)cache_size * 3 / 2 > n) {
		BP_LOG(ERR, "mempool %s: cache of %u objects is too large for %u objects "
			    "(at most %u and at most 2/3 of the pool)", name, cache_size, n,
		       BP_MEMPOOL_CACHE_MAX);
		errno = EINVAL;
		return NULL;
	}
	if (posix_memalign((void **)&mp, BP_CACHE_LINE, sizeof(*mp) + priv_size) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	memset(mp, 0, sizeof(*mp) + priv_size);
	snprintf(mp->name, sizeof(mp->name), "%s", name);
	mp->size = n;
	mp->elt_size = BP_ALIGN_UP(elt_size, (uint32_t)BP_CACHE_LINE);
	mp->cache_size = cache_size;
	mp->priv_size = priv_size;
	for (uint32_t i = 0; i < BP_MAX_LCORE; i++) {
		mp->caches[i].size = cache_size;
		mp->caches[i].flushthresh = cache_size + cache_size / 2;
	}
	if (bp_env_mbuf_debug()) {
		/* No ring, no memzone, no objects yet: see debug.c. */
		if (bp__mempool_debug_init(mp, elt_size, obj_init) < 0)
			goto fail;
		(void)obj_init_arg;
		goto publish;
	}

	mp->ring = bp_ring_create(name, bp_align32_pow2(n < 2 ? 2 : n), 0);
	if (!mp->ring)
		goto fail;

	/* First try packed; if device addresses are not contiguous across pages, lay
	 * objects out page by page. */
	bytes = (size_t)n * mp->elt_size;
	mp->mz = bp_memzone_reserve(name, bytes);
	if (!mp->mz)
		goto fail;
	if (!mp->mz->iova_contig && mp->elt_size <= mp->mz->page_size) {
		mp->page_size = mp->mz->page_size;
		mp->per_page = (uint32_t)(mp->page_size / mp->elt_size);
		size_t pages = (n + mp->per_page - 1) / mp->per_page;
		if (pages * mp->page_size > mp->mz->map_len) {
			bp_memzone_free(mp->mz);
			mp->mz = bp_memzone_reserve(name, pages * mp->page_size);
			if (!mp->mz)
				goto fail;
		}
	}
	mp->base = mp->mz->va;

	for (uint32_t i = 0; i < n; i++) {
		void *obj = obj_addr(mp, i);
		if (obj_init)
			obj_init(mp, obj_init_arg, obj, i);
		mp->ring->slots[i] = obj;
	}
	/* All objects start in the ring; publish them. */
	mp->ring->prod.head = mp->ring->prod.tail = n;
publish:
	pthread_mutex_lock(&pools_lock);
	mp->walk_next = pools;
	pools = mp;
	pthread_mutex_unlock(&pools_lock);
	return mp;
fail:
	{
		int saved = errno ? errno : ENOMEM;
		bp_mempool_free(mp);
		errno = saved;
	}
	return NULL;
}

void bp_mempool_free(struct bp_mempool *mp)
{
	if (!mp)
		return;
	pthread_mutex_lock(&pools_lock);
	for (struct bp_mempool **p = &pools; *p; p = &(*p)->walk_next)
		if (*p == mp) {
			*p = mp->walk_next;
			break;
		}
	pthread_mutex_unlock(&pools_lock);
	bp__mempool_debug_fini(mp);
	bp_memzone_free(mp->mz);
	bp_ring_free(mp->ring);
	free(mp);
}

uint32_t bp_mempool_avail_count(const struct bp_mempool *mp)
{
	if (mp->debug)
		return bp__mempool_debug_avail(mp);
	uint32_t n = bp_ring_count(mp->ring);
	for (uint32_t i = 0; i < BP_MAX_LCORE; i++)
		n += mp->caches[i].len;
	return n > mp->size ? mp->size : n;
}

int bp_mempool_walk(int (*fn)(const struct bp_mempool *mp, void *arg), void *arg)
{
	int rc = 0;
	pthread_mutex_lock(&pools_lock);
	for (const struct bp_mempool *mp = pools; mp && rc == 0; mp = mp->walk_next)
		rc = fn(mp, arg);
	pthread_mutex_unlock(&pools_lock);
	return rc;
}
