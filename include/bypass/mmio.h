/* SPDX-License-Identifier: MIT
 * Register access for drivers: 32-bit reads and writes of a mapped BAR with the
 * barriers a doorbell needs, and wait-for-bit with a time-out. */
#ifndef BYPASS_MMIO_H
#define BYPASS_MMIO_H

#include <errno.h>
#include <bypass/common.h>
#include <bypass/env.h>

#ifdef BP_MMIO_MODEL
/* The model build (tests/model): every register access goes to a software
 * model of the device, which gives reads and writes their side effects
 * (clear on read, write 1 to clear, self-clearing bits). Drivers are compiled
 * unchanged; libbypass itself never has this. */
uint32_t bp_mmio_model_read32(const volatile void *addr);
void bp_mmio_model_write32(volatile void *addr, uint32_t v);
#define bp__mmio_load32(a) bp_mmio_model_read32(a)
#define bp__mmio_store32(a, v) bp_mmio_model_write32(a, v)
#else
#define bp__mmio_load32(a) (*(const volatile uint32_t *)(a))
#define bp__mmio_store32(a, v) (*(volatile uint32_t *)(a) = (v))
#endif

static inline uint32_t bp_read32(const volatile void *base, uint32_t off)
{
	uint32_t v = bp__mmio_load32((const volatile char *)base + off);
	bp_io_rmb();
	return v;
}

/* Orders earlier stores to DMA memory (descriptors) before the register write. */
static inline void bp_write32(volatile void *base, uint32_t off, uint32_t v)
{
	bp_io_wmb();
	bp__mmio_store32((volatile char *)base + off, v);
}

/* Without the barrier: for writes that publish nothing (masks, set-up). */
static inline void bp_write32_relaxed(volatile void *base, uint32_t off, uint32_t v)
{
	bp__mmio_store32((volatile char *)base + off, v);
}

static inline void bp_set32(volatile void *base, uint32_t off, uint32_t bits)
{
	bp_write32(base, off, bp_read32(base, off) | bits);
}

static inline void bp_clear32(volatile void *base, uint32_t off, uint32_t bits)
{
	bp_write32(base, off, bp_read32(base, off) & ~bits);
}

/* Waits until (reg & mask) == want; 0, or -ETIMEDOUT after timeout_ms. */
static inline int bp_wait32(volatile void *base, uint32_t off, uint32_t mask, uint32_t want,
			    uint32_t timeout_ms)
{
	for (uint32_t waited = 0; waited <= timeout_ms * 10; waited++) {
		if ((bp_read32(base, off) & mask) == want)
			return 0;
		bp_delay_us(100);
	}
	return -ETIMEDOUT;
}

#endif
