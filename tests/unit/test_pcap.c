/* SPDX-License-Identifier: MIT
 * net_pcap (built with libpcap): a file replayed through a port and recorded
 * again keeps every byte; the files are written and read by the tests' own
 * code (capfile.c), not libpcap. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include "capfile.h"
#include "harness.h"

#define NFR 500

/* Frames of every size class: minimum, odd, full, and (jumbo) larger than
 * one mbuf (3000 and 9000 bytes: chains), each byte from a seeded generator. */
static uint8_t *frames[NFR];
static uint32_t lens[NFR];

static void make_input(const char *path, bool jumbo)
{
	uint32_t x = 12345;
	for (unsigned i = 0; i < NFR; i++) {
		lens[i] = jumbo && i % 50 == 7 ? 3000 : jumbo && i % 97 == 3 ? 9000 : 60 + (i * 131) % 1455;
		frames[i] = realloc(frames[i], lens[i]);
		for (uint32_t k = 0; k < lens[i]; k++) {
			x = x * 1103515245u + 12345u;
			frames[i][k] = (uint8_t)(x >> 16);
		}
	}
	capfile_write_pcap(path, (const uint8_t *const *)frames, lens, NFR);
}

/* The recorded file holds the input's frames, loops times over, in order. */
static int same_frames(const char *path, unsigned loops)
{
	struct capfile f;
	const char *err = capfile_read_pcap(path, &f);
	int rc = 0;
	if (err || f.n != NFR * loops) {
		printf("    %s: %s, %u frames\n", path, err ? err : "read", f.n);
		rc = -1;
	}
	for (unsigned i = 0; !rc && i < f.n; i++) {
		unsigned j = i % NFR;
		if (f.pkt[i].cap_len != lens[j] || f.pkt[i].orig_len != lens[j] ||
		    memcmp(f.pkt[i].data, frames[j], lens[j]) != 0) {
			printf("    frame %u differs (%u bytes, want %u)\n", i, f.pkt[i].cap_len, lens[j]);
			rc = -1;
		}
	}
	capfile_free(&f);
	return rc;
}

/* bp_init with args, a pool of n mbufs, port 0 with one rx and one tx
 * queue, started: the pool, or NULL if a step failed. */
static struct bp_mempool *port_started(const char *args, unsigned n)
{
	struct bp_mempool *mp;
	if (test_env(args) < 0 || !(mp = bp_pktmbuf_pool_create("pcap", n, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE)))
		return NULL;
	if (bp_eth_dev_configure(0, 1, 1, NULL) || bp_eth_rx_queue_setup(0, 0, 512, mp) ||
	    bp_eth_tx_queue_setup(0, 0, 512) || bp_eth_dev_start(0))
		return NULL;
	return mp;
}

TEST(pcap_replay_through_a_port_and_record_keeps_every_byte)
{
	char in[] = "/tmp/bp-pcap-XXXXXX", out[] = "/tmp/bp-pcap-XXXXXX", args[256];
	CHECK(mkstemp(in) >= 0 && mkstemp(out) >= 0);
	make_input(in, true);
	snprintf(args, sizeof(args), "--no-huge -l 0 --vdev net_pcap0,rx_pcap=%s,tx_pcap=%s", in, out);
	CHECK(test_env(args) >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("pcap", 2048, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	struct bp_eth_conf conf = { .size = sizeof(conf), .max_rx_pktlen = 9600 };
	CHECK(mp);
	CHECK_EQ(bp_eth_dev_configure(0, 1, 1, &conf), 0);
	CHECK_EQ(bp_eth_rx_queue_setup(0, 0, 512, mp), 0);
	CHECK_EQ(bp_eth_tx_queue_setup(0, 0, 512), 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	uint64_t bytes = 0, chains = 0;
	unsigned got = 0, empty = 0;
	while (empty < 3) { /* the end of the file: nothing, and nothing again */
		struct bp_mbuf *m[32];
		uint16_t n = bp_eth_rx_burst(0, 0, m, 32);
		empty = n ? 0 : empty + 1;
		for (uint16_t i = 0; i < n; i++) {
			CHECK(bp_mbuf_check(m[i], true) == NULL);
			CHECK_EQ(m[i]->pkt_len, lens[got + i]);
			CHECK_EQ(m[i]->timestamp, (1700000000ull + got + i) * 1000000000ull + (got + i) * 1000ull);
			bytes += m[i]->pkt_len;
			chains += m[i]->nb_segs > 1;
		}
		got += n;
		CHECK_EQ(bp_eth_tx_burst(0, 0, m, n), n);
	}
	CHECK_EQ(got, NFR);
	CHECK(chains >= 10);
	struct bp_eth_stats st;
	CHECK_EQ(bp_eth_stats_get(0, &st), 0);
	CHECK_EQ(st.ipackets, NFR);
	CHECK_EQ(st.opackets, NFR);
	CHECK_EQ(st.ibytes, bytes);
	CHECK_EQ(st.obytes, bytes);
	CHECK_EQ(st.ierrors, 0);
	/* stop, start: the file plays again from its start */
	CHECK_EQ(bp_eth_dev_stop(0), 0);
	CHECK_EQ(bp_eth_dev_start(0), 0);
	struct bp_mbuf *m[32];
	uint16_t n = bp_eth_rx_burst(0, 0, m, 32);
	CHECK_EQ(n, 32);
	CHECK_EQ(m[0]->pkt_len, lens[0]);
	CHECK(memcmp(bp_pktmbuf_mtod(m[0], void *), frames[0], lens[0]) == 0);
	bp_pktmbuf_free_bulk(m, n);
	bp_cleanup(); /* closes the port: the recording is flushed */
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
	bp_mempool_free(mp);
	CHECK_EQ(same_frames(out, 1), 0);
	unlink(in);
	unlink(out);
}

TEST(pcap_testpmd_io_infinite_replay_and_bad_files)
{
	char in[] = "/tmp/bp-pcap-XXXXXX", out[] = "/tmp/bp-pcap-XXXXXX", cmd[512];
	static char text[65536];
	CHECK(mkstemp(in) >= 0 && mkstemp(out) >= 0);
	make_input(in, false); /* testpmd's ports take frames of up to 1514 bytes */
	const char *tp = test_build_path("apps/testpmd/bypass-testpmd");
	/* io on one port forwards to itself: the file, three times over, into out */
	snprintf(cmd, sizeof(cmd), "%s -l 0 --no-huge --vdev net_pcap0,rx_pcap=%s,tx_pcap=%s,infinite_rx=1 -- "
		 "--forward-mode=io --rx-count=%d --burst=%d --duration=20 --stats-period=0 2>&1", tp, in, out,
		 3 * NFR, NFR / 10);
	CHECK_EQ(test_run(cmd, text, sizeof(text)), 0);
	CHECK(strstr(text, "mbufs in use at exit: 0 of") != NULL);
	/* --rx-count stops it after the burst that reaches 1500: exactly 3 loops */
	CHECK(strstr(text, "rx-packets=1500 ") != NULL);
	CHECK_EQ(same_frames(out, 3), 0);
	/* bad input: one line that says what to give */
	snprintf(cmd, sizeof(cmd), "%s -l 0 --no-huge --vdev net_pcap0,rx_pcap=/nonexistent.pcap 2>&1", tp);
	CHECK(test_run(cmd, text, sizeof(text)) != 0);
	CHECK(strstr(text, "rx_pcap=/nonexistent.pcap") && strstr(text, "give a pcap or pcapng file"));
	snprintf(cmd, sizeof(cmd), "%s -l 0 --no-huge --vdev net_pcap0 2>&1", tp);
	CHECK(test_run(cmd, text, sizeof(text)) != 0);
	CHECK(strstr(text, "rx_pcap=IN.pcap,tx_pcap=OUT.pcap") != NULL);
	snprintf(cmd, sizeof(cmd), "%s -l 0 --no-huge --vdev net_pcap0,rx_pcap=%s 2>&1", tp,
		 test_build_path("apps/testpmd/bypass-testpmd"));
	CHECK(test_run(cmd, text, sizeof(text)) != 0);
	CHECK(strstr(text, "give a pcap or pcapng file") != NULL);
	unlink(in);
	unlink(out);
	for (unsigned i = 0; i < NFR; i++) {
		free(frames[i]);
		frames[i] = NULL;
	}
}

/* infinite_rx with the pool empty for a while (the application holds every
 * mbuf): each burst that finds no mbuf loses one frame (rx_nombuf) and
 * returns; once mbufs are back the replay goes on from the next frame, past
 * the end of the file and round again. (It used to read the whole file into
 * nombuf in one burst, then stop for good.) */
TEST(pcap_infinite_rx_goes_on_after_the_pool_ran_empty)
{
	char in[] = "/tmp/bp-pcap-XXXXXX", args[256];
	CHECK(mkstemp(in) >= 0);
	make_input(in, false);
	snprintf(args, sizeof(args), "--no-huge -l 0 --vdev net_pcap0,rx_pcap=%s,infinite_rx=1", in);
	struct bp_mempool *mp = port_started(args, 64);
	CHECK(mp);
	struct bp_mbuf *held[64];
	CHECK_EQ(bp_eth_rx_burst(0, 0, held, 32), 32);
	CHECK_EQ(bp_eth_rx_burst(0, 0, held + 32, 32), 32);
	struct bp_mbuf *m[32];
	CHECK_EQ(bp_eth_rx_burst(0, 0, m, 32), 0); /* frame 64 lost */
	CHECK_EQ(bp_eth_rx_burst(0, 0, m, 32), 0); /* frame 65 lost */
	struct bp_eth_stats st;
	CHECK_EQ(bp_eth_stats_get(0, &st), 0);
	CHECK_EQ(st.rx_nombuf, 2);
	bp_pktmbuf_free_bulk(held, 64);
	/* frames 66, 67, ... then 0, 1, ... again: past the end twice */
	unsigned next = 66;
	for (unsigned got = 0; got < 2 * NFR;) {
		uint16_t n = bp_eth_rx_burst(0, 0, m, 32);
		CHECK(n > 0);
		for (uint16_t i = 0; i < n; i++, next = (next + 1) % NFR) {
			CHECK_EQ(m[i]->pkt_len, lens[next]);
			CHECK(memcmp(bp_pktmbuf_mtod(m[i], void *), frames[next], lens[next]) == 0);
		}
		bp_pktmbuf_free_bulk(m, n);
		got += n;
	}
	CHECK_EQ(bp_eth_stats_get(0, &st), 0);
	CHECK_EQ(st.rx_nombuf, 2);
	CHECK_EQ(st.ierrors, 0);
	bp_cleanup();
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
	bp_mempool_free(mp);
	unlink(in);
	for (unsigned i = 0; i < NFR; i++) {
		free(frames[i]);
		frames[i] = NULL;
	}
}

/* A record too short to hold an Ethernet header (found by tests/fuzz's
 * fuzz-pcap: a record of 0 bytes came out as a 0-byte frame, and a program
 * reading its header read whatever the mbuf held before) is an error, like a
 * record cut short; the frames around it arrive whole. */
TEST(pcap_records_shorter_than_an_ethernet_header_are_errors)
{
	char in[] = "/tmp/bp-pcap-XXXXXX", args[256];
	static const uint32_t len[] = { 60, 0, 13, 14, 1, 61 };
	const unsigned nf = BP_ARRAY_SIZE(len);
	uint8_t buf[6][64];
	const uint8_t *fr[6];
	for (unsigned i = 0; i < nf; i++) {
		for (unsigned k = 0; k < sizeof(buf[i]); k++)
			buf[i][k] = (uint8_t)(i * 37 + k);
		fr[i] = buf[i];
	}
	CHECK(mkstemp(in) >= 0);
	CHECK_EQ(capfile_write_pcap(in, fr, len, nf), 0);
	snprintf(args, sizeof(args), "--no-huge -l 0 --vdev net_pcap0,rx_pcap=%s", in);
	struct bp_mempool *mp = port_started(args, 64);
	CHECK(mp);
	struct bp_mbuf *m[32];
	uint16_t n = bp_eth_rx_burst(0, 0, m, 32);
	static const unsigned want[] = { 0, 3, 5 }; /* 60, 14 and 61 bytes */
	CHECK_EQ(n, 3);
	for (unsigned i = 0; i < n && i < 3; i++) {
		CHECK_EQ(m[i]->pkt_len, len[want[i]]);
		CHECK(memcmp(bp_pktmbuf_mtod(m[i], void *), buf[want[i]], len[want[i]]) == 0);
	}
	bp_pktmbuf_free_bulk(m, n);
	CHECK_EQ(bp_eth_rx_burst(0, 0, m, 32), 0);
	struct bp_eth_stats st;
	CHECK_EQ(bp_eth_stats_get(0, &st), 0);
	CHECK_EQ(st.ipackets, 3);
	CHECK_EQ(st.ibytes, 60 + 14 + 61);
	CHECK_EQ(st.ierrors, 3);
	bp_cleanup();
	CHECK_EQ(bp_mempool_in_use_count(mp), 0);
	bp_mempool_free(mp);
	unlink(in);
}
