/* SPDX-License-Identifier: MIT
 * Between pktgen's files: pktgen.c (ports, sending, receiving) and options.c
 * (options, the rate, the report). */
#ifndef BYPASS_PKTGEN_H
#define BYPASS_PKTGEN_H

#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <bypass/ethdev.h>
#include "../common/latency.h"

#define PKTGEN_MAX_BURST 512
#define PKTGEN_MAX_SIZES 16
#define PKTGEN_MAX_MIX 64 /* the sizes in turn, each as often as its weight */

struct pktgen_cfg {
	uint32_t sizes[PKTGEN_MAX_SIZES]; /* without FCS */
	unsigned nb_sizes;
	uint8_t mix[PKTGEN_MAX_MIX]; /* index into sizes, in sending order */
	unsigned nb_mix;
	double rate_pps;  /* 0: as fast as the port takes */
	double rate_pct;  /* --rate=N%: of the tx port's line rate, resolved into rate_pps */
	uint32_t flows;
	uint64_t count;   /* 0: no limit */
	double duration, drain, stats_period;
	uint16_t burst, stream, tx_port, rx_port;
	bool dst_set, json;
	struct bp_ether_addr dst;
};

struct pktgen_result {
	uint64_t sent, tx_bytes, received, lost, reordered, bad, not_ours, alloc_failed;
	double send_s, total_s; /* seconds sending, and until the drain ended */
	struct latency lat;     /* round trip of every frame received intact */
};

void pktgen_usage(FILE *f, const char *prog);
int pktgen_parse(int argc, char **argv, struct pktgen_cfg *cfg);
/* --rate=N%: packets per second from the tx port's link speed and the mean
 * frame size (each frame also takes 24 bytes of FCS, preamble and gap). */
int pktgen_resolve_rate(struct pktgen_cfg *cfg);
/* Where lines for people go: stdout, or stderr when stdout carries --json. */
FILE *pktgen_info(const struct pktgen_cfg *cfg);
/* The summary (and with --json the JSON document on stdout). */
void pktgen_report(const struct pktgen_cfg *cfg, const struct pktgen_result *res);

#endif
