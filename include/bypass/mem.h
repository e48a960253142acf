/* SPDX-License-Identifier: MIT
 * DMA-able memory: zones of contiguous virtual memory whose device address
 * (IOVA) is known. Backed by hugepages unless --no-huge was given. */
#ifndef BYPASS_MEM_H
#define BYPASS_MEM_H

#include <bypass/common.h>

struct bp_memzone {
	void *va;
	bp_iova_t iova;   /* device address of va; BP_BAD_IOVA if not known */
	size_t len;       /* usable bytes */
	size_t map_len;   /* bytes mapped */
	size_t page_size; /* backing page size */
	bool iova_contig; /* device addresses are contiguous across pages */
	char name[32];
};

/* Reserves `len` bytes, zeroed. Returns NULL with errno set and one logged line. */
struct bp_memzone *bp_memzone_reserve(const char *name, size_t len);
void bp_memzone_free(struct bp_memzone *mz);
/* Device address of an address inside the zone. */
static inline bp_iova_t bp_memzone_iova(const struct bp_memzone *mz, const void *p)
{
	if (mz->iova == BP_BAD_IOVA)
		return BP_BAD_IOVA;
	return mz->iova + (bp_iova_t)((const char *)p - (const char *)mz->va);
}

#endif
