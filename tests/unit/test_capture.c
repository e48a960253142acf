/* SPDX-License-Identifier: MIT
 * Capture on a port (lib/capture): the pcapng file read back by our own
 * parser and, where it is installed, by tshark; every byte compared. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bypass/capture.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include "../../apps/common/testpkt.h"
#include "capfile.h"
#include "harness.h"

#define FRAMES 300

static int start_port(uint16_t p, struct bp_mempool *mp)
{
	if (bp_eth_dev_configure(p, 1, 1, NULL) < 0 || bp_eth_rx_queue_setup(p, 0, 1024, mp) < 0 ||
	    bp_eth_tx_queue_setup(p, 0, 1024) < 0)
		return -1;
	return bp_eth_dev_start(p);
}

/* Frame i: a test frame of 60 + (i * 37) % 1400 bytes, sequence i. */
static uint32_t frame_len(unsigned i) { return 60 + (i * 37) % 1400; }
static void frame_make(uint8_t *p, unsigned i)
{
	struct bp_ether_addr a = { { 2, 0, 0, 0, 0, 1 } }, b = { { 2, 0, 0, 0, 0, 2 } };
	uint8_t tmpl[TESTPKT_HDRS];
	testpkt_template(tmpl, &b, &a, frame_len(i), 7);
	testpkt_fill(p, tmpl, frame_len(i), i);
}

/* Sends FRAMES test frames from port 0 to port 1 (net_ring) in bursts of
 * 32 and takes them all on port 1; every mbuf back. */
static int send_all(struct bp_mempool *mp)
{
	unsigned sent = 0, got = 0;
	while (got < FRAMES) {
		struct bp_mbuf *m[32];
		unsigned k = BP_MIN(32u, FRAMES - sent);
		if (k && bp_pktmbuf_alloc_bulk(mp, m, k) < 0)
			return -1;
		for (unsigned i = 0; i < k; i++) {
			frame_make(bp_pktmbuf_mtod(m[i], uint8_t *), sent + i);
			m[i]->data_len = (uint16_t)frame_len(sent + i);
			m[i]->pkt_len = frame_len(sent + i);
		}
		if (bp_eth_tx_burst(0, 0, m, (uint16_t)k) != k)
			return -1;
		sent += k;
		uint16_t n = bp_eth_rx_burst(1, 0, m, 32);
		got += n;
		bp_pktmbuf_free_bulk(m, n);
	}
	return 0;
}

/* f holds FRAMES frames, each byte as sent, with flags dir. */
static int check_frames(const struct capfile *f, uint32_t flags, uint32_t snaplen)
{
	uint8_t want[TESTPKT_MAX];
	for (unsigned i = 0; i < f->n; i++) {
		frame_make(want, i);
		uint32_t cap = BP_MIN(frame_len(i), snaplen);
		if (f->pkt[i].orig_len != frame_len(i) || f->pkt[i].cap_len != cap ||
		    memcmp(f->pkt[i].data, want, cap) != 0 || f->pkt[i].flags != flags) {
			printf("    frame %u: len %u/%u flags %u\n", i, f->pkt[i].cap_len, f->pkt[i].orig_len,
			       f->pkt[i].flags);
			return -1;
		}
	}
	return 0;
}

TEST(capture_writes_pcapng_every_byte_both_directions_and_count)
{
	char a[] = "/tmp/bp-cap-XXXXXX", b[] = "/tmp/bp-cap-XXXXXX";
	CHECK(mkstemp(a) >= 0 && mkstemp(b) >= 0);
	CHECK(test_env("--no-huge -l 0 --vdev net_ring0 --vdev net_ring1,peer=net_ring0") >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("cap", 4096, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(mp);
	CHECK_EQ(start_port(0, mp), 0);
	CHECK_EQ(start_port(1, mp), 0);
	CHECK_EQ(bp_capture_start(0, BP_CAPTURE_ALL_QUEUES, BP_CAPTURE_TX, a, 0, 0), 0);
	char spec[128];
	snprintf(spec, sizeof(spec), "1:%s,dir=rx,count=100,snaplen=200", b);
	uint16_t port = 99;
	CHECK_EQ(bp_capture_start_spec(spec, &port), 0);
	CHECK_EQ(port, 1);
	CHECK(bp_capture_start(0, 0, BP_CAPTURE_RX, b, 0, 0) < 0); /* one capture per port */
	CHECK_EQ(send_all(mp), 0);
	struct bp_capture_stats sa, sb;
	CHECK_EQ(bp_capture_stop(0, &sa), 0);
	CHECK_EQ(bp_capture_stop(1, &sb), 0);
	CHECK_EQ(bp_capture_stop(1, &sb), -ENOENT);
	CHECK_EQ(sa.written, FRAMES);
	CHECK_EQ(sa.dropped, 0);
	CHECK_EQ(sb.written, 100);
	bp_cleanup();
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
	bp_mempool_free(mp);

	struct capfile f;
	const char *err = capfile_read_pcapng(a, &f);
	if (err)
		printf("    %s: %s\n", a, err);
	CHECK(!err);
	CHECK_EQ(f.shb, 1);
	CHECK_EQ(f.idb, 1);
	CHECK_EQ(f.isb, 1);
	CHECK(!strcmp(f.if_name, "net_ring0"));
	CHECK_EQ(f.if_tsresol, 9);
	CHECK(f.isb_has_osdrop && f.isb_osdrop == 0);
	CHECK_EQ(f.n, FRAMES);
	CHECK_EQ(check_frames(&f, 2 /* outbound */, 65535), 0);
	capfile_free(&f);
	err = capfile_read_pcapng(b, &f);
	CHECK(!err);
	CHECK(!strcmp(f.if_name, "net_ring1"));
	CHECK_EQ(f.n, 100);
	CHECK_EQ(check_frames(&f, 1 /* inbound */, 200), 0);
	capfile_free(&f);

	/* tshark reads it as we wrote it: count, lengths, direction, payload. */
	if (access("/usr/bin/tshark", X_OK) == 0) {
		static char out[1 << 20];
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e frame.len -e frame.packet_flags_direction "
			 "-e frame.interface_name -e udp.srcport -e data.data 2>/dev/null", a);
		CHECK_EQ(test_run(cmd, out, sizeof(out)), 0);
		unsigned lines = 0;
		uint8_t want[TESTPKT_MAX];
		for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"), lines++) {
			char hex[2 * TESTPKT_MAX + 1], name[64];
			unsigned len, dir, sport;
			CHECK(lines < FRAMES);
			CHECK_EQ(sscanf(l, "%u %x %63s %u %3000s", &len, &dir, name, &sport, hex), 5);
			frame_make(want, lines);
			CHECK_EQ(len, frame_len(lines));
			CHECK_EQ(dir, 2);
			CHECK(!strcmp(name, "net_ring0"));
			CHECK_EQ(sport, 1024);
			/* the UDP payload, as tshark saw it, is what we sent */
			CHECK_EQ(strlen(hex), 2 * (len - TESTPKT_HDRS));
			for (unsigned k = 0; k < len - TESTPKT_HDRS; k++) {
				unsigned v;
				CHECK_EQ(sscanf(hex + 2 * k, "%2x", &v), 1);
				CHECK_EQ(v, want[TESTPKT_HDRS + k]);
			}
		}
		CHECK_EQ(lines, FRAMES);
		snprintf(cmd, sizeof(cmd), "tshark -r %s 2>&1 | grep -ci 'damaged\\|corrupt\\|malformed'", b);
		test_run(cmd, out, sizeof(out));
		CHECK_EQ(atoi(out), 0);
		snprintf(cmd, sizeof(cmd), "tshark -r %s 2>/dev/null | wc -l", b);
		CHECK_EQ(test_run(cmd, out, sizeof(out)), 0);
		CHECK_EQ(atoi(out), 100);
	} else {
		printf("    (tshark is not installed: scripts/deps test installs it; its check skipped)\n");
	}
	unlink(a);
	unlink(b);
}

TEST(capture_counts_drops_of_a_full_ring_and_refuses_bad_specs)
{
	char a[] = "/tmp/bp-cap-XXXXXX";
	CHECK(mkstemp(a) >= 0);
	CHECK(test_env("--no-huge -l 0 --vdev net_null0") >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("cap", 1024, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(mp);
	CHECK_EQ(start_port(0, mp), 0);
	char spec[128];
	uint16_t port;
	snprintf(spec, sizeof(spec), "0:%s,ring_kb=4,dir=tx", a);
	CHECK_EQ(bp_capture_start_spec(spec, &port), 0);
	/* 256 frames of 1500 bytes into a 4 KiB ring: it holds two at a time,
	 * so most find it full, however fast the writer drains. */
	struct bp_mbuf *m[256];
	CHECK_EQ(bp_pktmbuf_alloc_bulk(mp, m, 256), 0);
	for (unsigned i = 0; i < 256; i++) {
		memset(bp_pktmbuf_mtod(m[i], void *), (int)i, 1500);
		m[i]->data_len = 1500;
		m[i]->pkt_len = 1500;
	}
	CHECK_EQ(bp_eth_tx_burst(0, 0, m, 256), 256);
	struct bp_capture_stats st;
	CHECK_EQ(bp_capture_stop(0, &st), 0);
	CHECK_EQ(st.written + st.dropped, 256);
	CHECK(st.dropped >= 62);
	struct capfile f;
	CHECK(!capfile_read_pcapng(a, &f));
	CHECK_EQ(f.n, st.written);
	CHECK(f.isb_has_osdrop);
	CHECK_EQ(f.isb_osdrop, st.dropped);
	for (unsigned i = 0; i < f.n; i++)
		CHECK(f.pkt[i].cap_len == 1500 && f.pkt[i].data[0] == f.pkt[i].data[1499]);
	capfile_free(&f);
	const char *bad[] = { "x", "0", "0:", "0:,dir=rx", "40:/tmp/x", "0:/tmp/x,dir=up", "0:/tmp/x,count=-1",
			      "0:/tmp/x,queue=3", "0:/nonexistent-dir/x.pcapng", "0:/tmp/x,what=1" };
	for (unsigned i = 0; i < BP_ARRAY_SIZE(bad); i++) {
		int rc = bp_capture_start_spec(bad[i], &port);
		if (rc == 0) {
			printf("    accepted: %s\n", bad[i]);
			bp_capture_stop(port, NULL);
		}
		CHECK(rc < 0);
	}
	bp_cleanup();
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
	bp_mempool_free(mp);
	unlink(a);
	unlink("/tmp/x");
}

TEST(testpmd_capture_option_writes_a_file_tshark_counts)
{
	char a[] = "/tmp/bp-cap-XXXXXX", cmd[512];
	static char out[65536];
	CHECK(mkstemp(a) >= 0);
	snprintf(cmd, sizeof(cmd), "%s -l 0,1 --no-huge --vdev net_ring0 --vdev net_ring1,peer=net_ring0 -- "
		 "--forward-mode=rxonly --port-mode=0:txonly --verify --txpkts=200 --tx-count=3000 "
		 "--rx-count=3000 --duration=20 --stats-period=0 --capture=1:%s,dir=rx,count=2500 2>&1",
		 test_build_path("apps/testpmd/bypass-testpmd"), a);
	CHECK_EQ(test_run(cmd, out, sizeof(out)), 0);
	CHECK(strstr(out, "capture port 1: written=2500 dropped=0") != NULL);
	CHECK(strstr(out, "verified=3000 bad=0") != NULL);
	CHECK(strstr(out, "mbufs in use at exit: 0 of") != NULL);
	struct capfile f;
	CHECK(!capfile_read_pcapng(a, &f));
	CHECK_EQ(f.n, 2500);
	for (unsigned i = 0; i < f.n; i++) {
		uint64_t seq;
		CHECK_EQ(testpkt_check(f.pkt[i].data, f.pkt[i].cap_len, &seq), TESTPKT_OK);
		CHECK_EQ(seq, i);
	}
	capfile_free(&f);
	if (access("/usr/bin/tshark", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "tshark -r %s -Y 'udp && frame.len == 200' 2>/dev/null | wc -l", a);
		CHECK_EQ(test_run(cmd, out, sizeof(out)), 0);
		CHECK_EQ(atoi(out), 2500);
	}
	snprintf(cmd, sizeof(cmd), "%s -l 0 --no-huge --vdev net_null0 -- --capture=5:/tmp/x --duration=0.1 2>&1",
		 test_build_path("apps/testpmd/bypass-testpmd"));
	CHECK(test_run(cmd, out, sizeof(out)) != 0);
	CHECK(strstr(out, "port 5 does not exist") != NULL);
	unlink(a);
}

/* A port with no queue configured: nothing to capture, refused in one line
 * (it used to start, make no ring and leave the file empty). */
TEST(capture_refuses_a_port_without_queues)
{
	unlink("/tmp/bp-cap-none.pcapng");
	CHECK(test_env("--no-huge -l 0 --vdev net_null0") >= 0);
	CHECK_EQ(bp_capture_start(0, BP_CAPTURE_ALL_QUEUES, BP_CAPTURE_BOTH, "/tmp/bp-cap-none.pcapng", 0, 0), -EINVAL);
	CHECK_EQ(bp_capture_stop(0, NULL), -ENOENT);
	CHECK(access("/tmp/bp-cap-none.pcapng", F_OK) != 0);
	struct bp_eth_conf conf = { .size = sizeof(conf) };
	CHECK_EQ(bp_eth_dev_configure(0, 1, 0, &conf), 0);
	CHECK_EQ(bp_capture_start(0, BP_CAPTURE_ALL_QUEUES, BP_CAPTURE_TX, "/tmp/bp-cap-none.pcapng", 0, 0), -EINVAL);
	bp_cleanup();
}
