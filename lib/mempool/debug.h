/* SPDX-License-Identifier: MIT
 * Debug pools (debug.c), for mempool.c: what a pool without ring or memzone
 * does instead. */
#ifndef BYPASS_MEMPOOL_DEBUG_H
#define BYPASS_MEMPOOL_DEBUG_H

#include <bypass/mempool.h>

/* Makes mp (size set) a debug pool of objects of obj_len bytes: no cache,
 * obj_init at each get and put. 0 or -ENOMEM. */
int bp__mempool_debug_init(struct bp_mempool *mp, uint32_t obj_len, bp_mempool_obj_cb obj_init);
/* Frees the quarantine and the bookkeeping; reports objects still out. */
void bp__mempool_debug_fini(struct bp_mempool *mp);
uint32_t bp__mempool_debug_avail(const struct bp_mempool *mp);
bool bp__mempool_debug_owns(const struct bp_mempool *mp, const void *p);
uint32_t bp__mempool_debug_index(const void *obj);

#endif
