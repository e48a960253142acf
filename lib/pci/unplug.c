/* SPDX-License-Identifier: MIT
 * Hot-unplug: the device leaves while a program drives it.
 *
 * How we learn it, one way per way in:
 *  - VFIO: vfio-pci's device request (bp_vfio_req_set), an eventfd it
 *    signals before it waits for every user to close the device fd. Each
 *    mapping of a BAR holds that file open too, so the unplug completes
 *    only once the BARs are unmapped and the fd is closed.
 *  - UIO: nothing waits for us; the device is just gone, after which poll
 *    on /dev/uioN reports an error (the UIO core answers EPOLLERR once the
 *    device is unregistered). A dup of the fd is watched for that alone:
 *    the driver's interrupt registration keeps the fd itself.
 *  - a software model (tests/model): an eventfd it signals, as VFIO's.
 *
 * What happens then, on the interrupt thread, in this order:
 *  1. the device is marked removed: config and BAR accesses through lib/pci
 *     answer -ENODEV, and interrupts are not switched off through it;
 *  2. each BAR mapping is replaced, in one step, by private memory that
 *     reads all ones. An lcore may be in the middle of a burst and write a
 *     tail register after this: the write lands in our memory, not in a
 *     device on its way out, nor (UIO) at a bus address that may soon
 *     belong to another device. All ones is what a read the device no
 *     longer answers returns on x86 (a master abort), so a driver sees one
 *     kind of absence whether it was told or not;
 *  3. we let go: VFIO's device fd becomes /dev/null, which with the BARs
 *     unmapped is vfio-pci's last close: the kernel turns the device off
 *     (no more DMA into our rings) and the unplug completes. The model's
 *     release() says the same to it. (UIO: the device is gone already.)
 *  4. the driver's removed hook: its ports report BP_ETH_EVENT_REMOVED.
 *     After 3: a program's callbacks may take their time, and the kernel's
 *     unplug should not wait for them.
 * The descriptor rings and mbufs stay ours until stop and close, which
 * give every mbuf back without waiting for the hardware.
 */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <bypass/intr.h>
#include <bypass/log.h>
#include "pci_internal.h"
#include "pci_model.h"

bool bp_pci_removed(const struct bp_pci_device *d)
{
	const struct pci_dev *pd = (const struct pci_dev *)((const char *)d - offsetof(struct pci_dev, pub));
	return __atomic_load_n(&pd->removed, __ATOMIC_ACQUIRE);
}

/* Step 2. mremap with MREMAP_FIXED replaces the old mapping atomically: there
 * is no moment at which the address is unmapped and an access would fault.
 * NIC BARs are KiB to a few MiB, so the all-ones copy costs little. */
static void retire_bars(struct bp_pci_device *d)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	for (unsigned i = 0; i < BP_PCI_MAX_BARS; i++) {
		void *va = d->bar[i].va;
		size_t len = (d->bar[i].len + page - 1) & ~(page - 1);
		if (!va)
			continue;
		void *fill = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fill != MAP_FAILED) {
			memset(fill, 0xff, len);
			if (mremap(fill, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, va) != MAP_FAILED)
				continue;
			munmap(fill, len);
		}
		/* No room for the copy: zeros in its place, atomically still. */
		if (mmap(va, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			BP_LOG(ERR, "%s: cannot replace the mapping of BAR%u (%s); the kernel's unplug waits for "
				    "this process to exit", d->addr, i, strerror(errno));
	}
}

static void on_removal(void *arg)
{
	struct pci_dev *pd = arg;
	struct bp_pci_device *d = &pd->pub;
	if (__atomic_exchange_n(&pd->removed, true, __ATOMIC_ACQ_REL))
		return; /* vfio-pci asks again every 10 s until the last close */
	BP_LOG(WARNING, "%s: the device is being removed (hot-unplug); bypass lets go of it", d->addr);
	if (d->access != BP_PCI_MODEL) /* the model's registers are the model's own */
		retire_bars(d);
	if (d->access == BP_PCI_VFIO || d->access == BP_PCI_VFIO_NOIOMMU)
		bp_vfio_let_go(pd);
	else if (d->access == BP_PCI_MODEL && pd->model->release)
		pd->model->release(pd->model->ctx);
	if (d->driver && d->driver->removed)
		d->driver->removed(d);
}

/* UIO: a dup of /dev/uioN, watched for errors only. A device without an
 * interrupt answers every poll with an error from the start (the UIO core
 * has no line to wait on): its removal cannot be seen that way. */
static int watch_uio(struct pci_dev *pd)
{
	int fd = fcntl(pd->dev_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) {
		close(fd);
		return -ENOTSUP;
	}
	int rc = bp_intr_callback_register_gone(fd, on_removal, pd);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	pd->req_fd = fd;
	return 0;
}

/* VFIO and the model: an eventfd they signal (fd -1: no more). */
static int request_set(struct pci_dev *pd, int fd)
{
	if (pd->pub.access != BP_PCI_MODEL)
		return bp_vfio_req_set(pd, fd);
	if (!pd->model->request_set)
		return -ENOTSUP;
	pd->model->request_set(pd->model->ctx, fd);
	return 0;
}

static int watch_request(struct pci_dev *pd)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	int rc = request_set(pd, fd);
	if (rc == 0 && (rc = bp_intr_callback_register(fd, 8, on_removal, pd)) < 0)
		request_set(pd, -1);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	pd->req_fd = fd;
	return 0;
}

void bp_pci_unplug_watch(struct pci_dev *pd)
{
	int rc = pd->pub.access == BP_PCI_UIO ? watch_uio(pd) : watch_request(pd);
	if (rc < 0)
		BP_LOG(DEBUG, "%s: its removal cannot be watched (%s): a hot-unplug would go unnoticed",
		       pd->pub.addr, strerror(-rc));
}

void bp_pci_unplug_unwatch(struct pci_dev *pd)
{
	if (pd->req_fd < 0)
		return;
	/* Unregistering waits for a removal in progress to finish. */
	bp_intr_callback_unregister(pd->req_fd, on_removal, pd);
	bool let_go = pd->removed && pd->pub.access != BP_PCI_MODEL; /* no channel left to switch off */
	if (pd->pub.access != BP_PCI_UIO && !let_go)
		request_set(pd, -1);
	close(pd->req_fd);
	pd->req_fd = -1;
}
