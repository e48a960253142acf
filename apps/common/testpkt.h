/* SPDX-License-Identifier: MIT
 * The test packet that testpmd's txonly mode sends and rxonly --verify checks:
 * Ethernet / IPv4 / UDP, then a bypass test header (magic, sequence, checksum of
 * the rest), then a pattern that depends on the sequence number, so that any
 * corrupted, truncated or stale byte is caught. The IPv4 identification field
 * carries a stream number, so that a receiver tells one run's frames from
 * another's (an emulator may still hold frames of a run that was killed).
 */
#ifndef BYPASS_APPS_TESTPKT_H
#define BYPASS_APPS_TESTPKT_H

#include <string.h>
#include <arpa/inet.h>
#include <bypass/ethdev.h>

#define TESTPKT_MAGIC 0x31545042u /* "BPT1" little-endian */
#define TESTPKT_L2 14
#define TESTPKT_L3 20
#define TESTPKT_L4 8
#define TESTPKT_HDRS (TESTPKT_L2 + TESTPKT_L3 + TESTPKT_L4)
#define TESTPKT_MIN (TESTPKT_HDRS + (int)sizeof(struct testpkt_hdr)) /* 58 */
#define TESTPKT_MAX BP_ETHER_MAX_LEN

struct testpkt_hdr {
	uint32_t magic;
	uint32_t cksum; /* over len, seq and the pattern */
	uint64_t seq;
} __attribute__((packed));

enum testpkt_verdict { TESTPKT_OK = 0, TESTPKT_NOT_OURS, TESTPKT_BAD_LEN, TESTPKT_BAD_SUM };

static inline uint32_t testpkt_sum(uint64_t seq, const uint8_t *pat, uint32_t n, uint32_t len)
{
	/* FNV-1a over length, sequence and pattern: cheap and order-sensitive. */
	uint32_t h = 2166136261u ^ len;
	h *= 16777619u;
	for (int i = 0; i < 8; i++) {
		h ^= (uint8_t)(seq >> (8 * i));
		h *= 16777619u;
	}
	for (uint32_t i = 0; i < n; i++) {
		h ^= pat[i];
		h *= 16777619u;
	}
	return h;
}

static inline uint16_t testpkt_ip_cksum(const uint8_t *ip)
{
	uint32_t s = 0;
	for (int i = 0; i < TESTPKT_L3; i += 2)
		s += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Writes the Ethernet/IPv4/UDP headers of a `len`-byte frame of stream
 * `stream` into tmpl. */
static inline void testpkt_template(uint8_t tmpl[TESTPKT_HDRS], const struct bp_ether_addr *dst,
				    const struct bp_ether_addr *src, uint32_t len, uint16_t stream)
{
	uint8_t *ip = tmpl + TESTPKT_L2, *udp = ip + TESTPKT_L3;
	uint16_t ip_len = (uint16_t)(len - TESTPKT_L2), udp_len = (uint16_t)(ip_len - TESTPKT_L3);

	memcpy(tmpl, dst->b, 6);
	memcpy(tmpl + 6, src->b, 6);
	tmpl[12] = 0x08, tmpl[13] = 0x00; /* IPv4 */
	memset(ip, 0, TESTPKT_L3);
	ip[0] = 0x45;                     /* version 4, 20-byte header */
	ip[2] = (uint8_t)(ip_len >> 8), ip[3] = (uint8_t)ip_len;
	ip[4] = (uint8_t)(stream >> 8), ip[5] = (uint8_t)stream; /* identification */
	ip[8] = 64;                       /* TTL */
	ip[9] = 17;                       /* UDP */
	/* 198.18.0.1 -> 198.18.0.2: the benchmarking range of RFC 2544 */
	ip[12] = 198, ip[13] = 18, ip[14] = 0, ip[15] = 1;
	ip[16] = 198, ip[17] = 18, ip[18] = 0, ip[19] = 2;
	uint16_t c = testpkt_ip_cksum(ip);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	udp[0] = 0x04, udp[1] = 0x00;     /* port 1024 -> 9 (discard) */
	udp[2] = 0x00, udp[3] = 0x09;
	udp[4] = (uint8_t)(udp_len >> 8), udp[5] = (uint8_t)udp_len;
	udp[6] = udp[7] = 0;              /* no UDP checksum */
}

/* Fills a `len`-byte frame at p: headers from the template, then header and pattern. */
static inline void testpkt_fill(uint8_t *p, const uint8_t tmpl[TESTPKT_HDRS], uint32_t len,
				uint64_t seq)
{
	struct testpkt_hdr h;
	uint8_t *pat = p + TESTPKT_MIN;
	uint32_t n = len - TESTPKT_MIN;

	memcpy(p, tmpl, TESTPKT_HDRS);
	for (uint32_t i = 0; i < n; i++)
		pat[i] = (uint8_t)(seq + i);
	h.magic = TESTPKT_MAGIC;
	h.seq = seq;
	h.cksum = testpkt_sum(seq, pat, n, len);
	memcpy(p + TESTPKT_HDRS, &h, sizeof(h));
}

/* A frame that carries its send time (ns of CLOCK_MONOTONIC) in the first 8
 * bytes of the pattern, covered by the checksum: len >= TESTPKT_STAMPED_MIN. */
#define TESTPKT_STAMPED_MIN (TESTPKT_MIN + 8)
static inline void testpkt_fill_stamped(uint8_t *p, const uint8_t tmpl[TESTPKT_HDRS], uint32_t len,
					uint64_t seq, uint64_t stamp)
{
	struct testpkt_hdr h;
	uint8_t *pat = p + TESTPKT_MIN;
	uint32_t n = len - TESTPKT_MIN;

	memcpy(p, tmpl, TESTPKT_HDRS);
	memcpy(pat, &stamp, sizeof(stamp));
	for (uint32_t i = sizeof(stamp); i < n; i++)
		pat[i] = (uint8_t)(seq + i);
	h.magic = TESTPKT_MAGIC;
	h.seq = seq;
	h.cksum = testpkt_sum(seq, pat, n, len);
	memcpy(p + TESTPKT_HDRS, &h, sizeof(h));
}

/* The send time of a stamped frame that testpkt_check() found good. */
static inline uint64_t testpkt_stamp(const uint8_t *p)
{
	uint64_t stamp;
	memcpy(&stamp, p + TESTPKT_MIN, sizeof(stamp));
	return stamp;
}

/* Checks a received frame of `len` bytes; on OK or BAD_SUM *seq is its sequence. */
static inline enum testpkt_verdict testpkt_check(const uint8_t *p, uint32_t len, uint64_t *seq)
{
	struct testpkt_hdr h;

	if (len < TESTPKT_MIN || p[12] != 0x08 || p[13] != 0x00 || p[TESTPKT_L2 + 9] != 17)
		return TESTPKT_NOT_OURS;
	memcpy(&h, p + TESTPKT_HDRS, sizeof(h));
	if (h.magic != TESTPKT_MAGIC)
		return TESTPKT_NOT_OURS;
	*seq = h.seq;
	/* The IP length says how long the frame was sent; padding may follow. */
	uint32_t sent = (uint32_t)(p[TESTPKT_L2 + 2] << 8 | p[TESTPKT_L2 + 3]) + TESTPKT_L2;
	if (sent > len || sent < TESTPKT_MIN)
		return TESTPKT_BAD_LEN;
	if (testpkt_sum(h.seq, p + TESTPKT_MIN, sent - TESTPKT_MIN, sent) != h.cksum)
		return TESTPKT_BAD_SUM;
	return TESTPKT_OK;
}

/* Flows, so that RSS has something to spread: flow f of a txonly stream has
 * source address 198.18.0.1 + 2f (odd, so never the destination 198.18.0.2)
 * and source UDP port 1024 + f; flow 0 is the template. Each flow numbers its
 * frames on its own, so a receiver whose queues each see a share of the flows
 * still checks every flow's sequence. */
#define TESTPKT_FLOWS_MAX 4096

static inline void testpkt_set_flow(uint8_t *p, uint32_t f)
{
	uint8_t *ip = p + TESTPKT_L2, *udp = ip + TESTPKT_L3;
	uint16_t old = (uint16_t)(ip[14] << 8 | ip[15]), a = (uint16_t)(old + 2 * f);
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word m -> m' */
	uint32_t sum = (uint16_t)~(ip[10] << 8 | ip[11]) + (uint16_t)~old + (uint32_t)a;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	ip[14] = (uint8_t)(a >> 8), ip[15] = (uint8_t)a;
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	uint16_t port = (uint16_t)(1024 + f);
	udp[0] = (uint8_t)(port >> 8), udp[1] = (uint8_t)port;
}

/* The flow of a frame testpkt_check() found ours (TESTPKT_FLOWS_MAX: none of ours). */
static inline uint32_t testpkt_flow(const uint8_t *p)
{
	const uint8_t *udp = p + TESTPKT_L2 + TESTPKT_L3;
	uint32_t port = (uint32_t)(udp[0] << 8 | udp[1]);
	return port >= 1024 && port < 1024 + TESTPKT_FLOWS_MAX ? port - 1024 : TESTPKT_FLOWS_MAX;
}

/* Fills in the UDP checksum of a frame built here (RFC 768: the one's
 * complement sum over the IPv4 pseudo-header, the UDP header and the data;
 * a sum of 0 is sent as 0xffff, 0 meaning "none"). Called after every
 * change to the frame (testpkt_set_flow changes the addresses and ports). */
static inline void testpkt_udp_cksum(uint8_t *p)
{
	uint8_t *ip = p + TESTPKT_L2, *udp = ip + TESTPKT_L3;
	uint32_t ulen = (uint32_t)(udp[4] << 8 | udp[5]), s = 17 + ulen; /* protocol, UDP length */
	for (int i = 12; i < 20; i += 2) /* source and destination addresses */
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	udp[6] = udp[7] = 0;
	for (uint32_t i = 0; i + 1 < ulen; i += 2)
		s += (uint32_t)(udp[i] << 8 | udp[i + 1]);
	if (ulen & 1)
		s += (uint32_t)udp[ulen - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	uint16_t c = (uint16_t)~s;
	if (!c)
		c = 0xffff;
	udp[6] = (uint8_t)(c >> 8), udp[7] = (uint8_t)c;
}

/* The stream number of a frame testpkt_check() found ours. */
static inline uint16_t testpkt_stream(const uint8_t *p)
{
	return (uint16_t)(p[TESTPKT_L2 + 4] << 8 | p[TESTPKT_L2 + 5]);
}

#endif
