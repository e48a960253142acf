/* SPDX-License-Identifier: MIT
 * Capture files read back by the tests, with parsers of their own (not
 * libpcap's): classic pcap (microsecond or nanosecond magic) and pcapng
 * (the blocks lib/capture writes; every block's two lengths checked). */
#ifndef BYPASS_TEST_CAPFILE_H
#define BYPASS_TEST_CAPFILE_H

#include <stddef.h>
#include <stdint.h>

struct cap_pkt {
	uint64_t ts_ns;
	uint32_t cap_len, orig_len;
	uint32_t flags;       /* pcapng epb_flags (0 if none) */
	const uint8_t *data;
};

struct capfile {
	uint8_t *buf;
	size_t len;
	unsigned n;
	struct cap_pkt *pkt;
	/* pcapng only */
	unsigned shb, idb, isb;
	char if_name[64];
	uint8_t if_tsresol;
	uint64_t isb_osdrop;
	int isb_has_osdrop;
};

/* 0, or a description of what is wrong (the file stays loaded for inspection). */
const char *capfile_read_pcap(const char *path, struct capfile *f);
const char *capfile_read_pcapng(const char *path, struct capfile *f);
void capfile_free(struct capfile *f);
/* Writes a classic pcap file (nanosecond magic) of n frames. 0 or -1. */
int capfile_write_pcap(const char *path, const uint8_t *const *frames, const uint32_t *lens, unsigned n);

#endif
