/* SPDX-License-Identifier: MIT
 * bypass stats: the command (stats.c) and what it prints from readings of
 * /stats (render.c). */
#ifndef BYPASS_TOOLS_STATS_H
#define BYPASS_TOOLS_STATS_H

#include <stdio.h>
#include "jsonflat.h"

int stats_main(int argc, char **argv, FILE *out, FILE *err);
/* One line per port: rates between two readings, testpmd's live line. */
void stats_rates(FILE *out, const struct jf_doc *before, const struct jf_doc *now);
/* One reading in Prometheus's text exposition format (version 0.0.4). */
void stats_prometheus(FILE *out, const struct jf_doc *doc);

#endif
