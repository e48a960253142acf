/* SPDX-License-Identifier: MIT
 * The kernel's side of the kernel-port host tests: sends and receives
 * testpmd's test frames (apps/common/testpkt.h) on a Linux interface through
 * an ordinary packet socket (packet(7)), so that every byte of what crosses
 * between bypass and the kernel is checked, both ways.
 *
 *   kpkt send IFACE COUNT SIZE [FLOWS [VLAN]]
 *                                        COUNT frames of SIZE bytes to the broadcast
 *                                        address, FLOWS flows in turn (default 1),
 *                                        each numbered from 0 as testpmd's txonly does;
 *                                        VLAN: tagged with that id (IEEE 802.1Q, TPID
 *                                        0x8100), 4 bytes more on the wire (a receiving
 *                                        packet socket sees them untagged again)
 *   kpkt recv IFACE COUNT SIZE SECONDS   prints "kpkt: ready" once bound, then counts
 *                                        what arrives until COUNT verified
 *                                        (SECONDS: a bound for a failing run)
 * recv ends with "kpkt: received=N verified=N bad=N lost=N reordered=N wrong-size=N"
 * and exits 0 only when COUNT frames of SIZE bytes verified in order.
 *   kpkt fanout IFACE ID SECONDS         holds PACKET_FANOUT group ID (of type CPU: a
 *                                        hash group of that id is refused EINVAL),
 *                                        prints "kpkt: ready", exits after SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include "../../apps/common/testpkt.h"

static int open_bound(const char *ifname, struct bp_ether_addr *mac)
{
	int s = socket(AF_PACKET, SOCK_RAW, 0); /* nothing arrives before bind */
	struct ifreq ifr = { 0 };
	if (s < 0) {
		perror("kpkt: socket(AF_PACKET) (needs CAP_NET_RAW)");
		exit(2);
	}
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "kpkt: interface %s: %s\n", ifname, strerror(errno));
		exit(2);
	}
	memcpy(mac->b, ifr.ifr_hwaddr.sa_data, 6);
	/* Room for a whole test's frames: a sender on the other side does not
	 * wait for us (SO_RCVBUFFORCE: past rmem_max, as root). */
	int buf = 64 << 20;
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)if_nametoindex(ifname) };
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("kpkt: bind");
		exit(2);
	}
	return s;
}

static int do_send(const char *ifname, unsigned long count, unsigned size, unsigned flows, int vlan)
{
	struct bp_ether_addr src, dst = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	int s = open_bound(ifname, &src);
	uint8_t tmpl[TESTPKT_HDRS], frame[TESTPKT_MAX], tagged[TESTPKT_MAX + 4];
	testpkt_template(tmpl, &dst, &src, size, 0);
	for (unsigned long i = 0; i < count; i++) {
		testpkt_fill(frame, tmpl, size, i / flows);
		if (flows > 1)
			testpkt_set_flow(frame, (uint32_t)(i % flows));
		const uint8_t *out = frame;
		size_t len = size;
		if (vlan >= 0) { /* the tag after the addresses: TPID, then TCI */
			memcpy(tagged, frame, 12);
			tagged[12] = 0x81, tagged[13] = 0x00;
			tagged[14] = (uint8_t)(vlan >> 8 & 0x0f), tagged[15] = (uint8_t)vlan;
			memcpy(tagged + 16, frame + 12, size - 12);
			out = tagged;
			len = size + 4;
		}
		while (send(s, out, len, 0) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("kpkt: send");
				return 1;
			}
			struct pollfd p = { .fd = s, .events = POLLOUT };
			poll(&p, 1, 10);
		}
	}
	printf("kpkt: sent=%lu\n", count);
	close(s);
	return 0;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int do_recv(const char *ifname, unsigned long count, unsigned size, double seconds)
{
	struct bp_ether_addr mac;
	int s = open_bound(ifname, &mac);
	unsigned long rx = 0, ok = 0, bad = 0, lost = 0, reord = 0, wrong = 0;
	static uint64_t next[TESTPKT_FLOWS_MAX]; /* each flow's sequence on its own */
	uint8_t frame[16384];
	printf("kpkt: ready\n");
	fflush(stdout);
	double end = now_s() + seconds;
	while (ok < count) {
		double left = end - now_s();
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			break;
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, frame, sizeof(frame), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		uint64_t seq;
		enum testpkt_verdict v = testpkt_check(frame, (uint32_t)n, &seq);
		if (v == TESTPKT_NOT_OURS)
			continue; /* the kernel's own: IPv6 router solicitations and the like */
		rx++;
		if (v != TESTPKT_OK) {
			bad++;
			continue;
		}
		if ((unsigned)n != size) {
			wrong++;
			continue;
		}
		uint32_t f = testpkt_flow(frame);
		if (f == TESTPKT_FLOWS_MAX) {
			bad++;
			continue;
		}
		ok++;
		if (seq > next[f])
			lost += seq - next[f];
		else if (seq < next[f])
			reord++;
		if (seq >= next[f])
			next[f] = seq + 1;
	}
	printf("kpkt: received=%lu verified=%lu bad=%lu lost=%lu reordered=%lu wrong-size=%lu\n", rx, ok, bad,
	       lost, reord, wrong);
	close(s);
	return ok == count && !bad && !lost && !reord && !wrong ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && !strcmp(argv[1], "send")) {
		unsigned size = (unsigned)atoi(argv[4]);
		if (size < TESTPKT_MIN || size > TESTPKT_MAX) {
			fprintf(stderr, "kpkt: SIZE must be %d..%d\n", TESTPKT_MIN, TESTPKT_MAX);
			return 2;
		}
		unsigned flows = argc > 5 ? (unsigned)atoi(argv[5]) : 1;
		if (flows < 1 || flows > TESTPKT_FLOWS_MAX) {
			fprintf(stderr, "kpkt: FLOWS must be 1..%d\n", TESTPKT_FLOWS_MAX);
			return 2;
		}
		int vlan = argc > 6 ? atoi(argv[6]) : -1;
		if (vlan > 4095) {
			fprintf(stderr, "kpkt: VLAN must be 0..4095\n");
			return 2;
		}
		return do_send(argv[2], strtoul(argv[3], NULL, 0), size, flows, vlan);
	}
	if (argc == 5 && !strcmp(argv[1], "fanout")) {
		struct bp_ether_addr mac;
		int s = open_bound(argv[2], &mac), arg = atoi(argv[3]) | PACKET_FANOUT_CPU << 16;
		if (setsockopt(s, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
			perror("kpkt: PACKET_FANOUT");
			return 2;
		}
		printf("kpkt: ready\n");
		fflush(stdout);
		sleep((unsigned)atoi(argv[4]));
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "recv"))
		return do_recv(argv[2], strtoul(argv[3], NULL, 0), (unsigned)atoi(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: kpkt send IFACE COUNT SIZE [FLOWS] | kpkt recv IFACE COUNT SIZE SECONDS "
			"| kpkt fanout IFACE ID SECONDS\n");
	return 2;
}
