/* SPDX-License-Identifier: MIT
 * DMA-able memory: zones of contiguous virtual memory whose device address
 * (IOVA) is known. Backed by hugepages unless --no-huge was given.
 *
 * How devices see memory is decided once, by the first device opened, and
 * logged: through the IOMMU (VFIO: each zone is mapped, IOVA = VA when the VA
 * fits the IOMMU's address ranges, otherwise an IOVA allocated from them), or by
 * physical address (uio_pci_generic, VFIO no-IOMMU: read from /proc/self/pagemap,
 * per page). Without devices, IOVA = VA and nothing is mapped.
 */
#ifndef BYPASS_MEM_H
#define BYPASS_MEM_H

#include <bypass/common.h>
#include <bypass/env.h>

struct bp_memzone {
	void *va;
	bp_iova_t iova;   /* device address of va (of every byte when iova_contig) */
	size_t len;       /* usable bytes */
	size_t map_len;   /* bytes mapped */
	size_t page_size; /* backing page size */
	unsigned page_shift;
	bool iova_contig;      /* device addresses are contiguous across pages */
	bp_iova_t *page_iova;  /* per page, when not iova_contig */
	bool dma_mapped;       /* registered with the IOMMU */
	int fd;                /* the file behind the zone, from offset 0 (a memfd) */
	char name[32];
	struct bp_memzone *next;
};

/* Reserves `len` bytes, zeroed. Returns NULL with errno set and one logged line. */
struct bp_memzone *bp_memzone_reserve(const char *name, size_t len);
void bp_memzone_free(struct bp_memzone *mz);
/* Calls fn on every zone, under the zones' lock (fn must not reserve or free
 * zones), until fn returns non-zero; returns that value. A vhost-user port
 * shares the zones with its peer this way. */
int bp_memzone_walk(int (*fn)(const struct bp_memzone *mz, void *arg), void *arg);

/* Device address of an address inside the zone. */
static inline bp_iova_t bp_memzone_iova(const struct bp_memzone *mz, const void *p)
{
	size_t off = (size_t)((const char *)p - (const char *)mz->va);
	if (bp_likely(mz->iova_contig))
		return mz->iova + off;
	return mz->page_iova[off >> mz->page_shift] + (off & (mz->page_size - 1));
}

/* The virtual address of device address [iova, iova + len), if the whole run
 * lies in one zone; NULL otherwise. What an IOMMU would let a device reach:
 * for debugging and device models, not for the data path (it takes a lock). */
void *bp_mem_iova_to_va(bp_iova_t iova, size_t len);

/* ---- for lib/pci ---- */
struct bp_iova_range {
	uint64_t start, end; /* inclusive */
};
struct bp_dma_ops {
	int (*map)(void *va, bp_iova_t iova, size_t len);
	int (*unmap)(bp_iova_t iova, size_t len);
	/* map pins the pages and charges them to RLIMIT_MEMLOCK unless the
	 * process has CAP_IPC_LOCK (VFIO's type1 IOMMU): zones are checked
	 * against the limit before they are mapped */
	bool pins_memlock;
};
/* IOMMU addressing: maps every zone, now and later, within these ranges. */
int bp_mem_use_iommu(const struct bp_dma_ops *ops, const struct bp_iova_range *ranges, unsigned n,
		     const char *why);
/* Physical addressing. Fails if zones exist already or an IOMMU mode was set. */
int bp_mem_use_physical(const char *why);
enum bp_iova_mode bp_mem_iova_mode(void); /* BP_IOVA_DC: no device yet */
/* Physical address of a (locked, present) virtual address; BP_BAD_IOVA if unknown. */
bp_iova_t bp_mem_virt2phys(const void *va);
/* Whether `len` more bytes may be pinned on top of `pinned` under a
 * RLIMIT_MEMLOCK of `limit` bytes (RLIM_INFINITY: no limit). 0 if so; else
 * -ENOMEM and, in msg, one line that names `ulimit -l` and the KiB needed. */
int bp_mem_memlock_check(uint64_t pinned, uint64_t len, uint64_t limit, char *msg, size_t msg_len);
/* Forgets the mode and ranges (bp_cleanup). Zones must be freed first. */
void bp_mem_reset(void);

#endif
