/* SPDX-License-Identifier: MIT
 * Software RSS against Microsoft's published vectors ("Verifying the RSS Hash
 * Calculation": the key is bp_eth_rss_default_key), and the RSS control path. */
#include <string.h>
#include <arpa/inet.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/rss.h>
#include "harness.h"

/* An Ethernet frame with IPv4 or IPv6 and a TCP/UDP header's ports. */
static size_t frame(uint8_t *f, int af, const char *src, const char *dst, uint16_t sport,
		    uint16_t dport, uint8_t proto, uint16_t frag)
{
	memset(f, 0, 128);
	size_t l4;
	if (af == AF_INET) {
		f[12] = 0x08, f[13] = 0x00;
		f[14] = 0x45;
		f[20] = (uint8_t)(frag >> 8), f[21] = (uint8_t)frag;
		f[23] = proto;
		inet_pton(AF_INET, src, f + 26);
		inet_pton(AF_INET, dst, f + 30);
		l4 = 34;
	} else {
		f[12] = 0x86, f[13] = 0xdd;
		f[14] = 0x60;
		f[20] = proto;
		inet_pton(AF_INET6, src, f + 22);
		inet_pton(AF_INET6, dst, f + 38);
		l4 = 54;
	}
	f[l4] = (uint8_t)(sport >> 8), f[l4 + 1] = (uint8_t)sport;
	f[l4 + 2] = (uint8_t)(dport >> 8), f[l4 + 3] = (uint8_t)dport;
	return l4 + 20;
}

static const struct {
	int af;
	const char *dst, *src;
	uint16_t dport, sport;
	uint32_t ip, tcp;
} vectors[] = {
	{ AF_INET, "161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2, 0x51ccc178 },
	{ AF_INET, "65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a, 0xc626b0ea },
	{ AF_INET, "12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de, 0x5c2b394a },
	{ AF_INET, "209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176, 0xafc7327f },
	{ AF_INET, "202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5, 0x10e828a2 },
	{ AF_INET6, "3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5,
	  0x40207d3d },
	{ AF_INET6, "ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461c,
	  0xdde51bbf },
	{ AF_INET6, "fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024,
	  44251, 0x4b61e985, 0x02d1feef },
};

TEST(rss_softrss_matches_microsoft_vectors)
{
	const uint8_t *key = bp_eth_rss_default_key;
	uint8_t f[128];
	uint32_t h;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		bool v4 = vectors[i].af == AF_INET;
		size_t len = frame(f, vectors[i].af, vectors[i].src, vectors[i].dst, vectors[i].sport,
				   vectors[i].dport, 6, 0);
		h = 0;
		CHECK(bp_rss_hash_frame(f, len, v4 ? BP_ETH_RSS_IPV4 : BP_ETH_RSS_IPV6, key, &h));
		CHECK_EQ(h, vectors[i].ip);
		CHECK(bp_rss_hash_frame(f, len, BP_ETH_RSS_IP | BP_ETH_RSS_TCP, key, &h));
		CHECK_EQ(h, vectors[i].tcp);
		/* a UDP type does not hash a TCP frame's ports */
		CHECK(bp_rss_hash_frame(f, len, BP_ETH_RSS_IP | BP_ETH_RSS_UDP, key, &h));
		CHECK_EQ(h, vectors[i].ip);
		/* the same frame as UDP, hashed with the UDP types, gives the TCP figure */
		frame(f, vectors[i].af, vectors[i].src, vectors[i].dst, vectors[i].sport,
		      vectors[i].dport, 17, 0);
		CHECK(bp_rss_hash_frame(f, len, BP_ETH_RSS_UDP, key, &h));
		CHECK_EQ(h, vectors[i].tcp);
		/* only TCP types: a UDP frame is not hashed */
		CHECK(!bp_rss_hash_frame(f, len, BP_ETH_RSS_TCP, key, &h));
	}
}

TEST(rss_fragments_and_other_frames)
{
	const uint8_t *key = bp_eth_rss_default_key;
	uint8_t f[128];
	uint32_t h;
	/* a fragment (MF set, or an offset) is hashed on its addresses only */
	size_t len = frame(f, AF_INET, "66.9.149.187", "161.142.100.80", 2794, 1766, 6, 0x2000);
	CHECK(bp_rss_hash_frame(f, len, BP_ETH_RSS_IPV4 | BP_ETH_RSS_IPV4_TCP, key, &h));
	CHECK_EQ(h, 0x323e8fc2);
	frame(f, AF_INET, "66.9.149.187", "161.142.100.80", 2794, 1766, 6, 0x0010);
	CHECK(bp_rss_hash_frame(f, len, BP_ETH_RSS_IPV4 | BP_ETH_RSS_IPV4_TCP, key, &h));
	CHECK_EQ(h, 0x323e8fc2);
	CHECK(!bp_rss_hash_frame(f, len, BP_ETH_RSS_IPV4_TCP, key, &h));
	/* one 802.1Q tag is skipped */
	uint8_t t[132];
	len = frame(f, AF_INET, "66.9.149.187", "161.142.100.80", 2794, 1766, 6, 0);
	memcpy(t, f, 12);
	t[12] = 0x81, t[13] = 0x00, t[14] = 0x00, t[15] = 0x05;
	memcpy(t + 16, f + 12, len - 12);
	CHECK(bp_rss_hash_frame(t, len + 4, BP_ETH_RSS_IPV4_TCP, key, &h));
	CHECK_EQ(h, 0x51ccc178);
	/* ARP, and a frame cut short inside its IP header: nothing */
	f[12] = 0x08, f[13] = 0x06;
	CHECK(!bp_rss_hash_frame(f, len, BP_ETH_RSS_IP | BP_ETH_RSS_TCP, key, &h));
	len = frame(f, AF_INET, "66.9.149.187", "161.142.100.80", 2794, 1766, 6, 0);
	CHECK(!bp_rss_hash_frame(f, 30, BP_ETH_RSS_IP, key, &h));
	/* IPv4 header cut before the ports: addresses only */
	CHECK(bp_rss_hash_frame(f, 36, BP_ETH_RSS_IPV4 | BP_ETH_RSS_IPV4_TCP, key, &h));
	CHECK_EQ(h, 0x323e8fc2);
}

TEST(rss_refused_on_ports_without_it)
{
	CHECK(test_env("--no-huge -l 0 --vdev net_null0,queues=2") >= 0);
	uint16_t port;
	CHECK_EQ(bp_eth_dev_get_port_by_name("net_null0", &port), 0);
	struct bp_eth_conf conf = { .size = sizeof(conf), .rss.hash_types = BP_ETH_RSS_IPV4 };
	/* asking for hash types the port lacks is refused, and the port stays unconfigured */
	CHECK(bp_eth_dev_configure(port, 2, 2, &conf) < 0);
	struct bp_eth_rss_conf rss = { 0 };
	CHECK(bp_eth_dev_rss_hash_conf_get(port, &rss) < 0);
	/* without RSS, two queues each carry their own traffic */
	CHECK_EQ(bp_eth_dev_configure(port, 2, 2, NULL), 0);
	CHECK(bp_eth_dev_rss_hash_update(port, &rss) < 0);
	uint16_t reta[128];
	CHECK(bp_eth_dev_rss_reta_query(port, reta, 128) < 0);
	bp_cleanup();
}
