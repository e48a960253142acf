/* SPDX-License-Identifier: MIT
 * The host end of the lab's --host-udp wire: QEMU sends each frame of the
 * guests' hub as one UDP datagram.
 *   udp-wire listen PORT SECONDS FILE   write each frame received as a hex line
 *   udp-wire send PORT HEX              send one frame into the wire (to PORT+1)
 * Loopback only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>

static int usage(void)
{
	fprintf(stderr, "usage: udp-wire listen PORT SECONDS FILE | udp-wire send PORT HEX\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return usage();
	long port = strtol(argv[2], NULL, 10);
	if (port < 1024 || port > 65534) {
		fprintf(stderr, "udp-wire: port %s is not in 1024..65534\n", argv[2]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return 1;
	if (strcmp(argv[1], "listen") == 0 && argc == 5) {
		a.sin_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("udp-wire: bind");
			return 1;
		}
		FILE *out = fopen(argv[4], "w");
		if (!out)
			return 1;
		time_t end = time(NULL) + atol(argv[3]);
		while (time(NULL) < end) {
			struct pollfd p = { fd, POLLIN, 0 };
			if (poll(&p, 1, 200) <= 0)
				continue;
			unsigned char buf[2048];
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			for (ssize_t i = 0; i < n; i++)
				fprintf(out, "%02x", buf[i]);
			if (n > 0)
				fputc('\n', out);
			fflush(out);
		}
		fclose(out);
		return 0;
	}
	if (strcmp(argv[1], "send") == 0) {
		unsigned char buf[2048];
		size_t n = strlen(argv[3]) / 2;
		if (n > sizeof(buf) || n < 14)
			return usage();
		for (size_t i = 0; i < n; i++)
			sscanf(argv[3] + 2 * i, "%2hhx", &buf[i]);
		a.sin_port = htons((uint16_t)(port + 1));
		return sendto(fd, buf, n, 0, (struct sockaddr *)&a, sizeof(a)) == (ssize_t)n ? 0 : 1;
	}
	return usage();
}
