/* SPDX-License-Identifier: MIT
 * virtio-user: a virtio-net device reached through the vhost-user protocol
 * (QEMU docs/interop/vhost-user.rst) instead of PCI. The backend — DPDK's
 * net_vhost, a vswitch — is another process on this host: it maps our memory
 * zones from the fds we pass (SET_MEM_TABLE), and runs the rings with us at
 * memory speed. Notifications are eventfds: a kick per ring for the backend,
 * a call per ring for us (rx interrupts).
 *
 *   --vdev net_virtio_user0,path=SOCKET[,queues=N][,packed=0|1][,in_order=0|1][,event_idx=0|1][,mac=MAC]
 *
 * packed: the packed layout (§2.8) when the backend offers it (the default),
 * packed=0 keeps split rings (§2.7), packed=1 insists on packed.
 *
 * The frontend's sequence: SET_OWNER, GET_FEATURES, GET/SET_PROTOCOL_FEATURES,
 * GET_QUEUE_NUM (MQ); at start SET_FEATURES, SET_MEM_TABLE, per ring
 * SET_VRING_CALL, NUM, BASE, ADDR, KICK (the backend takes a ring as ready at
 * its kick), then SET_VRING_ENABLE; at stop GET_VRING_BASE per ring, which
 * stops it. While started the socket is watched: the peer closing it takes
 * the link down, and the port tries every 100 ms to reach a backend at the
 * same path again, which then resumes the rings where they stand (link up).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <bypass/env.h>
#include <bypass/intr.h>
#include <bypass/log.h>
#include "virtio.h"

/* Message ids (vhost-user.rst "Front-end message types") */
enum {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
};
#define VHU_VERSION 0x1
#define VHU_FLAG_REPLY (1u << 2)
#define VHU_FLAG_NEED_REPLY (1u << 3)
#define VHOST_USER_F_PROTOCOL_FEATURES 30 /* in GET/SET_FEATURES */
#define VHU_PROTO_MQ 0                    /* protocol features */
#define VHU_PROTO_REPLY_ACK 3
#define VHU_MAX_REGIONS 8 /* fds in one SET_MEM_TABLE */
#define VHU_TIMEOUT_S 5

struct vhu_region {
	uint64_t guest_phys_addr, memory_size, userspace_addr, mmap_offset;
};

struct vhu_msg {
	uint32_t request, flags, size;
	union {
		uint64_t u64;
		struct {
			uint32_t index, num;
		} state;
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} addr;
		struct {
			uint32_t nregions, padding;
			struct vhu_region r[VHU_MAX_REGIONS];
		} mem;
	} p;
} __attribute__((packed));
#define VHU_HDR_LEN 12

struct vhu {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char name[BP_ETH_NAME_MAX];
	int sock;
	uint64_t features;       /* offered, with the protocol bit */
	uint64_t proto;          /* negotiated protocol features */
	uint16_t queue_pairs;    /* the backend's (MQ), else 1 */
	bool watching;
	bool started;
	int retry_fd;            /* a timerfd while the peer is gone and we are started */
	pthread_mutex_t lock;    /* started, retry_fd */
	struct virtio_dev *vd;
};

static int vhu_send(struct vhu *u, struct vhu_msg *m, const int *fds, unsigned nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)] = { 0 };
	struct iovec iov = { m, VHU_HDR_LEN + m->size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	m->flags |= VHU_VERSION;
	ssize_t n;
	do
		n = sendmsg(u->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)iov.iov_len ? 0 : n < 0 ? -errno : -EIO;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		got += (size_t)n;
	}
	return 0;
}

/* The backend's reply to request req into *m. */
static int vhu_recv(struct vhu *u, uint32_t req, struct vhu_msg *m)
{
	int rc = read_full(u->sock, m, VHU_HDR_LEN);
	if (rc < 0)
		return rc;
	if (m->request != req || !(m->flags & VHU_FLAG_REPLY) || m->size > sizeof(m->p))
		return -EPROTO;
	return read_full(u->sock, &m->p, m->size);
}

static const char *req_name(uint32_t r)
{
	static const char *const names[] = {
		[VHU_GET_FEATURES] = "GET_FEATURES", [VHU_SET_FEATURES] = "SET_FEATURES",
		[VHU_SET_OWNER] = "SET_OWNER", [VHU_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[VHU_SET_VRING_NUM] = "SET_VRING_NUM", [VHU_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[VHU_SET_VRING_BASE] = "SET_VRING_BASE", [VHU_GET_VRING_BASE] = "GET_VRING_BASE",
		[VHU_SET_VRING_KICK] = "SET_VRING_KICK", [VHU_SET_VRING_CALL] = "SET_VRING_CALL",
		[VHU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VHU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES", [VHU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
		[VHU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	};
	return r < BP_ARRAY_SIZE(names) && names[r] ? names[r] : "?";
}

/* Sends a request; with reply, reads the answer into *m; else, if the
 * backend acknowledges (REPLY_ACK), waits for its verdict. */
static int vhu_call(struct vhu *u, struct vhu_msg *m, const int *fds, unsigned nfds, bool reply)
{
	uint32_t req = m->request;
	bool ack = !reply && (u->proto & VIRTIO_BIT(VHU_PROTO_REPLY_ACK));
	if (ack)
		m->flags |= VHU_FLAG_NEED_REPLY;
	int rc = vhu_send(u, m, fds, nfds);
	if (!rc && (reply || ack))
		rc = vhu_recv(u, req, m);
	if (!rc && ack && m->p.u64 != 0)
		rc = -EREMOTEIO;
	if (rc < 0)
		BP_LOG(ERR, "%s: vhost-user %s to %s failed: %s", u->name, req_name(req), u->path,
		       rc == -EREMOTEIO ? "the backend refused it" : strerror(-rc));
	return rc;
}

static int vhu_simple(struct vhu *u, uint32_t req, uint64_t v, bool with_payload)
{
	struct vhu_msg m = { .request = req, .size = with_payload ? sizeof(uint64_t) : 0, .p.u64 = v };
	return vhu_call(u, &m, NULL, 0, false);
}

static int vhu_get_u64(struct vhu *u, uint32_t req, uint64_t *v)
{
	struct vhu_msg m = { .request = req };
	int rc = vhu_call(u, &m, NULL, 0, true);
	if (!rc && m.size != sizeof(uint64_t))
		rc = -EPROTO;
	if (!rc)
		*v = m.p.u64;
	return rc;
}

static int vhu_state(struct vhu *u, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhu_msg m = { .request = req, .size = sizeof(m.p.state), .p.state = { index, num } };
	return vhu_call(u, &m, NULL, 0, false);
}

static int vhu_fd(struct vhu *u, uint32_t req, uint32_t index, int fd)
{
	struct vhu_msg m = { .request = req, .size = sizeof(uint64_t), .p.u64 = index };
	return vhu_call(u, &m, &fd, 1, false);
}

/* Connects and learns what the backend offers. */
static int vhu_connect(struct vhu *u, bool quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = VHU_TIMEOUT_S };
	memcpy(sa.sun_path, u->path, sizeof(u->path));
	u->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u->sock < 0)
		return -errno;
	setsockopt(u->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(u->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(u->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;
		if (!quiet)
			BP_LOG(ERR, "%s: cannot connect to the vhost-user socket %s: %s; start the backend first "
			    "(e.g. dpdk-testpmd --vdev net_vhost0,iface=%s)", u->name, u->path, strerror(errno), u->path);
		close(u->sock);
		u->sock = -1;
		return rc;
	}
	u->proto = 0;
	u->queue_pairs = 1;
	int rc = vhu_simple(u, VHU_SET_OWNER, 0, false);
	if (!rc)
		rc = vhu_get_u64(u, VHU_GET_FEATURES, &u->features);
	if (!rc && (u->features & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))) {
		uint64_t offered;
		rc = vhu_get_u64(u, VHU_GET_PROTOCOL_FEATURES, &offered);
		uint64_t want = offered & (VIRTIO_BIT(VHU_PROTO_MQ) | VIRTIO_BIT(VHU_PROTO_REPLY_ACK));
		if (!rc)
			rc = vhu_simple(u, VHU_SET_PROTOCOL_FEATURES, want, true);
		if (!rc)
			u->proto = want;
		uint64_t qn = 1;
		if (!rc && (want & VIRTIO_BIT(VHU_PROTO_MQ)) && (rc = vhu_get_u64(u, VHU_GET_QUEUE_NUM, &qn)) == 0)
			u->queue_pairs = (uint16_t)BP_MIN(BP_MAX(qn, 1ull), (uint64_t)VIRTIO_MAX_QUEUE_PAIRS);
	}
	if (rc < 0) {
		close(u->sock);
		u->sock = -1;
	}
	return rc;
}

/* The zones the backend must see: every one, by its fd. */
struct mem_walk {
	struct vhu_msg *m;
	int fds[VHU_MAX_REGIONS];
	unsigned n, skipped;
};

static int add_zone(const struct bp_memzone *mz, void *arg)
{
	struct mem_walk *w = arg;
	if (mz->fd < 0 || !mz->iova_contig) {
		w->skipped++;
		return 0;
	}
	if (w->n == VHU_MAX_REGIONS)
		return -E2BIG;
	w->m->p.mem.r[w->n] = (struct vhu_region){ mz->iova, mz->map_len, (uintptr_t)mz->va, 0 };
	w->fds[w->n++] = mz->fd;
	return 0;
}

static void on_socket(void *arg);
static void on_retry(void *arg);

static void vhu_watch(struct vhu *u, bool on)
{
	if (on == u->watching)
		return;
	if (on && bp_intr_callback_register(u->sock, 0, on_socket, u) < 0)
		return; /* no link-down event then; traffic still runs */
	if (!on)
		bp_intr_callback_unregister(u->sock, on_socket, u);
	u->watching = on;
}

/* While the peer is gone, the interrupt thread tries to reach it again
 * every RETRY_MS; the first try that works resumes the rings. */
#define RETRY_MS 100
static void retry_start(struct vhu *u)
{
	struct itimerspec t = { .it_interval = { 0, RETRY_MS * 1000000L }, .it_value = { 0, RETRY_MS * 1000000L } };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0 || timerfd_settime(fd, 0, &t, NULL) < 0 || bp_intr_callback_register(fd, 8, on_retry, u) < 0) {
		BP_LOG(WARNING, "%s: cannot watch for the backend's return; stop and start the port once it is back",
		       u->name);
		if (fd >= 0)
			close(fd);
		return;
	}
	u->retry_fd = fd;
}

/* Stops the retries; when it returns none is running. */
static void retry_stop(struct vhu *u)
{
	pthread_mutex_lock(&u->lock);
	int fd = u->retry_fd;
	u->retry_fd = -1;
	pthread_mutex_unlock(&u->lock);
	if (fd >= 0) {
		bp_intr_callback_unregister(fd, on_retry, u);
		close(fd);
	}
}

/* While started the backend sends nothing here: readable means it is gone. */
static void on_socket(void *arg)
{
	struct vhu *u = arg;
	char c;
	ssize_t n = recv(u->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0) {
		BP_LOG(WARNING, "%s: the vhost-user backend sent a message nobody asked for; closing", u->name);
		n = 0;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		bp_intr_callback_unregister(u->sock, on_socket, u);
		u->watching = false;
		shutdown(u->sock, SHUT_RDWR);
		pthread_mutex_lock(&u->lock);
		if (u->started && u->retry_fd < 0)
			retry_start(u);
		pthread_mutex_unlock(&u->lock);
		/* last: a link callback may stop or close the port, and u with it */
		virtio_link_changed(u->vd, false);
	}
}

static uint64_t vhu_features(struct virtio_dev *vd)
{
	struct vhu *u = vd->tr_priv;
	return u->features & ~VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
}

static uint16_t vhu_queue_max(struct virtio_dev *vd, uint16_t index)
{
	(void)vd, (void)index;
	return 32768; /* the split ring's limit (§2.7): the backend takes what we choose */
}

static bool socket_alive(struct vhu *u)
{
	char c;
	if (u->sock < 0)
		return false;
	ssize_t n = recv(u->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* A connection to a backend that offers at least what was negotiated. */
static int vhu_reconnect(struct vhu *u, bool quiet)
{
	struct virtio_dev *vd = u->vd;
	if (u->sock >= 0)
		close(u->sock);
	u->sock = -1;
	int rc = vhu_connect(u, quiet);
	if (rc < 0)
		return rc;
	if ((vd->features & ~vhu_features(vd)) || u->queue_pairs * 2 < vd->nb_vq) {
		BP_LOG(ERR, "%s: the backend at %s came back offering less than before; close and "
			    "create the port again", u->name, u->path);
		return -EPROTO;
	}
	return 0;
}

/* Features, memory and rings to the backend, and go. A new backend resuming
 * rings that ran before starts where the used ring stands: what the old one
 * took but never returned is offered again. */
static int vhu_rings(struct vhu *u, bool resume)
{
	struct virtio_dev *vd = u->vd;
	uint64_t f = vd->features | (u->features & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	int rc;
	if ((rc = vhu_simple(u, VHU_SET_FEATURES, f, true)) < 0)
		return rc;

	struct vhu_msg m = { .request = VHU_SET_MEM_TABLE };
	struct mem_walk w = { .m = &m };
	if ((rc = bp_memzone_walk(add_zone, &w)) < 0) {
		BP_LOG(ERR, "%s: more than %d memory zones to share with the vhost-user backend: create "
			    "fewer mempools", u->name, VHU_MAX_REGIONS);
		return rc;
	}
	m.p.mem.nregions = w.n;
	m.size = (uint32_t)(8 + w.n * sizeof(struct vhu_region));
	if ((rc = vhu_call(u, &m, w.fds, w.n, false)) < 0)
		return rc;

	for (uint16_t i = 0; i < vd->nb_vq; i++) {
		struct virtqueue *vq = vd->vq[i];
		struct vhu_msg a = { .request = VHU_SET_VRING_ADDR, .size = sizeof(a.p.addr) };
		/* ring addresses are our virtual addresses (the table maps them) */
		a.p.addr.index = i;
		a.p.addr.desc = (uintptr_t)vq->desc;
		a.p.addr.used = (uintptr_t)vq->used;
		a.p.addr.avail = (uintptr_t)vq->avail;
		/* split: the used index; packed: the device's position, wrap
		 * counter in bit 15 (1 at first) */
		uint16_t base = vq->packed ? (resume ? vq_packed_device_base(vq) : 0x8000)
					   : resume ? __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) : 0;
		if ((rc = vhu_fd(u, VHU_SET_VRING_CALL, i, vq->call_fd)) < 0 ||
		    (rc = vhu_state(u, VHU_SET_VRING_NUM, i, vq->nb)) < 0 ||
		    (rc = vhu_state(u, VHU_SET_VRING_BASE, i, base)) < 0 ||
		    (rc = vhu_call(u, &a, NULL, 0, false)) < 0 ||
		    (rc = vhu_fd(u, VHU_SET_VRING_KICK, i, vq->kick_fd)) < 0)
			return rc;
	}
	if (u->features & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
		for (uint16_t i = 0; i < vd->nb_vq; i++)
			if ((rc = vhu_state(u, VHU_SET_VRING_ENABLE, i, 1)) < 0)
				return rc;
	vhu_watch(u, true);
	if (resume) /* the rings may hold work the backend never heard of */
		for (uint16_t i = 0; i < vd->nb_vq; i++)
			vq_notify(vd->vq[i]);
	return 0;
}

static void on_retry(void *arg)
{
	struct vhu *u = arg;
	if (vhu_reconnect(u, true) < 0 || vhu_rings(u, true) < 0)
		return; /* next tick */
	BP_LOG(NOTICE, "%s: the vhost-user backend at %s is back; the rings resume", u->name, u->path);
	pthread_mutex_lock(&u->lock);
	int fd = u->retry_fd;
	u->retry_fd = -1;
	pthread_mutex_unlock(&u->lock);
	if (fd >= 0) {
		bp_intr_callback_unregister(fd, on_retry, u); /* ourselves: no wait */
		close(fd);
	}
	/* last: a link callback may stop or close the port, and u with it */
	virtio_link_changed(u->vd, true);
}

static int vhu_start(struct virtio_dev *vd)
{
	struct vhu *u = vd->tr_priv;
	int rc;
	/* the backend went away since: connect again */
	if (!socket_alive(u) && (rc = vhu_reconnect(u, false)) < 0)
		return rc;
	if ((rc = vhu_rings(u, false)) < 0)
		return rc;
	pthread_mutex_lock(&u->lock);
	u->started = true;
	pthread_mutex_unlock(&u->lock);
	vd->eth->link.up = 1; /* the application started it: no event */
	return 0;
}

static void vhu_stop(struct virtio_dev *vd)
{
	struct vhu *u = vd->tr_priv;
	pthread_mutex_lock(&u->lock);
	u->started = false;
	pthread_mutex_unlock(&u->lock);
	vhu_watch(u, false); /* no on_socket runs after this */
	retry_stop(u);       /* nor on_retry */
	if (!socket_alive(u))
		return; /* nobody to stop */
	for (uint16_t i = 0; i < vd->nb_vq; i++) {
		struct vhu_msg m = { .request = VHU_GET_VRING_BASE, .size = sizeof(m.p.state), .p.state = { i, 0 } };
		if (vhu_call(u, &m, NULL, 0, true) < 0)
			return;
	}
}

static void vhu_close(struct virtio_dev *vd)
{
	struct vhu *u = vd->tr_priv;
	vhu_watch(u, false);
	retry_stop(u);
	if (u->sock >= 0)
		close(u->sock);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static const struct virtio_transport vhu_transport = {
	.eventfds = true,
	.name = "vhost-user",
	.features = vhu_features,
	.queue_max = vhu_queue_max,
	.start = vhu_start,
	.stop = vhu_stop,
	.close = vhu_close,
	.hdr_len = VIRTIO_NET_HDR_LEN,
	.used_align = BP_CACHE_LINE,
};

static int parse_mac(const char *s, struct bp_ether_addr *mac)
{
	unsigned b[6];
	char end;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac->b[i] = (uint8_t)b[i];
	}
	return 0;
}

static int virtio_user_probe(const char *name, const char *args)
{
	static const char *const keys[] = { "path", "queues", "in_order", "event_idx", "mac", "packed", NULL };
	struct bp_kvargs *kv = bp_kvargs_parse(args, keys);
	unsigned long queues = 1, in_order = 1, event_idx = 1, packed = 2;
	struct bp_ether_addr mac;
	struct vhu *u = NULL;
	int rc = -EINVAL;

	if (!kv)
		return -EINVAL;
	const char *path = bp_kvargs_get(kv, "path"), *mac_s = bp_kvargs_get(kv, "mac");
	if (bp_kvargs_get_uint(kv, name, "queues", 1, VIRTIO_MAX_QUEUE_PAIRS, &queues) < 0 ||
	    bp_kvargs_get_uint(kv, name, "in_order", 0, 1, &in_order) < 0 ||
	    bp_kvargs_get_uint(kv, name, "event_idx", 0, 1, &event_idx) < 0 ||
	    (bp_kvargs_get(kv, "packed") && bp_kvargs_get_uint(kv, name, "packed", 0, 1, &packed) < 0))
		goto out;
	if (!path || !*path) {
		BP_LOG(ERR, "%s: give the vhost-user socket: --vdev %s,path=/path/to/socket", name, name);
		goto out;
	}
	if (strlen(path) >= sizeof(u->path)) {
		BP_LOG(ERR, "%s: socket path %s is longer than a UNIX socket name may be (%zu)", name, path,
		       sizeof(u->path) - 1);
		goto out;
	}
	if (mac_s && parse_mac(mac_s, &mac) < 0) {
		BP_LOG(ERR, "%s: mac=%s is not an address like 02:00:00:00:00:01", name, mac_s);
		goto out;
	}
	if (!(u = calloc(1, sizeof(*u)))) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(u->path, sizeof(u->path), "%s", path);
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->sock = -1;
	u->retry_fd = -1;
	pthread_mutex_init(&u->lock, NULL);
	if ((rc = vhu_connect(u, false)) < 0)
		goto out;
	if (queues > u->queue_pairs) {
		BP_LOG(ERR, "%s: queues=%lu, but the backend at %s has %u queue pair(s)", name, queues, path,
		       u->queue_pairs);
		rc = -EINVAL;
		goto out;
	}
	struct virtio_port_args a = { .name = name, .queues = (uint16_t)queues, .in_order = (int)in_order,
				      .event_idx = (int)event_idx, .packed = packed == 2 ? -1 : (int)packed,
				      .mac = mac_s ? &mac : NULL };
	if ((rc = virtio_port_create(&vhu_transport, u, &a, &u->vd)) < 0)
		goto out;
	u = NULL; /* the port owns it */
out:
	if (u) {
		if (u->sock >= 0)
			close(u->sock);
		free(u);
	}
	bp_kvargs_free(kv);
	return rc;
}

const struct bp_vdev_driver bp_vdev_net_virtio_user = {
	.name = "net_virtio_user",
	.params = "path=<vhost-user socket>,queues=<1..8>,packed=0|1 (default: packed when offered),in_order=0|1,"
		  "event_idx=0|1,mac=<address>",
	.probe = virtio_user_probe,
};
