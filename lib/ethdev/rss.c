/* SPDX-License-Identifier: MIT
 * Software RSS (bypass/rss.h). */
#include <string.h>
#include <bypass/ethdev.h>
#include <bypass/rss.h>

uint32_t bp_softrss(const uint8_t *in, size_t len, const uint8_t *key)
{
	/* window: the key's 64 bits from the current input bit's position on;
	 * its top 32 are what a set bit XORs in. */
	uint64_t window = 0;
	for (int i = 0; i < 8; i++)
		window = window << 8 | key[i];
	uint32_t h = 0;
	for (size_t i = 0; i < len; i++) {
		for (int b = 7; b >= 0; b--) {
			if (in[i] >> b & 1)
				h ^= (uint32_t)(window >> 32);
			window <<= 1;
		}
		/* 8 bits shifted out: bring in the next key byte. */
		window |= i + 8 < len + 4 ? key[i + 8] : 0;
	}
	return h;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool bp_rss_hash_frame(const void *frame, size_t len, uint32_t types, const uint8_t *key,
		       uint32_t *hash)
{
	const uint8_t *f = frame;
	uint8_t in[36];
	size_t off = 12, n, l4 = 0;
	uint8_t proto;
	bool l4_ok;
	if (len < off + 2)
		return false;
	uint16_t et = be16(f + off);
	if (et == 0x8100) { /* one 802.1Q tag */
		off += 4;
		if (len < off + 2)
			return false;
		et = be16(f + off);
	}
	off += 2;
	if (et == 0x0800) {
		const uint8_t *ip = f + off;
		if (len < off + 20 || ip[0] >> 4 != 4)
			return false;
		size_t ihl = (ip[0] & 0xf) * 4u;
		proto = ip[9];
		/* a fragment carries no ports (or only the first does): addresses only */
		l4_ok = (be16(ip + 6) & 0x3fff) == 0 && len >= off + ihl + 4;
		l4 = off + ihl;
		memcpy(in, ip + 12, 8);
		n = 8;
		uint32_t t4 = proto == 6 ? BP_ETH_RSS_IPV4_TCP : proto == 17 ? BP_ETH_RSS_IPV4_UDP : 0;
		if (l4_ok && (types & t4)) {
			memcpy(in + 8, f + l4, 4);
			n = 12;
		} else if (!(types & BP_ETH_RSS_IPV4)) {
			return false;
		}
	} else if (et == 0x86dd) {
		const uint8_t *ip = f + off;
		if (len < off + 40 || ip[0] >> 4 != 6)
			return false;
		proto = ip[6];
		l4 = off + 40;
		l4_ok = len >= l4 + 4;
		memcpy(in, ip + 8, 32);
		n = 32;
		uint32_t t6 = proto == 6 ? BP_ETH_RSS_IPV6_TCP : proto == 17 ? BP_ETH_RSS_IPV6_UDP : 0;
		if (l4_ok && (types & t6)) {
			memcpy(in + 32, f + l4, 4);
			n = 36;
		} else if (!(types & BP_ETH_RSS_IPV6)) {
			return false;
		}
	} else {
		return false;
	}
	*hash = bp_softrss(in, n, key);
	return true;
}
