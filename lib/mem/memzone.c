/* SPDX-License-Identifier: MIT
 * Memory zones: hugepage-backed unless --no-huge.
 *
 * Hugepages come from memfd_create(MFD_HUGETLB): nothing is left in a hugetlbfs
 * mount if the process dies. The pages are populated and locked at once so that a
 * shortage shows up here, with a message, and not later as SIGBUS in the data path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bypass/mem.h>
#include <bypass/env.h>
#include <bypass/log.h>

#define HUGE_2M (2u << 20)

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void *map_huge(const char *name, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_HUGETLB);
	if (fd < 0)
		return MAP_FAILED;
	void *va = MAP_FAILED;
	if (ftruncate(fd, (off_t)len) == 0)
		va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	int saved = errno;
	close(fd); /* the mapping keeps the pages */
	errno = saved;
	return va;
}

struct bp_memzone *bp_memzone_reserve(const char *name, size_t len)
{
	struct bp_memzone *mz = calloc(1, sizeof(*mz));
	if (!mz) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(mz->name, sizeof(mz->name), "%s", name);
	mz->len = len;
	if (!bp_env_no_huge()) {
		mz->page_size = HUGE_2M;
		mz->map_len = BP_ALIGN_UP(len, (size_t)HUGE_2M);
		mz->va = map_huge(name, mz->map_len);
		if (mz->va == MAP_FAILED) {
			long free_pages = read_long("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
			BP_LOG(ERR, "%s: need %zu hugepages of 2 MiB, %ld free; reserve them with "
				    "'echo N > /proc/sys/vm/nr_hugepages' or run with --no-huge",
			       name, mz->map_len / HUGE_2M, free_pages < 0 ? 0 : free_pages);
			free(mz);
			errno = ENOMEM;
			return NULL;
		}
	} else {
		mz->page_size = (size_t)sysconf(_SC_PAGESIZE);
		mz->map_len = BP_ALIGN_UP(len, mz->page_size);
		mz->va = mmap(NULL, mz->map_len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (mz->va == MAP_FAILED) {
			int saved = errno;
			BP_LOG(ERR, "%s: cannot map %zu bytes: %s", name, mz->map_len, strerror(saved));
			free(mz);
			errno = saved;
			return NULL;
		}
	}
	/* Software ports need no device address; device drivers map zones for DMA. */
	mz->iova = (bp_iova_t)(uintptr_t)mz->va;
	mz->iova_contig = true;
	return mz;
}

void bp_memzone_free(struct bp_memzone *mz)
{
	if (!mz)
		return;
	munmap(mz->va, mz->map_len);
	free(mz);
}
