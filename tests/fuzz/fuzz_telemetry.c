/* SPDX-License-Identifier: MIT
 * The statistics socket (lib/telemetry): the input is what a client sends,
 * over a real connection to the server thread of a process made by bp_init
 * (no hugepages, no PCI, a null and a ring port, one pool). Each line that
 * comes back must be one JSON document (read by tools/stats/jsonflat.c, as
 * `bypass stats` reads it): a request echoed into an error must not break
 * the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/mbuf.h>
#include <bypass/telemetry.h>
#include "../../tools/stats/jsonflat.h"
#include "fuzz_tree.h"

static struct sockaddr_un sa = { .sun_family = AF_UNIX };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	static char dir[PATH_MAX], nosys[PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s", fuzz_tree_root());
	snprintf(nosys, sizeof(nosys), "%s/nosys", dir); /* no PCI devices: nothing real is touched */
	setenv("BYPASS_SYSFS", nosys, 1);
	setenv("BYPASS_DEVFS", nosys, 1);
	char *args[] = { "fuzz-telemetry", "--no-huge", "--run-dir", dir, "--log-level", "err",
			 "--vdev", "net_null0", "--vdev", "net_ring0", "--", NULL };
	if (bp_init(11, args) < 0 || !bp_pktmbuf_pool_create("fuzz_pool", 255, 0, 0, 2048) ||
	    !bp_telemetry_path()) {
		fprintf(stderr, "fuzz-telemetry: bp_init failed\n");
		exit(1);
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", bp_telemetry_path());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	for (size_t off = 0; off < size;) {
		ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server dropped us (a line too long): what it said is read below */
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	size_t len = 0, cap = 65536;
	char *reply = malloc(cap);
	for (ssize_t n; (n = recv(fd, reply + len, cap - len - 1, 0)) > 0;) {
		len += (size_t)n;
		if (len + 1 == cap)
			reply = realloc(reply, cap *= 2);
	}
	close(fd);
	reply[len] = '\0';
	if (memchr(reply, '\0', len))
		abort(); /* a NUL in an answer */
	for (char *line = reply, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		struct jf_doc doc;
		if (jf_parse(line, &doc) < 0) {
			fprintf(stderr, "fuzz-telemetry: an answer is not JSON: %s\n", line);
			abort();
		}
		jf_free(&doc);
	}
	free(reply);
	return 0;
}
