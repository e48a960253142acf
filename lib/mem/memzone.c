/* SPDX-License-Identifier: MIT
 * Memory zones: hugepage-backed unless --no-huge, and their device addresses.
 *
 * Hugepages come from memfd_create(MFD_HUGETLB): nothing is left in a hugetlbfs
 * mount if the process dies. Pages are populated at once so that a shortage
 * shows up here, with a message, and not later as SIGBUS in the data path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bypass/mem.h>
#include <bypass/env.h>
#include <bypass/log.h>

#define MAX_RANGES 16

static struct {
	pthread_mutex_t lock;
	enum bp_iova_mode mode;
	struct bp_dma_ops ops;
	struct bp_iova_range ranges[MAX_RANGES];
	unsigned nb_ranges;
	uint64_t next_iova; /* bump allocator when VA does not fit */
	uint64_t pinned;    /* bytes mapped through ops that pin (RLIMIT_MEMLOCK) */
	struct bp_memzone *zones;
} mem = { .lock = PTHREAD_MUTEX_INITIALIZER };

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

/* Hugepages of kb KiB free for a new mapping (free minus those other
 * mappings have reserved but not yet touched), and the pool's size. */
static void huge_count(size_t kb, long *avail, long *total)
{
	char p[128];
	snprintf(p, sizeof(p), "/sys/kernel/mm/hugepages/hugepages-%zukB/free_hugepages", kb);
	long free_pages = read_long(p);
	snprintf(p, sizeof(p), "/sys/kernel/mm/hugepages/hugepages-%zukB/resv_hugepages", kb);
	long resv = read_long(p);
	snprintf(p, sizeof(p), "/sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages", kb);
	*total = BP_MAX(read_long(p), 0L);
	*avail = BP_MAX(free_pages - BP_MAX(resv, 0L), 0L);
}

/* Hugepages of this size the zones hold (mem.lock held). */
static size_t huge_held(size_t page_size)
{
	size_t n = 0;
	for (const struct bp_memzone *z = mem.zones; z; z = z->next)
		if (z->page_size == page_size)
			n += z->map_len / page_size;
	return n;
}

/* A hugetlb file that no name keeps: a memfd of the default hugepage size, or
 * with --huge-dir an unnamed file of that mount (O_TMPFILE, else a file
 * unlinked at once). Either way nothing is left behind if the process dies. */
static int huge_fd(const char *name)
{
	const char *dir = bp_env_huge_dir();
	if (!dir)
		return memfd_create(name, MFD_CLOEXEC | MFD_HUGETLB);
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/bypass-XXXXXX", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Maps len bytes of the file fd, shared, populated. The zone keeps the fd:
 * a vhost-user peer is handed it to map the same pages (SET_MEM_TABLE). On
 * failure the fd is closed. */
static void *map_shared(int fd, size_t len, int *out_fd)
{
	void *va = MAP_FAILED;
	if (fd < 0)
		return MAP_FAILED;
	if (ftruncate(fd, (off_t)len) == 0)
		va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (va == MAP_FAILED) {
		int saved = errno;
		close(fd);
		errno = saved;
		return MAP_FAILED;
	}
	*out_fd = fd;
	return va;
}

bp_iova_t bp_mem_virt2phys(const void *va)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t entry;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return BP_BAD_IOVA;
	off_t off = (off_t)((uintptr_t)va / (uintptr_t)pg * sizeof(entry));
	ssize_t n = pread(fd, &entry, sizeof(entry), off);
	close(fd);
	/* bit 63: present; bits 0-54: page frame number (zero without CAP_SYS_ADMIN) */
	if (n != sizeof(entry) || !(entry & (1ull << 63)) || !(entry & ((1ull << 55) - 1)))
		return BP_BAD_IOVA;
	return (entry & ((1ull << 55) - 1)) * (uint64_t)pg + ((uintptr_t)va % (uintptr_t)pg);
}

static bool fits(uint64_t start, uint64_t len)
{
	for (unsigned i = 0; i < mem.nb_ranges; i++)
		if (start >= mem.ranges[i].start && start + len - 1 <= mem.ranges[i].end)
			return true;
	return false;
}

/* An IOVA for len bytes: VA itself when it fits, else the next free run. */
static bp_iova_t pick_iova(const struct bp_memzone *mz)
{
	uint64_t va = (uintptr_t)mz->va, len = mz->map_len;
	if (fits(va, len))
		return va;
	for (unsigned i = 0; i < mem.nb_ranges; i++) {
		uint64_t s = BP_ALIGN_UP(BP_MAX(mem.next_iova, mem.ranges[i].start), (uint64_t)mz->page_size);
		if (s + len - 1 <= mem.ranges[i].end && s + len > s) {
			mem.next_iova = s + len;
			return s;
		}
	}
	return BP_BAD_IOVA;
}

int bp_mem_memlock_check(uint64_t pinned, uint64_t len, uint64_t limit, char *msg, size_t msg_len)
{
	if (limit == RLIM_INFINITY || (pinned <= limit && len <= limit - pinned))
		return 0;
	unsigned long long kib = 1024, need = (pinned + len + kib - 1) / kib;
	snprintf(msg, msg_len, "the IOMMU must pin %llu KiB more (%llu KiB pinned already) and RLIMIT_MEMLOCK "
			       "allows %llu KiB: raise it to at least %llu KiB before the start, with ulimit -l %llu "
			       "(above the hard limit: memlock in /etc/security/limits.conf, or CAP_IPC_LOCK)",
		 (unsigned long long)(len + kib - 1) / kib, (unsigned long long)pinned / kib,
		 (unsigned long long)limit / kib, need, need);
	return -ENOMEM;
}

/* CAP_IPC_LOCK in the effective set: VFIO then pins without charging
 * RLIMIT_MEMLOCK (it asks capable() at each map). */
static bool can_lock_freely(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32));
}

/* Checked before the map, not read from its ENOMEM: the kernel's refusal
 * says nothing about the limit to us and logs a warning of its own. */
static int memlock_room(const struct bp_memzone *mz)
{
	struct rlimit rl;
	char msg[384];
	if (can_lock_freely() || getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return 0;
	int rc = bp_mem_memlock_check(mem.pinned, mz->map_len, rl.rlim_cur, msg, sizeof(msg));
	if (rc < 0)
		BP_LOG(ERR, "%s: %s", mz->name, msg);
	return rc;
}

/* Gives the zone its device address(es); maps it into the IOMMU if in use. */
static int zone_attach(struct bp_memzone *mz)
{
	mz->page_shift = (unsigned)__builtin_ctzl(mz->page_size);
	switch (mem.mode) {
	case BP_IOVA_DC: /* no device: software ports only */
		mz->iova = (uintptr_t)mz->va;
		mz->iova_contig = true;
		return 0;
	case BP_IOVA_VA: {
		bp_iova_t iova = pick_iova(mz);
		if (iova == BP_BAD_IOVA) {
			BP_LOG(ERR, "%s: no room for %zu bytes in the IOMMU's address ranges", mz->name, mz->map_len);
			return -ENOSPC;
		}
		int rc = mem.ops.pins_memlock ? memlock_room(mz) : 0;
		if (rc < 0)
			return rc;
		rc = mem.ops.map(mz->va, iova, mz->map_len);
		if (rc < 0) {
			BP_LOG(ERR, "%s: the IOMMU refused to map %zu bytes at %#llx: %s%s", mz->name, mz->map_len,
			       (unsigned long long)iova, strerror(-rc),
			       rc == -ENOMEM && mem.ops.pins_memlock ? " (memory locked by other means counts against "
								      "RLIMIT_MEMLOCK too: raise ulimit -l)" : "");
			return rc;
		}
		if (mem.ops.pins_memlock)
			mem.pinned += mz->map_len;
		mz->iova = iova;
		mz->iova_contig = true;
		mz->dma_mapped = true;
		return 0;
	}
	case BP_IOVA_PA: {
		size_t pages = mz->map_len / mz->page_size;
		mz->page_iova = calloc(pages, sizeof(*mz->page_iova));
		if (!mz->page_iova)
			return -ENOMEM;
		bool contig = true;
		for (size_t i = 0; i < pages; i++) {
			mz->page_iova[i] = bp_mem_virt2phys((char *)mz->va + i * mz->page_size);
			if (mz->page_iova[i] == BP_BAD_IOVA) {
				BP_LOG(ERR, "%s: cannot read physical addresses from /proc/self/pagemap; "
					    "physical addressing (uio_pci_generic) needs root", mz->name);
				return -EPERM;
			}
			contig &= i == 0 || mz->page_iova[i] == mz->page_iova[0] + i * mz->page_size;
		}
		mz->iova = mz->page_iova[0];
		mz->iova_contig = contig;
		return 0;
	}
	}
	return -EINVAL;
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
	mz->fd = -1;
	pthread_mutex_lock(&mem.lock);
	if (!bp_env_no_huge()) {
		mz->page_size = bp_env_huge_page_size();
		mz->map_len = BP_ALIGN_UP(len, mz->page_size);
		mz->va = map_shared(huge_fd(name), mz->map_len, &mz->fd);
	}
	if (!bp_env_no_huge() && mz->va == MAP_FAILED) {
		size_t kb = mz->page_size >> 10, pages = mz->map_len / mz->page_size;
		const char *unit = kb >= (1u << 20) ? "GiB" : "MiB";
		size_t shown = kb >= (1u << 20) ? kb >> 20 : kb >> 10;
		long free_pages = 0, total = 0;
		huge_count(kb, &free_pages, &total);
		if (mem.mode != BP_IOVA_VA) {
			/* What to write where: the pool this zone's pages come from
			 * (memfd: the default size), grown by what is missing. A
			 * lower bound: zones after this one may need more. */
			char knob[96] = "/proc/sys/vm/nr_hugepages";
			if (bp_env_huge_dir())
				snprintf(knob, sizeof(knob), "/sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages", kb);
			long want = total + (long)pages - free_pages;
			if (mem.mode == BP_IOVA_PA)
				BP_LOG(ERR, "%s: need %zu hugepages of %zu %s, %ld free; reserve them with 'echo %ld > %s' "
					    "or more (this process holds %zu already): physical addressing (uio_pci_generic) "
					    "works only from hugepages", name, pages, shown, unit, free_pages, want, knob,
				       huge_held(mz->page_size));
			else
				BP_LOG(ERR, "%s: need %zu hugepages of %zu %s, %ld free; reserve them with 'echo %ld > %s' "
					    "or run with --no-huge", name, pages, shown, unit, free_pages, want, knob);
			goto fail;
		}
		/* Behind an IOMMU, ordinary pages work: VFIO pins them and the IOVA
		 * range is contiguous. Slower (TLB misses), so say so once. */
		static bool warned;
		if (!warned)
			BP_LOG(WARNING, "%s: %zu hugepages of %zu %s needed, %ld free: using pinned 4 KiB pages "
					"instead; reserve hugepages for speed", name, pages, shown, unit,
			       free_pages);
		warned = true;
	}
	if (bp_env_no_huge() || mz->va == MAP_FAILED) {
		if (mem.mode == BP_IOVA_PA) {
			BP_LOG(ERR, "%s: physical addressing (uio_pci_generic) needs hugepages, which stay put; "
				    "drop --no-huge, or bind the device to vfio-pci", name);
			goto fail;
		}
		mz->page_size = (size_t)sysconf(_SC_PAGESIZE);
		mz->map_len = BP_ALIGN_UP(len, mz->page_size);
		/* ordinary pages, but in a memfd all the same: shareable */
		mz->va = map_shared(memfd_create(name, MFD_CLOEXEC), mz->map_len, &mz->fd);
		if (mz->va == MAP_FAILED) {
			BP_LOG(ERR, "%s: cannot map %zu bytes: %s", name, mz->map_len, strerror(errno));
			goto fail;
		}
	}
	int rc = zone_attach(mz);
	if (rc < 0) {
		munmap(mz->va, mz->map_len);
		close(mz->fd);
		free(mz->page_iova);
		errno = -rc;
		free(mz);
		pthread_mutex_unlock(&mem.lock);
		return NULL;
	}
	mz->next = mem.zones;
	mem.zones = mz;
	pthread_mutex_unlock(&mem.lock);
	return mz;
fail:
	free(mz);
	pthread_mutex_unlock(&mem.lock);
	errno = ENOMEM;
	return NULL;
}

void bp_memzone_free(struct bp_memzone *mz)
{
	if (!mz)
		return;
	pthread_mutex_lock(&mem.lock);
	for (struct bp_memzone **p = &mem.zones; *p; p = &(*p)->next)
		if (*p == mz) {
			*p = mz->next;
			break;
		}
	if (mz->dma_mapped && mem.ops.unmap)
		mem.ops.unmap(mz->iova, mz->map_len);
	if (mz->dma_mapped && mem.ops.pins_memlock)
		mem.pinned -= mz->map_len;
	pthread_mutex_unlock(&mem.lock);
	munmap(mz->va, mz->map_len);
	if (mz->fd >= 0)
		close(mz->fd);
	free(mz->page_iova);
	free(mz);
}

int bp_memzone_walk(int (*fn)(const struct bp_memzone *mz, void *arg), void *arg)
{
	int rc = 0;
	pthread_mutex_lock(&mem.lock);
	for (struct bp_memzone *z = mem.zones; z && rc == 0; z = z->next)
		rc = fn(z, arg);
	pthread_mutex_unlock(&mem.lock);
	return rc;
}

void *bp_mem_iova_to_va(bp_iova_t iova, size_t len)
{
	void *va = NULL;
	if (len == 0 || iova + len < iova)
		return NULL;
	pthread_mutex_lock(&mem.lock);
	for (struct bp_memzone *z = mem.zones; z && !va; z = z->next) {
		if (z->iova_contig) {
			if (iova >= z->iova && iova + len <= z->iova + z->map_len)
				va = (char *)z->va + (iova - z->iova);
			continue;
		}
		/* per page: the run must stay inside one page */
		for (size_t pg = 0; pg < z->map_len / z->page_size && !va; pg++)
			if (iova >= z->page_iova[pg] && iova + len <= z->page_iova[pg] + z->page_size)
				va = (char *)z->va + pg * z->page_size + (iova - z->page_iova[pg]);
	}
	pthread_mutex_unlock(&mem.lock);
	return va;
}

int bp_mem_use_iommu(const struct bp_dma_ops *ops, const struct bp_iova_range *ranges, unsigned n,
		     const char *why)
{
	int rc = 0;
	if (bp_env_iova_mode() == BP_IOVA_PA) {
		BP_LOG(ERR, "%s: --iova-mode pa is for devices without an IOMMU (uio_pci_generic, vfio "
			    "no-IOMMU); drop the option for vfio-pci", why);
		return -EINVAL;
	}
	pthread_mutex_lock(&mem.lock);
	if (mem.mode == BP_IOVA_PA) {
		BP_LOG(ERR, "%s: devices with physical addressing are open already; one process cannot mix "
			    "them with IOMMU addressing: bind all devices to the same driver", why);
		rc = -EINVAL;
		goto out;
	}
	if (mem.mode == BP_IOVA_VA)
		goto out; /* another device in the same container */
	mem.ops = *ops;
	mem.nb_ranges = BP_MIN(n, (unsigned)MAX_RANGES);
	memcpy(mem.ranges, ranges, mem.nb_ranges * sizeof(*ranges));
	/* Allocated IOVAs start at 4 GiB when the ranges allow: clear of the
	 * low window that firmware and MSI often reserve. */
	mem.next_iova = 1ull << 32;
	mem.mode = BP_IOVA_VA;
	uint64_t top = 0;
	for (unsigned i = 0; i < mem.nb_ranges; i++)
		top = BP_MAX(top, mem.ranges[i].end);
	BP_LOG(NOTICE, "IOVA mode: IOMMU addresses (%s), %u range(s) up to %#llx; "
		       "IOVA = VA where the address fits, allocated otherwise", why, mem.nb_ranges,
	       (unsigned long long)top);
	/* Zones reserved before the first device had IOVA = VA, and mbufs and
	 * rings already hold those addresses: they must keep them. */
	for (struct bp_memzone *z = mem.zones; z; z = z->next) {
		if (!fits((uintptr_t)z->va, z->map_len)) {
			BP_LOG(ERR, "%s: reserved before the first device was opened, at %p, which the IOMMU "
				    "cannot map as it is (ranges up to %#llx); its buffers already hold that "
				    "address: create mempools after bp_init() has opened the devices", z->name,
			       z->va, (unsigned long long)top);
			rc = -EADDRNOTAVAIL;
			break;
		}
		if ((rc = zone_attach(z)) < 0)
			break;
	}
out:
	pthread_mutex_unlock(&mem.lock);
	return rc;
}

int bp_mem_use_physical(const char *why)
{
	int rc = 0;
	if (bp_env_iova_mode() == BP_IOVA_VA) {
		BP_LOG(ERR, "%s: --iova-mode va needs an IOMMU, and this device has none; bind it to "
			    "vfio-pci on a machine with an IOMMU, or drop the option", why);
		return -EINVAL;
	}
	pthread_mutex_lock(&mem.lock);
	if (mem.mode == BP_IOVA_VA) {
		BP_LOG(ERR, "%s: needs physical addresses but devices on vfio-pci use the IOMMU; "
			    "bind all devices to the same driver", why);
		rc = -EINVAL;
	} else if (mem.mode == BP_IOVA_DC) {
		if (mem.zones) {
			BP_LOG(ERR, "%s: memory was reserved before the device was opened", why);
			rc = -EBUSY;
		} else {
			mem.mode = BP_IOVA_PA;
			BP_LOG(WARNING, "IOVA mode: PHYSICAL addresses (%s): the device can write anywhere in "
					"memory, nothing isolates it; vfio-pci with an IOMMU is the safe way", why);
		}
	}
	pthread_mutex_unlock(&mem.lock);
	return rc;
}

enum bp_iova_mode bp_mem_iova_mode(void) { return mem.mode; }

void bp_mem_reset(void)
{
	pthread_mutex_lock(&mem.lock);
	mem.mode = BP_IOVA_DC;
	mem.nb_ranges = 0;
	mem.pinned = 0;
	memset(&mem.ops, 0, sizeof(mem.ops));
	pthread_mutex_unlock(&mem.lock);
}
