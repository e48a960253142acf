/* SPDX-License-Identifier: MIT
 * Answers ARP requests and ICMP echo requests (ping) for one IPv4 address on
 * every port, from the frame it received, in place: a host on any port's
 * network resolves the address to that port's MAC and pings it. Nothing else
 * is answered; everything else is dropped and counted.
 *
 *   bypass-responder -l 0 -a 04:00.0 -- --ip=192.0.2.10 [--duration=SECONDS]
 *   ping 192.0.2.10; arping 192.0.2.10           # from a host on that wire
 */
#include <string.h>
#include "../common/example.h"

static uint32_t my_ip; /* network order */
static uint64_t arp_replies, echo_replies, ignored;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }

/* RFC 1624 eqn. 3: a checksum after one 16-bit word changed from m to m'. */
static uint16_t cksum_adjust(uint16_t hc, uint16_t m, uint16_t m2)
{
	uint32_t s = (uint16_t)~hc + (uint32_t)(uint16_t)~m + m2;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* RFC 826 for Ethernet/IPv4 (after the 14-byte Ethernet header): htype 1,
 * ptype 0x0800, hlen 6, plen 4, oper, sha at 8, spa at 14, tha at 18, tpa
 * at 24. A request for our address becomes the reply: target := sender,
 * sender := us. */
static bool arp_reply(uint8_t *eth, uint32_t len, const struct bp_ether_addr *mac)
{
	uint8_t *a = eth + 14;
	if (len < 42 || get16(a) != 1 || get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4 || get16(a + 6) != 1 ||
	    memcmp(a + 24, &my_ip, 4))
		return false;
	put16(a + 6, 2);
	memcpy(a + 18, a + 8, 10); /* tha, tpa := sha, spa */
	memcpy(a + 8, mac->b, 6);
	memcpy(a + 14, &my_ip, 4);
	memcpy(eth, a + 18, 6); /* to the asker */
	memcpy(eth + 6, mac->b, 6);
	return true;
}

/* RFC 791 / RFC 792: an unfragmented IPv4 packet for us carrying ICMP echo
 * request (type 8, code 0) becomes the echo reply (type 0): addresses
 * swapped (the header checksum covers both, so it holds), a fresh TTL, the
 * type changed with the ICMP checksum adjusted; data returned as it came. */
static bool echo_reply(uint8_t *eth, uint32_t len, const struct bp_ether_addr *mac)
{
	uint8_t *ip = eth + 14;
	if (len < 34 || (ip[0] >> 4) != 4)
		return false;
	uint32_t ihl = (ip[0] & 0xfu) * 4u, tot = get16(ip + 2);
	if (ihl < 20 || tot < ihl + 8 || 14 + tot > len || ip[9] != 1 || memcmp(ip + 16, &my_ip, 4) ||
	    (get16(ip + 6) & 0x3fff)) /* MF set or an offset: a fragment */
		return false;
	uint8_t *icmp = ip + ihl;
	if (icmp[0] != 8 || icmp[1] != 0)
		return false;
	memcpy(ip + 16, ip + 12, 4);
	memcpy(ip + 12, &my_ip, 4);
	put16(ip + 10, cksum_adjust(get16(ip + 10), get16(ip + 8), (uint16_t)(64 << 8 | ip[9])));
	ip[8] = 64;
	put16(icmp + 2, cksum_adjust(get16(icmp + 2), 8 << 8, 0));
	icmp[0] = 0;
	memcpy(eth, eth + 6, 6);
	memcpy(eth + 6, mac->b, 6);
	return true;
}

int main(int argc, char **argv)
{
	double duration = 0;
	if (ex_init(argc, argv, "responder", &duration, &my_ip, NULL) < 0)
		return 1;
	if (!my_ip) {
		fprintf(stderr, "responder: give --ip=A.B.C.D, the address to answer for\n");
		return bp_cleanup(), 1;
	}
	/* not promiscuous: what is not for the port's own MAC (or broadcast) is no question for us */
	struct bp_mempool *mp = ex_start_ports("responder", 1, false);
	if (!mp)
		return bp_cleanup(), 1;
	uint16_t nb_ports = bp_eth_dev_count_avail(), p;
	struct bp_ether_addr mac[BP_MAX_ETHPORTS];
	BP_ETH_FOREACH_DEV(p)
		bp_eth_macaddr_get(p, &mac[p]);
	char ipstr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &my_ip, ipstr, sizeof(ipstr));
	printf("responder: answering ARP and ping for %s on %u port(s)\n", ipstr, nb_ports);
	fflush(stdout);

	ex_run_for(duration);
	while (ex_running()) {
		BP_ETH_FOREACH_DEV(p) {
			struct bp_mbuf *pkts[EX_BURST], *replies[EX_BURST];
			uint16_t nb = bp_eth_rx_burst(p, 0, pkts, EX_BURST), nr = 0;
			for (uint16_t i = 0; i < nb; i++) {
				struct bp_mbuf *m = pkts[i];
				uint8_t *eth = bp_pktmbuf_mtod(m, uint8_t *);
				uint16_t type = get16(eth + 12);
				if (m->nb_segs == 1 && type == 0x0806 && arp_reply(eth, m->data_len, &mac[p])) {
					arp_replies++;
					replies[nr++] = m;
				} else if (m->nb_segs == 1 && type == 0x0800 && echo_reply(eth, m->data_len, &mac[p])) {
					echo_replies++;
					replies[nr++] = m;
				} else {
					ignored++;
					bp_pktmbuf_free(m);
				}
			}
			if (!nb)
				bp_eth_tx_done_cleanup(p, 0);
			ex_tx(p, replies, nr);
		}
	}
	printf("responder: arp-replies=%llu echo-replies=%llu ignored=%llu\n", (unsigned long long)arp_replies,
	       (unsigned long long)echo_replies, (unsigned long long)ignored);
	return ex_finish(mp);
}
