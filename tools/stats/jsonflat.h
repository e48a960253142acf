/* SPDX-License-Identifier: MIT
 * Reads a JSON document into its leaves, each named by its path from the
 * top ("ports.0.stats.ipackets"), which is all `bypass stats` needs to look
 * values up. Strict: anything that is not JSON is refused. */
#ifndef BYPASS_JSONFLAT_H
#define BYPASS_JSONFLAT_H

#include <stdbool.h>
#include <stdint.h>

struct jf_leaf {
	char *path;
	char *text; /* a string's value (unescaped), or a number, true, false, null as written */
	bool is_string;
};

struct jf_doc {
	struct jf_leaf *leaf;
	unsigned n, cap;
};

/* 0, or -1 with doc empty if text is not one JSON value (and nothing after it). */
int jf_parse(const char *text, struct jf_doc *doc);
void jf_free(struct jf_doc *doc);
/* The leaf at the path made by fmt, or NULL. */
const struct jf_leaf *jf_get(const struct jf_doc *doc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The number at the path (0 if absent or not a number). */
double jf_num(const struct jf_doc *doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
