/* SPDX-License-Identifier: MIT
 * The interrupt control thread: one epoll set, callbacks run one at a time.
 *
 * Each registration has a slot; epoll carries the slot's index and generation,
 * so an event for a registration removed in the meantime is recognised and
 * dropped. Unregistering waits for a callback of that slot that is running,
 * unless it is called from the callback itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <bypass/common.h>
#include <bypass/intr.h>
#include <bypass/log.h>

#define MAX_SOURCES 64

struct source {
	int fd;
	unsigned read_len;
	bp_intr_cb cb;
	void *arg;
	uint32_t gen; /* 0: slot free */
	bool gone_only; /* bp_intr_callback_register_gone */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t idle; /* signalled when a callback returns */
	pthread_t thread;
	bool running;
	int epfd, wake; /* wake: an eventfd that tells the thread to look again */
	bool quit;
	int busy;       /* slot whose callback runs now, or -1 */
	uint32_t next_gen;
	struct source src[MAX_SOURCES];
} ic = { .lock = PTHREAD_MUTEX_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER, .epfd = -1, .wake = -1,
	 .busy = -1 };

const char *bp_intr_mode_name(enum bp_intr_mode m)
{
	switch (m) {
	case BP_INTR_MSIX: return "MSI-X";
	case BP_INTR_MSI: return "MSI";
	case BP_INTR_INTX: return "INTx";
	case BP_INTR_NONE: break;
	}
	return "none";
}

int bp_intr_unmask(struct bp_intr_handle *h)
{
	return h->unmask ? h->unmask(h) : 0;
}

/* Reads what the fd holds so that it stops being readable; 0, or -errno when
 * the fd is broken for good (a UIO device removed under us answers EIO). */
static int drain(int fd, unsigned read_len)
{
	uint64_t buf;
	if (read_len && read(fd, &buf, read_len) < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	return 0;
}

static void *intr_main(void *unused)
{
	(void)unused;
	struct epoll_event ev[16];
	for (;;) {
		int n = epoll_wait(ic.epfd, ev, BP_ARRAY_SIZE(ev), -1);
		if (n < 0 && errno != EINTR) {
			BP_LOG(ERR, "interrupt thread: epoll_wait: %s; interrupts stop here", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			uint64_t key = ev[i].data.u64;
			if (key == UINT64_MAX) {
				drain(ic.wake, 8);
				continue;
			}
			unsigned slot = (unsigned)(key >> 32);
			pthread_mutex_lock(&ic.lock);
			struct source s = ic.src[slot];
			if (s.gen != (uint32_t)key) { /* unregistered meanwhile */
				pthread_mutex_unlock(&ic.lock);
				continue;
			}
			ic.busy = (int)slot;
			pthread_mutex_unlock(&ic.lock);
			/* A source that can never fire again (its device was removed:
			 * UIO then reports an error or a hang-up, and is readable
			 * forever) leaves the set, or the level-triggered wait would
			 * spin; the registration stays until its owner unregisters. */
			bool gone = ev[i].events & (EPOLLERR | EPOLLHUP);
			int err = gone ? -EIO : s.gone_only ? 0 : drain(s.fd, s.read_len);
			if (s.gone_only) {
				epoll_ctl(ic.epfd, EPOLL_CTL_DEL, s.fd, NULL);
				if (gone)
					s.cb(s.arg);
			} else if (s.read_len == 0) {
				/* The callback reads, and so sees the end itself (a
				 * socket whose peer closed): it runs once more. */
				s.cb(s.arg);
				if (gone)
					epoll_ctl(ic.epfd, EPOLL_CTL_DEL, s.fd, NULL);
			} else if (err) {
				BP_LOG(WARNING, "interrupt fd %d fails (%s): its device is gone; no more interrupts from it",
				       s.fd, strerror(-err));
				epoll_ctl(ic.epfd, EPOLL_CTL_DEL, s.fd, NULL);
			} else {
				s.cb(s.arg);
			}
			pthread_mutex_lock(&ic.lock);
			ic.busy = -1;
			pthread_cond_broadcast(&ic.idle);
			pthread_mutex_unlock(&ic.lock);
		}
		pthread_mutex_lock(&ic.lock);
		bool quit = ic.quit;
		pthread_mutex_unlock(&ic.lock);
		if (quit)
			return NULL;
	}
}

/* Under the lock. */
static int start_thread(void)
{
	if (ic.running)
		return 0;
	ic.epfd = epoll_create1(EPOLL_CLOEXEC);
	ic.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UINT64_MAX };
	int rc = ic.epfd < 0 || ic.wake < 0 ? -errno : 0;
	if (!rc && epoll_ctl(ic.epfd, EPOLL_CTL_ADD, ic.wake, &ev) < 0)
		rc = -errno;
	ic.quit = false;
	if (!rc && (rc = -pthread_create(&ic.thread, NULL, intr_main, NULL)) == 0) {
		pthread_setname_np(ic.thread, "bp-intr");
		ic.running = true;
		return 0;
	}
	BP_LOG(ERR, "cannot start the interrupt thread: %s", strerror(-rc));
	if (ic.epfd >= 0)
		close(ic.epfd);
	if (ic.wake >= 0)
		close(ic.wake);
	ic.epfd = ic.wake = -1;
	return rc;
}

/* events: EPOLLIN, or 0 for a source watched only for its end (epoll
 * reports errors and hang-ups whatever was asked, epoll_ctl(2)). */
static int add_source(int fd, unsigned read_len, uint32_t events, bp_intr_cb cb, void *arg)
{
	if (fd < 0 || !cb || read_len > 8)
		return -EINVAL;
	pthread_mutex_lock(&ic.lock);
	int rc = start_thread();
	unsigned slot = 0;
	while (!rc && slot < MAX_SOURCES && ic.src[slot].gen)
		slot++;
	if (!rc && slot == MAX_SOURCES) {
		BP_LOG(ERR, "more than %d interrupt sources registered", MAX_SOURCES);
		rc = -ENOSPC;
	}
	if (!rc) {
		uint32_t gen = ++ic.next_gen ? ic.next_gen : ++ic.next_gen; /* never 0 */
		ic.src[slot] = (struct source){ fd, read_len, cb, arg, gen, events == 0 };
		struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)slot << 32 | gen };
		if (epoll_ctl(ic.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			rc = -errno;
			BP_LOG(ERR, "cannot wait on interrupt fd %d: %s", fd, strerror(errno));
			ic.src[slot].gen = 0;
		}
	}
	pthread_mutex_unlock(&ic.lock);
	return rc;
}

int bp_intr_callback_register(int fd, unsigned read_len, bp_intr_cb cb, void *arg)
{
	return add_source(fd, read_len, EPOLLIN, cb, arg);
}

int bp_intr_callback_register_gone(int fd, bp_intr_cb cb, void *arg)
{
	return add_source(fd, 0, 0, cb, arg);
}

int bp_intr_callback_unregister(int fd, bp_intr_cb cb, void *arg)
{
	pthread_mutex_lock(&ic.lock);
	for (unsigned slot = 0; slot < MAX_SOURCES; slot++) {
		struct source *s = &ic.src[slot];
		if (!s->gen || s->fd != fd || s->cb != cb || s->arg != arg)
			continue;
		epoll_ctl(ic.epfd, EPOLL_CTL_DEL, fd, NULL);
		s->gen = 0;
		bool self = ic.running && pthread_equal(pthread_self(), ic.thread);
		while (!self && ic.busy == (int)slot)
			pthread_cond_wait(&ic.idle, &ic.lock);
		pthread_mutex_unlock(&ic.lock);
		return 0;
	}
	pthread_mutex_unlock(&ic.lock);
	return -ENOENT;
}

void bp_intr_shutdown(void)
{
	pthread_mutex_lock(&ic.lock);
	if (!ic.running) {
		pthread_mutex_unlock(&ic.lock);
		return;
	}
	ic.quit = true;
	uint64_t one = 1;
	if (write(ic.wake, &one, sizeof(one)) < 0)
		BP_LOG(DEBUG, "interrupt thread: wake-up write failed: %s", strerror(errno));
	pthread_mutex_unlock(&ic.lock);
	pthread_join(ic.thread, NULL);
	pthread_mutex_lock(&ic.lock);
	close(ic.epfd);
	close(ic.wake);
	ic.epfd = ic.wake = -1;
	ic.running = false;
	memset(ic.src, 0, sizeof(ic.src));
	pthread_mutex_unlock(&ic.lock);
}

int bp_intr_wait(int fd, unsigned read_len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;
	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
		return -EIO; /* the device behind it is gone */
	int err = drain(fd, read_len);
	return err ? err : 1;
}
