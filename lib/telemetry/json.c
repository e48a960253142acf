/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <math.h>
#include "json.h"

static void put(struct jw *j, const char *s, size_t n)
{
	if (j->oom)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 1024;
		while (j->len + n + 1 > cap)
			cap *= 2;
		char *b = realloc(j->buf, cap);
		if (!b) {
			j->oom = true;
			return;
		}
		j->buf = b, j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void putf(struct jw *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(j, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* RFC 8259 §7: quote, backslash and control characters escaped. */
static void quoted(struct jw *j, const char *s)
{
	put(j, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(j, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			putf(j, "\\u%04x", c);
		} else {
			put(j, s, 1);
		}
	}
	put(j, "\"", 1);
}

/* A comma unless this is the first thing in its object or array, then the key. */
static void begin(struct jw *j, const char *key)
{
	char last = j->len ? j->buf[j->len - 1] : '{';
	if (last != '{' && last != '[' && last != ':')
		put(j, ",", 1);
	if (key) {
		quoted(j, key);
		put(j, ":", 1);
	}
}

void jw_open(struct jw *j, const char *key, char brace)
{
	begin(j, key);
	put(j, &brace, 1);
}

void jw_close(struct jw *j, char brace) { put(j, &brace, 1); }

void jw_str(struct jw *j, const char *key, const char *s)
{
	begin(j, key);
	if (s)
		quoted(j, s);
	else
		put(j, "null", 4);
}

void jw_u64(struct jw *j, const char *key, uint64_t v)
{
	begin(j, key);
	putf(j, "%llu", (unsigned long long)v);
}

void jw_bool(struct jw *j, const char *key, bool v)
{
	begin(j, key);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void jw_double(struct jw *j, const char *key, double v)
{
	begin(j, key);
	if (isfinite(v))
		putf(j, "%.6f", v);
	else
		put(j, "null", 4); /* JSON has no NaN or infinity */
}

char *jw_take(struct jw *j)
{
	if (j->oom || !j->buf) {
		free(j->buf);
		*j = (struct jw){ 0 };
		return NULL;
	}
	char *b = j->buf;
	*j = (struct jw){ 0 };
	return b;
}
