/* SPDX-License-Identifier: MIT
 * bypass-testpmd run as a user runs it, its summary read back. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"

static char out[65536];

static int testpmd(const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", test_build_path("apps/testpmd/bypass-testpmd"), args);
	int rc = test_run(cmd, out, sizeof(out));
	if (getenv("TEST_VERBOSE"))
		fputs(out, stdout);
	return rc;
}

/* Value of "key=" on the summary line of `port N`. */
static long long field(int port, const char *line_tag, const char *key)
{
	char tag[64], k[64];
	snprintf(tag, sizeof(tag), "port %d %s", port, line_tag);
	snprintf(k, sizeof(k), " %s=", key);
	for (char *l = strstr(out, tag); l; l = strstr(l + 1, tag)) {
		char *eol = strchr(l, '\n'), *v = strstr(l, k);
		if (v && (!eol || v < eol))
			return atoll(v + strlen(k));
	}
	return -1;
}

TEST(testpmd_txonly_to_rxonly_over_ring_ports_verifies_every_payload)
{
	/* Port 0 generates numbered, checksummed frames of 300 bytes; net_ring carries
	 * them to port 1, which checks each one. The run ends when all 20000 are
	 * verified; if the ring was full now and then (a slow, loaded machine) the
	 * dropped ones never come and --duration ends it: the relations below hold
	 * either way, so the test does not depend on the machine's speed. */
	int rc = testpmd("-l 0,1 --no-huge --vdev net_ring0 --vdev net_ring1,peer=net_ring0 -- "
			 "--forward-mode=rxonly --port-mode=0:txonly --verify --txpkts=300 "
			 "--tx-count=20000 --rx-count=20000 --duration=20 --stats-period=0");
	CHECK_EQ(rc, 0);
	long long sent = field(0, "(", "tx-packets"), dropped = field(0, "(", "tx-dropped");
	CHECK_EQ(sent + dropped, 20000);
	CHECK(sent > 0);
	CHECK_EQ(field(0, "(", "tx-bytes"), sent * 300);
	CHECK_EQ(field(1, "(", "rx-packets"), sent);
	CHECK_EQ(field(1, "(", "rx-bytes"), sent * 300);
	CHECK_EQ(field(1, "verify:", "verified"), sent);
	CHECK_EQ(field(1, "verify:", "bad"), 0);
	CHECK_EQ(field(1, "verify:", "not-ours"), 0);
	CHECK_EQ(field(1, "verify:", "lost"), dropped);
	CHECK_EQ(field(1, "verify:", "reordered"), 0);
	CHECK(strstr(out, "mbufs in use at exit: 0 of") != NULL);
}

TEST(testpmd_io_forwarding_between_null_ports_counts_both_ways)
{
	int rc = testpmd("-l 0,1 --no-huge --vdev net_null0 --vdev net_null1,size=128 -- "
			 "--forward-mode=io --duration=0.5 --stats-period=0.2");
	CHECK_EQ(rc, 0);
	long long rx0 = field(0, "(", "rx-packets"), tx1 = field(1, "(", "tx-packets");
	CHECK(rx0 > 1000);
	CHECK_EQ(tx1, rx0); /* what port 0 received, port 1 sent */
	CHECK_EQ(field(1, "(", "tx-bytes"), rx0 * 64);
	CHECK_EQ(field(0, "(", "tx-bytes"), field(1, "(", "rx-packets") * 128);
	CHECK(strstr(out, "Mpps") != NULL); /* live statistics were shown */
	CHECK(strstr(out, "mbufs in use at exit: 0 of") != NULL);
}

TEST(testpmd_io_two_queues_on_two_cores_counts_each_queue)
{
	/* 2 ports x 2 queues, two forwarding lcores: each lcore owns queue q of
	 * both ports (rx on q, tx on the peer's q), nothing shared, every mbuf back. */
	int rc = testpmd("-l 0,1 --no-huge --vdev net_null0,queues=2 --vdev net_null1,queues=2,size=128 -- "
			 "--forward-mode=io --rxq=2 --txq=2 --fwd-on-main --duration=0.5 --stats-period=0");
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "2 forwarding core(s), 4 stream(s)") != NULL);
	for (int p = 0; p < 2; p++) {
		long long sum = 0, bytes = 0;
		for (int q = 0; q < 2; q++) {
			char tag[16];
			snprintf(tag, sizeof(tag), "queue %d:", q);
			long long rx = field(p, tag, "rx-packets");
			CHECK(rx > 1000);
			/* queue q of the peer sent what queue q of this port received */
			CHECK_EQ(field(1 - p, tag, "tx-packets"), rx);
			CHECK_EQ(field(p, tag, "rx-bytes"), rx * (p ? 128 : 64));
			sum += rx, bytes += field(p, tag, "rx-bytes");
		}
		CHECK_EQ(field(p, "(", "rx-packets"), sum);
		CHECK_EQ(field(p, "(", "rx-bytes"), bytes);
	}
	CHECK(strstr(out, "mbufs in use at exit: 0 of") != NULL);
}

TEST(testpmd_flows_over_two_queues_verify_per_flow)
{
	/* txonly sends 64 flows from two tx queues (flows 0, 2, ... on queue 0;
	 * 1, 3, ... on queue 1), net_ring carries queue q to the peer's queue q,
	 * rxonly checks each flow's own sequence on each queue. */
	int rc = testpmd("-l 0,1 --no-huge --vdev net_ring0,queues=2 --vdev net_ring1,queues=2,peer=net_ring0 -- "
			 "--forward-mode=rxonly --port-mode=0:txonly --rxq=2 --txq=2 --flows=64 --verify "
			 "--txpkts=300 --tx-count=100000 --rx-count=100000 --fwd-on-main --duration=20 "
			 "--stats-period=0");
	CHECK_EQ(rc, 0);
	CHECK_EQ(field(0, "(", "tx-packets"), 100000);
	CHECK_EQ(field(0, "queue 0:", "tx-packets"), 50000);
	CHECK_EQ(field(0, "queue 1:", "tx-packets"), 50000);
	CHECK_EQ(field(1, "queue 0:", "rx-packets"), 50000);
	CHECK_EQ(field(1, "queue 1:", "rx-bytes"), 50000 * 300);
	CHECK_EQ(field(1, "verify:", "verified"), 100000);
	CHECK_EQ(field(1, "verify:", "bad"), 0);
	CHECK_EQ(field(1, "verify:", "lost"), 0);
	CHECK_EQ(field(1, "verify:", "reordered"), 0);
	CHECK_EQ(field(1, "verify:", "next-seq"), 1563); /* 100000 frames over 64 flows */
	CHECK(strstr(out, "mbufs in use at exit: 0 of") != NULL);
	/* io cannot forward rx queue 1 to a tx queue that does not exist */
	rc = testpmd("-l 0 --no-huge --vdev net_null0,queues=2 -- --rxq=2 --txq=1 --duration=0.1");
	CHECK(rc != 0);
	CHECK(strstr(out, "give --txq=2 or more") != NULL);
	CHECK(strstr(out, "mbufs in use at exit: 0 of") != NULL);
}

TEST(testpmd_with_mbuf_debug_on_ring_and_null_ports_returns_every_mbuf)
{
	/* Every mbuf its own malloc (under ASan: every double free or use after
	 * free in the data path would end the run): frames verified end to end,
	 * and at exit none is missing. */
	int rc = testpmd("-l 0 --no-huge --mbuf-debug --vdev net_ring0 --vdev net_ring1,peer=net_ring0 -- "
			 "--forward-mode=rxonly --port-mode=0:txonly --verify --txpkts=300 "
			 "--tx-count=20000 --rx-count=20000 --duration=30 --stats-period=0");
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "mbuf debug: every pool is malloc-backed") != NULL);
	CHECK_EQ(field(0, "(", "tx-packets"), 20000);
	CHECK_EQ(field(1, "(", "rx-bytes"), 20000 * 300);
	CHECK_EQ(field(1, "verify:", "verified"), 20000);
	CHECK_EQ(field(1, "verify:", "bad"), 0);
	CHECK(strstr(out, "mbufs in use at exit: 0 of") != NULL);

	rc = testpmd("-l 0,1 --no-huge --mbuf-debug --vdev net_null0 --vdev net_null1,size=128 -- "
		     "--forward-mode=io --duration=0.3 --stats-period=0");
	CHECK_EQ(rc, 0);
	long long rx0 = field(0, "(", "rx-packets");
	CHECK(rx0 > 1000);
	CHECK_EQ(field(1, "(", "tx-packets"), rx0);
	CHECK_EQ(field(1, "(", "tx-bytes"), rx0 * 64);
	CHECK(strstr(out, "mbufs in use at exit: 0 of") != NULL);
}

TEST(testpmd_mac_mode_swaps_addresses_and_main_core_only_works)
{
	int rc = testpmd("-l 0 --no-huge --vdev net_null0 -- --forward-mode=mac --duration=0.3 "
			 "--stats-period=0");
	CHECK_EQ(rc, 0);
	CHECK(field(0, "(", "rx-packets") > 1000);
	CHECK_EQ(field(0, "(", "tx-packets"), field(0, "(", "rx-packets"));
}

TEST(testpmd_refuses_bad_arguments_with_one_line)
{
	const char *bad[] = {
		"--forward-mode=bogus", "--txpkts=20", "--txpkts=9000", "--burst=0",
		"--port-mode=0", "--duration=-1", "stray", "--rxq=0", "--txq=17", "--flows=4097",
		"--rxq=2", /* net_null0 has one queue */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char args[256];
		snprintf(args, sizeof(args), "-l 0 --no-huge --vdev net_null0 -- %s", bad[i]);
		int rc = testpmd(args);
		if (rc == 0)
			printf("    accepted: %s\n", bad[i]);
		CHECK(rc != 0);
		CHECK(strstr(out, "testpmd:") != NULL);
	}
	CHECK(testpmd("-l 0 --no-huge -- --duration=0.1") != 0); /* no ports */
	CHECK(strstr(out, "no ports") != NULL);
	CHECK(testpmd("-l 0 --no-huge --vdev nope0") != 0);
	CHECK(strstr(out, "no driver for this name") != NULL);
}
