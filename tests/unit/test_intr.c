/* SPDX-License-Identifier: MIT
 * Interrupts: the control thread, and lib/pci's VFIO interrupt set-up against
 * a fake VFIO device (MSI-X, MSI, INTx: what the lab's 82540EM cannot show). */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <time.h>
#include <sys/eventfd.h>
#include <linux/vfio.h>
#include <bypass/env.h>
#include <bypass/intr.h>
#include <bypass/pci.h>
#include "harness.h"
#include "../../lib/pci/pci_internal.h"
#include "../open_fds.h"

static void poke(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

struct counter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls;
	pthread_t thread;
	int unregister_fd; /* >= 0: the callback unregisters itself */
};

/* A "device" (a pipe: its writer's close is the device going) and an
 * eventfd that keeps interrupting meanwhile. */
static bool device_and_eventfd(int p[2], int *fd)
{
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return *fd >= 0 && pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0;
}

#define COUNTER_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, -1 }

static void count_cb(void *arg)
{
	struct counter *c = arg;
	if (c->unregister_fd >= 0)
		bp_intr_callback_unregister(c->unregister_fd, count_cb, c);
	pthread_mutex_lock(&c->lock);
	c->calls++;
	c->thread = pthread_self();
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static bool wait_calls(struct counter *c, int n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&c->lock);
	while (c->calls < n && pthread_cond_timedwait(&c->cond, &c->lock, &ts) == 0)
		;
	bool ok = c->calls >= n;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

TEST(intr_callbacks_run_on_one_thread_once_per_interrupt_until_unregistered)
{
	int before = open_fds();
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct counter c = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, -1 };
	CHECK(fd >= 0);
	CHECK_EQ(bp_intr_callback_register(fd, 8, count_cb, &c), 0);
	for (int i = 1; i <= 3; i++) {
		poke(fd);
		CHECK(wait_calls(&c, i));
	}
	CHECK(!pthread_equal(c.thread, pthread_self()));
	CHECK_EQ(bp_intr_callback_unregister(fd, count_cb, &c), 0);
	CHECK_EQ(bp_intr_callback_unregister(fd, count_cb, &c), -ENOENT);
	poke(fd);
	CHECK_EQ(bp_intr_wait(fd, 8, 1000), 1); /* it fired, and nobody else took it */
	CHECK_EQ(c.calls, 3);
	CHECK_EQ(bp_intr_wait(fd, 8, 10), 0);    /* drained: times out */
	/* a callback may unregister itself without waiting for itself */
	c.unregister_fd = fd;
	CHECK_EQ(bp_intr_callback_register(fd, 8, count_cb, &c), 0);
	poke(fd);
	CHECK(wait_calls(&c, 4));
	CHECK_EQ(bp_intr_callback_unregister(fd, count_cb, &c), -ENOENT);
	bp_intr_shutdown();
	close(fd);
	CHECK_EQ(open_fds(), before); /* the thread's epoll and eventfd are gone */
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A UIO device removed under us leaves an fd that reports an error and stays
 * readable forever: the thread must drop it, not spin on it, and keep serving
 * the others. A pipe whose writer closed behaves the same (EPOLLHUP). */
TEST(intr_a_source_whose_device_is_gone_is_dropped_and_the_thread_does_not_spin)
{
	int before = open_fds();
	int p[2], fd;
	CHECK(device_and_eventfd(p, &fd));
	struct counter gone = COUNTER_INIT, live = COUNTER_INIT;
	CHECK_EQ(bp_intr_callback_register(p[0], 4, count_cb, &gone), 0);
	CHECK_EQ(bp_intr_callback_register(fd, 8, count_cb, &live), 0);
	uint32_t count = 1;
	CHECK_EQ(write(p[1], &count, 4), 4);
	CHECK(wait_calls(&gone, 1)); /* an interrupt while the device was there */
	close(p[1]);                 /* the device goes */
	CHECK_EQ(bp_intr_wait(p[0], 4, 1000), -EIO);
	double t0 = cpu_seconds();
	for (int i = 1; i <= 20; i++) { /* ~200 ms in which the others still work */
		poke(fd);
		CHECK(wait_calls(&live, i));
		usleep(10000);
	}
	double used = cpu_seconds() - t0;
	CHECK(used < 0.05); /* a spinning thread would take most of the 200 ms */
	CHECK_EQ(gone.calls, 1);
	CHECK_EQ(bp_intr_callback_unregister(p[0], count_cb, &gone), 0); /* still registered */
	CHECK_EQ(bp_intr_callback_unregister(fd, count_cb, &live), 0);
	bp_intr_shutdown();
	close(p[0]);
	close(fd);
	CHECK_EQ(open_fds(), before);
}

/* lib/pci's watch on /dev/uioN (a dup of the fd the driver reads): only the
 * device's end runs it, never an interrupt, and it reads nothing. */
TEST(intr_a_gone_watch_runs_once_at_the_end_and_never_reads)
{
	int before = open_fds();
	int p[2], fd;
	CHECK(device_and_eventfd(p, &fd));
	struct counter gone = COUNTER_INIT, live = COUNTER_INIT;
	CHECK_EQ(bp_intr_callback_register_gone(p[0], count_cb, &gone), 0);
	CHECK_EQ(bp_intr_callback_register(fd, 8, count_cb, &live), 0);
	uint32_t count = 7;
	CHECK_EQ(write(p[1], &count, 4), 4); /* an interrupt: readable, not gone */
	poke(fd);                            /* after it, on the same thread */
	CHECK(wait_calls(&live, 1));
	CHECK_EQ(gone.calls, 0);
	close(p[1]); /* the device goes */
	CHECK(wait_calls(&gone, 1));
	poke(fd);
	CHECK(wait_calls(&live, 2));
	CHECK_EQ(gone.calls, 1);
	uint32_t got = 0;
	CHECK_EQ(read(p[0], &got, 4), 4); /* the watch left the count for its owner */
	CHECK_EQ(got, 7);
	CHECK_EQ(bp_intr_callback_unregister(p[0], count_cb, &gone), 0);
	CHECK_EQ(bp_intr_callback_unregister(fd, count_cb, &live), 0);
	bp_intr_shutdown();
	close(p[0]);
	close(fd);
	CHECK_EQ(open_fds(), before);
}

/* ---- a fake VFIO device ---- */

static struct {
	uint32_t count[VFIO_PCI_NUM_IRQS]; /* vectors per index */
	bool fail_set;
	unsigned sets;
	struct { uint32_t index, flags, start, count; int fds[BP_INTR_MAX_VEC]; } last;
	unsigned unmasks;
} fv;

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	(void)fd;
	if (req == VFIO_DEVICE_GET_IRQ_INFO) {
		struct vfio_irq_info *info = arg;
		if (info->index >= VFIO_PCI_NUM_IRQS) {
			errno = EINVAL;
			return -1;
		}
		info->count = fv.count[info->index];
		info->flags = VFIO_IRQ_INFO_EVENTFD |
			      (info->index == VFIO_PCI_INTX_IRQ_INDEX ? VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED : 0);
		return 0;
	}
	if (req == VFIO_DEVICE_SET_IRQS) {
		struct vfio_irq_set *s = arg;
		if (s->flags & VFIO_IRQ_SET_ACTION_UNMASK) {
			fv.unmasks++;
			return 0;
		}
		if (fv.fail_set || s->start + s->count > fv.count[s->index] ||
		    s->argsz != sizeof(*s) + ((s->flags & VFIO_IRQ_SET_DATA_EVENTFD) ? s->count * 4 : 0)) {
			errno = EINVAL;
			return -1;
		}
		fv.sets++;
		fv.last.index = s->index;
		fv.last.flags = s->flags;
		fv.last.start = s->start;
		fv.last.count = s->count;
		if (s->flags & VFIO_IRQ_SET_DATA_EVENTFD)
			memcpy(fv.last.fds, s->data, s->count * 4);
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static int (*real_vfio_ioctl)(int, unsigned long, void *);

static struct pci_dev *fake_vfio_dev(uint32_t msix, uint32_t msi, uint32_t intx)
{
	if (!real_vfio_ioctl)
		real_vfio_ioctl = bp_vfio_ioctl;
	memset(&fv, 0, sizeof(fv));
	fv.count[VFIO_PCI_MSIX_IRQ_INDEX] = msix;
	fv.count[VFIO_PCI_MSI_IRQ_INDEX] = msi;
	fv.count[VFIO_PCI_INTX_IRQ_INDEX] = intx;
	bp_vfio_ioctl = fake_ioctl;
	struct pci_dev *pd = bp_pci_dev_new();
	snprintf(pd->pub.addr, sizeof(pd->pub.addr), "0000:00:05.0");
	pd->pub.access = BP_PCI_VFIO;
	pd->dev_fd = 1000; /* never used: the fake answers */
	return pd;
}

static void fake_vfio_done(struct pci_dev *pd)
{
	free(pd);
	bp_vfio_ioctl = real_vfio_ioctl;
}

TEST(vfio_intr_msix_gives_each_vector_its_eventfd)
{
	int before = open_fds();
	struct pci_dev *pd = fake_vfio_dev(10, 1, 1);
	struct bp_intr_handle *h = &pd->pub.intr;
	CHECK_EQ(bp_pci_intr_enable(&pd->pub, 5), 0);
	CHECK_EQ(h->mode, BP_INTR_MSIX);
	CHECK_EQ(h->nb_vec, 5);
	CHECK_EQ(h->read_len, 8);
	/* one SET_IRQS: MSI-X index, vectors 0..4, the handle's own eventfds */
	CHECK_EQ(fv.sets, 1);
	CHECK_EQ(fv.last.index, VFIO_PCI_MSIX_IRQ_INDEX);
	CHECK_EQ(fv.last.flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
	CHECK_EQ(fv.last.start, 0);
	CHECK_EQ(fv.last.count, 5);
	for (int v = 0; v < 5; v++)
		CHECK_EQ(fv.last.fds[v], h->fd[v]);
	CHECK_EQ(open_fds(), before + 5);
	/* the kernel signals vector 3: only its fd is readable */
	poke(fv.last.fds[3]);
	CHECK_EQ(bp_intr_wait(bp_intr_fd(h, 3), 8, 1000), 1);
	CHECK_EQ(bp_intr_wait(bp_intr_fd(h, 2), 8, 0), 0);
	CHECK_EQ(bp_intr_fd(h, 9), h->fd[0]); /* beyond the vectors: the shared one */
	CHECK_EQ(bp_intr_unmask(h), 0);
	CHECK_EQ(fv.unmasks, 0); /* MSI-X needs no unmask */
	bp_pci_intr_disable(&pd->pub);
	CHECK_EQ(fv.sets, 2);
	CHECK_EQ(fv.last.index, VFIO_PCI_MSIX_IRQ_INDEX);
	CHECK_EQ(fv.last.flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	CHECK_EQ(fv.last.count, 0);
	CHECK_EQ(h->nb_vec, 0);
	CHECK_EQ(bp_intr_fd(h, 0), -1);
	CHECK_EQ(open_fds(), before); /* every eventfd closed */
	fake_vfio_done(pd);
}

TEST(vfio_intr_falls_back_to_msi_then_intx_and_unmasks_intx)
{
	int before = open_fds();
	/* too few MSI-X vectors for one per cause: MSI, every cause on one */
	struct pci_dev *pd = fake_vfio_dev(2, 1, 1);
	CHECK_EQ(bp_pci_intr_enable(&pd->pub, 5), 0);
	CHECK_EQ(pd->pub.intr.mode, BP_INTR_MSI);
	CHECK_EQ(pd->pub.intr.nb_vec, 1);
	CHECK_EQ(fv.last.index, VFIO_PCI_MSI_IRQ_INDEX);
	CHECK_EQ(bp_intr_fd(&pd->pub.intr, 4), pd->pub.intr.fd[0]);
	bp_pci_intr_disable(&pd->pub);
	fake_vfio_done(pd);
	/* only INTx (the 82540EM): unmasked at once, and after each interrupt */
	pd = fake_vfio_dev(0, 0, 1);
	CHECK_EQ(bp_pci_intr_enable(&pd->pub, 2), 0);
	CHECK_EQ(pd->pub.intr.mode, BP_INTR_INTX);
	CHECK_EQ(fv.last.index, VFIO_PCI_INTX_IRQ_INDEX);
	CHECK_EQ(fv.unmasks, 1);
	CHECK_EQ(bp_intr_unmask(&pd->pub.intr), 0);
	CHECK_EQ(fv.unmasks, 2);
	bp_pci_intr_disable(&pd->pub);
	CHECK_EQ(fv.last.index, VFIO_PCI_INTX_IRQ_INDEX);
	CHECK_EQ(fv.last.count, 0);
	fake_vfio_done(pd);
	/* no interrupt at all: refused, nothing left open */
	pd = fake_vfio_dev(0, 0, 0);
	CHECK_EQ(bp_pci_intr_enable(&pd->pub, 1), -ENOTSUP);
	CHECK_EQ(pd->pub.intr.nb_vec, 0);
	fake_vfio_done(pd);
	/* VFIO refuses the eventfds: the error comes back, the fds are closed */
	pd = fake_vfio_dev(8, 0, 0);
	fv.fail_set = true;
	CHECK_EQ(bp_pci_intr_enable(&pd->pub, 4), -EINVAL);
	CHECK_EQ(pd->pub.intr.nb_vec, 0);
	fake_vfio_done(pd);
	CHECK_EQ(open_fds(), before);
}
