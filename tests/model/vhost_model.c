/* SPDX-License-Identifier: MIT
 * The vhost-user backend model (vhost_model.h). Written from the vhost-user
 * protocol document and virtio 1.2 §2.7 (the device's side of a split ring).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "../../drivers/net/virtio/virtio_regs.h"
#include "vhost_model.h"

#define MAX_VQ 16
#define MAX_REGIONS 8
#define HDR VIRTIO_NET_HDR_LEN

struct region {
	uint64_t gpa, size, uaddr;
	uint8_t *map;
};

struct vring_state {
	bool ready, enabled;
	uint16_t num, last_avail, used_idx;
	uint64_t desc_ua, avail_ua, used_ua;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	int kick, call;
	uint64_t rx_addr[4096]; /* split rx: each descriptor's buffer when last used */
};

struct vmodel_state {
	pthread_mutex_t lock;
	pthread_t thread;
	int lsock, conn;
	bool quit;
	char path[108];
	struct vmodel_conf conf;
	uint64_t proto;
	struct region reg[MAX_REGIONS];
	unsigned nreg;
	struct vring_state vq[MAX_VQ];
};

static void *gpa_ptr(struct vmodel *m, uint64_t a, uint64_t len)
{
	struct vmodel_state *s = m->st;
	for (unsigned i = 0; i < s->nreg; i++)
		if (a >= s->reg[i].gpa && a + len <= s->reg[i].gpa + s->reg[i].size)
			return s->reg[i].map + (a - s->reg[i].gpa);
	m->faults++;
	return NULL;
}

static void *ua_ptr(struct vmodel *m, uint64_t a)
{
	struct vmodel_state *s = m->st;
	for (unsigned i = 0; i < s->nreg; i++)
		if (a >= s->reg[i].uaddr && a < s->reg[i].uaddr + s->reg[i].size)
			return s->reg[i].map + (a - s->reg[i].uaddr);
	m->faults++;
	return NULL;
}

static void unmap_all(struct vmodel_state *s)
{
	for (unsigned i = 0; i < s->nreg; i++)
		munmap(s->reg[i].map, s->reg[i].size);
	s->nreg = 0;
}

static void close_rings(struct vmodel_state *s)
{
	for (unsigned i = 0; i < MAX_VQ; i++) {
		if (s->vq[i].kick >= 0)
			close(s->vq[i].kick);
		if (s->vq[i].call >= 0)
			close(s->vq[i].call);
		s->vq[i] = (struct vring_state){ .kick = -1, .call = -1 };
	}
}

/* packed: the wrap counter of free-running index idx (starts at 1) */
static bool pwrap(const struct vring_state *r, uint16_t idx)
{
	return !((idx >> __builtin_ctz(r->num)) & 1);
}

struct msg {
	uint32_t request, flags, size;
	union {
		uint64_t u64;
		struct { uint32_t index, num; } state;
		struct { uint32_t index, flags; uint64_t desc, used, avail, log; } addr;
		struct {
			uint32_t nregions, padding;
			struct { uint64_t gpa, size, uaddr, offset; } r[MAX_REGIONS];
		} mem;
	} p;
} __attribute__((packed));

static int recv_msg(int fd, struct msg *m, int *fds, unsigned *nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * MAX_REGIONS)];
	struct iovec iov = { m, 12 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n != 12)
		return -1;
	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			*nfds = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(c), *nfds * sizeof(int));
		}
	if (m->size > sizeof(m->p))
		return -1;
	size_t got = 0;
	while (got < m->size) {
		n = recv(fd, (char *)&m->p + got, m->size - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void reply(int fd, struct msg *m, uint32_t size)
{
	m->flags = 0x1 | (1u << 2);
	m->size = size;
	if (send(fd, m, 12 + size, MSG_NOSIGNAL) < 0) {
		/* the driver went away: its side sees it too */
	}
}

/* One message; false when the connection should end. */
static bool handle(struct vmodel *m, int fd)
{
	struct vmodel_state *s = m->st;
	struct msg msg = { 0 };
	int fds[MAX_REGIONS];
	unsigned nfds = 0;
	if (recv_msg(fd, &msg, fds, &nfds) < 0)
		return false;
	bool ack = msg.flags & (1u << 3);
	uint32_t idx = msg.p.state.index;
	pthread_mutex_lock(&s->lock);
	switch (msg.request) {
	case 3: /* SET_OWNER */
		break;
	case 1: /* GET_FEATURES */
		msg.p.u64 = s->conf.features | (1ull << 30);
		reply(fd, &msg, 8);
		break;
	case 15: /* GET_PROTOCOL_FEATURES */
		msg.p.u64 = 1ull << 0 | (s->conf.reply_ack ? 1ull << 3 : 0);
		reply(fd, &msg, 8);
		break;
	case 16:
		s->proto = msg.p.u64;
		break;
	case 17: /* GET_QUEUE_NUM */
		msg.p.u64 = s->conf.queue_pairs;
		reply(fd, &msg, 8);
		break;
	case 2: /* SET_FEATURES */
		m->negotiated = msg.p.u64;
		break;
	case 5: /* SET_MEM_TABLE */
		unmap_all(s);
		for (unsigned i = 0; i < msg.p.mem.nregions && i < nfds; i++) {
			struct region *r = &s->reg[i];
			r->gpa = msg.p.mem.r[i].gpa;
			r->size = msg.p.mem.r[i].size;
			r->uaddr = msg.p.mem.r[i].uaddr;
			r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], (off_t)msg.p.mem.r[i].offset);
			close(fds[i]);
			if (r->map == MAP_FAILED)
				abort();
			s->nreg = i + 1;
		}
		m->nregions = s->nreg;
		nfds = 0;
		break;
	case 8: /* SET_VRING_NUM */
		s->vq[idx].num = (uint16_t)msg.p.state.num;
		break;
	case 10: /* SET_VRING_BASE; packed: position, wrap counter in bit 15 */
		if (m->negotiated & VIRTIO_BIT(VIRTIO_F_RING_PACKED)) {
			uint16_t pos = msg.p.state.num & 0x7fff;
			bool wrap = msg.p.state.num >> 15;
			s->vq[idx].last_avail = (uint16_t)(wrap ? pos : pos + s->vq[idx].num);
		} else {
			s->vq[idx].last_avail = (uint16_t)msg.p.state.num;
		}
		s->vq[idx].used_idx = s->vq[idx].last_avail;
		break;
	case 9: /* SET_VRING_ADDR */
		idx = msg.p.addr.index;
		s->vq[idx].desc = ua_ptr(m, msg.p.addr.desc);
		s->vq[idx].avail = ua_ptr(m, msg.p.addr.avail);
		s->vq[idx].used = ua_ptr(m, msg.p.addr.used);
		break;
	case 12: /* SET_VRING_KICK */
	case 13: /* SET_VRING_CALL */
		idx = (uint32_t)(msg.p.u64 & 0xff);
		if (nfds) {
			int *slot = msg.request == 12 ? &s->vq[idx].kick : &s->vq[idx].call;
			if (*slot >= 0)
				close(*slot);
			*slot = fds[0];
			nfds = 0;
		}
		if (msg.request == 12)
			s->vq[idx].ready = true;
		break;
	case 18: /* SET_VRING_ENABLE */
		s->vq[idx].enabled = msg.p.state.num;
		break;
	case 11: /* GET_VRING_BASE: stops the ring */
		s->vq[idx].ready = s->vq[idx].enabled = false;
		msg.p.state.num = s->vq[idx].last_avail;
		if (m->negotiated & VIRTIO_BIT(VIRTIO_F_RING_PACKED) && s->vq[idx].num)
			msg.p.state.num = (s->vq[idx].last_avail & (s->vq[idx].num - 1)) |
					  (pwrap(&s->vq[idx], s->vq[idx].last_avail) ? 0x8000 : 0);
		m->stops++;
		reply(fd, &msg, 8);
		ack = false;
		break;
	default:
		fprintf(stderr, "vhost model: unexpected request %u\n", msg.request);
		abort();
	}
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	pthread_mutex_unlock(&s->lock);
	if (ack) {
		msg.p.u64 = 0;
		reply(fd, &msg, 8);
	}
	return true;
}

static void *serve(void *arg)
{
	struct vmodel *m = arg;
	struct vmodel_state *s = m->st;
	for (;;) {
		int fd = accept4(s->lsock, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return NULL; /* destroyed */
		pthread_mutex_lock(&s->lock);
		s->conn = fd;
		m->connections++;
		pthread_mutex_unlock(&s->lock);
		while (handle(m, fd))
			;
		pthread_mutex_lock(&s->lock);
		if (s->conn == fd) {
			close(fd);
			s->conn = -1;
		}
		close_rings(s);
		unmap_all(s);
		bool quit = s->quit;
		pthread_mutex_unlock(&s->lock);
		if (quit)
			return NULL;
	}
}

struct vmodel *vmodel_create(const char *path, const struct vmodel_conf *c)
{
	struct vmodel *m = calloc(1, sizeof(*m));
	struct vmodel_state *s = calloc(1, sizeof(*s));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!m || !s)
		abort();
	m->st = s;
	fq_init(&m->out);
	fq_init(&m->in);
	pthread_mutex_init(&s->lock, NULL);
	s->conf = *c;
	s->conn = -1;
	close_rings(s);
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	s->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lsock < 0 || bind(s->lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->lsock, 4) < 0 ||
	    pthread_create(&s->thread, NULL, serve, m) != 0) {
		perror("vhost model");
		abort();
	}
	return m;
}

void vmodel_hangup(struct vmodel *m)
{
	struct vmodel_state *s = m->st;
	pthread_mutex_lock(&s->lock);
	if (s->conn >= 0)
		shutdown(s->conn, SHUT_RDWR); /* the serving thread closes it */
	pthread_mutex_unlock(&s->lock);
}

void vmodel_destroy(struct vmodel *m)
{
	struct vmodel_state *s = m->st;
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	if (s->conn >= 0)
		shutdown(s->conn, SHUT_RDWR);
	pthread_mutex_unlock(&s->lock);
	shutdown(s->lsock, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->lsock);
	unlink(s->path);
	close_rings(s);
	unmap_all(s);
	fq_clear(&m->out);
	fq_clear(&m->in);
	free(s);
	free(m);
}

/* ---- the device side of a split ring ---- */

static void take_kicks(struct vmodel *m, struct vring_state *r)
{
	uint64_t v;
	if (r->kick >= 0 && read(r->kick, &v, sizeof(v)) == sizeof(v))
		m->kicks += v;
}

/* Publishes n used entries (ids/lens from the batch), then tells the driver
 * if it asked; and says whether we want kicks. */
static void finish(struct vmodel *m, struct vring_state *r, const uint32_t *ids, const uint32_t *lens, unsigned n,
		   bool reverse, bool one_used)
{
	uint16_t mask = (uint16_t)(r->num - 1);
	bool event_idx = m->negotiated & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	uint16_t old = r->used_idx;
	for (unsigned k = 0; k < n; k++) {
		unsigned j = reverse ? n - 1 - k : k;
		if (one_used && k != n - 1)
			continue; /* §2.7.9: one entry for the batch, at its last slot */
		struct vring_used_elem *e = &r->used->ring[(uint16_t)(old + k) & mask];
		e->id = ids[j];
		e->len = lens[j];
	}
	r->used_idx = (uint16_t)(old + n);
	__atomic_store_n(&r->used->idx, r->used_idx, __ATOMIC_RELEASE);
	uint16_t *avail_event = (uint16_t *)&r->used->ring[r->num];
	if (event_idx)
		__atomic_store_n(avail_event, m->want_kicks ? r->last_avail : (uint16_t)(r->last_avail - 0x8000),
				 __ATOMIC_RELAXED);
	else
		__atomic_store_n(&r->used->flags, m->want_kicks ? 0 : VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	bool call = event_idx ? vring_need_event(r->avail->ring[r->num], r->used_idx, old)
			      : !(r->avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
	if (n && call && r->call >= 0) {
		uint64_t one = 1;
		if (write(r->call, &one, sizeof(one)) == sizeof(one))
			m->calls++;
	}
}

/* The next frame of m->in into a driver buffer (either ring layout): the
 * net header, then the frame; *used is what the used entry reports. False,
 * and a fault counted, if the buffer is not writable, not ours or too short. */
static bool deliver(struct vmodel *m, uint64_t addr, uint32_t len, uint16_t flags, uint32_t *used)
{
	struct model_frame *f = fq_pop(&m->in);
	uint8_t *p = gpa_ptr(m, addr, len);
	bool ok = (flags & VRING_DESC_F_WRITE) && p && len >= HDR + f->len;
	if (ok) {
		struct virtio_net_hdr h = { .num_buffers = 1 };
		memcpy(p, &h, HDR);
		memcpy(p + HDR, f->data, f->len);
		*used = HDR + f->len;
	} else {
		m->faults++;
	}
	free(f);
	return ok;
}

static struct vring_state *live_ring(struct vmodel *m, unsigned i)
{
	struct vring_state *r = &m->st->vq[i];
	return r->ready && r->enabled && r->desc && r->avail && r->used ? r : NULL;
}

static unsigned packed_tx(struct vmodel *m, struct vring_state *r, unsigned budget);

/* A frame the driver sent, net header first: onto the wire without it. The
 * header must ask for nothing, and num_buffers be zero (§5.1.6.2.1): all
 * zero. */
static void emit(struct vmodel *m, const uint8_t *frame, uint32_t len)
{
	static const uint8_t zero[HDR];
	if (len < HDR)
		return;
	if (memcmp(frame, zero, sizeof(zero)) != 0)
		m->bad_headers++;
	fq_push(&m->out, frame + HDR, len - HDR);
}
static unsigned packed_rx(struct vmodel *m, struct vring_state *r, unsigned budget);
static bool is_packed(const struct vmodel *m) { return m->negotiated & VIRTIO_BIT(VIRTIO_F_RING_PACKED); }

unsigned vmodel_tx(struct vmodel *m, uint16_t q, unsigned budget)
{
	struct vmodel_state *s = m->st;
	static uint8_t frame[MODEL_FRAME_MAX + HDR];
	uint32_t ids[4096], lens[4096];
	unsigned n = 0;
	pthread_mutex_lock(&s->lock);
	struct vring_state *r = live_ring(m, 2u * q + 1);
	if (!r)
		goto out;
	take_kicks(m, r);
	if (is_packed(m)) {
		n = packed_tx(m, r, budget);
		goto out;
	}
	uint16_t mask = (uint16_t)(r->num - 1);
	uint16_t avail = __atomic_load_n(&r->avail->idx, __ATOMIC_ACQUIRE);
	while (r->last_avail != avail && n < budget && n < 4096) {
		uint16_t head = r->avail->ring[r->last_avail & mask], d = head;
		uint32_t len = 0;
		for (unsigned hops = 0; hops < r->num; hops++) {
			struct vring_desc *dd = &r->desc[d];
			uint8_t *p = gpa_ptr(m, dd->addr, dd->len);
			if (p && len + dd->len <= sizeof(frame))
				memcpy(frame + len, p, dd->len);
			len += dd->len;
			if (!(dd->flags & VRING_DESC_F_NEXT))
				break;
			d = dd->next;
		}
		emit(m, frame, len);
		ids[n] = head;
		lens[n] = 0;
		r->last_avail++;
		n++;
	}
	finish(m, r, ids, lens, n, m->reverse, m->one_used);
out:
	pthread_mutex_unlock(&s->lock);
	return n;
}

unsigned vmodel_rx(struct vmodel *m, uint16_t q, unsigned budget)
{
	struct vmodel_state *s = m->st;
	uint32_t ids[4096], lens[4096];
	unsigned n = 0;
	pthread_mutex_lock(&s->lock);
	struct vring_state *r = live_ring(m, 2u * q);
	if (!r)
		goto out;
	take_kicks(m, r);
	if (is_packed(m)) {
		n = packed_rx(m, r, budget);
		goto out;
	}
	uint16_t mask = (uint16_t)(r->num - 1);
	uint16_t avail = __atomic_load_n(&r->avail->idx, __ATOMIC_ACQUIRE);
	/* Out of order, a device fills the batch's buffers back to front; the
	 * used ring still lists the frames in the order they came. */
	unsigned batch = BP_MIN(BP_MIN((unsigned)(uint16_t)(avail - r->last_avail), budget), fq_count(&m->in));
	uint16_t first = r->last_avail;
	while (r->last_avail != avail && n < budget && n < 4096 && fq_count(&m->in)) {
		uint16_t slot = m->reverse ? (uint16_t)(first + batch - 1 - n) : r->last_avail;
		uint16_t head = r->avail->ring[slot & mask];
		struct vring_desc *dd = &r->desc[head];
		if (r->rx_addr[head] && r->rx_addr[head] != dd->addr)
			m->rx_new_addrs++;
		r->rx_addr[head] = dd->addr;
		if (!deliver(m, dd->addr, dd->len, dd->flags, &lens[n]))
			break;
		ids[n] = head;
		r->last_avail++;
		n++;
	}
	finish(m, r, ids, lens, n, false, false); /* rx: every length counts */
out:
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- the device side of a packed ring (§2.8) ---- */

static struct vring_packed_desc *pdesc(struct vring_state *r, uint16_t idx)
{
	return &((struct vring_packed_desc *)r->desc)[idx & (r->num - 1)];
}
static bool p_avail(struct vring_state *r, uint16_t idx)
{
	uint16_t f = __atomic_load_n(&pdesc(r, idx)->flags, __ATOMIC_ACQUIRE);
	bool w = pwrap(r, idx);
	return !!(f & VRING_PACKED_DESC_F_AVAIL) == w && !!(f & VRING_PACKED_DESC_F_USED) != w;
}
/* Marks a used descriptor at the device's used position. */
static void p_used(struct vring_state *r, uint16_t at, uint16_t id, uint32_t len)
{
	struct vring_packed_desc *d = pdesc(r, at);
	d->id = id;
	d->len = len;
	uint16_t f = pwrap(r, at) ? VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED : 0;
	__atomic_store_n(&d->flags, f, __ATOMIC_RELEASE);
}
static void p_finish(struct vmodel *m, struct vring_state *r, unsigned n)
{
	struct vring_packed_event *drv = (struct vring_packed_event *)r->avail; /* the driver's area */
	struct vring_packed_event *dev = (struct vring_packed_event *)r->used;  /* ours */
	__atomic_store_n(&dev->flags, m->want_kicks ? VRING_PACKED_EVENT_ENABLE : VRING_PACKED_EVENT_DISABLE,
			 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (n && __atomic_load_n(&drv->flags, __ATOMIC_RELAXED) == VRING_PACKED_EVENT_ENABLE && r->call >= 0) {
		uint64_t one = 1;
		if (write(r->call, &one, sizeof(one)) == sizeof(one))
			m->calls++;
	}
}

static unsigned packed_tx(struct vmodel *m, struct vring_state *r, unsigned budget)
{
	static uint8_t frame[MODEL_FRAME_MAX + HDR];
	uint16_t ids[4096], nds[4096];
	unsigned n = 0;
	while (n < budget && n < 4096 && p_avail(r, r->last_avail)) {
		uint32_t len = 0;
		uint16_t nd = 0, id = 0;
		for (;;) {
			struct vring_packed_desc *d = pdesc(r, (uint16_t)(r->last_avail + nd));
			uint8_t *p = gpa_ptr(m, d->addr, d->len);
			if (p && len + d->len <= sizeof(frame))
				memcpy(frame + len, p, d->len);
			len += d->len;
			id = d->id; /* the buffer id: in the chain's last descriptor (§2.8.6) */
			nd++;
			if (!(d->flags & VRING_DESC_F_NEXT) || nd == r->num)
				break;
		}
		emit(m, frame, len);
		ids[n] = id;
		nds[n] = nd;
		r->last_avail = (uint16_t)(r->last_avail + nd);
		n++;
	}
	/* used descriptors, in completion order, each at the position after the
	 * previous one's chain; in order, one may stand for the batch */
	uint16_t at = r->used_idx, total = 0;
	for (unsigned k = 0; k < n; k++)
		total = (uint16_t)(total + nds[k]);
	if (m->one_used && n) {
		p_used(r, at, ids[n - 1], 0);
	} else {
		for (unsigned k = 0; k < n; k++) {
			unsigned j = m->reverse ? n - 1 - k : k;
			p_used(r, at, ids[j], 0);
			at = (uint16_t)(at + nds[j]);
		}
	}
	r->used_idx = (uint16_t)(r->used_idx + total);
	p_finish(m, r, n);
	return n;
}

unsigned vmodel_peek(struct vmodel *m, uint16_t q, bool tx)
{
	unsigned n = 0;
	pthread_mutex_lock(&m->st->lock);
	struct vring_state *r = live_ring(m, 2u * q + (tx ? 1u : 0u));
	if (r && is_packed(m)) {
		while (n < r->num && p_avail(r, (uint16_t)(r->last_avail + n)))
			n++;
	} else if (r) {
		n = (uint16_t)(__atomic_load_n(&r->avail->idx, __ATOMIC_ACQUIRE) - r->last_avail);
	}
	pthread_mutex_unlock(&m->st->lock);
	return n;
}

static unsigned packed_rx(struct vmodel *m, struct vring_state *r, unsigned budget)
{
	uint16_t ids[4096];
	uint32_t lens[4096];
	unsigned n = 0, batch = 0;
	while (batch < budget && batch < fq_count(&m->in) && p_avail(r, (uint16_t)(r->last_avail + batch)))
		batch++;
	for (; n < batch; n++) {
		/* out of order: the batch's buffers are filled back to front */
		uint16_t idx = (uint16_t)(r->last_avail + (m->reverse ? batch - 1 - n : n));
		struct vring_packed_desc *d = pdesc(r, idx);
		if (!deliver(m, d->addr, d->len, d->flags, &lens[n]))
			break;
		ids[n] = d->id;
	}
	for (unsigned k = 0; k < n; k++)
		p_used(r, (uint16_t)(r->used_idx + k), ids[k], lens[k]);
	r->last_avail = (uint16_t)(r->last_avail + n);
	r->used_idx = (uint16_t)(r->used_idx + n);
	p_finish(m, r, n);
	return n;
}
