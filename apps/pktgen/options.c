/* SPDX-License-Identifier: MIT
 * pktgen's options, its rate, and its report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <unistd.h>
#include <bypass/env.h>
#include "../common/testpkt.h"
#include "pktgen.h"

void pktgen_usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [environment options] -- [options]\n"
		   "  --rate=PPS | --rate=N%%   frames per second, or a share of the tx port's line rate\n"
		   "                          (TSC-paced; default: as fast as the port takes them)\n"
		   "  --size=LIST             frame sizes without FCS, %d..%d, sent in turn: 66, 66,594,1514,\n"
		   "                          with weights 66:7,594:4,1514:1, or imix (that one); default 66\n"
		   "  --flows=N               N flows (source address and UDP port vary), 1..%d\n"
		   "  --count=N               send N frames, then stop\n"
		   "  --duration=S            send for S seconds (default: until Ctrl-C or --count)\n"
		   "  --drain=S               then wait S seconds for frames on their way (default 0.5)\n"
		   "  --tx-port=P --rx-port=P the port to send on (default: the first) and to receive on\n"
		   "                          (default: the same one, frames back through a forwarder)\n"
		   "  --dst-mac=MAC           destination address (default: the receiving port's own)\n"
		   "  --stream=N              tag for this run's frames, 0..65535 (default: from the pid);\n"
		   "                          frames of any other are counted as not ours\n"
		   "  --burst=N               frames per burst, 1..%d (default 32)\n"
		   "  --stats-period=S        a progress line every S seconds, 0: none (default 1)\n"
		   "  --json                  the summary as one JSON document on stdout (lines for\n"
		   "                          people go to stderr)\n"
		   "Latency is the round trip: each frame carries its send time and is measured when it\n"
		   "comes back; p50/p99/p99.9/max and a histogram, loss and reordering from each flow's\n"
		   "sequence numbers.\n",
		prog, TESTPKT_STAMPED_MIN, TESTPKT_MAX, TESTPKT_FLOWS_MAX, PKTGEN_MAX_BURST);
}

static int bad(const char *opt, const char *v, const char *want)
{
	fprintf(stderr, "pktgen: --%s=%s: %s\n", opt, v, want);
	return -1;
}

static bool number(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* "66,594:4,1514" into sizes and the sending order. */
static int parse_sizes(const char *v, struct pktgen_cfg *cfg)
{
	char buf[256], *save, *tok;
	snprintf(buf, sizeof(buf), "%s", strcmp(v, "imix") ? v : "66:7,594:4,1514:1");
	cfg->nb_sizes = cfg->nb_mix = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		double len, weight = 1;
		if (colon)
			*colon = '\0';
		if (!number(tok, TESTPKT_STAMPED_MIN, TESTPKT_MAX, &len) || (colon && !number(colon + 1, 1, 64, &weight)))
			return -1;
		if (cfg->nb_sizes == PKTGEN_MAX_SIZES || cfg->nb_mix + (unsigned)weight > PKTGEN_MAX_MIX)
			return -1;
		cfg->sizes[cfg->nb_sizes] = (uint32_t)len;
		for (unsigned w = 0; w < (unsigned)weight; w++)
			cfg->mix[cfg->nb_mix++] = (uint8_t)cfg->nb_sizes;
		cfg->nb_sizes++;
	}
	return cfg->nb_sizes ? 0 : -1;
}

static bool parse_mac(const char *s, struct bp_ether_addr *a)
{
	unsigned b[6];
	char end;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return false;
		a->b[i] = (uint8_t)b[i];
	}
	return true;
}

int pktgen_parse(int argc, char **argv, struct pktgen_cfg *cfg)
{
	static const struct option opts[] = {
		{ "rate", required_argument, 0, 'r' },	   { "size", required_argument, 0, 's' },
		{ "flows", required_argument, 0, 'f' },	   { "count", required_argument, 0, 'c' },
		{ "duration", required_argument, 0, 'd' }, { "drain", required_argument, 0, 'D' },
		{ "tx-port", required_argument, 0, 't' },  { "rx-port", required_argument, 0, 'R' },
		{ "dst-mac", required_argument, 0, 'm' },  { "stream", required_argument, 0, 'S' },
		{ "burst", required_argument, 0, 'b' },	   { "stats-period", required_argument, 0, 'p' },
		{ "json", no_argument, 0, 'j' },	   { "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	double v;
	bool stream_set = false;
	cfg->sizes[0] = TESTPKT_STAMPED_MIN, cfg->nb_sizes = 1, cfg->nb_mix = 1;
	optind = 1;
	for (int c, i; (c = getopt_long(argc, argv, "h", opts, &i)) != -1;) {
		const char *o = c == '?' ? "" : opts[i].name;
		switch (c) {
		case 'r': {
			size_t l = strlen(optarg);
			if (l && optarg[l - 1] == '%') {
				char num[32];
				snprintf(num, sizeof(num), "%.*s", (int)(l - 1), optarg);
				if (!number(num, 0.0001, 100, &cfg->rate_pct))
					return bad(o, optarg, "give a share of the line rate, 0.0001% to 100%");
			} else if (!number(optarg, 1, 1e9, &cfg->rate_pps)) {
				return bad(o, optarg, "give frames per second (1 to 1e9) or N% of the line rate");
			}
			break;
		}
		case 's':
			if (parse_sizes(optarg, cfg) < 0)
				return bad(o, optarg, "give sizes of 66 to 1514 bytes (without FCS), e.g. 66,594:4,1514 "
						      "(size:weight, at most 16 sizes and 64 in a round) or imix");
			break;
		case 'f':
			if (!number(optarg, 1, TESTPKT_FLOWS_MAX, &v))
				return bad(o, optarg, "give 1 to 4096 flows");
			cfg->flows = (uint32_t)v;
			break;
		case 'c':
			if (!number(optarg, 1, 1e15, &v))
				return bad(o, optarg, "give a number of frames, 1 or more");
			cfg->count = (uint64_t)v;
			break;
		case 'd':
			if (!number(optarg, 0.001, 1e7, &cfg->duration))
				return bad(o, optarg, "give seconds");
			break;
		case 'D':
			if (!number(optarg, 0, 3600, &cfg->drain))
				return bad(o, optarg, "give seconds, 0 to 3600");
			break;
		case 't':
		case 'R':
			if (!number(optarg, 0, BP_MAX_ETHPORTS - 1, &v))
				return bad(o, optarg, "give a port number");
			*(c == 't' ? &cfg->tx_port : &cfg->rx_port) = (uint16_t)v;
			break;
		case 'm':
			if (!parse_mac(optarg, &cfg->dst))
				return bad(o, optarg, "give an address like 02:00:00:00:00:01");
			cfg->dst_set = true;
			break;
		case 'S':
			if (!number(optarg, 0, 65535, &v))
				return bad(o, optarg, "give 0 to 65535");
			cfg->stream = (uint16_t)v, stream_set = true;
			break;
		case 'b':
			if (!number(optarg, 1, PKTGEN_MAX_BURST, &v))
				return bad(o, optarg, "give 1 to 512");
			cfg->burst = (uint16_t)v;
			break;
		case 'p':
			if (!number(optarg, 0, 3600, &cfg->stats_period))
				return bad(o, optarg, "give seconds, 0 for none");
			break;
		case 'j': cfg->json = true; break;
		case 'h': pktgen_usage(stdout, "bypass-pktgen"); exit(0);
		default:
			fprintf(stderr, "pktgen: unknown option; see bypass-pktgen --help\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pktgen: '%s' is not an option; see bypass-pktgen --help\n", argv[optind]);
		return -1;
	}
	if (!stream_set)
		cfg->stream = (uint16_t)getpid(); /* another run's frames still in a queue are not ours */
	return 0;
}

int pktgen_resolve_rate(struct pktgen_cfg *cfg)
{
	if (cfg->rate_pct <= 0)
		return 0;
	struct bp_eth_link l;
	bp_eth_link_get(cfg->tx_port, &l, true);
	if (!l.up || !l.speed_mbps) {
		fprintf(stderr, "pktgen: --rate=%g%%: port %u's link is %s; give the rate in frames per second\n",
			cfg->rate_pct, cfg->tx_port, l.up ? "of no known speed" : "down");
		return -1;
	}
	double bytes = 0;
	for (unsigned i = 0; i < cfg->nb_mix; i++)
		bytes += cfg->sizes[cfg->mix[i]] + 24;
	cfg->rate_pps = (double)l.speed_mbps * 1e6 * cfg->rate_pct / 100 / (bytes / cfg->nb_mix * 8);
	return 0;
}

FILE *pktgen_info(const struct pktgen_cfg *cfg) { return cfg->json ? stderr : stdout; }

void pktgen_report(const struct pktgen_cfg *cfg, const struct pktgen_result *r)
{
	FILE *f = pktgen_info(cfg);
	const struct latency *l = &r->lat;
	uint64_t hist[LAT_LOG_BUCKETS];
	lat_log_histogram(l, hist);
	double txpps = r->send_s > 0 ? (double)r->sent / r->send_s : 0;
	fprintf(f, "pktgen: sent=%llu received=%llu lost=%llu reordered=%llu bad=%llu not-ours=%llu "
		   "tx-pps=%.0f tx-bytes=%llu seconds=%.3f\n",
		(unsigned long long)r->sent, (unsigned long long)r->received, (unsigned long long)r->lost,
		(unsigned long long)r->reordered, (unsigned long long)r->bad, (unsigned long long)r->not_ours, txpps,
		(unsigned long long)r->tx_bytes, r->send_s);
	fprintf(f, "pktgen latency: ");
	lat_print(f, l);
	fprintf(f, "pktgen histogram (us):");
	for (unsigned k = 0; k < LAT_LOG_BUCKETS; k++)
		if (hist[k] && k + 1 < LAT_LOG_BUCKETS)
			fprintf(f, " [%u,%u)=%llu", k ? 1u << (k - 1) : 0, 1u << k, (unsigned long long)hist[k]);
		else if (hist[k])
			fprintf(f, " [%u,inf)=%llu", 1u << (k - 1), (unsigned long long)hist[k]);
	fprintf(f, "\n");
	if (!cfg->json)
		return;
	printf("{\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"reordered\":%llu,\"bad\":%llu,\"not_ours\":%llu,"
	       "\"tx_bytes\":%llu,\"seconds\":%.6f,\"tx_pps\":%.1f,\"rate_pps\":%.1f,\"flows\":%u,\"sizes\":[",
	       (unsigned long long)r->sent, (unsigned long long)r->received, (unsigned long long)r->lost,
	       (unsigned long long)r->reordered, (unsigned long long)r->bad, (unsigned long long)r->not_ours,
	       (unsigned long long)r->tx_bytes, r->send_s, txpps, cfg->rate_pps, cfg->flows);
	for (unsigned i = 0; i < cfg->nb_sizes; i++)
		printf("%s%u", i ? "," : "", cfg->sizes[i]);
	printf("],\"latency_us\":{\"n\":%llu", (unsigned long long)l->n);
	if (l->n)
		printf(",\"p50\":%.1f,\"p99\":%.1f,\"p99_9\":%.1f,\"max\":%.3f", lat_quantile(l, 0.5),
		       lat_quantile(l, 0.99), lat_quantile(l, 0.999), (double)l->max_ns / 1000);
	printf(",\"histogram\":[");
	for (unsigned k = 0, first = 1; k < LAT_LOG_BUCKETS; k++)
		if (hist[k]) {
			printf("%s{\"from_us\":%u,\"below_us\":", first ? "" : ",", k ? 1u << (k - 1) : 0);
			if (k + 1 == LAT_LOG_BUCKETS)
				printf("null");
			else
				printf("%u", 1u << k);
			printf(",\"count\":%llu}", (unsigned long long)hist[k]);
			first = 0;
		}
	printf("]}}\n");
	fflush(stdout);
}
