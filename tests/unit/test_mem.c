/* SPDX-License-Identifier: MIT
 * Memory zones and their device addresses. */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/env.h>
#include <bypass/mem.h>
#include "harness.h"

static unsigned maps;
static int fake_map(void *va, bp_iova_t iova, size_t len)
{
	(void)va, (void)iova, (void)len;
	maps++;
	return 0;
}
static int fake_unmap(bp_iova_t iova, size_t len)
{
	(void)iova, (void)len;
	return 0;
}

TEST(mem_zone_made_before_the_iommu_keeps_its_address_or_is_refused)
{
	static const struct bp_dma_ops ops = { fake_map, fake_unmap };
	CHECK(test_env("--no-huge -l 0 --log-level err") >= 0);
	struct bp_memzone *z = bp_memzone_reserve("early", 4096);
	CHECK(z);
	bp_iova_t before = z->iova;
	CHECK_EQ(before, (uintptr_t)z->va); /* no device yet: IOVA = VA */
	/* An IOMMU whose addresses end below the zone's (39 bits, as the lab's
	 * intel-iommu): the zone cannot keep its address, and mbufs already hold
	 * it, so the IOMMU mode is refused instead of moving it. */
	struct bp_iova_range small = { 0x1000, (1ull << 39) - 1 };
	if ((uintptr_t)z->va + z->map_len > small.end) {
		maps = 0;
		CHECK_EQ(bp_mem_use_iommu(&ops, &small, 1, "test"), -EADDRNOTAVAIL);
		CHECK_EQ(maps, 0);
		CHECK_EQ(z->iova, before);
		bp_mem_reset();
	}
	/* Ranges that hold it: mapped where it is. */
	struct bp_iova_range all = { 0x1000, ~0ull - 1 };
	maps = 0;
	CHECK_EQ(bp_mem_use_iommu(&ops, &all, 1, "test"), 0);
	CHECK_EQ(maps, 1);
	CHECK_EQ(z->iova, before);
	CHECK(bp_mem_iova_to_va(before + 100, 8) == (char *)z->va + 100);
	CHECK(bp_mem_iova_to_va(before + z->map_len - 4, 8) == NULL); /* runs past the zone */
	bp_memzone_free(z);
	bp_cleanup();
}
