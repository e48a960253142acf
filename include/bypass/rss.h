/* SPDX-License-Identifier: MIT
 * The RSS hash in software: what a NIC computes for a frame, so a program can
 * tell which queue a flow will land on, and tests can check the NIC's hash.
 *
 * Toeplitz, as Microsoft defines it ("RSS Hashing Functions"): for each bit of
 * the input, most significant first, if it is set the result takes an XOR of
 * the key's 32 bits starting at that bit position. The input is the frame's
 * source address, destination address, then source and destination port
 * (ports only for a TCP/UDP hash type), all in network order.
 */
#ifndef BYPASS_RSS_H
#define BYPASS_RSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* key holds at least len + 4 bytes (and at least 8). */
uint32_t bp_softrss(const uint8_t *in, size_t len, const uint8_t *key);

/* The hash a port with these BP_ETH_RSS_* types and key gives an Ethernet
 * frame (at most one 802.1Q tag; IPv6 without extension headers). false when
 * no hash type applies: the port hashes nothing and uses rx queue 0. */
bool bp_rss_hash_frame(const void *frame, size_t len, uint32_t hash_types, const uint8_t *key,
		       uint32_t *hash);

#endif
