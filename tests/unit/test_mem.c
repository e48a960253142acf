/* SPDX-License-Identifier: MIT
 * Memory zones and their device addresses. */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
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
	static const struct bp_dma_ops ops = { fake_map, fake_unmap, false };
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

TEST(mem_memlock_check_names_ulimit_and_the_kib_needed)
{
	char msg[384] = "";
	CHECK_EQ(bp_mem_memlock_check(0, 8 << 20, 8 << 20, msg, sizeof(msg)), 0); /* exactly the limit */
	CHECK_EQ(bp_mem_memlock_check(4 << 20, 4 << 20, 8 << 20, msg, sizeof(msg)), 0);
	CHECK_EQ(bp_mem_memlock_check(1ull << 40, 1ull << 40, RLIM_INFINITY, msg, sizeof(msg)), 0);
	CHECK_EQ(msg[0], '\0');
	/* one byte over: the need is rounded up to whole KiB */
	CHECK_EQ(bp_mem_memlock_check(6 << 20, (2 << 20) + 1, 8 << 20, msg, sizeof(msg)), -ENOMEM);
	CHECK(strstr(msg, "ulimit -l 8193 "));
	CHECK(strstr(msg, "at least 8193 KiB"));
	CHECK(strstr(msg, "allows 8192 KiB"));
	CHECK(strstr(msg, "2049 KiB more (6144 KiB pinned already)"));
	/* a limit below what is pinned already (lowered since) */
	CHECK_EQ(bp_mem_memlock_check(16 << 20, 4096, 8 << 20, msg, sizeof(msg)), -ENOMEM);
	CHECK(strstr(msg, "ulimit -l 16388 "));
}

/* The effective CAP_IPC_LOCK on (true) or off; false if capget/capset fail. */
static bool set_ipc_lock(bool on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	uint32_t bit = 1u << (CAP_IPC_LOCK % 32);
	if (on && !(d[CAP_IPC_LOCK / 32].permitted & bit))
		return true; /* never had it: nothing to give back */
	if (on)
		d[CAP_IPC_LOCK / 32].effective |= bit;
	else
		d[CAP_IPC_LOCK / 32].effective &= ~bit;
	return syscall(SYS_capset, &h, d) == 0;
}

static int pin_map(void *va, bp_iova_t iova, size_t len)
{
	(void)va, (void)iova, (void)len;
	maps++;
	return 0;
}

/* What VFIO pins is checked against RLIMIT_MEMLOCK before the map: a zone
 * over the limit is refused and never reaches the IOMMU; what is freed makes
 * room again. As a user without CAP_IPC_LOCK (dropped here if we have it). */
TEST(mem_zone_over_rlimit_memlock_is_refused_before_the_map)
{
	static const struct bp_dma_ops ops = { pin_map, fake_unmap, true };
	struct rlimit saved;
	CHECK(getrlimit(RLIMIT_MEMLOCK, &saved) == 0);
	if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < (64u << 10)) {
		printf("    (skipped: the hard RLIMIT_MEMLOCK is below 64 KiB)\n");
		return;
	}
	CHECK(test_env("--no-huge -l 0 --log-level err --no-telemetry") >= 0);
	struct bp_iova_range all = { 0x1000, ~0ull - 1 };
	CHECK_EQ(bp_mem_use_iommu(&ops, &all, 1, "test"), 0);
	CHECK(set_ipc_lock(false));
	struct rlimit low = { 64u << 10, saved.rlim_max };
	CHECK(setrlimit(RLIMIT_MEMLOCK, &low) == 0);
	maps = 0;
	struct bp_memzone *a = bp_memzone_reserve("a", 40u << 10);
	struct bp_memzone *b = bp_memzone_reserve("b", 40u << 10); /* 80 KiB in all: over */
	int b_errno = errno;
	unsigned b_maps = maps;
	bp_memzone_free(a);
	struct bp_memzone *c = bp_memzone_reserve("c", 40u << 10); /* room again */
	unsigned c_maps = maps;
	setrlimit(RLIMIT_MEMLOCK, &saved);
	set_ipc_lock(true);
	bp_memzone_free(b);
	bp_memzone_free(c);
	bp_cleanup();
	CHECK(a != NULL);
	CHECK(b == NULL);
	CHECK_EQ(b_errno, ENOMEM);
	CHECK_EQ(b_maps, 1); /* a's map only: b never reached the IOMMU */
	CHECK(c != NULL);
	CHECK_EQ(c_maps, 2);
}
