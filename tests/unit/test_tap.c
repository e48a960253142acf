/* SPDX-License-Identifier: MIT
 * net_tap's rx edge cases, against the kernel's own TAP: each test runs in a
 * child process in a network namespace of its own (unshare(CLONE_NEWNET)),
 * so the machine's interfaces are never touched; the parent bounds the child
 * in time (a burst that never returns fails the test, it does not hang the
 * suite). Needs root for the namespace: without it the tests say so and
 * pass. */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include "harness.h"

/* Runs body in a child in a new network namespace; the child's failure, or
 * its running past seconds, fails the test. 1: skipped (no namespace). */
static int in_netns(void (*body)(void), unsigned seconds)
{
	bp_cleanup(); /* no thread of ours across fork */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(77);
		/* The namespace's own sysctl: no IPv6, so the kernel sends no
		 * frames of its own (router solicitations, MLD) into the TAP. */
		FILE *f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w");
		if (f) {
			fputs("1", f);
			fclose(f);
		}
		body();
		fflush(stdout);
		_exit(test_failed ? 1 : 0);
	}
	if (pid < 0)
		return -1;
	int status = 0;
	for (unsigned i = 0; i < seconds * 20; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
				printf("    skipped: no network namespace (needs root)\n");
				return 1;
			}
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
		}
		struct timespec t = { 0, 50000000 };
		nanosleep(&t, NULL);
	}
	printf("    the child did not finish in %u s (a burst that never returns?)\n", seconds);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* The kernel sends a frame of len bytes out of ifname (a packet socket), so
 * the TAP's port receives it; its bytes are seed + i. */
static int kernel_send(const char *ifname, uint32_t len, uint8_t seed)
{
	static uint8_t f[9000];
	int s = socket(AF_PACKET, SOCK_RAW, 0);
	if (s < 0)
		return -1;
	memset(f, 0xff, 6); /* broadcast */
	for (uint32_t i = 6; i < len; i++)
		f[i] = (uint8_t)(seed + i);
	f[12] = 0x88, f[13] = 0xb5; /* IEEE 802 local experimental */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname),
				   .sll_halen = 6 };
	int rc = sendto(s, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len ? 0 : -1;
	close(s);
	return rc;
}

static int set_mtu(const char *ifname, int mtu)
{
	struct ifreq ifr = { .ifr_mtu = mtu };
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	int s = socket(AF_INET, SOCK_DGRAM, 0), rc = s < 0 ? -1 : ioctl(s, SIOCSIFMTU, &ifr);
	if (s >= 0)
		close(s);
	return rc;
}

/* Bursts until a frame of ours (ethertype 0x88b5) comes or a second passes;
 * any other is freed. */
static uint16_t rx_one(struct bp_mbuf **m)
{
	for (int i = 0; i < 1000; i++) {
		if (bp_eth_rx_burst(0, 0, m, 1) == 1) {
			if (bp_pktmbuf_mtod(m[0], uint8_t *)[12] == 0x88 && bp_pktmbuf_mtod(m[0], uint8_t *)[13] == 0xb5)
				return 1;
			bp_pktmbuf_free(m[0]);
			continue;
		}
		usleep(1000);
	}
	return 0;
}

/* A frame longer than the queue reads (the interface's MTU allows it): read()
 * says 3000 bytes, copied 2048. Dropped and counted in ierrors, not chained
 * from spares that hold nothing of it; the next frame arrives whole. */
static void long_frame_body(void)
{
	CHECK(test_env("--no-huge -l 0 --vdev net_tap0,iface=bpu0") >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("tap", 256, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(mp);
	CHECK_EQ(bp_eth_dev_configure(0, 1, 1, NULL), 0);
	CHECK_EQ(bp_eth_rx_queue_setup(0, 0, 256, mp), 0);
	CHECK_EQ(bp_eth_tx_queue_setup(0, 0, 256), 0);
	CHECK_EQ(set_mtu("bpu0", 9000), 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	struct bp_mbuf *m[1];
	CHECK_EQ(kernel_send("bpu0", 3000, 1), 0);
	CHECK_EQ(kernel_send("bpu0", 500, 2), 0);
	CHECK_EQ(rx_one(m), 1);
	CHECK(bp_mbuf_check(m[0], true) == NULL);
	CHECK_EQ(m[0]->pkt_len, 500);
	CHECK_EQ(m[0]->nb_segs, 1);
	CHECK_EQ(bp_pktmbuf_mtod(m[0], uint8_t *)[499], (uint8_t)(2 + 499));
	bp_pktmbuf_free(m[0]);
	struct bp_eth_stats st;
	CHECK_EQ(bp_eth_stats_get(0, &st), 0);
	CHECK_EQ(st.ierrors, 1);
	bp_cleanup();
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
	bp_mempool_free(mp);
}

TEST(tap_rx_drops_a_frame_longer_than_it_reads_in_ierrors)
{
	CHECK(in_netns(long_frame_body, 20) >= 0);
}

/* No mbuf to read into and an fd that fails (the interface deleted: EBADFD):
 * the burst returns, with an error counted, instead of retrying for ever. */
static void dead_fd_body(void)
{
	CHECK(test_env("--no-huge -l 0 --vdev net_tap0,iface=bpu1") >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("tap", 8, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(mp);
	struct bp_mbuf *held[8];
	CHECK_EQ(bp_pktmbuf_alloc_bulk(mp, held, 8), 0); /* the pool is empty */
	CHECK_EQ(bp_eth_dev_configure(0, 1, 1, NULL), 0);
	CHECK_EQ(bp_eth_rx_queue_setup(0, 0, 64, mp), 0);
	CHECK_EQ(bp_eth_tx_queue_setup(0, 0, 64), 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	CHECK_EQ(system("ip link del bpu1"), 0);
	struct bp_mbuf *m[4];
	CHECK_EQ(bp_eth_rx_burst(0, 0, m, 4), 0);
	struct bp_eth_stats st;
	CHECK_EQ(bp_eth_stats_get(0, &st), 0);
	CHECK_EQ(st.ierrors, 1);
	CHECK_EQ(st.rx_nombuf, 0);
	bp_pktmbuf_free_bulk(held, 8);
	bp_cleanup();
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
	bp_mempool_free(mp);
}

TEST(tap_rx_with_an_empty_pool_returns_when_the_interface_is_gone)
{
	CHECK(in_netns(dead_fd_body, 20) >= 0);
}
