/* SPDX-License-Identifier: MIT
 * A JSON writer into a growing buffer, for the telemetry replies: keys and
 * values in order, commas put in where they belong. A failed allocation
 * marks the writer (oom) and later writes do nothing. */
#ifndef BYPASS_TELEMETRY_JSON_H
#define BYPASS_TELEMETRY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jw {
	char *buf;
	size_t len, cap;
	bool oom;
};

/* key NULL: an array element (or the top-level value). */
void jw_open(struct jw *j, const char *key, char brace);  /* '{' or '[' */
void jw_close(struct jw *j, char brace);                   /* '}' or ']' */
void jw_str(struct jw *j, const char *key, const char *s); /* escaped; NULL: null */
void jw_u64(struct jw *j, const char *key, uint64_t v);
void jw_bool(struct jw *j, const char *key, bool v);
void jw_double(struct jw *j, const char *key, double v);
/* The text (NUL-terminated) handed to the caller, who frees it; NULL if out of memory. */
char *jw_take(struct jw *j);

#endif
