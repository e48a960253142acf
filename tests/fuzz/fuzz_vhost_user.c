/* SPDX-License-Identifier: MIT
 * What a vhost-user backend says to bypass's virtio-user front-end
 * (drivers/net/virtio/vhost_user.c): the input is the byte stream a peer
 * sends back on the UNIX socket while the port is created (the replies to
 * SET_OWNER, GET_FEATURES, GET/SET_PROTOCOL_FEATURES, GET_QUEUE_NUM), from a
 * thread playing the backend; then it hangs up. A port that comes out of
 * it is closed again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <bypass/ethdev.h>
#include <bypass/log.h>
#include "fuzz_tree.h"

extern const struct bp_vdev_driver bp_vdev_net_virtio_user;

static int listen_fd = -1;
static char args[PATH_MAX];

struct peer {
	const uint8_t *data;
	size_t size;
};

static void *backend(void *arg)
{
	struct peer *p = arg;
	int fd = accept(listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	for (size_t off = 0; off < p->size;) {
		ssize_t n = send(fd, p->data + off, p->size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the front-end gave up on us */
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR); /* all said: the front-end reads the end, not a timeout */
	char sink[4096];
	while (recv(fd, sink, sizeof(sink), 0) > 0)
		; /* its requests, until it closes */
	close(fd);
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vhost.sock", fuzz_tree_root());
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 4) < 0) {
		perror("fuzz-vhost-user: the backend's socket");
		exit(1);
	}
	snprintf(args, sizeof(args), "path=%s,queues=2,mac=02:00:00:00:00:01", sa.sun_path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer p = { data, size };
	pthread_t t;
	bp_log_set_level(BP_LOG_DEBUG);
	if (pthread_create(&t, NULL, backend, &p) != 0)
		abort();
	int rc = bp_vdev_net_virtio_user.probe("net_virtio_user0", args);
	uint16_t port;
	if (rc == 0 && bp_eth_dev_get_port_by_name("net_virtio_user0", &port) == 0)
		bp_eth_dev_close(port);
	else if (rc == 0)
		abort(); /* created, but not there */
	pthread_join(t, NULL);
	return 0;
}
