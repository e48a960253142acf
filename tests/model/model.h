/* SPDX-License-Identifier: MIT
 * Host-side device models: the infrastructure every model shares.
 *
 * A model is a software NIC: a register file the driver reaches through the
 * BP_MMIO_MODEL hooks of include/bypass/mmio.h, a thread that does what the
 * hardware does (fetches descriptors, moves frames, writes status back) over
 * ordinary memory at IOVA = VA, and a wire: frames the test injects, frames
 * the NIC sends. The real PMD runs against it unchanged, through the normal
 * probe path (lib/pci/pci_model.h), in milliseconds, and meets what QEMU
 * hides: a ring filled to the last descriptor, a NIC slower than the driver,
 * a NIC that stops, a link that goes down. */
#ifndef BYPASS_TEST_MODEL_H
#define BYPASS_TEST_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <pthread.h>
#include <bypass/common.h>

/* ---- register files ---- */
typedef uint32_t (*model_read_fn)(void *ctx, uint32_t off);
typedef void (*model_write_fn)(void *ctx, uint32_t off, uint32_t v);
/* Routes 32-bit accesses to [base, base + len) to the model. A driver access
 * anywhere else aborts the test with the address: a wild register access. */
void model_bar_register(const void *base, size_t len, model_read_fn rd, model_write_fn wr, void *ctx);
void model_bar_unregister(const void *base);

/* ---- DMA ---- */
/* The memory behind device address [iova, iova + len), or NULL if it is not
 * inside one memory zone: what an IOMMU would block. Models count such faults
 * and tests assert there were none. */
void *model_dma(bp_iova_t iova, size_t len);

/* ---- the wire ---- */
#define MODEL_FRAME_MAX 16384
struct model_frame {
	struct model_frame *next;
	uint32_t len;
	uint8_t data[];
};
/* A FIFO of frames with its own (leaf) lock. */
struct frame_queue {
	pthread_mutex_t lock;
	struct model_frame *head, **tail;
	uint32_t count;
};
void fq_init(struct frame_queue *q);
void fq_push(struct frame_queue *q, const void *data, uint32_t len);
/* Takes the oldest frame (the caller frees it), or NULL. */
struct model_frame *fq_pop(struct frame_queue *q);
uint32_t fq_count(struct frame_queue *q);
void fq_clear(struct frame_queue *q);

/* ---- interrupts ---- */
struct bp_intr_handle;
/* An MSI-X handle of n vectors, each an eventfd the model writes to raise
 * it (as VFIO's would be); 0, or -errno with none left open. */
int model_msix_handle_open(struct bp_intr_handle *h, unsigned n);

/* ---- time ---- */
uint64_t model_now_ns(void);

/* With `lock` held: waits on cond for at most ms milliseconds (a model's
 * waits re-check their condition that often). */
void model_cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *lock, unsigned ms);
/* Signals an eventfd lib/pci gave a model (a device request): false if it
 * gave none (fd -1) or the write failed. */
bool model_eventfd_signal(int fd);
/* Until *flag holds (read under lock; cond is broadcast when it may have
 * changed), timeout_ms at most: its value at the end. */
bool model_wait_flag(pthread_mutex_t *lock, pthread_cond_t *cond, const bool *flag, unsigned timeout_ms);
/* A model thread's "nothing left to do": with `lock` held, waits on `quiet`
 * (re-checking every millisecond) until *is_quiet is set and, unless
 * *paused, `in` is empty. Every doorbell and injection clears is_quiet; the
 * thread sets it after a step that found nothing to do. false after
 * timeout_ms. */
bool model_wait_quiet_locked(pthread_mutex_t *lock, pthread_cond_t *quiet, const bool *is_quiet,
			     const bool *paused, struct frame_queue *in, unsigned timeout_ms);

#endif
