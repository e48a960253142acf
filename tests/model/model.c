/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <bypass/intr.h>
#include <bypass/common.h>
#include <bypass/mem.h>
#include <bypass/mempool.h>
#include "model.h"

#define MAX_BARS 16

static struct {
	const char *base;
	size_t len;
	model_read_fn rd;
	model_write_fn wr;
	void *ctx;
} bars[MAX_BARS];
static pthread_mutex_t bars_lock = PTHREAD_MUTEX_INITIALIZER;

void model_bar_register(const void *base, size_t len, model_read_fn rd, model_write_fn wr, void *ctx)
{
	pthread_mutex_lock(&bars_lock);
	for (unsigned i = 0; i < MAX_BARS; i++)
		if (!bars[i].base) {
			bars[i].base = base;
			bars[i].len = len;
			bars[i].rd = rd;
			bars[i].wr = wr;
			bars[i].ctx = ctx;
			pthread_mutex_unlock(&bars_lock);
			return;
		}
	pthread_mutex_unlock(&bars_lock);
	fprintf(stderr, "model: more than %d register files\n", MAX_BARS);
	abort();
}

void model_bar_unregister(const void *base)
{
	pthread_mutex_lock(&bars_lock);
	for (unsigned i = 0; i < MAX_BARS; i++)
		if (bars[i].base == base)
			bars[i].base = NULL;
	pthread_mutex_unlock(&bars_lock);
}

static unsigned find_bar(const volatile void *addr)
{
	const char *a = (const char *)(uintptr_t)addr;
	pthread_mutex_lock(&bars_lock);
	for (unsigned i = 0; i < MAX_BARS; i++)
		if (bars[i].base && a >= bars[i].base && a + 4 <= bars[i].base + bars[i].len) {
			pthread_mutex_unlock(&bars_lock);
			return i;
		}
	pthread_mutex_unlock(&bars_lock);
	fprintf(stderr, "model: the driver accessed register address %p, inside no device's BAR\n",
		(const void *)(uintptr_t)addr);
	abort();
}

uint32_t bp_mmio_model_read32(const volatile void *addr)
{
	unsigned i = find_bar(addr);
	return bars[i].rd(bars[i].ctx, (uint32_t)((const char *)(uintptr_t)addr - bars[i].base));
}

void bp_mmio_model_write32(volatile void *addr, uint32_t v)
{
	unsigned i = find_bar(addr);
	bars[i].wr(bars[i].ctx, (uint32_t)((const char *)(uintptr_t)addr - bars[i].base), v);
}

void *model_dma(bp_iova_t iova, size_t len)
{
	/* A debug pool's buffer (--mbuf-debug): its IOVA is its address under a
	 * tag no real device can reach; the models, which stand in for one, may. */
	if ((iova & BP_MEMPOOL_DEBUG_IOVA_TAG) == BP_MEMPOOL_DEBUG_IOVA_TAG)
		return (void *)(uintptr_t)(iova & ~BP_MEMPOOL_DEBUG_IOVA_TAG);
	return bp_mem_iova_to_va(iova, len);
}

void fq_init(struct frame_queue *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->head = NULL;
	q->tail = &q->head;
	q->count = 0;
}

void fq_push(struct frame_queue *q, const void *data, uint32_t len)
{
	struct model_frame *f = malloc(sizeof(*f) + len);
	if (!f)
		abort();
	f->next = NULL;
	f->len = len;
	memcpy(f->data, data, len);
	pthread_mutex_lock(&q->lock);
	*q->tail = f;
	q->tail = &f->next;
	q->count++;
	pthread_mutex_unlock(&q->lock);
}

struct model_frame *fq_pop(struct frame_queue *q)
{
	pthread_mutex_lock(&q->lock);
	struct model_frame *f = q->head;
	if (f) {
		q->head = f->next;
		if (!q->head)
			q->tail = &q->head;
		q->count--;
	}
	pthread_mutex_unlock(&q->lock);
	return f;
}

uint32_t fq_count(struct frame_queue *q)
{
	pthread_mutex_lock(&q->lock);
	uint32_t n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void fq_clear(struct frame_queue *q)
{
	struct model_frame *f;
	while ((f = fq_pop(q)))
		free(f);
}

uint64_t model_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void model_cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *lock, unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_cond_timedwait(cond, lock, &ts);
}

bool model_eventfd_signal(int fd)
{
	uint64_t one = 1;
	return fd >= 0 && write(fd, &one, sizeof(one)) == sizeof(one);
}

bool model_wait_flag(pthread_mutex_t *lock, pthread_cond_t *cond, const bool *flag, unsigned timeout_ms)
{
	uint64_t end = model_now_ns() + (uint64_t)timeout_ms * 1000000;
	pthread_mutex_lock(lock);
	while (!*flag && model_now_ns() < end)
		model_cond_wait_ms(cond, lock, 1);
	bool v = *flag;
	pthread_mutex_unlock(lock);
	return v;
}

bool model_wait_quiet_locked(pthread_mutex_t *lock, pthread_cond_t *quiet, const bool *is_quiet,
			     const bool *paused, struct frame_queue *in, unsigned timeout_ms)
{
	uint64_t deadline = model_now_ns() + (uint64_t)timeout_ms * 1000000;
	while (!*is_quiet || (!*paused && fq_count(in))) {
		if (model_now_ns() > deadline)
			return false;
		model_cond_wait_ms(quiet, lock, 1);
	}
	return true;
}

int model_msix_handle_open(struct bp_intr_handle *h, unsigned n)
{
	*h = (struct bp_intr_handle){ .mode = BP_INTR_MSIX, .nb_vec = (uint16_t)n, .read_len = 8 };
	for (unsigned v = 0; v < n; v++) {
		if ((h->fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			int rc = -errno;
			while (v--)
				close(h->fd[v]);
			return rc;
		}
	}
	return 0;
}
