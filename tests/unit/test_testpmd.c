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
	 * them to port 1, which checks each one. */
	int rc = testpmd("-l 0,1 --no-huge --vdev net_ring0 --vdev net_ring1,peer=net_ring0 -- "
			 "--forward-mode=rxonly --port-mode=0:txonly --verify --txpkts=300 "
			 "--tx-count=200000 --duration=1.5 --stats-period=0");
	CHECK_EQ(rc, 0);
	long long sent = field(0, "(", "tx-packets"), dropped = field(0, "(", "tx-dropped");
	CHECK_EQ(sent + dropped, 200000);
	CHECK(sent > 100000); /* one core serves both: the ring rarely fills */
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
		"--port-mode=0", "--duration=-1", "stray",
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
