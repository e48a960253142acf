/* SPDX-License-Identifier: MIT
 * Small building blocks shared by every part of bypass: cache-line alignment,
 * branch hints, CPU barriers and the timestamp counter. */
#ifndef BYPASS_COMMON_H
#define BYPASS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define BP_CACHE_LINE 64
#define BP_CACHE_ALIGNED __attribute__((aligned(BP_CACHE_LINE)))
#define bp_likely(x) __builtin_expect(!!(x), 1)
#define bp_unlikely(x) __builtin_expect(!!(x), 0)
#define BP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define BP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define BP_ALIGN_UP(v, a) (((v) + ((a) - 1)) & ~((__typeof__(v))(a) - 1))

/* An address as a device sees it (bus address or IOMMU virtual address). */
typedef uint64_t bp_iova_t;
#define BP_BAD_IOVA ((bp_iova_t)-1)

static inline bool bp_is_power_of_2(uint64_t v) { return v && !(v & (v - 1)); }

static inline uint32_t bp_align32_pow2(uint32_t v)
{
	if (v <= 1)
		return 1;
	return 1u << (32 - __builtin_clz(v - 1));
}

/* Compiler-only barrier: x86 keeps loads with loads and stores with stores. */
#define bp_compiler_barrier() __asm__ volatile("" ::: "memory")

/* Barriers between CPUs, for shared-memory rings. */
#define bp_smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define bp_smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

/* Barriers between the CPU and a device (descriptor writes before a doorbell).
 * On x86 stores to write-back memory are already ordered before a later store to
 * uncached MMIO, so a compiler barrier is enough; other ISAs need a real fence. */
#if defined(__x86_64__) || defined(__i386__)
#define bp_io_wmb() bp_compiler_barrier()
#define bp_io_rmb() bp_compiler_barrier()
#else
#define bp_io_wmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define bp_io_rmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

static inline void bp_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	bp_compiler_barrier();
#endif
}

static inline void bp_prefetch0(const void *p) { __builtin_prefetch(p, 0, 3); }
static inline void bp_prefetch_w(const void *p) { __builtin_prefetch(p, 1, 3); }

/* CPU timestamp counter; bp_tsc_hz() (env.h) converts it to time. */
static inline uint64_t bp_rdtsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	uint64_t v;
	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
	return v;
#endif
}

#endif
