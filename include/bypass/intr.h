/* SPDX-License-Identifier: MIT
 * Interrupts, as file descriptors.
 *
 * A device's interrupts reach user space as fds: eventfds that VFIO signals
 * for each vector (MSI-X, MSI, INTx), or /dev/uioN whose read() returns the
 * interrupt count (UIO). bp_pci_intr_enable() (pci.h) fills a device's
 * handle; a driver then either
 *  - registers a callback for a vector here: one control thread (epoll) runs
 *    it each time the vector fires — link changes, "other" causes, and on a
 *    device with one interrupt line everything, demultiplexed by the driver;
 *  - or gives a queue's vector fd to the program, which sleeps on it itself
 *    (bp_eth_rx_intr_wait, or its own epoll).
 * The thread starts with the first registration and stops at bp_cleanup().
 *
 * INTx is level-triggered and shared: the kernel masks the line each time it
 * fires, and the driver unmasks it (bp_intr_unmask) once it has read and
 * cleared the device's cause register. MSI and MSI-X need no such step.
 */
#ifndef BYPASS_INTR_H
#define BYPASS_INTR_H

#include <stdint.h>

enum bp_intr_mode {
	BP_INTR_NONE = 0,
	BP_INTR_MSIX, /* a vector per cause: 0 for link and other causes, 1.. for queues */
	BP_INTR_MSI,  /* one vector for every cause */
	BP_INTR_INTX, /* the legacy line, shared, masked by the kernel at each interrupt */
};
#define BP_INTR_MAX_VEC 32

/* A device's interrupts, as lib/pci set them up. */
struct bp_intr_handle {
	enum bp_intr_mode mode;
	uint16_t nb_vec;  /* vectors with an fd (1 for MSI and INTx) */
	uint8_t read_len; /* bytes one read() takes to clear an fd: 8 (eventfd), 4 (UIO) */
	int fd[BP_INTR_MAX_VEC];
	/* INTx: lets the line fire again. Set by whoever set the handle up, with
	 * what it needs to find the device. */
	int (*unmask)(struct bp_intr_handle *h);
	void *ctx;
};

/* The fd of vector vec; every cause shares vector 0 when there are fewer
 * vectors than asked for. -1 when interrupts are off. */
static inline int bp_intr_fd(const struct bp_intr_handle *h, uint16_t vec)
{
	return h->nb_vec ? h->fd[vec < h->nb_vec ? vec : 0] : -1;
}
/* After the device's causes were read and cleared: INTx fires again. 0 for
 * MSI/MSI-X (nothing to do), or negative errno. */
int bp_intr_unmask(struct bp_intr_handle *h);
const char *bp_intr_mode_name(enum bp_intr_mode m);

/* ---- the control thread ---- */
typedef void (*bp_intr_cb)(void *arg);
/* Runs cb(arg) on the interrupt thread each time fd becomes readable, after
 * reading read_len bytes from it. With read_len 0 the callback reads, and it
 * also runs when fd reports an error or hang-up (a socket whose peer is gone),
 * after which fd leaves the set. 0 or negative errno. */
int bp_intr_callback_register(int fd, unsigned read_len, bp_intr_cb cb, void *arg);
/* Runs cb(arg) once, on the interrupt thread, when fd reports an error or a
 * hang-up (a /dev/uioN whose device was removed), never when it is merely
 * readable: a second watch on a device whose interrupts someone else reads
 * (give it a dup() of their fd: epoll tells the two apart). fd then leaves
 * the set; unregister as for any other. 0 or negative errno. */
int bp_intr_callback_register_gone(int fd, bp_intr_cb cb, void *arg);
/* When it returns, cb(arg) for fd is not running and will not run again (from
 * within the callback itself it does not wait). 0, or -ENOENT. */
int bp_intr_callback_unregister(int fd, bp_intr_cb cb, void *arg);
/* Stops the thread; registrations left are dropped (bp_cleanup). */
void bp_intr_shutdown(void);

/* Sleeps until fd is readable or timeout_ms passes (-1: no limit), then reads
 * read_len bytes to clear it. 1 if it fired, 0 on time-out, negative errno
 * (-EIO: the device was removed; it will never fire again). */
int bp_intr_wait(int fd, unsigned read_len, int timeout_ms);

#endif
