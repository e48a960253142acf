/* SPDX-License-Identifier: MIT
 * What the telemetry socket answers: each request's JSON document, built
 * from the public state of ports, pools and lcores (bypass/telemetry.h
 * lists the requests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/mempool.h>
#include <bypass/telemetry.h>
#include "json.h"

static const char *const state_names[] = { "unused", "attached", "configured", "started" };

static void info(struct jw *j)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	jw_open(j, "info", '{');
	jw_u64(j, "pid", (uint64_t)getpid());
	jw_str(j, "name", program_invocation_short_name);
	jw_str(j, "version", BP_VERSION);
	/* seconds of CLOCK_MONOTONIC: rates are counter differences over it */
	jw_double(j, "time", (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	jw_close(j, '}');
}

/* Per queue: the first BP_MAX_QUEUES_PER_PORT queues' counters. */
static void queues(struct jw *j, const char *key, uint16_t n, const uint64_t *pk, const uint64_t *by,
		   const uint64_t *nombuf)
{
	jw_open(j, key, '[');
	for (uint16_t q = 0; q < n && q < BP_MAX_QUEUES_PER_PORT; q++) {
		jw_open(j, NULL, '{');
		jw_u64(j, "queue", q);
		jw_u64(j, "packets", pk[q]);
		jw_u64(j, "bytes", by[q]);
		if (nombuf)
			jw_u64(j, "nombuf", nombuf[q]);
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

static void ports(struct jw *j)
{
	uint16_t p;
	jw_open(j, "ports", '[');
	BP_ETH_FOREACH_DEV(p) {
		struct bp__eth_port_report r;
		char mac[32];
		if (bp__eth_dev_report(p, &r) < 0)
			continue; /* closed meanwhile */
		const struct bp_eth_stats *s = &r.stats;
		bp_ether_format_addr(mac, sizeof(mac), &r.mac);
		jw_open(j, NULL, '{');
		jw_u64(j, "port", p);
		jw_str(j, "name", r.name);
		jw_str(j, "driver", r.driver);
		jw_str(j, "state", r.state < BP_ARRAY_SIZE(state_names) ? state_names[r.state] : "?");
		jw_str(j, "mac", mac);
		jw_open(j, "link", '{');
		jw_bool(j, "up", r.link.up);
		jw_u64(j, "speed_mbps", r.link.speed_mbps);
		jw_bool(j, "full_duplex", r.link.full_duplex);
		jw_close(j, '}');
		jw_open(j, "stats", '{');
		jw_u64(j, "ipackets", s->ipackets);
		jw_u64(j, "opackets", s->opackets);
		jw_u64(j, "ibytes", s->ibytes);
		jw_u64(j, "obytes", s->obytes);
		jw_u64(j, "imissed", s->imissed);
		jw_u64(j, "ierrors", s->ierrors);
		jw_u64(j, "oerrors", s->oerrors);
		jw_u64(j, "rx_nombuf", s->rx_nombuf);
		jw_close(j, '}');
		queues(j, "rx_queues", r.nb_rx_queues, s->q_ipackets, s->q_ibytes, s->q_rx_nombuf);
		queues(j, "tx_queues", r.nb_tx_queues, s->q_opackets, s->q_obytes, NULL);
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

static int one_pool(const struct bp_mempool *mp, void *arg)
{
	struct jw *j = arg;
	uint32_t avail = bp_mempool_avail_count(mp);
	jw_open(j, NULL, '{');
	jw_str(j, "name", mp->name);
	jw_u64(j, "size", mp->size);
	jw_u64(j, "in_use", mp->size - avail);
	jw_u64(j, "avail", avail);
	jw_u64(j, "elt_size", mp->elt_size);
	jw_u64(j, "cache_size", mp->cache_size);
	jw_close(j, '}');
	return 0;
}

static void mempools(struct jw *j)
{
	jw_open(j, "mempools", '[');
	bp_mempool_walk(one_pool, j);
	jw_close(j, ']');
}

static void lcores(struct jw *j)
{
	jw_open(j, "lcores", '[');
	for (uint32_t id = bp_lcore_next(BP_LCORE_ANY, false); id != BP_LCORE_ANY; id = bp_lcore_next(id, false)) {
		jw_open(j, NULL, '{');
		jw_u64(j, "lcore", id);
		jw_str(j, "role", id == bp_lcore_main() ? "main" : "worker");
		jw_str(j, "state", bp_lcore_running(id) ? "running" : "waiting");
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

static void all(struct jw *j)
{
	info(j);
	ports(j);
	mempools(j);
	lcores(j);
}

static const struct {
	const char *name;
	void (*fn)(struct jw *j);
	const char *help;
} requests[] = {
	{ "/info", info, "pid, program name, version, time" },
	{ "/ports", ports, "every port: driver, state, MAC, link, counters, per-queue counters" },
	{ "/mempools", mempools, "every pool: size, in use, free" },
	{ "/lcores", lcores, "every lcore: main or worker, running or waiting" },
	{ "/stats", all, "all of the above" },
};

static void list(struct jw *j)
{
	jw_open(j, "requests", '{');
	for (unsigned i = 0; i < BP_ARRAY_SIZE(requests); i++)
		jw_str(j, requests[i].name, requests[i].help);
	jw_close(j, '}');
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

char *bp_telemetry_answer(const char *req)
{
	struct jw j = { 0 };
	char msg[BP_TELEMETRY_REQUEST_MAX + 128];
	jw_open(&j, NULL, '{');
	if (!strcmp(req, "/") || !strcmp(req, "/help")) {
		list(&j);
	} else {
		unsigned i = 0;
		while (i < BP_ARRAY_SIZE(requests) && strcmp(req, requests[i].name))
			i++;
		if (i < BP_ARRAY_SIZE(requests)) {
			requests[i].fn(&j);
		} else {
			if (strlen(req) > BP_TELEMETRY_REQUEST_MAX || !printable(req))
				snprintf(msg, sizeof(msg), "a request is one line of printable text of at most %d "
							   "bytes, e.g. /stats; send / for the list",
					 BP_TELEMETRY_REQUEST_MAX);
			else
				snprintf(msg, sizeof(msg), "unknown request '%s'; send / for the list", req);
			jw_str(&j, "error", msg);
		}
	}
	jw_close(&j, '}');
	return jw_take(&j);
}
