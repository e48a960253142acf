/* SPDX-License-Identifier: MIT
 * What bypass stats prints from readings of a process's /stats document. */
#include <string.h>
#include "stats.h"

static const char *str(const struct jf_doc *d, const char *path, unsigned i, const char *field)
{
	const struct jf_leaf *l = jf_get(d, "%s.%u.%s", path, i, field);
	return l ? l->text : "?";
}

/* The entry of `before` for the same port (ports come and go), or -1. */
static int same_port(const struct jf_doc *before, const struct jf_doc *now, unsigned i)
{
	for (unsigned k = 0; jf_get(before, "ports.%u.port", k); k++)
		if (jf_num(before, "ports.%u.port", k) == jf_num(now, "ports.%u.port", i) &&
		    !strcmp(str(before, "ports", k, "name"), str(now, "ports", i, "name")))
			return (int)k;
	return -1;
}

void stats_rates(FILE *out, const struct jf_doc *before, const struct jf_doc *now)
{
	double dt = jf_num(now, "info.time") - jf_num(before, "info.time");
	fprintf(out, "%s (pid %.0f) over %.2f s:\n", jf_get(now, "info.name") ? jf_get(now, "info.name")->text : "?",
		jf_num(now, "info.pid"), dt);
	for (unsigned i = 0; jf_get(now, "ports.%u.port", i); i++) {
		int k = same_port(before, now, i);
		double d[8] = { 0 };
		static const char *const keys[8] = { "ipackets", "ibytes", "opackets", "obytes",
						      "imissed", "rx_nombuf", "ierrors", "oerrors" };
		for (unsigned c = 0; c < 8; c++)
			d[c] = jf_num(now, "ports.%u.stats.%s", i, keys[c]) -
			       (k >= 0 ? jf_num(before, "ports.%d.stats.%s", k, keys[c]) : 0);
		/* On the wire a frame also takes its FCS, preamble and gap: 24 bytes. */
		double rx = dt > 0 ? d[0] / dt : 0, tx = dt > 0 ? d[2] / dt : 0;
		double rxbit = dt > 0 ? (d[1] / dt + rx * 24) * 8 : 0, txbit = dt > 0 ? (d[3] / dt + tx * 24) * 8 : 0;
		const struct jf_leaf *up = jf_get(now, "ports.%u.link.up", i);
		fprintf(out, "port %.0f (%s, %s, link %s): rx %9.3f Mpps %8.3f Gbit/s | tx %9.3f Mpps %8.3f Gbit/s | "
			     "missed %.0f nombuf %.0f errors %.0f\n",
			jf_num(now, "ports.%u.port", i), str(now, "ports", i, "name"), str(now, "ports", i, "state"),
			up && !strcmp(up->text, "true") ? "up" : "down", rx / 1e6, rxbit / 1e9, tx / 1e6, txbit / 1e9,
			d[4], d[5], d[6] + d[7]);
	}
	for (unsigned i = 0; jf_get(now, "mempools.%u.name", i); i++)
		fprintf(out, "mempool %s: %.0f of %.0f in use\n", str(now, "mempools", i, "name"),
			jf_num(now, "mempools.%u.in_use", i), jf_num(now, "mempools.%u.size", i));
	fprintf(out, "lcores:");
	for (unsigned i = 0; jf_get(now, "lcores.%u.lcore", i); i++)
		fprintf(out, " %.0f (%s, %s)", jf_num(now, "lcores.%u.lcore", i), str(now, "lcores", i, "role"),
			str(now, "lcores", i, "state"));
	fprintf(out, "\n");
}

/* A label value: backslash, quote and newline escaped (exposition format). */
static void label(FILE *out, const char *name, const char *v)
{
	fprintf(out, "%s=\"", name);
	for (; *v; v++)
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	fputc('"', out);
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{pid="..",program="..",<key>="<v>"[,<key2>="<v2>"]} value */
static void sample(FILE *out, const struct jf_doc *d, const char *name, const char *key, const char *v,
		   const char *key2, const char *v2, double value)
{
	fprintf(out, "%s{", name);
	label(out, "pid", jf_get(d, "info.pid") ? jf_get(d, "info.pid")->text : "");
	fputc(',', out);
	label(out, "program", jf_get(d, "info.name") ? jf_get(d, "info.name")->text : "");
	fputc(',', out);
	label(out, key, v);
	if (key2) {
		fputc(',', out);
		label(out, key2, v2);
	}
	fprintf(out, "} %.17g\n", value);
}

void stats_prometheus(FILE *out, const struct jf_doc *d)
{
	static const struct {
		const char *key, *name, *help;
	} port_counters[] = {
		{ "ipackets", "bypass_port_rx_packets_total", "Packets handed to the application by rx_burst." },
		{ "ibytes", "bypass_port_rx_bytes_total", "Bytes of those packets, without FCS." },
		{ "opackets", "bypass_port_tx_packets_total", "Packets the port accepted in tx_burst." },
		{ "obytes", "bypass_port_tx_bytes_total", "Bytes of those packets, without FCS." },
		{ "imissed", "bypass_port_rx_missed_total", "Packets dropped because the rx ring was full." },
		{ "rx_nombuf", "bypass_port_rx_nombuf_total", "Packets dropped for want of an mbuf." },
		{ "ierrors", "bypass_port_rx_errors_total", "Packets received with an error." },
		{ "oerrors", "bypass_port_tx_errors_total", "Packets tx_burst refused as unsendable." },
	};
	char port[16], q[16];
	for (unsigned c = 0; c < sizeof(port_counters) / sizeof(port_counters[0]); c++) {
		family(out, port_counters[c].name, "counter", port_counters[c].help);
		for (unsigned i = 0; jf_get(d, "ports.%u.port", i); i++) {
			snprintf(port, sizeof(port), "%.0f", jf_num(d, "ports.%u.port", i));
			sample(out, d, port_counters[c].name, "port", port, "name", str(d, "ports", i, "name"),
			       jf_num(d, "ports.%u.stats.%s", i, port_counters[c].key));
		}
	}
	static const struct {
		const char *dir, *field, *name, *help;
	} queue_counters[] = {
		{ "rx", "packets", "bypass_queue_rx_packets_total", "Packets rx_burst handed out from this queue." },
		{ "rx", "bytes", "bypass_queue_rx_bytes_total", "Bytes of those packets." },
		{ "tx", "packets", "bypass_queue_tx_packets_total", "Packets this tx queue accepted." },
		{ "tx", "bytes", "bypass_queue_tx_bytes_total", "Bytes of those packets." },
	};
	for (unsigned c = 0; c < sizeof(queue_counters) / sizeof(queue_counters[0]); c++) {
		family(out, queue_counters[c].name, "counter", queue_counters[c].help);
		for (unsigned i = 0; jf_get(d, "ports.%u.port", i); i++) {
			snprintf(port, sizeof(port), "%.0f", jf_num(d, "ports.%u.port", i));
			for (unsigned k = 0; jf_get(d, "ports.%u.%s_queues.%u.queue", i, queue_counters[c].dir, k); k++) {
				snprintf(q, sizeof(q), "%u", k);
				sample(out, d, queue_counters[c].name, "port", port, "queue", q,
				       jf_num(d, "ports.%u.%s_queues.%u.%s", i, queue_counters[c].dir, k, queue_counters[c].field));
			}
		}
	}
	family(out, "bypass_port_link_up", "gauge", "1 while the port's link is up.");
	for (unsigned i = 0; jf_get(d, "ports.%u.port", i); i++) {
		const struct jf_leaf *up = jf_get(d, "ports.%u.link.up", i);
		snprintf(port, sizeof(port), "%.0f", jf_num(d, "ports.%u.port", i));
		sample(out, d, "bypass_port_link_up", "port", port, "name", str(d, "ports", i, "name"),
		       up && !strcmp(up->text, "true"));
	}
	family(out, "bypass_mempool_objects", "gauge", "Objects in the pool.");
	for (unsigned i = 0; jf_get(d, "mempools.%u.name", i); i++)
		sample(out, d, "bypass_mempool_objects", "pool", str(d, "mempools", i, "name"), NULL, NULL,
		       jf_num(d, "mempools.%u.size", i));
	family(out, "bypass_mempool_in_use_objects", "gauge", "Objects taken from the pool and not given back.");
	for (unsigned i = 0; jf_get(d, "mempools.%u.name", i); i++)
		sample(out, d, "bypass_mempool_in_use_objects", "pool", str(d, "mempools", i, "name"), NULL, NULL,
		       jf_num(d, "mempools.%u.in_use", i));
	family(out, "bypass_lcore_running", "gauge", "1 while the lcore runs a function (the main lcore: always).");
	for (unsigned i = 0; jf_get(d, "lcores.%u.lcore", i); i++) {
		snprintf(q, sizeof(q), "%.0f", jf_num(d, "lcores.%u.lcore", i));
		sample(out, d, "bypass_lcore_running", "lcore", q, "role", str(d, "lcores", i, "role"),
		       !strcmp(str(d, "lcores", i, "state"), "running"));
	}
}
