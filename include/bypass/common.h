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

/* Barriers between the CPU and a device.
 *   bp_io_wmb: stores to DMA memory (descriptors) before a later store to the
 *              device (the doorbell), and before the device may read them;
 *   bp_io_rmb: a load from the device (a register) or of a DMA-written field
 *              (a descriptor's done bit) before the loads that follow it.
 * x86-64: stores are not reordered with other stores, nor loads with loads,
 *   and uncached MMIO is ordered with write-back memory (Intel SDM vol. 3,
 *   8.2.2): only the compiler must be stopped.
 * arm64: devices are in the outer-shareable domain; DMB OSHST / OSHLD order
 *   stores / loads against them (Arm ARM B2.3.12), as Linux's dma_wmb/dma_rmb.
 * Anything else: refuse to build rather than run with unordered doorbells. */
#if defined(__x86_64__)
#define bp_io_wmb() bp_compiler_barrier()
#define bp_io_rmb() bp_compiler_barrier()
#elif defined(__aarch64__)
#define bp_io_wmb() __asm__ volatile("dmb oshst" ::: "memory")
#define bp_io_rmb() __asm__ volatile("dmb oshld" ::: "memory")
#else
#error "bypass knows device barriers for x86-64 and arm64 only: define bp_io_wmb/bp_io_rmb for this CPU in include/bypass/common.h"
#endif

static inline void bp_pause(void)
{
#if defined(__x86_64__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("yield" ::: "memory");
#endif
}

static inline void bp_prefetch0(const void *p) { __builtin_prefetch(p, 0, 3); }
static inline void bp_prefetch_w(const void *p) { __builtin_prefetch(p, 1, 3); }

/* CPU timestamp counter; bp_tsc_hz() (env.h) converts it to time. */
static inline uint64_t bp_rdtsc(void)
{
#if defined(__x86_64__)
	return __builtin_ia32_rdtsc();
#else /* arm64: the generic timer's virtual count */
	uint64_t v;
	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
	return v;
#endif
}

#endif
