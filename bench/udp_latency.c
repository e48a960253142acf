/* SPDX-License-Identifier: MIT
 * The reference for bench/lab-intr: testpmd's stamped test frames received
 * through the kernel's own driver and a UDP socket, latency measured the same
 * way (send time in the frame, CLOCK_MONOTONIC on arrival, one machine).
 *   udp-latency PORT COUNT SECONDS
 * Prints "udp-latency: ready" once bound and "udp-latency: first" when the
 * first test frame came (it is not measured: it may have waited for the
 * emulator to let frames in), then, after COUNT more or SECONDS,
 * "latency: n=... p50=... us" and how many were not test frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "../apps/common/testpkt.h"
#include "../apps/common/latency.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: udp-latency PORT COUNT SECONDS\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udp-latency: bind");
		return 1;
	}
	printf("udp-latency: ready\n");
	fflush(stdout);
	struct latency lat = { 0 };
	uint64_t want = strtoull(argv[2], NULL, 10), other = 0;
	bool first = false;
	uint64_t end = lat_now_ns() + strtoull(argv[3], NULL, 10) * 1000000000ull;
	/* the datagram is the frame from its UDP payload on: test header, pattern */
	const uint32_t off = TESTPKT_HDRS;
	while (lat.n < want && lat_now_ns() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 200) <= 0)
			continue;
		uint8_t buf[2048];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		uint64_t now = lat_now_ns();
		struct testpkt_hdr h;
		uint32_t len = (uint32_t)n + off; /* the frame's length */
		if (n < (ssize_t)(sizeof(h) + 8)) {
			other++;
			continue;
		}
		memcpy(&h, buf, sizeof(h));
		const uint8_t *pat = buf + sizeof(h);
		if (h.magic != TESTPKT_MAGIC || testpkt_sum(h.seq, pat, len - TESTPKT_MIN, len) != h.cksum) {
			other++;
			continue;
		}
		uint64_t stamp;
		memcpy(&stamp, pat, sizeof(stamp));
		if (!first) {
			first = true;
			printf("udp-latency: first\n");
			fflush(stdout);
			continue;
		}
		lat_add(&lat, now - stamp);
	}
	printf("latency: ");
	lat_print(stdout, &lat);
	printf("not test frames: %llu\n", (unsigned long long)other);
	int rc = lat.n >= want ? 0 : 1;
	lat_free(&lat);
	return rc;
}
